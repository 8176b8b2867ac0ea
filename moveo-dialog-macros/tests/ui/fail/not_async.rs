use moveo_dialog::{Reply, node};

#[node("check_otp")]
fn check_otp() -> Reply {
    Reply::text("x")
}

fn main() {}

use moveo_dialog::{Reply, intent, node};

#[node("")]
async fn nameless() -> Reply {
    Reply::text("x")
}

#[intent("  ")]
async fn blank() -> Reply {
    Reply::text("x")
}

fn main() {}

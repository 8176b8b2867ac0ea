use moveo_dialog::{Reply, intent};

#[intent("erasmus", min_confidence = 1.5)]
async fn erasmus() -> Reply {
    Reply::text("x")
}

fn main() {}

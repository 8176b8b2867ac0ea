use moveo_dialog::{Reply, Router};

struct NotAnExtractor;

async fn plan(_oops: NotAnExtractor) -> Reply {
    Reply::text("x")
}

fn main() {
    let _ = Router::new().node("plan", plan);
}

use moveo_dialog::extract::Context;
use moveo_dialog::{Reply, node};

struct NotAnExtractor;

#[derive(serde::Deserialize)]
struct Trip {
    destination: String,
}

#[node("plan")]
async fn plan(Context(trip): Context<Trip>, _oops: NotAnExtractor) -> Reply {
    Reply::text(trip.destination)
}

fn main() {
    let _ = moveo_dialog::Router::new().handler(plan);
}

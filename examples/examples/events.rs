//! `cargo run --release --example events`: receives custom-integration events at
//! `POST /events` and prints one JSON line per handled event.
//!
//! Settings: `MOVEO_WEBHOOK_SECRET` (required), `LISTEN_ADDR` (default `127.0.0.1:8081`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    moveo_dialog_examples::run_example(
        "events",
        "/events",
        "MOVEO_WEBHOOK_SECRET",
        "set it to the webhook secret of your custom integration in Moveo; every event is checked against it, \
         so the receiver refuses to start without one",
        "127.0.0.1:8081",
        |secret| async move { Ok(moveo_dialog_examples::events::receiver(secret)) },
    )
    .await
}

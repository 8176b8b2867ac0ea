//! `cargo run --release --example erasmus`: the spec's Erasmus webhook at `POST /webhook`.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8080`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    moveo_dialog_examples::run_dialog_example("erasmus", |token| Ok(moveo_dialog_examples::erasmus::router(token)))
        .await
}

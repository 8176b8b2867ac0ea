//! `cargo run --release --example otp`: nodes `send_otp` and `verify_otp` at `POST /webhook`.
//! Codes are written to the log (swap `LogSender` for an SMS gateway).
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8080`).

use std::process::ExitCode;

use moveo_dialog_examples::otp::{LogSender, router};

#[tokio::main]
async fn main() -> ExitCode {
    moveo_dialog_examples::run_dialog_example("otp", |token| Ok(router(token, LogSender))).await
}

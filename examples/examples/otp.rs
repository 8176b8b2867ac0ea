//! `cargo run --release --example otp`: nodes `send_otp` and `verify_otp` at `POST /webhook`.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8080`),
//! `OTP_REDIS_URL` (codes shared by every process pointed at this Redis; unset: this
//! process's memory), `OTP_SMS_URL` and `OTP_SMS_API_KEY` (an SMS gateway; unset: codes are
//! written to the log).

use std::process::ExitCode;

use moveo_dialog_examples::{otp, run_dialog_example};

#[tokio::main]
async fn main() -> ExitCode {
    run_dialog_example("otp", |token| async move { Ok(otp::router(token, otp::from_env().await?)) }).await
}

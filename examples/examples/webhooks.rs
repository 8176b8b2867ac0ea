//! `cargo run --release --example webhooks`: two Moveo webhooks in one server, the OTP app at
//! `POST /webhooks/otp` and the inventory app at `POST /webhooks/inventory`, each with its own
//! verify token, under a tower-http trace layer.
//!
//! Settings: `MOVEO_OTP_TOKEN` and `MOVEO_INVENTORY_TOKEN` (required), `LISTEN_ADDR` (default
//! `127.0.0.1:8080`), `INVENTORY_DB` (default `./inventory.db`), and the OTP example's
//! `OTP_REDIS_URL`, `OTP_SMS_URL`, `OTP_SMS_API_KEY`.

use std::process::ExitCode;

use moveo_dialog_examples::{otp, required_env, run_service, webhooks};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

#[tokio::main]
async fn main() -> ExitCode {
    let describe = |addr| {
        format!("webhooks: POST http://{addr}{} and http://{addr}{}", webhooks::OTP_PATH, webhooks::INVENTORY_PATH)
    };
    run_service("127.0.0.1:8080", describe, || async {
        let why = "set it to the verify token Moveo shows for that webhook";
        let otp_token = required_env("MOVEO_OTP_TOKEN", why)?;
        let inventory_token = required_env("MOVEO_INVENTORY_TOKEN", why)?;
        let database = std::env::var("INVENTORY_DB").unwrap_or_else(|_| "./inventory.db".to_owned());
        let router = webhooks::router(otp_token, inventory_token, otp::from_env().await?, database)?;
        Ok(ServiceBuilder::new().layer(TraceLayer::new_for_http()).service(router))
    })
    .await
}

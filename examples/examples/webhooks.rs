//! `cargo run --release --example webhooks`: two Moveo webhooks in one server, the OTP app at
//! `POST /webhooks/otp` and the inventory app at `POST /webhooks/inventory`, each with its own
//! verify token, under a tower-http trace layer.
//!
//! Settings: `MOVEO_OTP_TOKEN` and `MOVEO_INVENTORY_TOKEN` (required), `LISTEN_ADDR` (default
//! `127.0.0.1:8080`), `INVENTORY_DB` (default `./inventory.db`).

use std::process::ExitCode;

use moveo_dialog::Server;
use moveo_dialog_examples::{listen_addr, otp::LogSender, required_env, webhooks};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

#[tokio::main]
async fn main() -> ExitCode {
    moveo_dialog_examples::init_logging();
    let started = async {
        let why = "set it to the verify token Moveo shows for that webhook";
        let otp_token = required_env("MOVEO_OTP_TOKEN", why)?;
        let inventory_token = required_env("MOVEO_INVENTORY_TOKEN", why)?;
        let database = std::env::var("INVENTORY_DB").unwrap_or_else(|_| "./inventory.db".to_owned());
        let router = webhooks::router(otp_token, inventory_token, LogSender, database)?;
        let service = ServiceBuilder::new().layer(TraceLayer::new_for_http()).service(router);
        let addr = listen_addr("127.0.0.1:8080")?;
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|err| format!("cannot listen on {addr}: {err}"))?;
        tracing::info!(
            "webhooks: POST http://{addr}{} and http://{addr}{}",
            webhooks::OTP_PATH,
            webhooks::INVENTORY_PATH
        );
        Server::new(service).serve(listener).await.map_err(|err| err.to_string())
    };
    match started.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

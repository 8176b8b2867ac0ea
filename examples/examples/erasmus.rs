//! `cargo run --release --example erasmus`: the spec's Erasmus webhook at `POST /webhook`.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8080`),
//! `METRICS_ADDR` (optional: serves `GET /metrics` there, never on the webhook port).

use std::process::ExitCode;

use moveo_dialog::Server;
use moveo_dialog::dialog::Metrics;

#[tokio::main]
async fn main() -> ExitCode {
    let metrics = Metrics::new();
    if let Ok(addr) = std::env::var("METRICS_ADDR") {
        match tokio::net::TcpListener::bind(&addr).await {
            Ok(listener) => {
                tokio::spawn(Server::new(metrics.clone()).serve(listener));
            }
            Err(err) => {
                eprintln!("error: cannot listen on METRICS_ADDR={addr}: {err}");
                return ExitCode::from(2);
            }
        }
    }
    moveo_dialog_examples::run_dialog_example("erasmus", |token| async move {
        Ok(moveo_dialog_examples::erasmus::router(token).metrics(metrics))
    })
    .await
}

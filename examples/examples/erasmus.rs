//! `cargo run --release --example erasmus`: the spec's Erasmus webhook at `POST /webhook`.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8080`),
//! `METRICS_ADDR` (optional: collects metrics and serves `GET /metrics` there, never on the
//! webhook port; without it, no metrics are collected).

use std::process::ExitCode;

use moveo_dialog::Server;
use moveo_dialog::dialog::Metrics;

#[tokio::main]
async fn main() -> ExitCode {
    // Metrics nobody can read are not worth their cost per call: collected only when served.
    let mut metrics = None;
    if let Ok(addr) = std::env::var("METRICS_ADDR") {
        match tokio::net::TcpListener::bind(&addr).await {
            Ok(listener) => {
                let served = Metrics::new();
                tokio::spawn(Server::new(served.clone()).serve(listener));
                metrics = Some(served);
            }
            Err(err) => {
                eprintln!("error: cannot listen on METRICS_ADDR={addr}: {err}");
                return ExitCode::from(2);
            }
        }
    }
    moveo_dialog_examples::run_dialog_example("erasmus", |token| async move {
        let router = moveo_dialog_examples::erasmus::router(token);
        Ok(match metrics {
            Some(metrics) => router.metrics(metrics),
            None => router,
        })
    })
    .await
}

//! `cargo run --release --example events`: receives custom-integration events at
//! `POST /events` and prints one JSON line per handled event.
//!
//! Settings: `MOVEO_WEBHOOK_SECRET` (required), `LISTEN_ADDR` (default `127.0.0.1:8081`).

use std::process::ExitCode;

use moveo_dialog::Server;
use moveo_dialog_examples::{init_logging, listen_addr, required_env};

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let run = async {
        let secret = required_env(
            "MOVEO_WEBHOOK_SECRET",
            "set it to the webhook secret of your custom integration in Moveo; every event is checked against it, \
             so the receiver refuses to start without one",
        )?;
        let addr = listen_addr("127.0.0.1:8081")?;
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|err| format!("cannot listen on {addr}: {err}"))?;
        tracing::info!("events: POST http://{addr}/events");
        let receiver = moveo_dialog_examples::events::receiver(secret);
        Server::new(receiver).serve(listener).await.map_err(|err| err.to_string())
    };
    match run.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

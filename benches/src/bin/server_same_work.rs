//! The framework's [`Server`] serving the baseline's work
//! ([`moveo_dialog_benches::same_work`]) as a plain `tower::Service`: beside `typed-hyper` (the
//! same work on bare hyper) and the erasmus example (the same work through the router), it tells
//! the server's own cost per request (connection cap, idle sweep, per-request guard, body
//! budget) from the router's. A diagnostic: after `cargo build --release -p
//! moveo-dialog-benches --bins` and `cargo build --release -p moveo-dialog-examples --example
//! erasmus`, `bash benches/load.sh typed=target/release/typed-hyper
//! server=target/release/server-same-work erasmus=target/release/examples/erasmus`.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8092`).

use std::sync::Arc;

use hyper::body::Incoming;
use moveo_dialog::Server;
use moveo_dialog_benches::same_work::{Key, respond};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = Arc::new(Key::new(std::env::var("MOVEO_VERIFY_TOKEN")?.as_bytes()));
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:8092".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("the framework's server doing the baseline's work on http://{addr}");
    let service = tower::service_fn(move |request: http::Request<Incoming>| respond(Arc::clone(&key), request));
    Server::new(service).serve_with_shutdown(listener, moveo_dialog::shutdown_signal()).await?;
    Ok(())
}

//! The load benchmark's baseline: hyper 1 alone doing the erasmus example's work as fast as we
//! can write it ([`moveo_dialog_benches::same_work`]), one HTTP/1.1 connection task per
//! accepted socket. See `benches/load.sh`.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8090`).

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use moveo_dialog_benches::same_work::{Key, respond};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = Arc::new(Key::new(std::env::var("MOVEO_VERIFY_TOKEN")?.as_bytes()));
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:8090".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("typed hyper baseline on http://{addr}");
    loop {
        // Ctrl-C ends the process normally, so profilers (valgrind) write their output.
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let key = Arc::clone(&key);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| respond(Arc::clone(&key), request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

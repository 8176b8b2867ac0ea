//! The framework's [`Server`](moveo_dialog::Server) serving the baseline's work
//! ([`moveo_dialog_benches::same_work`]) as a plain `tower::Service`: beside `typed-hyper` (the
//! same work on bare hyper) and the erasmus example (the same work through the router), it tells
//! the server's own cost per request (connection cap, idle sweep, per-request guard, body
//! budget) from the router's. A diagnostic: `bash benches/load.sh typed=target/release/typed-hyper
//! server=target/release/server-same-work erasmus=target/release/examples/erasmus`.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8092`).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use moveo_dialog::Server;
use moveo_dialog_benches::same_work::{Key, answer};

async fn handle(key: Arc<Key>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (head, body) = request.into_parts();
    let (status, reply) = match Limited::new(body, 1 << 20).collect().await {
        Ok(body) => answer(&key, &head.headers, &body.to_bytes()),
        Err(_) => (http::StatusCode::PAYLOAD_TOO_LARGE, b"{}".to_vec()),
    };
    let mut response = Response::new(Full::new(Bytes::from(reply)));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = Arc::new(Key::new(std::env::var("MOVEO_VERIFY_TOKEN")?.as_bytes()));
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:8092".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("the framework's server doing the baseline's work on http://{addr}");
    let service = tower::service_fn(move |request| handle(Arc::clone(&key), request));
    Server::new(service).serve_with_shutdown(listener, moveo_dialog::shutdown_signal()).await?;
    Ok(())
}

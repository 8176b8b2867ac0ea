//! axum 0.8 doing the erasmus example's work ([`moveo_dialog_benches::same_work`]), served by
//! `axum::serve`: the load benchmark's second reference. See `benches/load.sh`.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8091`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use moveo_dialog_benches::same_work::{Key, answer};

async fn webhook(State(key): State<Arc<Key>>, headers: HeaderMap, body: Bytes) -> Response {
    let (status, reply) = answer(&key, &headers, &body);
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], reply).into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = Arc::new(Key::new(std::env::var("MOVEO_VERIFY_TOKEN")?.as_bytes()));
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:8091".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("axum baseline on http://{addr}");
    let app = axum::Router::new().route("/webhook", post(webhook)).with_state(key);
    axum::serve(listener, app).await?;
    Ok(())
}

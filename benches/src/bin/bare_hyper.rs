//! The load benchmark's baseline: a bare hyper 1 server doing the erasmus example's work by
//! hand (verify the HMAC signature, decode the request, build and serialise the same reply),
//! with none of the framework. See `benches/load.sh`.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8090`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

#[derive(Deserialize)]
#[allow(dead_code)]
struct DialogRequest {
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    brain_id: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    context: HashMap<String, Value>,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    intents: Vec<Value>,
    #[serde(default)]
    entities: Vec<Value>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    debug: Option<Value>,
}

fn respond(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", http::HeaderValue::from_static("application/json"));
    response
}

async fn handle(token: Arc<Vec<u8>>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let signature =
        request.headers().get("x-moveo-signature").and_then(|v| v.to_str().ok()).and_then(|v| hex::decode(v).ok());
    let Ok(body) = Limited::new(request.into_body(), 1 << 20).collect().await else {
        return Ok(respond(StatusCode::PAYLOAD_TOO_LARGE, b"{}".to_vec()));
    };
    let body = body.to_bytes();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&token) else {
        return Ok(respond(StatusCode::INTERNAL_SERVER_ERROR, b"{}".to_vec()));
    };
    mac.update(&body);
    if signature.is_none_or(|signature| mac.verify_slice(&signature).is_err()) {
        return Ok(respond(StatusCode::UNAUTHORIZED, b"{}".to_vec()));
    }
    let Ok(request) = serde_json::from_slice::<DialogRequest>(&body) else {
        return Ok(respond(StatusCode::BAD_REQUEST, b"{}".to_vec()));
    };
    let destination = request.context.get("destination").and_then(Value::as_str).unwrap_or("").to_owned();
    let months = request.context.get("total_months").and_then(Value::as_f64).unwrap_or(1.0);
    let expenses = request.context.get("total_expenses").and_then(Value::as_f64).unwrap_or(0.0);
    let monthly = (expenses / months * 100.0).round() / 100.0;
    let reply = json!({
        "context": {"erasmus_plan_ready": true, "monthly_budget": monthly},
        "responses": [{
            "type": "text",
            "texts": [format!("Your Erasmus in {destination}: {months} months with €{expenses}, about €{monthly} a month.")],
            "options": [
                {"text": "Looks good", "label": "Looks good"},
                {"text": "I want another destination", "label": "Change destination"}
            ]
        }]
    });
    Ok(respond(StatusCode::OK, serde_json::to_vec(&reply).unwrap_or_default()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = Arc::new(std::env::var("MOVEO_VERIFY_TOKEN")?.into_bytes());
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:8090".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bare hyper baseline on http://{addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let token = Arc::clone(&token);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(Arc::clone(&token), request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

//! The chat example end to end against a mock Moveo: the mock answers the REST API and, for
//! each user message, calls the example's webhook with a signed `message:brain_send` event.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use moveo_dialog::verify::{Secret, sign};
use moveo_dialog_examples::chat::{Settings, run};
use serde_json::{Value, json};

const SECRET: &str = "chat-webhook-secret";

async fn mock_moveo(webhook: String, calls: Arc<Mutex<Vec<String>>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (webhook, calls) = (webhook.clone(), Arc::clone(&calls));
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let (webhook, calls) = (webhook.clone(), Arc::clone(&calls));
                    async move {
                        let path = request.uri().path().to_owned();
                        assert_eq!(request.headers()["authorization"], "apikey chat-key");
                        let body: Value =
                            serde_json::from_slice(&request.into_body().collect().await.unwrap().to_bytes())
                                .unwrap_or(Value::Null);
                        calls.lock().unwrap().push(path.clone());
                        let (status, answer) = if path == "/v1/custom/intg-chat/sessions" {
                            (201, json!({"request_id": "r", "session_id": "sess-chat"}))
                        } else if path.ends_with("/messages") {
                            let text = body["input"]["text"].as_str().unwrap_or_default().to_owned();
                            tokio::spawn(deliver_reply(webhook, text));
                            (202, json!({"request_id": "r"}))
                        } else {
                            (200, json!({"request_id": "r"}))
                        };
                        let mut response = Response::new(Full::new(Bytes::from(answer.to_string())));
                        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    format!("http://{addr}")
}

/// Moveo delivering the agent's answer to the chat's webhook, signed.
async fn deliver_reply(webhook: String, text: String) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let event = json!({
        "event_type": "message:brain_send", "request_id": format!("req-{text}"), "session_id": "sess-chat",
        "timestamp": now,
        "output": {"responses": [
            {"type": "text", "text": format!("echo: {text}"), "options": [{"label": "Again", "text": text}]},
            {"type": "pause", "time": 100}
        ]}
    });
    let body = serde_json::to_vec(&event).unwrap();
    let answer = crate::support::send(
        webhook.parse().unwrap(),
        Request::post("/events")
            .header("host", "x")
            .header("content-type", "application/json")
            .header("x-moveo-signature", sign(&Secret::new(SECRET), &body))
            .body(Full::new(Bytes::from(body)))
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, http::StatusCode::OK, "{answer:?}");
}

#[tokio::test]
async fn the_chat_runs_the_whole_loop() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook = listener.local_addr().unwrap().to_string();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let api_base = mock_moveo(webhook, Arc::clone(&calls)).await;
    let settings = Settings {
        api_key: "chat-key".into(),
        integration_id: "intg-chat".into(),
        webhook_secret: SECRET.into(),
        api_base,
    };
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let input = tokio::io::BufReader::new(&b"hello\n\nworld\n"[..]);
    run(settings, listener, input, Arc::clone(&output)).await.unwrap();

    let transcript = String::from_utf8(output.lock().unwrap().clone()).unwrap();
    let mut lines: Vec<&str> = transcript.lines().collect();
    // The two replies may arrive in either order; each keeps its own option under it.
    lines.sort_unstable();
    assert_eq!(lines, ["  [Again]", "  [Again]", "bot: echo: hello", "bot: echo: world"], "{transcript}");
    assert!(transcript.contains("bot: echo: hello\n  [Again]\n"), "{transcript}");
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.iter().filter(|p| p.ends_with("/messages")).count(), 2);
    assert_eq!(calls.last().unwrap(), "/v1/custom/intg-chat/sessions/sess-chat/close");
}

#[test]
fn missing_settings_are_a_clear_error() {
    // Only the absence matters here; this process never sets these variables.
    if std::env::var_os("MOVEO_API_KEY").is_none() {
        let err = Settings::from_env().unwrap_err();
        assert!(err.starts_with("MOVEO_API_KEY is not set"), "{err}");
    }
}

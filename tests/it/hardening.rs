//! Edge hardening, second pass (issue 14), over real sockets: metrics only where they are
//! served, the allowlist before the body, the server-wide body budget, events that are never
//! lost to a 4xx a retry could fix, and secrets kept out of `Debug` and serialisation.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use moveo_dialog::dialog::Metrics;
use moveo_dialog::events::{
    AuthorType, ComposeAction, Event, EventKind, EventsReceiver, OutputResponse, OutputWebviewHeight,
};
use moveo_dialog::extract::RawBody;
use moveo_dialog::{DialogRequest, Reply, Router, Server};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Notify};

use crate::support::{TOKEN, TestServer, call_body, send, signed_post};

fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path).header("host", "x").body(Full::default()).unwrap()
}

#[tokio::test]
async fn metrics_are_never_open_on_the_webhook_port() {
    let metrics = Metrics::new();
    let router = Router::new().verify_token(TOKEN).fallback(|| async { Reply::text("ok") }).metrics(metrics.clone());
    let webhook = TestServer::start(Server::new(router)).await;
    let private = TestServer::start(Server::new(metrics)).await;
    assert_eq!(send(webhook.addr, signed_post("/webhook", TOKEN, &call_body(None, &[]))).await.status, StatusCode::OK);

    let open = send(webhook.addr, get("/metrics")).await;
    assert_eq!((open.status, open.error().as_str()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    let served = send(private.addr, get("/metrics")).await;
    assert_eq!(served.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&served.body);
    assert!(text.contains(r#"moveo_dialog_requests_total{route="fallback",status="200"} 1"#), "{text}");
    assert_eq!(send(private.addr, get("/other")).await.status, StatusCode::NOT_FOUND);
}

/// A request head that declares a body, and no body.
async fn head_only(addr: std::net::SocketAddr, path: &str, length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nx-moveo-signature: 00\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

async fn status_line(stream: &mut TcpStream) -> String {
    let mut buffer = vec![0u8; 4096];
    let read = stream.read(&mut buffer).await.unwrap();
    String::from_utf8_lossy(&buffer[..read]).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_allowlist_answers_before_the_body_is_read() {
    let router = Router::new()
        .verify_token(TOKEN)
        .allow_ips(moveo_dialog::verify::MOVEO_IPS)
        .body_timeout(Duration::from_secs(600))
        .fallback(|| async { Reply::text("ok") });
    let events = EventsReceiver::new()
        .webhook_secret("s")
        .allow_ips(moveo_dialog::verify::MOVEO_IPS)
        .on_every(|_: Event| async {});
    let dialog = TestServer::start(Server::new(router)).await;
    let receiver = TestServer::start(Server::new(events)).await;
    // The bodies never come: the answer does, because the address is checked first.
    for (addr, path) in [(dialog.addr, "/webhook"), (receiver.addr, "/events")] {
        let mut stream = head_only(addr, path, 1000).await;
        let line = tokio::time::timeout(Duration::from_secs(20), status_line(&mut stream)).await.unwrap();
        assert!(line.starts_with("HTTP/1.1 401"), "{path}: {line}");
    }
}

/// The server's limits reach a bare router in place and a layered one through its task: the
/// budget holds for both.
#[tokio::test]
async fn past_the_body_budget_new_bodies_are_refused_before_they_are_read() {
    let layered = |router: Router| {
        tower::ServiceBuilder::new()
            .map_request(|request: http::Request<hyper::body::Incoming>| request)
            .service(router)
    };
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let bare = TestServer::start(Server::new(held(&entered, &release)).body_budget(4096)).await;
    body_budget_holds(&bare, &entered, &release).await;
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let under_a_layer = TestServer::start(Server::new(layered(held(&entered, &release))).body_budget(4096)).await;
    body_budget_holds(&under_a_layer, &entered, &release).await;
}

/// A router whose handler tells `entered` and waits for `release`.
fn held(entered: &Arc<Notify>, release: &Arc<Notify>) -> Router {
    let (arrived, gate) = (Arc::clone(entered), Arc::clone(release));
    Router::new().verify_token(TOKEN).fallback(move |RawBody(body): RawBody| {
        let (arrived, gate) = (Arc::clone(&arrived), Arc::clone(&gate));
        async move {
            arrived.notify_one();
            gate.notified().await;
            Reply::text(format!("{} bytes", body.len()))
        }
    })
}

async fn body_budget_holds(server: &TestServer, entered: &Notify, release: &Notify) {
    let big = serde_json::to_vec(&json!({"context": {"padding": "x".repeat(3000)}})).unwrap();
    let addr = server.addr;
    let first_body = big.clone();
    let first = tokio::spawn(async move { send(addr, signed_post("/webhook", TOKEN, &first_body)).await });
    entered.notified().await;
    // 3 KB are held by the call in its handler: a second 3 KB body does not fit, and is
    // refused from its head alone.
    let mut stalled = head_only(server.addr, "/webhook", 3000).await;
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(20), stalled.read(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("\"overloaded\""), "{answer}");
    // A small call still fits.
    let small = send(server.addr, signed_post("/webhook", TOKEN, &call_body(None, &[])));
    release.notify_one();
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::OK);
    release.notify_one();
    assert_eq!(small.await.status, StatusCode::OK);
    // Once answered, the budget is free again.
    let again = tokio::spawn(async move { send(addr, signed_post("/webhook", TOKEN, &big)).await });
    entered.notified().await;
    release.notify_one();
    assert_eq!(again.await.unwrap().status, StatusCode::OK);
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

#[tokio::test]
async fn events_a_newer_moveo_could_send_are_delivered_never_refused() {
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let log = Arc::clone(&seen);
    let receiver = EventsReceiver::new().webhook_secret("s").on_every(move |event: Event| {
        let log = Arc::clone(&log);
        async move { log.lock().await.push(event) }
    });
    let server = TestServer::start(Server::new(receiver)).await;
    let deliver = |body: serde_json::Value| {
        let addr = server.addr;
        async move { send(addr, signed_post("/events", "s", &serde_json::to_vec(&body).unwrap())).await }
    };
    let base = |request_id: &str, kind: &str| json!({"event_type": kind, "request_id": request_id, "session_id": "s-1", "integration_id": "i-1", "timestamp": now_ms()});

    // A webview height the docs do not list, and a float timestamp.
    let mut brain_send = base("e-1", "message:brain_send");
    brain_send["timestamp"] = json!(now_ms() as f64 + 0.5);
    brain_send["output"] = json!({"responses": [
        {"type": "webview", "label": "Open", "url": "https://example.com", "height": "half"}
    ]});
    brain_send["brain_id"] = json!("b-1");
    let answer = deliver(brain_send).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let mut compose = base("e-2", "message:compose");
    compose["action"] = json!("pause");
    compose["author_type"] = json!("supervisor");
    let answer = deliver(compose).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    {
        let seen = seen.lock().await;
        let EventKind::MessageBrainSend(send) = &seen[0].kind else { panic!("{:?}", seen[0]) };
        let OutputResponse::Webview(webview) = &send.output.responses[0] else { panic!() };
        assert_eq!(webview.height, Some(OutputWebviewHeight::Other("half".to_owned())));
        let EventKind::MessageCompose(compose) = &seen[1].kind else { panic!("{:?}", seen[1]) };
        assert_eq!(compose.action, ComposeAction::Other("pause".to_owned()));
        assert_eq!(compose.author_type, AuthorType::Other("supervisor".to_owned()));
    }

    // Unknown types: without a request_id, two different events are both delivered (keyed by
    // the body's hash), the same one twice is de-duplicated; without an integer timestamp,
    // refused as stale.
    let mut first = json!({"event_type": "agent:mood", "session_id": "s-1", "timestamp": now_ms(), "mood": "happy"});
    assert_eq!(deliver(first.clone()).await.json()["status"], "handled");
    assert_eq!(deliver(first.clone()).await.json()["status"], "duplicate");
    first["mood"] = json!("sad");
    assert_eq!(deliver(first).await.json()["status"], "handled");
    let undated = deliver(json!({"event_type": "agent:mood", "request_id": "e-9", "session_id": "s-1"})).await;
    assert_eq!((undated.status, undated.error().as_str()), (StatusCode::BAD_REQUEST, "stale_timestamp"));
    assert_eq!(seen.lock().await.len(), 4);
}

#[tokio::test]
async fn a_slow_event_body_is_a_503_a_retry_can_fix() {
    let receiver = EventsReceiver::new().webhook_secret("s").on_every(|_: Event| async {});
    let server = TestServer::start(Server::new(receiver)).await;
    let mut stream = head_only(server.addr, "/events", 100).await;
    stream.write_all(b"{\"event").await.unwrap();
    // The receiver's body timeout is 10 s by default.
    let line = tokio::time::timeout(Duration::from_secs(30), status_line(&mut stream)).await.unwrap();
    assert!(line.starts_with("HTTP/1.1 503"), "{line}");
}

#[test]
fn the_verify_token_is_never_serialised_and_debug_hides_bodies_and_signatures() {
    let request: DialogRequest =
        serde_json::from_value(json!({"verify_token": "tok-secret-123", "context": {"a": 1}})).unwrap();
    let written = serde_json::to_string(&request).unwrap();
    assert!(!written.contains("tok-secret-123") && !written.contains("verify_token"), "{written}");
    let raw = RawBody(Bytes::from_static(br#"{"verify_token": "tok-secret-123"}"#));
    assert!(!format!("{raw:?}").contains("tok-secret-123"), "{raw:?}");
}

#[tokio::test]
async fn a_handler_that_debugs_its_headers_does_not_show_the_signature() {
    let router = Router::new()
        .verify_token(TOKEN)
        .fallback(|headers: http::HeaderMap| async move { Reply::text(format!("{headers:?}")) });
    let server = TestServer::start(Server::new(router)).await;
    let body = call_body(None, &[]);
    let signature = moveo_dialog::verify::sign(&moveo_dialog::verify::Secret::new(TOKEN), &body);
    let answer = send(server.addr, signed_post("/webhook", TOKEN, &body)).await;
    let shown = answer.json()["responses"][0]["texts"][0].as_str().unwrap().to_owned();
    assert!(shown.contains("x-moveo-signature") && shown.contains("Sensitive"), "{shown}");
    assert!(!shown.contains(&signature), "{shown}");
}

#[tokio::test]
async fn stalled_bodies_do_not_take_the_place_of_real_calls() {
    let router = Router::new()
        .verify_token(TOKEN)
        .body_timeout(Duration::from_secs(600))
        .fallback(|| async { Reply::text("answered") });
    let server = TestServer::start(Server::new(router).max_in_flight(2)).await;
    // Two calls whose bodies stall halfway, from an allowed address: they wait for their bytes.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut stream = head_only(server.addr, "/webhook", 1000).await;
        stream.write_all(b"{\"context\": {").await.unwrap();
        stalled.push(stream);
    }
    // A real call still runs: a call reading its body is not in flight.
    let answer = send(server.addr, signed_post("/webhook", TOKEN, &call_body(None, &[]))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["responses"][0]["texts"][0], "answered");
    drop(stalled);
}

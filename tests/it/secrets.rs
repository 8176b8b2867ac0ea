//! No secret in the logs or in `Debug`: every log line of a run of failing and succeeding
//! calls (dialog webhook, events, REST client), at TRACE level, is captured, and so is the
//! `Debug` of every type that holds a secret. None may contain a verify token, a webhook secret,
//! an API key, or a signature the server computed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use moveo_dialog::client::{Client, CreateSession};
use moveo_dialog::events::{Event, EventsReceiver};
use moveo_dialog::verify::{Secret, sign};
use moveo_dialog::{DialogRequest, Reply, Router, Server};
use serde_json::json;

use crate::support::{TestServer, call_body, capture_logs, send, signed_post};

const TOKEN: &str = "tok-7Hq2ZpLw9vXc";
const SECRET: &str = "whsec-Rk4mN8sJ2qTb";
const API_KEY: &str = "apikey-Vf6yG1hD3nWe";

async fn fine() -> Reply {
    Reply::text("fine")
}

async fn failing() -> Result<Reply, String> {
    Err("the backend is down".to_owned())
}

fn event(request_id: &str, timestamp: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event_type": "session:closed", "request_id": request_id, "session_id": "s-1",
        "integration_id": "i-1", "timestamp": timestamp, "status": "closed"
    }))
    .unwrap()
}

fn signed_event(body: &[u8], secret: &str) -> http::Request<http_body_util::Full<bytes::Bytes>> {
    http::Request::post("/events")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("x-moveo-signature", sign(&Secret::new(secret), body))
        .body(http_body_util::Full::new(bytes::Bytes::copy_from_slice(body)))
        .unwrap()
}

// One thread: the capturing subscriber is this thread's default, and every task runs here.
#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_the_logs_or_debug_output() {
    let (captured, _guard) = capture_logs();
    let mut forbidden: Vec<String> = vec![TOKEN.into(), SECRET.into(), API_KEY.into()];
    let mut debug = Vec::new();

    // Dialog webhook: good, forged, unsigned, body token, failing handler, bad JSON.
    let router = Router::new().verify_token(TOKEN).node("fine", fine).node("failing", failing);
    debug.push(format!("{router:?}"));
    let server = TestServer::start(Server::new(router)).await;
    let body = call_body(Some("fine"), &[]);
    assert_eq!(send(server.addr, signed_post("/webhook", TOKEN, &body)).await.status, StatusCode::OK);
    let forged = call_body(Some("fine"), &[("x", 0.9)]);
    forbidden.push(sign(&Secret::new(TOKEN), &forged));
    let answer = send(server.addr, signed_post("/webhook", "not-the-token", &forged)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    debug.push(String::from_utf8_lossy(&answer.body).into_owned());
    let mut with_token: serde_json::Value = serde_json::from_slice(&body).unwrap();
    with_token["verify_token"] = json!(TOKEN);
    let with_token = serde_json::to_vec(&with_token).unwrap();
    let mut unsigned = signed_post("/webhook", TOKEN, &with_token);
    unsigned.headers_mut().remove("x-moveo-signature");
    let answer = send(server.addr, unsigned).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    debug.push(String::from_utf8_lossy(&answer.body).into_owned());
    let failing_call = call_body(Some("failing"), &[]);
    let answer = send(server.addr, signed_post("/webhook", TOKEN, &failing_call)).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(send(server.addr, signed_post("/webhook", TOKEN, b"{nope")).await.status, StatusCode::BAD_REQUEST);

    let body_token_router = Router::new().verify_token(TOKEN).accept_body_token().node("fine", fine);
    let body_token = TestServer::start(Server::new(body_token_router)).await;
    let mut wrong: serde_json::Value = serde_json::from_slice(&body).unwrap();
    wrong["verify_token"] = json!("guess");
    let mut request = signed_post("/webhook", TOKEN, &serde_json::to_vec(&wrong).unwrap());
    request.headers_mut().remove("x-moveo-signature");
    assert_eq!(send(body_token.addr, request).await.status, StatusCode::UNAUTHORIZED);

    let request: DialogRequest = serde_json::from_slice(&with_token).unwrap();
    debug.push(format!("{request:?}"));

    // Events: good, forged, stale.
    let receiver = EventsReceiver::new().webhook_secret(SECRET).on_every(|_: Event| async { Ok::<_, String>(()) });
    debug.push(format!("{receiver:?}"));
    let events = TestServer::start(Server::new(receiver)).await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    assert_eq!(send(events.addr, signed_event(&event("e-1", now), SECRET)).await.status, StatusCode::OK);
    let forged_event = event("e-2", now);
    forbidden.push(sign(&Secret::new(SECRET), &forged_event));
    assert_eq!(send(events.addr, signed_event(&forged_event, "guess")).await.status, StatusCode::UNAUTHORIZED);
    let stale = event("e-3", now - 3_600_000);
    assert!(send(events.addr, signed_event(&stale, SECRET)).await.status.is_client_error());

    // The REST client: refused, failing and retried, then accepted.
    let mock = moveo_dialog_tests::MockHttp::default();
    mock.answer(
        "/v1/custom/i-1/sessions",
        401,
        vec![],
        json!({"error_code": "unauthorized", "error_message": "bad key"}),
    );
    mock.answer("/v1/custom/i-1/sessions/s-1/close", 503, vec![], json!({"error_code": "internal-server-error"}));
    let api = mock.start().await;
    let client = Client::with_timeout(API_KEY, "i-1", Duration::from_secs(5))
        .unwrap()
        .base_url(format!("http://{api}"))
        .backoff(Duration::from_millis(1));
    debug.push(format!("{client:?}"));
    let refused = client.create_session(&CreateSession::new()).await.unwrap_err();
    debug.push(format!("{refused:?} {refused}"));
    client.close_session("s-1").await.unwrap();
    debug.push(format!("{:?}", Secret::new(TOKEN)));

    let logs = captured.text();
    assert!(logs.lines().count() >= 10, "the capture works: {logs}");
    assert!(logs.contains("401") || logs.to_lowercase().contains("signature"), "rejections are logged: {logs}");
    for secret in &forbidden {
        assert!(!logs.contains(secret.as_str()), "the logs hold {secret}:\n{logs}");
        for text in &debug {
            assert!(!text.contains(secret.as_str()), "Debug output holds {secret}: {text}");
        }
    }
}

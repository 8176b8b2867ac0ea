//! One serving pipeline (issue 12): `Server` serves any tower `Service` (a layered router, an
//! axum app mounting both endpoints), several webhooks on one server with `Router::nest`, the
//! URL reaching handlers (`Query<T>`, `Uri`), path checks at registration, token rotation.
//! Every test runs over real loopback sockets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::Full;
use moveo_dialog::events::{Event, EventType, EventsReceiver};
use moveo_dialog::extract::{Query, Uri};
use moveo_dialog::verify::{Secret, sign};
use moveo_dialog::{Reply, Router, ServeError, Server};
use serde::Deserialize;
use tokio::sync::Notify;
use tower::ServiceBuilder;

use crate::support::{TOKEN, TestServer, call_body, capture_logs, send, signed_post};

fn text_of(answer: &crate::support::Answer) -> String {
    answer.json()["responses"][0]["texts"][0].as_str().unwrap_or_default().to_owned()
}

async fn echo_layer_header(headers: HeaderMap) -> Reply {
    let seen = headers.get("x-added-by-layer").and_then(|v| v.to_str().ok()).unwrap_or("none");
    Reply::text(format!("layer: {seen}"))
}

#[tokio::test]
async fn a_router_under_tower_layers_is_served_with_every_protection() {
    let router = Router::new().verify_token(TOKEN).fallback(echo_layer_header);
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let service = ServiceBuilder::new()
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .map_request(move |mut request: Request<hyper::body::Incoming>| {
            counter.fetch_add(1, Ordering::SeqCst);
            request.headers_mut().insert("x-added-by-layer", http::HeaderValue::from_static("map_request"));
            request
        })
        .service(router);
    let server = TestServer::start(Server::new(service).max_in_flight(8)).await;

    let answer = send(server.addr, signed_post("/webhook", TOKEN, &call_body(None, &[]))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(text_of(&answer), "layer: map_request");
    assert_eq!(seen.load(Ordering::SeqCst), 1);

    // Verification still runs inside the layers.
    let forged = send(server.addr, signed_post("/webhook", "not-the-token", &call_body(None, &[]))).await;
    assert_eq!((forged.status, forged.error().as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"));

    // `/healthz` is the server's own answer: the layers never see it.
    let health = send(server.addr, Request::get("/healthz").header("host", "x").body(Full::default()).unwrap()).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(seen.load(Ordering::SeqCst), 2, "the forged call went through the layer, /healthz did not");
}

fn events_receiver(handled: Arc<AtomicUsize>) -> EventsReceiver {
    EventsReceiver::new().webhook_secret("events-secret").on(EventType::SessionClosed, move |_event: Event| {
        let handled = Arc::clone(&handled);
        async move {
            handled.fetch_add(1, Ordering::SeqCst);
        }
    })
}

fn session_closed(request_id: &str) -> Vec<u8> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    serde_json::to_vec(&serde_json::json!({
        "event_type": "session:closed", "request_id": request_id, "timestamp": now,
        "session_id": "00d2ff33-706e-4a2c-8544-df6c9d0c1ecf", "integration_id": "i-1", "brain_id": "b-1",
        "channel": "custom", "data": {}
    }))
    .unwrap()
}

#[tokio::test]
async fn an_axum_app_mounting_both_endpoints_is_served_by_server() {
    let handled = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Notify::new());
    let entered = Arc::new(Notify::new());
    let (gate, arrived) = (Arc::clone(&release), Arc::clone(&entered));
    let dialog = Router::new().verify_token(TOKEN).node("slow", move || {
        let (gate, arrived) = (Arc::clone(&gate), Arc::clone(&arrived));
        async move {
            arrived.notify_one();
            gate.notified().await;
            Reply::text("slow")
        }
    });
    let dialog = dialog.fallback(|| async { Reply::text("from the dialog router") });
    let app = axum::Router::new()
        .route_service("/webhook", dialog)
        .route_service("/events", events_receiver(Arc::clone(&handled)))
        .route("/", axum::routing::get(|| async { "the rest of the app" }));
    let server = TestServer::start(Server::new(app).max_in_flight(1)).await;

    let answer = send(server.addr, signed_post("/webhook", TOKEN, &call_body(None, &[]))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(text_of(&answer), "from the dialog router");

    let event = session_closed("evt-1");
    let delivered = send(server.addr, signed_post("/events", "events-secret", &event)).await;
    assert_eq!(delivered.status, StatusCode::OK, "{delivered:?}");
    assert_eq!(delivered.json()["status"], "handled");
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    let forged = send(server.addr, signed_post("/events", TOKEN, &event)).await;
    assert_eq!(forged.error(), "bad_signature");

    let health = send(server.addr, Request::get("/healthz").header("host", "x").body(Full::default()).unwrap()).await;
    assert_eq!(health.status, StatusCode::OK);

    // The in-flight cap holds for the axum app too: one call parked in its handler, the next
    // is 503 `overloaded`.
    let addr = server.addr;
    let parked =
        tokio::spawn(async move { send(addr, signed_post("/webhook", TOKEN, &call_body(Some("slow"), &[]))).await });
    entered.notified().await;
    let refused = send(server.addr, signed_post("/webhook", TOKEN, &call_body(None, &[]))).await;
    assert_eq!((refused.status, refused.error().as_str()), (StatusCode::SERVICE_UNAVAILABLE, "overloaded"));
    release.notify_one();
    assert_eq!(text_of(&parked.await.unwrap()), "slow");
}

#[tokio::test]
async fn nested_routers_host_several_webhooks_each_with_its_own_token() {
    let otp = Router::new()
        .verify_token("otp-token")
        .node("send_otp", || async { Reply::text("otp: code sent") })
        .path("/resend", || async { Reply::text("otp: resent") })
        .fallback(|| async { Reply::text("otp: fallback") });
    let stock = Router::new().verify_tokens(["stock-token"]).fallback(|| async { Reply::text("stock: fallback") });
    let app = Router::new().nest("/webhooks/otp", otp).nest("/webhooks/inventory", stock);
    let server = TestServer::start(Server::new(app)).await;

    let body = call_body(Some("send_otp"), &[]);
    let answer = send(server.addr, signed_post("/webhooks/otp", "otp-token", &body)).await;
    assert_eq!(text_of(&answer), "otp: code sent", "{answer:?}");
    let answer = send(server.addr, signed_post("/webhooks/otp/resend", "otp-token", &body)).await;
    assert_eq!(text_of(&answer), "otp: resent", "a path route is relative to the prefix");
    let answer = send(server.addr, signed_post("/webhooks/otp/anything", "otp-token", &call_body(None, &[]))).await;
    assert_eq!(text_of(&answer), "otp: fallback");
    let answer = send(server.addr, signed_post("/webhooks/inventory", "stock-token", &body)).await;
    assert_eq!(text_of(&answer), "stock: fallback", "node routes of one webhook do not leak into another");

    // Signed with the other webhook's token: 401.
    let crossed = send(server.addr, signed_post("/webhooks/inventory", "otp-token", &body)).await;
    assert_eq!((crossed.status, crossed.error().as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"));
    let crossed = send(server.addr, signed_post("/webhooks/otp", "stock-token", &body)).await;
    assert_eq!(crossed.status, StatusCode::UNAUTHORIZED);

    // A prefix matches whole segments only, and nothing is mounted elsewhere.
    for path in ["/webhooks/otpx", "/webhooks", "/"] {
        let missing = send(server.addr, signed_post(path, "otp-token", &body)).await;
        assert_eq!((missing.status, missing.error().as_str()), (StatusCode::NOT_FOUND, "no_route"), "{path}");
        assert!(missing.json()["message"].as_str().unwrap().contains(&format!("{path:?}")), "{missing:?}");
    }
}

#[tokio::test]
async fn a_nested_router_without_a_token_refuses_to_start() {
    let app = Router::new()
        .nest("/webhooks/otp", Router::new().verify_token("otp-token").fallback(|| async { Reply::text("x") }))
        .nest("/webhooks/bare", Router::new().fallback(|| async { Reply::text("x") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = Server::new(app).serve_with_shutdown(listener, std::future::pending()).await;
    assert!(matches!(refused, Err(ServeError::NoVerification)), "{refused:?}");
}

#[derive(Debug, Deserialize)]
struct Purchases {
    #[serde(rename = "isClothes", default)]
    is_clothes: bool,
    min: Option<u32>,
}

async fn purchases(Query(query): Query<Purchases>, uri: Uri) -> Reply {
    Reply::text(format!("clothes={} min={:?} path={}", query.is_clothes, query.min, uri.path()))
}

#[tokio::test]
async fn handlers_read_the_query_string_and_the_uri() {
    let router = Router::new().verify_token(TOKEN).path("/purchases", purchases);
    let app = Router::new().nest("/shop", router);
    let server = TestServer::start(Server::new(app)).await;
    let body = call_body(None, &[]);

    let answer = send(server.addr, signed_post("/shop/purchases?isClothes=true&min=5", TOKEN, &body)).await;
    assert_eq!(text_of(&answer), "clothes=true min=Some(5) path=/shop/purchases", "{answer:?}");
    let answer = send(server.addr, signed_post("/shop/purchases", TOKEN, &body)).await;
    assert_eq!(text_of(&answer), "clothes=false min=None path=/shop/purchases");

    let answer = send(server.addr, signed_post("/shop/purchases?min=lots", TOKEN, &body)).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_query"));
    assert!(answer.json()["message"].as_str().unwrap().contains("min"), "{answer:?}");
}

#[test]
fn a_path_route_that_is_not_a_plain_path_panics_at_registration_naming_it() {
    for bad in ["/purchases?isClothes=true", "/purchases#top", "purchases"] {
        let panic = std::panic::catch_unwind(|| Router::new().path(bad, || async { Reply::text("x") }))
            .expect_err("registration panics");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains(&format!("{bad:?}")), "{message}");
    }
    for bad in ["/", "/webhooks/", "webhooks", "/a?b"] {
        assert!(std::panic::catch_unwind(|| Router::new().nest(bad, Router::new())).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn a_rotated_verify_token_accepts_either_token_and_nothing_else() {
    let router = Router::new()
        .verify_tokens(["token-new", "token-old"])
        .accept_body_token()
        .fallback(|| async { Reply::text("ok") });
    let server = TestServer::start(Server::new(router)).await;
    let body = call_body(None, &[]);
    for token in ["token-new", "token-old"] {
        let answer = send(server.addr, signed_post("/webhook", token, &body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{token}");
    }
    let forged = send(server.addr, signed_post("/webhook", "token-other", &body)).await;
    assert_eq!(forged.error(), "bad_signature");

    // The body-token fallback (no signature header) takes either token too.
    let unsigned = |token: &str| {
        let body = serde_json::to_vec(&serde_json::json!({"verify_token": token, "context": {}})).unwrap();
        Request::post("/webhook")
            .header("host", "x")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    assert_eq!(send(server.addr, unsigned("token-old")).await.status, StatusCode::OK);
    assert_eq!(send(server.addr, unsigned("token-new")).await.status, StatusCode::OK);
    assert_eq!(send(server.addr, unsigned("token-oldx")).await.error(), "bad_verify_token");
}

#[tokio::test]
async fn rotated_webhook_secrets_accept_events_signed_with_either() {
    let handled = Arc::new(AtomicUsize::new(0));
    let receiver = EventsReceiver::new().webhook_secrets(["secret-new", "secret-old"]).on(EventType::SessionClosed, {
        let handled = Arc::clone(&handled);
        move |_event: Event| {
            let handled = Arc::clone(&handled);
            async move {
                handled.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let server = TestServer::start(Server::new(receiver)).await;
    for (i, secret) in ["secret-new", "secret-old"].into_iter().enumerate() {
        let answer = send(server.addr, signed_post("/events", secret, &session_closed(&format!("evt-{i}")))).await;
        assert_eq!(answer.json()["status"], "handled", "{secret}");
    }
    let forged = send(server.addr, signed_post("/events", "secret-other", &session_closed("evt-9"))).await;
    assert_eq!(forged.error(), "bad_signature");
    assert_eq!(handled.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_blank_secret_refuses_to_start_with_a_sentence() {
    for token in ["", "  "] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let router = Router::new().verify_tokens(["good-token", token]).fallback(|| async { Reply::text("x") });
        let refused = Server::new(router).serve_with_shutdown(listener, std::future::pending()).await.unwrap_err();
        assert!(matches!(refused, ServeError::BlankSecret { .. }));
        // `Debug` (what `main() -> Result<(), Box<dyn Error>>` prints) is the sentence.
        assert!(format!("{refused:?}").contains("verify token is empty or blank"), "{refused:?}");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = EventsReceiver::new().webhook_secret("");
    let refused = Server::new(receiver).serve_with_shutdown(listener, std::future::pending()).await.unwrap_err();
    assert!(format!("{refused}").contains("webhook secret is empty or blank"), "{refused}");
}

// One thread: the capturing subscriber is this thread's default, and every task runs here.
#[tokio::test(flavor = "current_thread")]
async fn the_log_names_the_matching_token_by_its_fingerprint_never_the_token() {
    let (captured, _guard) = capture_logs();
    let router = Router::new().verify_tokens(["token-new", "token-old"]).fallback(|| async { Reply::text("ok") });
    let server = TestServer::start(Server::new(router)).await;
    let answer = send(server.addr, signed_post("/webhook", "token-old", &call_body(None, &[]))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let logs = captured.text();
    // The fingerprint is the first 8 hex digits of SHA-256 of the token.
    let old = Secret::new("token-old").fingerprint().to_string();
    assert_eq!(old.len(), 8);
    assert!(logs.lines().any(|line| line.contains("verified") && line.contains(&old)), "{logs}");
    assert!(!logs.contains("token-old") && !logs.contains("token-new"), "{logs}");
    assert!(!logs.contains(&sign(&Secret::new("token-old"), &call_body(None, &[]))), "{logs}");
}

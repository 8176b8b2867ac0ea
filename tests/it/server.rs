//! The dialog webhook server over real loopback sockets: every row of the status table, the
//! signature test vector, route selection, panics, trickling clients, deadlines, shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use moveo_dialog::extract::{Context, InputText, Intents, MoveoHeaders, RawBody, State};
use moveo_dialog::{DialogRequest, HandlerError, Reply, Router, Server};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::fixtures;
use crate::support::{TOKEN, TestServer, call_body, post_signed, send, send_h2, signed_post, signed_raw_to};

fn base() -> Router {
    Router::new().verify_token(TOKEN)
}

async fn start(router: Router) -> TestServer {
    TestServer::start(Server::new(router)).await
}

fn raw_post(path: &str, content_type: Option<&str>, body: &[u8]) -> Request<Full<Bytes>> {
    let mut builder = Request::post(path).header("host", "localhost");
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Full::new(Bytes::copy_from_slice(body))).expect("request")
}

async fn named(name: &'static str) -> Reply {
    Reply::text(name)
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Strict {
    total_months: u32,
}

async fn strict(Context(_): Context<Strict>) -> Reply {
    Reply::text("fits")
}

fn text_of(answer: &crate::support::Answer) -> String {
    answer.json()["responses"][0]["texts"][0].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_erasmus_example_answers_the_spec_request() {
    let server = TestServer::start(Server::new(moveo_dialog_examples::erasmus::router(TOKEN))).await;
    let answer = post_signed(server.addr, "/webhook", &fixtures::bytes("dialog-request.json")).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.headers["content-type"], "application/json");
    let reply = answer.json();
    moveo_dialog::testing::assert_valid_reply(&reply);
    assert_eq!(reply["context"]["monthly_budget"], 166.67);
    assert!(text_of(&answer).contains("England"), "{reply}");

    // A value of the wrong type is asked for again, with a 200 text reply.
    let mut request = fixtures::json("dialog-request.json");
    request["context"]["total_months"] = serde_json::json!({"not": "a number"});
    let answer = post_signed(server.addr, "/webhook", &serde_json::to_vec(&request).unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(text_of(&answer).starts_with("How many months"), "{:?}", answer.json());
    assert_eq!(answer.json()["context"]["erasmus_missing"], "total_months");

    // A destination that is not text is asked for again too; numbers may come as text.
    let mut request = fixtures::json("dialog-request.json");
    request["context"]["destination"] = serde_json::json!(42);
    let answer = post_signed(server.addr, "/webhook", &serde_json::to_vec(&request).unwrap()).await;
    assert_eq!(answer.json()["context"]["erasmus_missing"], "destination", "{:?}", answer.json());
    let mut request = fixtures::json("dialog-request.json");
    request["context"]["total_months"] = serde_json::json!(" 4 ");
    request["context"]["total_expenses"] = serde_json::json!("1000");
    let answer = post_signed(server.addr, "/webhook", &serde_json::to_vec(&request).unwrap()).await;
    assert_eq!(answer.json()["context"]["monthly_budget"], 250.0, "{:?}", answer.json());
}

#[tokio::test]
async fn the_supplement_signature_vector_is_accepted_by_the_server() {
    let server = start(Router::new().verify_token("123456789").fallback(|| named("ok"))).await;
    let body = fixtures::bytes("signature-vector-body.json");
    let request = Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-moveo-signature", "7b2e526f80d3ad094ee0a2ccc2501afdab7044f89839f9fcba9466d15a967774")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let answer = send(server.addr, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(text_of(&answer), "ok");
}

#[tokio::test]
async fn every_row_of_the_status_table() {
    let router = base()
        .node("strict", strict)
        .node("fails", || async { Err::<Reply, _>(HandlerError::new("database down: password=hunter2")) })
        .node("panics", || async {
            if true {
                panic!("boom");
            }
            Reply::text("unreachable")
        })
        .body_limit(1024);
    let server = start(router).await;
    let addr = server.addr;
    let ok_body = call_body(Some("strict"), &[]);

    // 405: an unsigned GET.
    let answer = send(addr, Request::get("/webhook").header("host", "x").body(Full::default()).unwrap()).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));

    // 415: no content type, and the wrong one.
    for content_type in [None, Some("text/plain"), Some("application/jsonx")] {
        let answer = send(addr, raw_post("/webhook", content_type, &ok_body)).await;
        assert_eq!(
            (answer.status, answer.error().as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            "{content_type:?}"
        );
    }

    // 413: declared over the limit.
    let big = vec![b' '; 2048];
    let answer = send(addr, signed_post("/webhook", TOKEN, &big)).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));

    // 401: each check.
    let answer = send(addr, raw_post("/webhook", Some("application/json"), &ok_body)).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::UNAUTHORIZED, "missing_signature"));
    let answer = send(addr, signed_post("/webhook", "another-token", &ok_body)).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"));
    assert!(!String::from_utf8_lossy(&answer.body).contains(TOKEN));

    // 400: not JSON; JSON of the wrong shape; a context that does not fit.
    let answer = post_signed(addr, "/webhook", b"{not json").await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_json"));
    // Not UTF-8, even in a field routing does not read (JSON text is UTF-8): the message says
    // where.
    let answer = post_signed(addr, "/webhook", b"{\"input\": {\"text\": \"\xff\"}, \"intents\": []}").await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let message = answer.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("not UTF-8") && message.contains("index 20"), "{message}");
    let answer = post_signed(addr, "/webhook", br#"{"intents": "erasmus"}"#).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_request"));
    assert!(answer.json()["message"].as_str().unwrap().contains("intents"), "{:?}", answer.json());
    let answer = post_signed(addr, "/webhook", br#"[1, 2]"#).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_request"));
    let body =
        br#"{"context": {"total_months": "three"}, "debug": {"dialog_stack": [{"node_id": "n", "name": "strict"}]}}"#;
    let answer = post_signed(addr, "/webhook", body).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_context"));
    assert!(answer.json()["message"].as_str().unwrap().contains("context.total_months"), "{:?}", answer.json());

    // 404: nothing matched, no fallback; the message names what it saw.
    let answer = post_signed(addr, "/webhook", &call_body(Some("elsewhere"), &[("weather", 0.9)])).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::NOT_FOUND, "no_route"));
    let message = answer.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("\"elsewhere\"") && message.contains("weather (0.9)"), "{message}");

    // 500: a handler error (its details stay in the log) and a panic.
    let answer = post_signed(addr, "/webhook", &call_body(Some("fails"), &[])).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "handler_error"));
    assert!(!String::from_utf8_lossy(&answer.body).contains("hunter2"));
    let answer = post_signed(addr, "/webhook", &call_body(Some("panics"), &[])).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "handler_panic"));

    // 200, with a content type that has parameters.
    let mut request = signed_post(
        "/webhook",
        TOKEN,
        br#"{"context": {"total_months": 3}, "debug": {"dialog_stack": [{"node_id": "n", "name": "strict"}]}}"#,
    );
    request.headers_mut().insert("content-type", "application/json; charset=utf-8".parse().unwrap());
    let answer = send(addr, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(text_of(&answer), "fits");
}

#[tokio::test]
async fn checks_run_in_the_documented_order() {
    let server = start(base().fallback(|| named("ok")).body_limit(64)).await;
    // A GET with a wrong content type and no signature: 405 first.
    let request = Request::get("/webhook").header("content-type", "text/plain").body(Full::default()).unwrap();
    assert_eq!(send(server.addr, request).await.status, StatusCode::METHOD_NOT_ALLOWED);
    // Wrong content type and too large and unsigned: 415 before 413.
    let answer = send(server.addr, raw_post("/webhook", Some("text/plain"), &[b'x'; 100])).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Too large and unsigned: 413 before 401.
    let answer = send(server.addr, raw_post("/webhook", Some("application/json"), &[b'x'; 100])).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Unsigned and not JSON: 401 before 400.
    let answer = send(server.addr, raw_post("/webhook", Some("application/json"), b"nope")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused_without_reading_it_all() {
    let server = start(base().fallback(|| named("ok")).body_limit(1024)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 600, " ".repeat(600));
    // Two chunks pass the limit; the server answers without waiting for the end.
    for _ in 0..2 {
        stream.write_all(chunk.as_bytes()).await.unwrap();
    }
    let mut response = vec![0u8; 4096];
    let read =
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response)).await.expect("answered").unwrap();
    let text = String::from_utf8_lossy(&response[..read]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("payload_too_large"), "{text}");
}

#[tokio::test]
async fn body_token_is_accepted_only_when_opted_in() {
    let mut body = fixtures::json("dialog-request.json");
    body["verify_token"] = TOKEN.into();
    let body = serde_json::to_vec(&body).unwrap();
    let unsigned = || raw_post("/webhook", Some("application/json"), &body);

    let strict = start(base().fallback(|| named("ok"))).await;
    assert_eq!(send(strict.addr, unsigned()).await.error(), "missing_signature");

    let lenient = start(base().accept_body_token().fallback(|| named("ok"))).await;
    assert_eq!(send(lenient.addr, unsigned()).await.status, StatusCode::OK);
    let mut wrong = fixtures::json("dialog-request.json");
    wrong["verify_token"] = "not-it".into();
    let answer =
        send(lenient.addr, raw_post("/webhook", Some("application/json"), &serde_json::to_vec(&wrong).unwrap())).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::UNAUTHORIZED, "bad_verify_token"));
    // A signature that is present must still be right, whatever the body says.
    let answer = send(lenient.addr, signed_post("/webhook", "not-it", &body)).await;
    assert_eq!(answer.error(), "bad_signature");
}

#[tokio::test]
async fn the_address_allowlist_and_trusted_proxy_header() {
    let moveo_only = start(base().allow_ips(moveo_dialog::verify::MOVEO_IPS).fallback(|| named("ok"))).await;
    let answer = post_signed(moveo_only.addr, "/webhook", &call_body(None, &[])).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::UNAUTHORIZED, "address_not_allowed"));

    let loopback =
        start(base().allow_ips(["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]).fallback(|| named("ok"))).await;
    assert_eq!(post_signed(loopback.addr, "/webhook", &call_body(None, &[])).await.status, StatusCode::OK);

    let with_forwarded = |value: &str| {
        let mut request = signed_post("/webhook", TOKEN, &call_body(None, &[]));
        request.headers_mut().insert("x-forwarded-for", value.parse().unwrap());
        request
    };
    let forwarded_for = || http::HeaderName::from_static("x-forwarded-for");
    // The header alone, from a peer that is not a trusted proxy, is ignored: a client cannot
    // claim Moveo's address.
    let spoofable = start(
        base()
            .allow_ips(moveo_dialog::verify::MOVEO_IPS)
            .trusted_proxy_header(forwarded_for())
            .fallback(|| named("ok")),
    )
    .await;
    assert_eq!(send(spoofable.addr, with_forwarded("18.192.167.150")).await.error(), "address_not_allowed");

    let proxied = start(
        base()
            .allow_ips(moveo_dialog::verify::MOVEO_IPS)
            .trusted_proxy_header(forwarded_for())
            .trusted_proxies(["127.0.0.0/8".parse::<moveo_dialog::serve::IpNet>().unwrap()])
            .fallback(|| named("ok")),
    )
    .await;
    // The last address is the one the trusted proxy saw; the first is the client's claim.
    assert_eq!(send(proxied.addr, with_forwarded("10.0.0.1, 18.192.167.150")).await.status, StatusCode::OK);
    assert_eq!(send(proxied.addr, with_forwarded("18.192.167.150, 10.0.0.1")).await.error(), "address_not_allowed");

    // Trusted hops are skipped, right to left; ranges are CIDR.
    let chained = start(
        base()
            .allow_ips(["18.192.167.0/24".parse::<moveo_dialog::serve::IpNet>().unwrap()])
            .trusted_proxy_header(forwarded_for())
            .trusted_proxies(
                ["127.0.0.0/8", "10.0.0.0/8"].map(|range| range.parse::<moveo_dialog::serve::IpNet>().unwrap()),
            )
            .fallback(|| named("ok")),
    )
    .await;
    assert_eq!(send(chained.addr, with_forwarded("6.6.6.6, 18.192.167.150, 10.0.0.1")).await.status, StatusCode::OK);
    assert_eq!(
        send(chained.addr, with_forwarded("18.192.167.150, 6.6.6.6, 10.0.0.1")).await.error(),
        "address_not_allowed"
    );
}

#[tokio::test]
async fn routes_are_selected_by_path_then_node_then_intent_then_fallback() {
    let router = base()
        .path("/webhooks/otp", || named("path"))
        .node("plan_erasmus", || named("node"))
        .intent("erasmus", || named("intent erasmus"))
        .intent_at_least("weather", 0.3, || named("intent weather"))
        .fallback(|| named("fallback"));
    let server = start(router).await;
    let ask = |path: &'static str, body: Vec<u8>| {
        let addr = server.addr;
        async move { text_of(&post_signed(addr, path, &body).await) }
    };
    assert_eq!(ask("/webhooks/otp", call_body(Some("plan_erasmus"), &[("erasmus", 0.9)])).await, "path");
    assert_eq!(ask("/webhook", call_body(Some("plan_erasmus"), &[("erasmus", 0.9)])).await, "node");
    // Only the last node of the stack counts.
    assert_eq!(ask("/webhook", call_body(Some("greetings"), &[])).await, "fallback");
    // Intents in descending confidence, each against its own threshold.
    assert_eq!(ask("/webhook", call_body(Some("unknown"), &[("erasmus", 0.9)])).await, "intent erasmus");
    assert_eq!(ask("/webhook", call_body(None, &[("weather", 0.4), ("erasmus", 0.65)])).await, "intent weather");
    assert_eq!(ask("/webhook", call_body(None, &[("weather", 0.5), ("erasmus", 0.8)])).await, "intent erasmus");
    assert_eq!(ask("/webhook", call_body(None, &[("erasmus", 0.7)])).await, "intent erasmus");
    assert_eq!(ask("/webhook", call_body(None, &[("erasmus", 0.69)])).await, "fallback");
    assert_eq!(ask("/webhook", call_body(None, &[("weather", 0.2)])).await, "fallback");
}

#[derive(Clone)]
struct Counter(Arc<AtomicUsize>);

#[tokio::test]
async fn extractors_see_the_call() {
    async fn inspect(
        request: DialogRequest,
        InputText(text): InputText,
        Intents(intents): Intents,
        headers: MoveoHeaders,
        State(counter): State<Counter>,
        RawBody(raw): RawBody,
    ) -> Reply {
        let calls = counter.0.fetch_add(1, Ordering::SeqCst) + 1;
        Reply::builder()
            .context("session", request.session_id.unwrap_or_default())
            .context("text", text)
            .context("intents", intents.len())
            .context("request_id", headers.request_id.unwrap_or_default())
            .context("account_slug", headers.account_slug.unwrap_or_default())
            .context("raw_len", raw.len())
            .context("calls", calls)
            .build()
            .expect("valid")
    }
    let counter = Counter(Arc::new(AtomicUsize::new(0)));
    let server = start(base().fallback(inspect).state(counter.clone())).await;
    let body = call_body(None, &[("a", 0.5), ("b", 0.1)]);
    let answer = post_signed(server.addr, "/webhook", &body).await;
    let context = &answer.json()["context"];
    assert_eq!(context["session"], "s-1");
    assert_eq!(context["text"], "hi");
    assert_eq!(context["intents"], 2);
    assert_eq!(context["request_id"], "req-test-1");
    assert_eq!(context["account_slug"], "acme");
    assert_eq!(context["raw_len"], body.len());
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_missing_state_is_a_handler_error_not_a_panic() {
    // Served directly, the server refuses to start, naming the type and the route.
    let router = base().fallback(|State(_): State<Counter>| async { Reply::text("x") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = Server::new(router.clone()).serve_with_shutdown(listener, std::future::pending()).await.unwrap_err();
    let message = refused.to_string();
    assert!(matches!(refused, moveo_dialog::ServeError::MissingState { .. }), "{message}");
    assert!(message.contains("fallback") && message.contains("Counter"), "{message}");
    // Under a layer the server cannot see into, the call is answered 500, never a panic.
    let layered =
        tower::ServiceBuilder::new().map_request(|request: Request<hyper::body::Incoming>| request).service(router);
    let server = TestServer::start(Server::new(layered)).await;
    let answer = post_signed(server.addr, "/webhook", &call_body(None, &[])).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "handler_error"));
}

#[tokio::test]
async fn a_panic_is_followed_by_normal_requests() {
    async fn panics() -> Reply {
        panic!("boom")
    }
    let server = start(base().node("panics", panics).fallback(|| named("fine"))).await;
    for _ in 0..20 {
        let answer = post_signed(server.addr, "/webhook", &call_body(Some("panics"), &[])).await;
        assert_eq!(answer.error(), "handler_panic");
    }
    let answer = post_signed(server.addr, "/webhook", &call_body(None, &[])).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(text_of(&answer), "fine");
}

async fn slow() -> Reply {
    tokio::time::sleep(Duration::from_millis(400)).await;
    Reply::text("slow")
}

#[tokio::test]
async fn a_missed_deadline_gets_the_fallback_reply_or_504() {
    let with_fallback = start(
        base()
            .fallback(slow)
            .deadline(Duration::from_millis(50))
            .deadline_fallback(Reply::text("Still working on it, one moment.")),
    )
    .await;
    let started = Instant::now();
    let answer = post_signed(with_fallback.addr, "/webhook", &call_body(None, &[])).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(text_of(&answer), "Still working on it, one moment.");
    assert!(started.elapsed() < Duration::from_millis(390), "answered at the deadline, not after the handler");

    let without = start(base().fallback(slow).deadline(Duration::from_millis(50))).await;
    let answer = post_signed(without.addr, "/webhook", &call_body(None, &[])).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::GATEWAY_TIMEOUT, "deadline_exceeded"));
}

#[tokio::test]
async fn beyond_the_in_flight_limit_calls_get_503() {
    let server = TestServer::start(Server::new(base().fallback(slow)).max_in_flight(2)).await;
    let addr = server.addr;
    let body = call_body(None, &[]);
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let body = body.clone();
            tokio::spawn(async move { post_signed(addr, "/webhook", &body).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for call in calls {
        let answer = call.await.unwrap();
        if answer.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(answer.error(), "overloaded");
        }
        statuses.push(answer.status);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 2, "{statuses:?}");
    assert_eq!(statuses.len() - ok, 4, "{statuses:?}");
}

#[tokio::test]
async fn trickling_clients_do_not_block_others_and_are_cut_off() {
    let server = TestServer::start(
        Server::new(base().fallback(|| named("ok"))).header_read_timeout(Duration::from_millis(1500)),
    )
    .await;
    let mut tricklers = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(b"POST /webhook HTTP/1.1\r\nhost: x\r\n").await.unwrap();
        tricklers.push(stream);
    }
    // Normal calls go through while the tricklers hold their connections open.
    let body = call_body(None, &[]);
    for _ in 0..10 {
        let started = Instant::now();
        let answer = post_signed(server.addr, "/webhook", &body).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    }
    // The header-read timeout closes the tricklers' connections.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let mut closed = 0;
    for stream in &mut tricklers {
        let _ = stream.write_all(b"x-slow: 1\r\n").await;
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    assert_eq!(closed, tricklers.len());
}

#[tokio::test]
async fn shutdown_completes_the_call_in_flight_and_refuses_new_ones() {
    let mut server = TestServer::start(Server::new(base().fallback(slow)).grace_period(Duration::from_secs(5))).await;
    let addr = server.addr;
    let body = call_body(None, &[]);
    let in_flight = tokio::spawn({
        let body = body.clone();
        async move { post_signed(addr, "/webhook", &body).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A call that arrives during the grace period: 503 with Connection: close.
    let late = post_signed(addr, "/webhook", &body).await;
    assert_eq!((late.status, late.error().as_str()), (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"));
    assert_eq!(late.headers["connection"], "close");
    let answer = in_flight.await.unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(text_of(&answer), "slow");
    server.assert_stops_within(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_router_without_a_verify_token_refuses_to_serve() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = Server::new(Router::new().fallback(|| named("x"))).serve(listener).await.unwrap_err();
    assert!(err.to_string().contains("verify_token"), "{err}");
}

#[tokio::test]
async fn http2_healthz_and_metrics() {
    let metrics = moveo_dialog::dialog::Metrics::new().bearer_token("metrics-token");
    let server = start(base().fallback(|| named("h2")).metrics(metrics)).await;
    let answer = send_h2(server.addr, signed_post(&server.url("/webhook"), TOKEN, &call_body(None, &[]))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(text_of(&answer), "h2");
    let _ = send(server.addr, raw_post("/webhook", Some("application/json"), b"{}")).await;
    let health = send(server.addr, Request::get("/healthz").header("host", "x").body(Full::default()).unwrap()).await;
    assert_eq!(health.status, StatusCode::OK);
    let get_metrics = |token: Option<&str>| {
        let mut request = Request::get("/metrics").header("host", "x");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        send(server.addr, request.body(Full::default()).unwrap())
    };
    // On the webhook port, the metrics answer their bearer token only.
    assert_eq!(get_metrics(None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get_metrics(Some("guess")).await.error(), "bad_bearer_token");
    let metrics = get_metrics(Some("metrics-token")).await;
    assert_eq!(metrics.status, StatusCode::OK);
    // OpenMetrics text, once: not the JSON type every other answer carries.
    let types: Vec<_> = metrics.headers.get_all("content-type").iter().collect();
    assert_eq!(types, ["application/openmetrics-text; version=1.0.0; charset=utf-8"]);
    assert_eq!(health.headers["content-type"], "application/json");
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(text.contains(r#"moveo_dialog_requests_total{route="fallback",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"moveo_dialog_verification_failures_total{reason="missing_signature"} 1"#), "{text}");
    // A call refused before a route was chosen is counted under `-`.
    assert!(text.contains(r#"moveo_dialog_requests_total{route="-",status="401"} 1"#), "{text}");
    assert!(text.contains("moveo_dialog_request_duration_seconds_bucket"), "{text}");
}

#[test]
#[should_panic(expected = "the node \"plan\" is registered twice")]
fn registering_a_node_twice_panics_naming_it() {
    let _ = Router::new().node("plan", || named("a")).node("plan", || named("b"));
}

#[test]
#[should_panic(expected = "the intent \"erasmus\" is registered twice")]
fn registering_an_intent_twice_panics_naming_it() {
    let _ = Router::new().intent("erasmus", || named("a")).intent_at_least("erasmus", 0.2, || named("b"));
}

#[test]
fn the_route_table_lists_every_route() {
    let router = Router::new()
        .node("plan_erasmus", || named("a"))
        .intent("erasmus", || named("b"))
        .path("/webhooks/otp", || named("c"))
        .fallback(|| named("d"));
    let table: Vec<String> = router.routes().iter().map(ToString::to_string).collect();
    assert_eq!(table, ["node plan_erasmus", "intent erasmus (confidence >= 0.7)", "path /webhooks/otp", "fallback"]);
}

/// The caller's address, read from the call's extensions.
struct Peer(Option<std::net::SocketAddr>);

impl moveo_dialog::extract::FromCall for Peer {
    type Rejection = std::convert::Infallible;

    fn from_call(call: &moveo_dialog::extract::Call) -> Result<Self, Self::Rejection> {
        Ok(Self(call.extensions().get::<moveo_dialog::RemoteAddr>().map(|addr| addr.0)))
    }
}

/// The server answers a bare router in place and a layered one through `tower::Service`: a
/// handler sees the caller's address either way, and both answer the same.
#[tokio::test]
async fn a_router_served_in_place_or_under_a_layer_answers_the_same() {
    let router =
        || base().fallback(|Peer(peer): Peer| async move { Reply::text(format!("{:?}", peer.map(|p| p.ip()))) });
    let bare = start(router()).await;
    let layered =
        tower::ServiceBuilder::new().map_request(|request: Request<hyper::body::Incoming>| request).service(router());
    let layered = TestServer::start(Server::new(layered)).await;
    for server in [&bare, &layered] {
        let answer = post_signed(server.addr, "/webhook", &call_body(None, &[])).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        assert_eq!(text_of(&answer), "Some(127.0.0.1)");
        let unsigned = send(server.addr, raw_post("/webhook", Some("application/json"), b"{}")).await;
        assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    }
}

/// Reads a raw HTTP/1.1 response until its head and `Content-Length` bytes of body are in.
async fn read_http1_response(stream: &mut TcpStream) -> String {
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.unwrap().unwrap();
        assert!(n > 0, "the server closed before answering: {}", String::from_utf8_lossy(&read));
        read.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&read).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned))
                .and_then(|length| length.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if read.len() >= head_end + 4 + length {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn a_connection_whose_first_bytes_arrive_in_pieces_is_served_in_its_protocol() {
    let server = start(base().fallback(|| named("pieces"))).await;
    // HTTP/1.1 whose first segment is `P`, as the HTTP/2 preface also begins.
    let call = signed_raw_to("/webhook", TOKEN, &call_body(None, &[]), "");
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(&call[..1]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::task::yield_now().await;
    stream.write_all(&call[1..]).await.unwrap();
    let answer = read_http1_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("pieces"), "{answer}");

    // The HTTP/2 preface in two writes: the server answers with its SETTINGS frame.
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(&PREFACE[..10]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::task::yield_now().await;
    stream.write_all(&PREFACE[10..]).await.unwrap();
    stream.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
    let mut frame_head = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut frame_head)).await.unwrap().unwrap();
    assert_eq!(frame_head[3], 4, "a SETTINGS frame: {frame_head:?}");
    assert_eq!(&frame_head[5..], &[0, 0, 0, 0], "on stream 0");

    // A preface with one byte wrong is HTTP/1.1, and a bad request.
    let mut wrong = PREFACE.to_vec();
    wrong[2] = b'X';
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(&wrong).await.unwrap();
    let answer = read_http1_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

/// Lets a test know a call is in its handler, and hold it there.
#[derive(Default)]
struct Gate {
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

#[tokio::test]
async fn shutdown_drains_an_http2_connection_after_its_call_in_flight() {
    let gate = Arc::new(Gate::default());
    let router = base().state(Arc::clone(&gate)).fallback(|State(gate): State<Arc<Gate>>| async move {
        gate.entered.notify_one();
        gate.release.notified().await;
        Reply::text("drained")
    });
    // A grace period far longer than the test: the server ends because the connection is
    // drained, not because the grace period ran out.
    let mut server = TestServer::start(Server::new(router).grace_period(Duration::from_secs(600))).await;
    let addr = server.addr;
    let call = tokio::spawn(async move { send_h2(addr, signed_post("/webhook", TOKEN, &call_body(None, &[]))).await });
    gate.entered.notified().await;
    server.shutdown();
    gate.release.notify_one();
    let answer = call.await.unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(text_of(&answer), "drained");
    server.assert_stops_within(Duration::from_secs(30)).await;
}

#[tokio::test]
async fn shutdown_closes_idle_and_silent_connections_at_once() {
    // A grace period and an idle timeout far longer than the test: the server ends because the
    // drain closed its connections.
    let mut server = TestServer::start(
        Server::new(base().fallback(|| named("idle")))
            .grace_period(Duration::from_secs(600))
            .header_read_timeout(Duration::from_secs(600)),
    )
    .await;
    // A keep-alive HTTP/1.1 connection, idle after one call.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(&signed_raw_to("/webhook", TOKEN, &call_body(None, &[]), "")).await.unwrap();
    assert!(read_http1_response(&mut idle).await.starts_with("HTTP/1.1 200"));
    // A connection that has sent nothing, and one with half an HTTP/2 preface.
    let silent = TcpStream::connect(server.addr).await.unwrap();
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    partial.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    // The server has accepted all three once /healthz answers on a fourth.
    let health = send(server.addr, Request::get("/healthz").header("host", "x").body(Full::new(Bytes::new())).unwrap());
    assert_eq!(health.await.status, StatusCode::OK);

    server.shutdown();
    server.assert_stops_within(Duration::from_secs(30)).await;
    for mut stream in [idle, silent, partial] {
        let mut buffer = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.unwrap();
        assert!(matches!(read, Ok(0) | Err(_)), "closed by the server: {read:?}");
    }
}

//! Handlers that say what they mean (issue 13), over real sockets: a handler's `Rejection`
//! keeps its status, an opaque error is a 500 whose whole chain is logged and never sent,
//! `String` / `&str` are text replies, failing extractors reach a handler that asks for them,
//! Moveo's loosely typed context decodes with `moveo_dialog::loose`, and missing state is found
//! at start-up.

use std::fmt;

use http::StatusCode;
use moveo_dialog::extract::{Context, ContextRejection, Query, QueryRejection};
use moveo_dialog::{DialogContext, Rejection, Reply, Router, ServeError, Server, loose};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use crate::support::{TOKEN, TestServer, call_body, capture_logs, send, signed_post};

fn text_of(answer: &crate::support::Answer) -> String {
    answer.json()["responses"][0]["texts"][0].as_str().unwrap_or_default().to_owned()
}

fn call_with_context(node: &str, context: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "session_id": "s-1", "context": context,
        "debug": {"dialog_stack": [{"node_id": "35411a26-cff7-4fb3-a2e9-0e8e6ada048a", "name": node}]}
    }))
    .unwrap()
}

/// An error with two causes below it.
#[derive(Debug)]
struct Layered(&'static str, Option<Box<Layered>>);

impl fmt::Display for Layered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Layered {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.1.as_deref().map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

async fn refuses() -> Result<Reply, Rejection> {
    Err(Rejection::new(StatusCode::BAD_REQUEST, "missing_phone", "context.phone is missing"))
}

async fn fails_opaquely() -> Result<Reply, Layered> {
    let root = Layered("connection refused by db.internal:5432", None);
    let middle = Layered("the stock query failed", Some(Box::new(root)));
    Err(Layered("cannot check stock", Some(Box::new(middle))))
}

async fn fails_anyhow() -> anyhow::Result<Reply> {
    let config: Result<u32, std::num::ParseIntError> = "x".parse();
    let port = anyhow::Context::context(config, "reading the stock service's port")?;
    Ok(Reply::text(port.to_string()))
}

async fn fails_boxed() -> Result<Reply, Box<dyn std::error::Error + Send + Sync>> {
    let parsed: u32 = "many".parse()?;
    Ok(Reply::text(parsed.to_string()))
}

// One thread: the capturing subscriber is this thread's default, and every task runs here.
// With debug logging on, the server takes the router's observed path (the span and the
// latency); without it, the pipeline's future directly: both answer the same.
#[tokio::test(flavor = "current_thread")]
async fn with_debug_logging_each_call_runs_in_a_span_that_records_route_status_and_ids() {
    let (captured, _guard) = capture_logs();
    let router = Router::new().verify_token(TOKEN).node("plan", || async { Reply::text("planned") });
    let server = TestServer::start(Server::new(router)).await;
    let answer = send(server.addr, signed_post("/webhook", TOKEN, &call_body(Some("plan"), &[]))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["responses"][0]["texts"][0], "planned");
    let logs = captured.text();
    let answered = logs.lines().find(|line| line.contains("answered")).unwrap_or_else(|| panic!("{logs}"));
    for field in ["dialog_webhook", "req-test-1", "00d2ff33-706e-4a2c-8544-df6c9d0c1ecf", "node:plan", "status=200"] {
        assert!(answered.contains(field), "{field} in {answered}");
    }
    let chosen = logs.lines().find(|line| line.contains("route chosen")).unwrap_or_else(|| panic!("{logs}"));
    assert!(chosen.contains("dialog_webhook") && chosen.contains("req-test-1"), "inside the span: {chosen}");
}

// One thread: the capturing subscriber is this thread's default, and every task runs here.
#[tokio::test(flavor = "current_thread")]
async fn a_rejection_keeps_its_status_and_an_opaque_error_logs_its_whole_chain() {
    let (captured, _guard) = capture_logs();
    let router = Router::new()
        .verify_token(TOKEN)
        .node("refuses", refuses)
        .node("opaque", fails_opaquely)
        .node("boxed", fails_boxed)
        .node("anyhow", fails_anyhow)
        .node("string", || async { String::from("a String is a text reply") })
        .node("str", || async { "a &str is a text reply" })
        .node("result_string", || async { Ok::<_, Rejection>("ok inside a Result") });
    let server = TestServer::start(Server::new(router)).await;
    let ask = |node: &'static str| {
        let addr = server.addr;
        async move { send(addr, signed_post("/webhook", TOKEN, &call_body(Some(node), &[]))).await }
    };

    let refused = ask("refuses").await;
    assert_eq!((refused.status, refused.error().as_str()), (StatusCode::BAD_REQUEST, "missing_phone"));
    assert_eq!(refused.json()["message"], "context.phone is missing");

    let opaque = ask("opaque").await;
    assert_eq!((opaque.status, opaque.error().as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "handler_error"));
    let body = String::from_utf8_lossy(&opaque.body).into_owned();
    assert!(!body.contains("db.internal") && !body.contains("stock"), "details stay out of the body: {body}");
    let logs = captured.text();
    let line = logs.lines().find(|line| line.contains("cannot check stock")).unwrap_or_else(|| panic!("{logs}"));
    assert!(
        line.contains("cannot check stock: the stock query failed: connection refused by db.internal:5432"),
        "the whole chain, in order: {line}"
    );

    let boxed = ask("boxed").await;
    assert_eq!((boxed.status, boxed.error().as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "handler_error"));
    assert!(captured.text().contains("invalid digit found in string"));

    let anyhow = ask("anyhow").await;
    assert_eq!((anyhow.status, anyhow.error().as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "handler_error"));
    assert!(
        captured.text().contains("reading the stock service's port: invalid digit found in string"),
        "an anyhow error's context and cause are both logged"
    );

    assert_eq!(text_of(&ask("string").await), "a String is a text reply");
    assert_eq!(text_of(&ask("str").await), "a &str is a text reply");
    assert_eq!(text_of(&ask("result_string").await), "ok inside a Result");
}

#[derive(Debug, Deserialize)]
struct Price {
    #[serde(deserialize_with = "loose::number")]
    price: u64,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct StrictPrice {
    price: u64,
}

async fn quote(price: Result<Context<StrictPrice>, ContextRejection>) -> Reply {
    match price {
        Ok(Context(price)) => Reply::text(format!("{} EUR", price.price)),
        Err(why) => Reply::text(format!("Which price? {} did not fit", why.path())),
    }
}

async fn maybe(price: Option<Context<StrictPrice>>) -> Reply {
    Reply::text(if price.is_some() { "a price" } else { "no price" })
}

#[derive(Debug, Deserialize)]
struct Page {
    #[allow(dead_code)]
    page: u32,
}

async fn paged(page: Result<Query<Page>, QueryRejection>) -> Reply {
    match page {
        Ok(Query(page)) => Reply::text(format!("page {}", page.page)),
        Err(why) => Reply::text(format!("bad {}", why.parameter().unwrap_or("?"))),
    }
}

#[tokio::test]
async fn a_failing_extractor_reaches_a_handler_that_asks_for_it() {
    let router = Router::new()
        .verify_token(TOKEN)
        .node("quote", quote)
        .node("maybe", maybe)
        .node("loose", |Context(price): Context<Price>| async move { Reply::text(format!("{} EUR", price.price)) })
        .node("strict", |Context(price): Context<StrictPrice>| async move { Reply::text(price.price.to_string()) })
        .path("/paged", paged);
    let server = TestServer::start(Server::new(router)).await;
    let ask = |node: &'static str, context: serde_json::Value| {
        let addr = server.addr;
        async move { send(addr, signed_post("/webhook", TOKEN, &call_with_context(node, context))).await }
    };

    // Moveo's own sample sends the price as a string.
    let as_string = serde_json::json!({"price": "100000"});
    let answer = ask("quote", as_string.clone()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(text_of(&answer), "Which price? context.price did not fit");
    assert_eq!(text_of(&ask("maybe", as_string.clone()).await), "no price");
    assert_eq!(text_of(&ask("maybe", serde_json::json!({"price": 3})).await), "a price");
    assert_eq!(text_of(&ask("loose", as_string.clone()).await), "100000 EUR");
    assert_eq!(text_of(&ask("loose", serde_json::json!({"price": 7})).await), "7 EUR");
    // Without `Result`, the same context is still a 400 naming the path.
    let strict = ask("strict", as_string).await;
    assert_eq!((strict.status, strict.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_context"));
    assert!(strict.json()["message"].as_str().unwrap().contains("context.price"));

    let body = call_body(None, &[]);
    assert_eq!(text_of(&send(server.addr, signed_post("/paged?page=2", TOKEN, &body)).await), "page 2");
    assert_eq!(text_of(&send(server.addr, signed_post("/paged?page=two", TOKEN, &body)).await), "bad page");
}

#[derive(Clone)]
struct Inventory;

#[tokio::test]
async fn a_missing_state_refuses_to_start_naming_the_type_and_the_route() {
    use moveo_dialog::extract::State;
    let router = Router::new()
        .verify_token(TOKEN)
        .node("check_stock", |State(_): State<Inventory>| async { Reply::text("x") })
        .node("other", || async { Reply::text("y") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = Server::new(router.clone()).serve_with_shutdown(listener, std::future::pending()).await.unwrap_err();
    let ServeError::MissingState { state, route } = &refused else { panic!("{refused}") };
    assert!(state.ends_with("Inventory"), "{state}");
    assert_eq!(route, "node check_stock");
    assert!(format!("{refused:?}").contains("Router::state"), "Debug is the sentence: {refused:?}");

    // With the state added (even after the route), it starts and answers.
    let server = TestServer::start(Server::new(router.state(Inventory))).await;
    let answer = send(server.addr, signed_post("/webhook", TOKEN, &call_body(Some("check_stock"), &[]))).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[derive(Debug, Clone, Serialize, Deserialize, DialogContext)]
#[serde(rename_all = "camelCase")]
struct Customer {
    first_name: String,
    loyalty_points: u32,
    #[serde(rename = "ZIP")]
    zip_code: String,
    #[serde(rename(serialize = "vipLevel", deserialize = "vip"))]
    vip_level: Option<u8>,
    is_returning: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, DialogContext)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
struct Shouting {
    order_id: String,
    total_cents: i64,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For random values, every field serde writes is in the reply's context under serde's key,
    /// with serde's value: the derive drops nothing and renames nothing differently.
    #[test]
    fn every_written_field_is_in_the_context_under_serdes_key(
        first_name in "\\PC{0,20}",
        loyalty_points in any::<u32>(),
        zip_code in "[0-9]{5}",
        vip_level in proptest::option::of(any::<u8>()),
        is_returning in any::<bool>(),
        order_id in "[A-Z0-9]{1,8}",
        total_cents in any::<i64>(),
    ) {
        let customer = Customer { first_name, loyalty_points, zip_code, vip_level, is_returning };
        let shouting = Shouting { order_id, total_cents };
        let reply = Reply::builder().context_update(&customer).context_update(&shouting).build().unwrap();
        let context = serde_json::to_value(reply.context()).unwrap();
        let mut expected = serde_json::to_value(&customer).unwrap();
        expected.as_object_mut().unwrap().extend(serde_json::to_value(&shouting).unwrap().as_object().unwrap().clone());
        prop_assert_eq!(&context, &expected);
        prop_assert!(context.get("firstName").is_some() && context.get("ORDER-ID").is_some());
    }
}

/// A custom extractor over `Call::request()`.
struct Summary(String);

impl moveo_dialog::extract::FromCall for Summary {
    type Rejection = std::convert::Infallible;

    fn from_call(call: &moveo_dialog::extract::Call) -> Result<Self, Self::Rejection> {
        let request = call.request();
        Ok(Self(format!("{} tags, session {:?}", request.tags.len(), request.session_id)))
    }
}

/// The router reads only what routing needs; a field it leaves (here `tags`) is checked by the
/// extractor that reads it: a handler of the context is served, a handler of the whole request
/// gets 400 `invalid_request` naming the path, or the rejection itself when it asks for it.
#[tokio::test]
async fn each_extractor_checks_what_it_reads() {
    use moveo_dialog::extract::{Context, RequestRejection};
    #[derive(serde::Deserialize)]
    struct Trip {
        destination: String,
    }
    let router = moveo_dialog::Router::new()
        .verify_token(TOKEN)
        .node("context_only", |Context(trip): Context<Trip>| async move { Reply::text(trip.destination) })
        .node("whole", |request: moveo_dialog::DialogRequest| async move { Reply::text(format!("{:?}", request.tags)) })
        .node("asks", |request: Result<moveo_dialog::DialogRequest, RequestRejection>| async move {
            Reply::text(match request {
                Ok(_) => "fine".to_owned(),
                Err(rejection) => format!("refused: {}", rejection.message()),
            })
        });
    let router = router.node("custom", |Summary(summary): Summary| async move { Reply::text(summary) });
    let server = TestServer::start(Server::new(router)).await;
    let body = |node: &str| {
        serde_json::to_vec(&serde_json::json!({
            "context": {"destination": "Spain"}, "tags": ["erasmus", 1], "session_id": "s-1",
            "debug": {"dialog_stack": [{"node_id": "n-1", "name": node}]}
        }))
        .unwrap()
    };
    let served = crate::support::post_signed(server.addr, "/webhook", &body("context_only")).await;
    assert_eq!(served.status, http::StatusCode::OK, "{served:?}");
    assert_eq!(served.json()["responses"][0]["texts"][0], "Spain");

    let refused = crate::support::post_signed(server.addr, "/webhook", &body("whole")).await;
    assert_eq!((refused.status, refused.error().as_str()), (http::StatusCode::BAD_REQUEST, "invalid_request"));
    assert!(refused.json()["message"].as_str().unwrap_or_default().contains("tags[1]"), "{refused:?}");

    let asked = crate::support::post_signed(server.addr, "/webhook", &body("asks")).await;
    let text = asked.json()["responses"][0]["texts"][0].as_str().unwrap_or_default().to_owned();
    assert!(text.starts_with("refused: tags[1]: invalid type"), "{text}");

    // `Call::request()` keeps its signature: an empty request and an error in the log.
    let (logs, _guard) = capture_logs();
    let custom = crate::support::post_signed(server.addr, "/webhook", &body("custom")).await;
    assert_eq!(custom.json()["responses"][0]["texts"][0], "0 tags, session None", "{custom:?}");
    assert!(logs.text().contains("tags[1]") && logs.text().contains("try_request"), "{}", logs.text());

    // What routing reads is still checked before any handler runs.
    let bad_stack = br#"{"debug": {"dialog_stack": [{"name": 7}]}}"#;
    let answer = crate::support::post_signed(server.addr, "/webhook", bad_stack).await;
    assert_eq!((answer.status, answer.error().as_str()), (http::StatusCode::BAD_REQUEST, "invalid_request"));
}

/// How many times a [`CountedTrip`] was decoded.
static TRIPS_DECODED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A context type that counts its decodes.
#[derive(Debug)]
struct CountedTrip {
    destination: String,
}

impl<'de> Deserialize<'de> for CountedTrip {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Plain {
            destination: String,
        }
        TRIPS_DECODED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Plain::deserialize(deserializer).map(|plain| Self { destination: plain.destination })
    }
}

#[derive(Debug, Deserialize)]
struct Other {
    #[allow(dead_code)]
    other: Option<String>,
}

/// A `#[node]` handler says which type it reads the context as, as a plain `async fn` does.
#[moveo_dialog::node("macro_plan")]
async fn macro_plan(Context(trip): Context<CountedTrip>) -> Reply {
    Reply::text(trip.destination)
}

/// The context's raw JSON, as a custom extractor reads it.
struct ContextJson(String);

impl moveo_dialog::extract::FromCall for ContextJson {
    type Rejection = std::convert::Infallible;

    fn from_call(call: &moveo_dialog::extract::Call) -> Result<Self, Self::Rejection> {
        Ok(Self(String::from_utf8_lossy(call.context_json()).into_owned()))
    }
}

/// When every handler a call can reach reads the context as one type, the router decodes it
/// into that type in its own pass: once per call (counted), even for a handler that does not
/// read it; otherwise (the handlers disagree) not at all before the handler. Either way the
/// answers are the same: a context that does not fit is the handler's 400 naming the path, an
/// array is refused before routing, a second `Context<T>` and `Call::context_json` still work.
#[tokio::test]
async fn the_router_decodes_the_context_in_its_pass_when_the_handlers_agree_on_its_type() {
    use std::sync::atomic::Ordering::SeqCst;
    let agreeing = Router::new()
        .verify_token(TOKEN)
        .node("plan", |Context(trip): Context<CountedTrip>| async move { Reply::text(trip.destination) })
        .node("twice", |Context(a): Context<CountedTrip>, Context(b): Context<CountedTrip>| async move {
            Reply::text(format!("{} {}", a.destination, b.destination))
        })
        .node("maybe", |trip: Option<Context<CountedTrip>>| async move {
            Reply::text(trip.map_or("none".to_owned(), |Context(trip)| trip.destination))
        })
        .node("raw", |ContextJson(json): ContextJson| async move { Reply::text(json) })
        .fallback(|| async { Reply::text("fallback") });
    let disagreeing = Router::new()
        .verify_token(TOKEN)
        .node("plan", |Context(trip): Context<CountedTrip>| async move { Reply::text(trip.destination) })
        .node("other", |Context(_): Context<Other>| async { Reply::text("other") })
        .path("/trip", |Context(trip): Context<CountedTrip>| async move { Reply::text(trip.destination) })
        .fallback(|| async { Reply::text("fallback") });
    let with_macro =
        Router::new().verify_token(TOKEN).handler(macro_plan).fallback(|| async { Reply::text("fallback") });
    let agreeing = TestServer::start(Server::new(agreeing)).await;
    let with_macro = TestServer::start(Server::new(with_macro)).await;
    let disagreeing = TestServer::start(Server::new(disagreeing)).await;
    let spain = serde_json::json!({"destination": "Spain", "sys-channel": "web"});
    // Each call: the answer, and how many times the context was decoded into a CountedTrip.
    let ask = |addr, path: &'static str, node: &'static str, context: serde_json::Value| async move {
        let before = TRIPS_DECODED.load(SeqCst);
        let answer = send(addr, signed_post(path, TOKEN, &call_with_context(node, context))).await;
        (answer, TRIPS_DECODED.load(SeqCst) - before)
    };

    let (answer, decodes) = ask(agreeing.addr, "/webhook", "plan", spain.clone()).await;
    assert_eq!((text_of(&answer), decodes), ("Spain".to_owned(), 1));
    let (answer, decodes) = ask(agreeing.addr, "/webhook", "nowhere", spain.clone()).await;
    assert_eq!((text_of(&answer), decodes), ("fallback".to_owned(), 1));
    let (answer, decodes) = ask(agreeing.addr, "/webhook", "twice", spain.clone()).await;
    assert_eq!((text_of(&answer), decodes), ("Spain Spain".to_owned(), 2));
    let (answer, decodes) = ask(agreeing.addr, "/webhook", "raw", spain.clone()).await;
    assert_eq!(text_of(&answer), r#"{"destination":"Spain","sys-channel":"web"}"#);
    assert_eq!(decodes, 1);
    let (answer, _) = ask(agreeing.addr, "/webhook", "maybe", serde_json::json!({"destination": 5})).await;
    assert_eq!(text_of(&answer), "none");

    for router in [agreeing.addr, disagreeing.addr] {
        let (misfit, _) = ask(router, "/webhook", "plan", serde_json::json!({"destination": 5})).await;
        assert_eq!((misfit.status, misfit.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_context"));
        assert!(misfit.json()["message"].as_str().unwrap().contains("context.destination"), "{misfit:?}");
        let (array, _) = ask(router, "/webhook", "plan", serde_json::json!(["Spain"])).await;
        assert_eq!((array.status, array.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_request"));
        let duplicate = br#"{"context": {"destination": "a", "destination": "b"},
            "debug": {"dialog_stack": [{"node_id": "n", "name": "plan"}]}}"#;
        let answer = send(router, signed_post("/webhook", TOKEN, duplicate)).await;
        assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_context"));
        assert!(answer.json()["message"].as_str().unwrap().contains("duplicate field"), "{answer:?}");
    }

    let (answer, decodes) = ask(with_macro.addr, "/webhook", "macro_plan", spain.clone()).await;
    assert_eq!((text_of(&answer), decodes), ("Spain".to_owned(), 1));
    let (answer, decodes) = ask(with_macro.addr, "/webhook", "nowhere", spain.clone()).await;
    assert_eq!((text_of(&answer), decodes), ("fallback".to_owned(), 1));

    let (answer, decodes) = ask(disagreeing.addr, "/webhook", "nowhere", spain.clone()).await;
    assert_eq!((text_of(&answer), decodes), ("fallback".to_owned(), 0));
    let (answer, decodes) = ask(disagreeing.addr, "/webhook", "plan", spain.clone()).await;
    assert_eq!((text_of(&answer), decodes), ("Spain".to_owned(), 1));
    // A call to a path route is decoded for its own handler.
    let (answer, decodes) = ask(disagreeing.addr, "/trip", "other", spain).await;
    assert_eq!((text_of(&answer), decodes), ("Spain".to_owned(), 1));
}

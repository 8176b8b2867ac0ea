//! Each step of the dialog webhook pipeline, beside the hand-written baseline doing the same
//! step (`moveo_dialog_benches::same_work`), so that a regression shows where it is:
//!
//! - `verify`: the HMAC check of the spec request's signature, the same one each call and a
//!   new one each call (as Moveo signs);
//! - `decode`: the spec request into `DialogRequest` (what a handler asking for the whole request
//!   pays), into the baseline's typed struct, and into `serde_json::Value`;
//! - `route`: a whole call in-process (`tower::Service`, no socket) to a router whose node handler
//!   does nothing: verify, decode, route, answer;
//! - `extract`: the same call to the erasmus example (`Context<Trip>` and its reply): its
//!   difference from `route` is extraction, the handler and the reply; `extract/baseline` is the
//!   baseline's whole answer served the same way (a `tower::service_fn` collecting the body,
//!   the same bytes answered), so the difference is the framework's own cost per call;
//! - `serialise`: the spec's full reply built and serialised (`spec full reply`) and built only
//!   (`spec full reply, built`); the erasmus reply beside the baseline's derived one (the
//!   reply's writer against serde_json is `--bench reply_writer`, interleaved in one process);
//! - `clock`: one `Instant::now()`, the cost of a clock read that callgrind does not show;
//! - `atomic`: one uncontended `fetch_add`, the cost of a locked instruction (callgrind counts one).
//!
//! Run: `cargo bench -p moveo-dialog-benches --bench pipeline`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use moveo_dialog::verify::{Secret, Verifier, sign};
use moveo_dialog::{DialogRequest, Reply, Router};
use moveo_dialog_benches::same_work::{self, Key};
use tower::ServiceExt;

const REQUEST: &[u8] = include_bytes!("../../tests/fixtures/spec/dialog-request.json");
const TOKEN: &str = "bench-verify-token";

/// The headers of a call carrying `body`, signed with `TOKEN`.
fn signed_headers(body: &[u8]) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let signature = sign(&Secret::new(TOKEN), body);
    headers.insert("x-moveo-signature", signature.parse().expect("hex is a header value"));
    headers.insert("content-type", http::HeaderValue::from_static("application/json"));
    headers
}

fn verify(c: &mut Criterion) {
    let headers = signed_headers(REQUEST);
    let verifier = Verifier::new(TOKEN);
    let key = Key::new(TOKEN.as_bytes());
    let mut group = c.benchmark_group("verify");
    group.bench_function("Verifier", |b| b.iter(|| verifier.verify(black_box(&headers), black_box(REQUEST)).is_ok()));
    group.bench_function("baseline", |b| b.iter(|| same_work::verified(&key, black_box(&headers), black_box(REQUEST))));
    // As Moveo signs: every call a new body, so a new signature (a branch per hex digit that
    // the same signature trains is mispredicted here about every other digit).
    let calls = signed_variants(256);
    let mut next = calls.iter().cycle();
    group.bench_function("Verifier, a new signature each call", |b| {
        b.iter(|| next.next().is_some_and(|(headers, body)| verifier.verify(headers, body).is_ok()))
    });
    group.bench_function("baseline, a new signature each call", |b| {
        b.iter(|| next.next().is_some_and(|(headers, body)| same_work::verified(&key, headers, body)))
    });
    group.finish();
}

/// `count` versions of the spec request, each with one more member (`"n"`, the same length in
/// every version), and their signed headers.
fn signed_variants(count: usize) -> Vec<(http::HeaderMap, Vec<u8>)> {
    let text = std::str::from_utf8(REQUEST).expect("the spec request is UTF-8").trim_end();
    let open = text.strip_suffix('}').expect("the spec request is an object");
    (0..count)
        .map(|n| {
            let body = format!(r#"{open},"n":"{n:06}"}}"#).into_bytes();
            let headers = signed_headers(&body);
            (headers, body)
        })
        .collect()
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.bench_function("DialogRequest", |b| {
        b.iter(|| serde_json::from_slice::<DialogRequest>(black_box(REQUEST)).expect("valid"))
    });
    group.bench_function("baseline typed", |b| b.iter(|| same_work::decode(black_box(REQUEST)).is_some()));
    group.bench_function("serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(REQUEST)).expect("valid"))
    });
    group.finish();
}

fn call(headers: &http::HeaderMap) -> http::Request<Full<Bytes>> {
    let mut request = http::Request::post("/webhook").body(Full::new(Bytes::from_static(REQUEST))).expect("request");
    *request.headers_mut() = headers.clone();
    request
}

fn in_process(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let empty = Router::new().verify_token(TOKEN).node("plan_erasmus", || async { Reply::text("ok") });
    let erasmus = moveo_dialog_examples::erasmus::router(TOKEN);
    let headers = signed_headers(REQUEST);
    let answer = |router: &Router| {
        let response = runtime.block_on(router.clone().oneshot(call(&headers))).expect("infallible");
        assert_eq!(response.status(), http::StatusCode::OK);
        response
    };
    c.bench_function("route", |b| b.iter(|| answer(&empty)));
    let key = std::sync::Arc::new(Key::new(TOKEN.as_bytes()));
    let baseline = tower::service_fn(move |request: http::Request<Full<Bytes>>| {
        same_work::respond(std::sync::Arc::clone(&key), request)
    });
    let framework = runtime.block_on(erasmus.clone().oneshot(call(&headers))).expect("infallible");
    let by_hand = runtime.block_on(baseline.clone().oneshot(call(&headers))).expect("infallible");
    let framework = runtime.block_on(framework.into_body().collect()).map(|body| body.to_bytes());
    let by_hand = runtime.block_on(by_hand.into_body().collect()).map(|body| body.to_bytes());
    assert_eq!(framework.ok(), by_hand.ok(), "the same bytes");
    let mut group = c.benchmark_group("extract");
    group.bench_function("erasmus", |b| b.iter(|| answer(&erasmus)));
    group.bench_function("baseline", |b| {
        b.iter(|| runtime.block_on(baseline.clone().oneshot(call(&headers))).expect("infallible"))
    });
    group.finish();
}

fn erasmus_reply(destination: &str, months: f64, expenses: f64) -> Vec<u8> {
    moveo_dialog_examples::erasmus::plan(destination, months, expenses).expect("valid").to_json_bytes()
}

fn serialise(c: &mut Criterion) {
    let key = Key::new(TOKEN.as_bytes());
    let (_, baseline) = same_work::answer(&key, &signed_headers(REQUEST), REQUEST);
    assert_eq!(erasmus_reply("England", 3.0, 500.0), baseline, "the same bytes");
    let mut group = c.benchmark_group("serialise");
    group.bench_function("spec full reply", |b| {
        b.iter(|| black_box(moveo_dialog_tests::spec::full_reply()).to_json_bytes())
    });
    group.bench_function("spec full reply, built", |b| b.iter(|| black_box(moveo_dialog_tests::spec::full_reply())));
    group.bench_function("erasmus reply", |b| b.iter(|| erasmus_reply(black_box("England"), 3.0, 500.0)));
    group.bench_function("baseline derived reply", |b| {
        b.iter(|| same_work::plan_reply(black_box("England"), 3.0, 500.0))
    });
    group.finish();
}

/// What one clock read costs on this machine: callgrind counts it as ~10 instructions, so
/// `benches/instructions.sh` reports clock reads per request apart.
fn clock(c: &mut Criterion) {
    c.bench_function("clock/Instant::now", |b| b.iter(std::time::Instant::now));
}

/// What one uncontended atomic read-modify-write costs on this machine: callgrind counts it as
/// one instruction, so `benches/instructions.sh` reports locked instructions per request apart.
fn atomic(c: &mut Criterion) {
    let counter = std::sync::atomic::AtomicUsize::new(0);
    c.bench_function("atomic/fetch_add", |b| {
        b.iter(|| black_box(&counter).fetch_add(1, std::sync::atomic::Ordering::AcqRel))
    });
}

criterion_group!(benches, verify, decode, in_process, serialise, clock, atomic);
criterion_main!(benches);

//! The events receiver over real loopback sockets: every status, de-duplication of repeated,
//! concurrent and failed deliveries, and per-session order in fast-ack mode.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use moveo_dialog::Server;
use moveo_dialog::events::{Clock, Event, EventKind, EventType, EventsReceiver};
use moveo_dialog::verify::{Secret, sign};
use serde_json::{Value, json};

use crate::fixtures;
use crate::support::{Answer, TestServer, send};

const SECRET: &str = "test-webhook-secret";
/// The spec examples' timestamp.
const SPEC_TIME: u64 = 1_704_067_200_000;

#[derive(Clone)]
struct FixedClock(Arc<AtomicU64>);

impl Clock for FixedClock {
    fn now_unix_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn clock() -> FixedClock {
    FixedClock(Arc::new(AtomicU64::new(SPEC_TIME + 1_000)))
}

fn base() -> EventsReceiver {
    EventsReceiver::new().webhook_secret(SECRET).clock(clock())
}

fn delivery(body: &[u8], secret: Option<&str>) -> Request<Full<Bytes>> {
    let mut builder = Request::post("/events").header("host", "localhost").header("content-type", "application/json");
    if let Some(secret) = secret {
        builder = builder.header("x-moveo-signature", sign(&Secret::new(secret), body));
    }
    builder.body(Full::new(Bytes::copy_from_slice(body))).unwrap()
}

async fn deliver(server: &TestServer, event: &Value) -> Answer {
    send(server.addr, delivery(&serde_json::to_vec(event).unwrap(), Some(SECRET))).await
}

fn brain_send(request_id: &str, session_id: &str) -> Value {
    let mut event = fixtures::json("event-message-brain_send.json");
    event["request_id"] = request_id.into();
    event["session_id"] = session_id.into();
    event
}

/// Counts handler runs per request id.
#[derive(Clone, Default)]
struct Runs(Arc<Mutex<HashMap<String, usize>>>);

impl Runs {
    fn record(&self, event: &Event) {
        *self.0.lock().unwrap().entry(event.request_id.clone()).or_default() += 1;
    }
    fn of(&self, request_id: &str) -> usize {
        self.0.lock().unwrap().get(request_id).copied().unwrap_or(0)
    }
}

async fn start(receiver: EventsReceiver) -> TestServer {
    TestServer::start(Server::new(receiver)).await
}

fn status_of(answer: &Answer) -> String {
    answer.json()["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn every_status() {
    let runs = Runs::default();
    let unknown = Runs::default();
    let receiver = base()
        .on(EventType::MessageBrainSend, {
            let runs = runs.clone();
            move |event: Event| {
                let runs = runs.clone();
                async move { runs.record(&event) }
            }
        })
        .on_unknown({
            let unknown = unknown.clone();
            move |event: Event| {
                let unknown = unknown.clone();
                async move { unknown.record(&event) }
            }
        });
    let server = start(receiver).await;

    // 200 handled, then 200 duplicate without running the handler again.
    let event = brain_send("req-1", "sess-1");
    let first = deliver(&server, &event).await;
    assert_eq!((first.status, status_of(&first).as_str()), (StatusCode::OK, "handled"));
    let again = deliver(&server, &event).await;
    assert_eq!((again.status, status_of(&again).as_str()), (StatusCode::OK, "duplicate"));
    assert_eq!(runs.of("req-1"), 1);

    // 200 for a known type with no handler.
    let answer = deliver(&server, &fixtures::json("event-session-expired.json")).await;
    assert_eq!((answer.status, status_of(&answer).as_str()), (StatusCode::OK, "ignored"));

    // An unknown type goes to the unknown handler and is answered 200.
    let odd =
        json!({"event_type": "message:reaction", "request_id": "req-odd", "session_id": "s", "timestamp": SPEC_TIME});
    let answer = deliver(&server, &odd).await;
    assert_eq!((answer.status, status_of(&answer).as_str()), (StatusCode::OK, "handled"));
    assert_eq!(unknown.of("req-odd"), 1);

    // 400 for bodies that are not JSON and known types that do not fit, naming the path.
    let answer = send(server.addr, delivery(b"{nope", Some(SECRET))).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let answer = send(server.addr, delivery(b"{\"event_type\": \"\xfe\"}", Some(SECRET))).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_json"));
    assert!(answer.json()["message"].as_str().unwrap().contains("not UTF-8"), "{:?}", answer.json());
    let mut broken = brain_send("req-2", "sess-1");
    broken["output"]["responses"][0]["options"][1]["label"] = json!(7);
    let answer = deliver(&server, &broken).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::BAD_REQUEST, "invalid_event"));
    assert!(answer.json()["message"].as_str().unwrap().contains("output.responses[0]"), "{:?}", answer.json());

    // 401 for a missing or wrong signature.
    let body = serde_json::to_vec(&brain_send("req-3", "sess-1")).unwrap();
    let answer = send(server.addr, delivery(&body, None)).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::UNAUTHORIZED, "missing_signature"));
    let answer = send(server.addr, delivery(&body, Some("not-the-secret"))).await;
    assert_eq!((answer.status, answer.error().as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"));
    assert_eq!(runs.of("req-3"), 0);

    // 400 stale_timestamp: older than 5 minutes, or more than a minute ahead.
    let mut old = brain_send("req-4", "sess-1");
    old["timestamp"] = json!(SPEC_TIME - 5 * 60 * 1000);
    assert_eq!(deliver(&server, &old).await.error(), "stale_timestamp");
    let mut ahead = brain_send("req-5", "sess-1");
    ahead["timestamp"] = json!(SPEC_TIME + 62 * 1000 + 1000);
    assert_eq!(deliver(&server, &ahead).await.error(), "stale_timestamp");
    let mut recent = brain_send("req-6", "sess-1");
    recent["timestamp"] = json!(SPEC_TIME - 4 * 60 * 1000);
    assert_eq!(deliver(&server, &recent).await.status, StatusCode::OK);

    // 405 and 415 from the shared serving machinery.
    let get = send(server.addr, Request::get("/events").header("host", "x").body(Full::default()).unwrap()).await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn every_spec_event_is_handled_by_its_handler() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let receiver = base().on_every({
        let seen = Arc::clone(&seen);
        move |event: Event| {
            let seen = Arc::clone(&seen);
            async move { seen.lock().unwrap().push(event.kind.event_type()) }
        }
    });
    let server = start(receiver).await;
    for name in fixtures::named("event-") {
        let answer = deliver(&server, &fixtures::json(&name)).await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {answer:?}");
    }
    let seen = seen.lock().unwrap();
    for event_type in EventType::ALL {
        assert!(seen.contains(&Some(event_type)), "{event_type} was not handled: {seen:?}");
    }
}

#[tokio::test]
async fn a_failed_event_runs_again_on_redelivery() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let receiver = base().on(EventType::MessageBrainSend, {
        let attempts = Arc::clone(&attempts);
        move |_event: Event| {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            async move { if attempt == 1 { Err("the CRM is down") } else { Ok(()) } }
        }
    });
    let server = start(receiver).await;
    let event = brain_send("req-retry", "sess-1");
    let failed = deliver(&server, &event).await;
    assert_eq!((failed.status, failed.error().as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "handler_error"));
    assert!(!String::from_utf8_lossy(&failed.body).contains("CRM"), "details stay in the log");
    let retried = deliver(&server, &event).await;
    assert_eq!((retried.status, status_of(&retried).as_str()), (StatusCode::OK, "handled"));
    let third = deliver(&server, &event).await;
    assert_eq!(status_of(&third), "duplicate");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_panicking_or_late_handler_releases_the_event() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let receiver = base().handler_deadline(Duration::from_millis(100)).on(EventType::MessageBrainSend, {
        let attempts = Arc::clone(&attempts);
        move |_event: Event| {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                match attempt {
                    1 => panic!("boom"),
                    2 => tokio::time::sleep(Duration::from_secs(5)).await,
                    _ => {}
                }
            }
        }
    });
    let server = start(receiver).await;
    let event = brain_send("req-late", "sess-1");
    let panicked = deliver(&server, &event).await;
    assert_eq!((panicked.status, panicked.error().as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "handler_panic"));
    let late = deliver(&server, &event).await;
    assert_eq!((late.status, late.error().as_str()), (StatusCode::SERVICE_UNAVAILABLE, "deadline_exceeded"));
    let handled = deliver(&server, &event).await;
    assert_eq!(status_of(&handled), "handled");
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn concurrent_deliveries_of_one_event_run_the_handler_once() {
    let runs = Runs::default();
    let receiver = base().on(EventType::MessageBrainSend, {
        let runs = runs.clone();
        move |event: Event| {
            let runs = runs.clone();
            async move {
                runs.record(&event);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    let server = Arc::new(start(receiver).await);
    let event = brain_send("req-concurrent", "sess-1");
    let deliveries: Vec<_> = (0..10)
        .map(|_| {
            let server = Arc::clone(&server);
            let event = event.clone();
            tokio::spawn(async move { deliver(&server, &event).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for delivery in deliveries {
        let answer = delivery.await.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        statuses.push(status_of(&answer));
    }
    assert_eq!(runs.of("req-concurrent"), 1);
    assert_eq!(statuses.iter().filter(|s| *s == "handled").count(), 1, "{statuses:?}");
}

#[tokio::test]
async fn a_delivery_that_finds_the_event_claimed_too_long_gets_503_never_4xx() {
    let receiver = base().duplicate_wait(Duration::from_millis(50)).on(EventType::MessageBrainSend, |_: Event| async {
        tokio::time::sleep(Duration::from_millis(400)).await;
    });
    let server = Arc::new(start(receiver).await);
    let event = brain_send("req-slow", "sess-1");
    let first = tokio::spawn({
        let server = Arc::clone(&server);
        let event = event.clone();
        async move { deliver(&server, &event).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = deliver(&server, &event).await;
    assert_eq!((second.status, second.error().as_str()), (StatusCode::SERVICE_UNAVAILABLE, "in_progress"));
    assert_eq!(status_of(&first.await.unwrap()), "handled");
    assert_eq!(status_of(&deliver(&server, &event).await), "duplicate");
}

#[tokio::test]
async fn fast_ack_keeps_each_sessions_order_under_concurrent_load() {
    let seen: Arc<Mutex<HashMap<String, Vec<u64>>>> = Arc::default();
    let receiver = base().fast_ack(1024).on(EventType::MessageBrainSend, {
        let seen = Arc::clone(&seen);
        move |event: Event| {
            let seen = Arc::clone(&seen);
            async move {
                let sequence: u64 = event.request_id.rsplit('-').next().unwrap().parse().unwrap();
                // Uneven handler times, so a broken order would show.
                tokio::time::sleep(Duration::from_micros((sequence * 7919) % 900)).await;
                seen.lock().unwrap().entry(event.session_id.clone()).or_default().push(sequence);
            }
        }
    });
    let server = Arc::new(start(receiver).await);
    const SESSIONS: usize = 16;
    const PER_SESSION: u64 = 25;
    let senders: Vec<_> = (0..SESSIONS)
        .map(|session| {
            let server = Arc::clone(&server);
            tokio::spawn(async move {
                for sequence in 0..PER_SESSION {
                    let event = brain_send(&format!("req-{session}-{sequence}"), &format!("sess-{session}"));
                    let answer = deliver(&server, &event).await;
                    assert_eq!(status_of(&answer), "queued", "{answer:?}");
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    let expected = SESSIONS * PER_SESSION as usize;
    for _ in 0..200 {
        if seen.lock().unwrap().values().map(Vec::len).sum::<usize>() == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), SESSIONS);
    for (session, sequences) in seen.iter() {
        assert_eq!(*sequences, (0..PER_SESSION).collect::<Vec<_>>(), "{session} out of order");
    }
}

#[tokio::test]
async fn a_full_fast_ack_queue_answers_503_and_forgets_the_claim() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let receiver = base().fast_ack(8).on(EventType::MessageBrainSend, {
        let gate = Arc::clone(&gate);
        move |_event: Event| {
            let gate = Arc::clone(&gate);
            async move {
                let _permit = gate.acquire().await;
            }
        }
    });
    let server = start(receiver).await;
    // One session: every event goes to the same worker queue (capacity 1 per shard + 1 running).
    let mut statuses = Vec::new();
    for i in 0..5 {
        let answer = deliver(&server, &brain_send(&format!("req-full-{i}"), "sess-one")).await;
        statuses
            .push((answer.status, if answer.status == StatusCode::OK { status_of(&answer) } else { answer.error() }));
    }
    assert!(statuses.contains(&(StatusCode::SERVICE_UNAVAILABLE, "overloaded".to_owned())), "{statuses:?}");
    gate.add_permits(100);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The refused event was not remembered: its redelivery is queued.
    let answer = deliver(&server, &brain_send("req-full-4", "sess-one")).await;
    assert_eq!(status_of(&answer), "queued");
}

#[tokio::test]
async fn a_receiver_without_a_secret_refuses_to_start_unless_told() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = Server::new(EventsReceiver::new()).serve(listener).await.unwrap_err();
    assert!(err.to_string().contains("webhook_secret"), "{err}");

    let unsigned = start(EventsReceiver::new().accept_unsigned_events().clock(clock())).await;
    let body = serde_json::to_vec(&brain_send("req-u", "s")).unwrap();
    assert_eq!(send(unsigned.addr, delivery(&body, None)).await.status, StatusCode::OK);
}

#[test]
fn the_events_example_prints_the_documented_line() {
    let event = Event::from_slice(&fixtures::bytes("event-complete-example.json")).unwrap();
    assert_eq!(
        moveo_dialog_examples::events::summary(&event),
        json!({"event_type": "message:brain_send", "request_id": "req-003",
               "session_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
               "texts": ["We offer three pricing plans: Starter, Professional, and Enterprise."]})
    );
    let closed = Event::from_slice(&fixtures::bytes("event-session-closed.json")).unwrap();
    assert!(matches!(closed.kind, EventKind::SessionClosed(_)));
    assert_eq!(
        moveo_dialog_examples::events::summary(&closed),
        json!({"event_type": "session:closed", "request_id": "req-107", "session_id": "sess-456"})
    );
}

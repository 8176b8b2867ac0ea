//! Two receiver instances sharing one real Redis handle a duplicated delivery exactly once.
//!
//! Needs `redis-server` on the PATH (`apt-get install redis-server`); `.ci/run` installs it.
//! Where it is missing, these tests are reported as ignored (`tests/build.rs` sets
//! `cfg(has_redis)`), never as passed.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::StatusCode;
use moveo_dialog::Server;
use moveo_dialog::events::{Claim, DedupKey, DedupStore, Event, EventType, EventsReceiver, RedisStore};

use crate::support::TestServer;

pub(crate) struct RedisServer {
    child: Child,
    pub(crate) url: String,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `redis-server` on a free loopback port.
pub(crate) async fn redis_server() -> RedisServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let spawned = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = spawned.unwrap_or_else(|err| panic!("cannot run redis-server: {err}"));
    let server = RedisServer { child, url: format!("redis://127.0.0.1:{port}/") };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not start on port {port}");
}

fn brain_send(request_id: &str) -> serde_json::Value {
    let mut event = crate::fixtures::json("event-message-brain_send.json");
    event["request_id"] = request_id.into();
    event["timestamp"] = serde_json::json!(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
    );
    event
}

async fn deliver(server: &TestServer, event: &serde_json::Value) -> crate::support::Answer {
    let body = serde_json::to_vec(event).unwrap();
    let request = http::Request::post("/events")
        .header("host", "x")
        .header("content-type", "application/json")
        .header("x-moveo-signature", moveo_dialog::verify::sign(&moveo_dialog::verify::Secret::new("s3"), &body))
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    crate::support::send(server.addr, request).await
}

async fn instance(url: &str, runs: &Arc<AtomicUsize>, fail_first: bool) -> TestServer {
    let store = RedisStore::connect(url).await.expect("connect to redis").prefix(format!("test-{}:", url));
    let runs = Arc::clone(runs);
    let receiver = EventsReceiver::new().webhook_secret("s3").dedup_store(store).on(
        EventType::MessageBrainSend,
        move |_event: Event| {
            let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if fail_first && run == 1 { Err("first attempt fails") } else { Ok(()) }
            }
        },
    );
    TestServer::start(Server::new(receiver)).await
}

#[tokio::test]
#[cfg_attr(not(has_redis), ignore = "redis-server is not installed: apt-get install redis-server")]
async fn two_instances_sharing_redis_handle_a_duplicate_once() {
    let redis = redis_server().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let a = Arc::new(instance(&redis.url, &runs, false).await);
    let b = Arc::new(instance(&redis.url, &runs, false).await);

    // One after the other, on different instances.
    let event = brain_send("req-redis-1");
    assert_eq!(deliver(&a, &event).await.json()["status"], "handled");
    assert_eq!(deliver(&b, &event).await.json()["status"], "duplicate");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // Concurrently, spread over both instances.
    let event = brain_send("req-redis-2");
    let deliveries: Vec<_> = (0..8)
        .map(|i| {
            let server = Arc::clone(if i % 2 == 0 { &a } else { &b });
            let event = event.clone();
            tokio::spawn(async move { deliver(&server, &event).await })
        })
        .collect();
    let mut handled = 0;
    for delivery in deliveries {
        let answer = delivery.await.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        handled += usize::from(answer.json()["status"] == "handled");
    }
    assert_eq!(handled, 1);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
#[cfg_attr(not(has_redis), ignore = "redis-server is not installed: apt-get install redis-server")]
async fn a_failure_on_one_instance_is_retried_on_the_other() {
    let redis = redis_server().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let a = instance(&redis.url, &runs, true).await;
    let b = instance(&redis.url, &runs, true).await;
    let event = brain_send("req-redis-3");
    assert_eq!(deliver(&a, &event).await.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(deliver(&b, &event).await.json()["status"], "handled");
    assert_eq!(deliver(&a, &event).await.json()["status"], "duplicate");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
#[cfg_attr(not(has_redis), ignore = "redis-server is not installed: apt-get install redis-server")]
async fn claims_lapse_and_stale_releases_are_ignored() {
    let redis = redis_server().await;
    let store = RedisStore::connect(&redis.url).await.unwrap();
    let key = DedupKey { event_type: "message:send".into(), request_id: "r".into() };
    let Claim::Acquired(old) = store.claim(&key, Duration::from_millis(50)).await.unwrap() else { panic!() };
    assert_eq!(store.claim(&key, Duration::from_secs(30)).await.unwrap(), Claim::InProgress);
    tokio::time::sleep(Duration::from_millis(120)).await;
    let Claim::Acquired(new) = store.claim(&key, Duration::from_secs(30)).await.unwrap() else { panic!() };
    store.release(&key, &old).await.unwrap();
    assert_eq!(store.claim(&key, Duration::from_secs(30)).await.unwrap(), Claim::InProgress);
    store.commit(&key, &new).await.unwrap();
    assert_eq!(store.claim(&key, Duration::from_secs(30)).await.unwrap(), Claim::Done);
}

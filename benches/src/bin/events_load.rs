//! Events handled per second with de-duplication on, in memory and in Redis: an events
//! receiver in-process on loopback, fed signed `message:brain_send` events over keep-alive
//! connections, each event delivered twice (the second delivery is a duplicate).
//!
//! Run: `cargo run --release -p moveo-dialog-benches --bin events-load`
//! Settings: `EVENTS` (default 20000), `CONNECTIONS` (default 32), `REDIS_URL` (default: start
//! `redis-server` on a free port; the Redis run is skipped when it is not installed).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use moveo_dialog::Server;
use moveo_dialog::events::{DedupStore, Event, EventType, EventsReceiver, MemoryStore, RedisStore};
use moveo_dialog::verify::{Secret, sign};

const SECRET: &str = "bench-webhook-secret";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn events(count: usize) -> Vec<(Bytes, String)> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let secret = Secret::new(SECRET);
    (0..count)
        .map(|i| {
            let body = serde_json::json!({
                "event_type": "message:brain_send", "request_id": format!("req-{now}-{i}"),
                "session_id": format!("sess-{}", i % 500), "external_session_id": "ext",
                "timestamp": now, "output": {"responses": [{"type": "text", "text": "Hello! How can I help you today?"}]}
            });
            let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
            let signature = sign(&secret, &body);
            (body, signature)
        })
        .collect()
}

async fn run(
    name: &str,
    store: impl DedupStore,
    count: usize,
    connections: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let handled = Arc::new(AtomicUsize::new(0));
    let receiver = EventsReceiver::new().webhook_secret(SECRET).dedup_store(store).on(EventType::MessageBrainSend, {
        let handled = Arc::clone(&handled);
        move |_event: Event| {
            handled.fetch_add(1, Ordering::Relaxed);
            async {}
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(Server::new(receiver).serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    // Each event twice: the first is handled, the second answered as a duplicate.
    let work: Vec<(Bytes, String)> = events(count).into_iter().flat_map(|e| [e.clone(), e]).collect();
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..connections)
        .map(|_| {
            let (work, next) = (Arc::clone(&work), Arc::clone(&next));
            tokio::spawn(async move { client(addr, &work, &next).await })
        })
        .collect();
    let mut failures = 0;
    for client in clients {
        failures += client.await??;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    let deliveries = work.len();
    println!(
        "{name:>7}: {count} events, {deliveries} deliveries in {:.2} s: {:.0} deliveries/s, {:.0} events handled/s; handler ran {} times; {failures} non-200",
        elapsed.as_secs_f64(),
        deliveries as f64 / elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        handled.load(Ordering::Relaxed),
    );
    Ok(())
}

async fn client(addr: SocketAddr, work: &[(Bytes, String)], next: &AtomicUsize) -> Result<usize, hyper::Error> {
    let stream = tokio::net::TcpStream::connect(addr).await.map_err(|_| ()).ok();
    let Some(stream) = stream else { return Ok(work.len()) };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut failures = 0;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some((body, signature)) = work.get(i) else { return Ok(failures) };
        let request = http::Request::post("/events")
            .header("host", "bench")
            .header("content-type", "application/json")
            .header("x-moveo-signature", signature.as_str())
            .body(Full::new(body.clone()))
            .unwrap_or_default();
        let response = sender.send_request(request).await?;
        failures += usize::from(response.status() != http::StatusCode::OK);
        response.into_body().collect().await?;
    }
}

struct RedisChild(Child);

impl Drop for RedisChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count = setting("EVENTS", 20_000);
    let connections = setting("CONNECTIONS", 32);
    run("memory", MemoryStore::default(), count, connections).await?;
    let mut _child = None;
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let spawned = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            match spawned {
                Ok(child) => _child = Some(RedisChild(child)),
                Err(err) => {
                    println!("  redis: skipped, cannot start redis-server ({err})");
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            format!("redis://127.0.0.1:{port}/")
        }
    };
    run("redis", RedisStore::connect(&url).await?, count, connections).await
}

//! Events handled per second with de-duplication on, beside the dialog webhook, in one run: an
//! events receiver and the erasmus router, each in-process on loopback, fed by the same client
//! loop over keep-alive connections.
//!
//! - `dialog`: the spec's dialog request, signed, to the erasmus example;
//! - `memory`: signed `message:brain_send` events, each new, `MemoryStore`, acked after the
//!   handler; then `memory x2`: each delivered twice (the second is a duplicate);
//! - `redis`: the store's own work per event (`claim` then `commit`, no HTTP) beside `SET NX PX`
//!   round trips on the same Redis with the same concurrency (the bare cost of one claim), then
//!   the receiver with `RedisStore` end to end.
//!
//! Run: `cargo run --release -p moveo-dialog-benches --bin events-load`
//! Settings: `EVENTS` (default 20000), `CONNECTIONS` (default 32), `ROUNDS` (default 3: each
//! pair measured back to back once a round, in alternating order; the medians of the ratios
//! within a round are printed last), `REDIS_URL` (default: start `redis-server` on a free port;
//! the Redis runs are skipped when it is not installed), `ONLY` (`dialog` or `memory`: run that
//! one server, once, for a profiler: `ONLY=memory valgrind --tool=callgrind ...`).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use moveo_dialog::Server;
use moveo_dialog::events::{Claim, DedupKey, DedupStore, Event, EventType, EventsReceiver, MemoryStore, RedisStore};
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
    twice: bool,
    connections: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let handled = Arc::new(AtomicUsize::new(0));
    let receiver = EventsReceiver::new().webhook_secret(SECRET).dedup_store(store).on(EventType::MessageBrainSend, {
        let handled = Arc::clone(&handled);
        move |_event: Event| {
            handled.fetch_add(1, Ordering::Relaxed);
            async {}
        }
    });
    let copies = if twice { 2 } else { 1 };
    let work: Vec<(Bytes, String)> = events(count).into_iter().flat_map(|e| std::iter::repeat_n(e, copies)).collect();
    let rate = drive(name, receiver, "/events", work, connections).await?;
    println!("{name:>9}: handler ran {} times for {count} events", handled.load(Ordering::Relaxed));
    Ok(rate)
}

/// Serves `service` on a free loopback port and sends it every request of `work` over
/// `connections` keep-alive connections: the deliveries per second.
async fn drive<S: moveo_dialog::serve::HttpService>(
    name: &str,
    service: S,
    path: &'static str,
    work: Vec<(Bytes, String)>,
    connections: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(Server::new(service).serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..connections)
        .map(|_| {
            let (work, next) = (Arc::clone(&work), Arc::clone(&next));
            tokio::spawn(async move { client(addr, path, &work, &next).await })
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
    let rate = deliveries as f64 / elapsed.as_secs_f64();
    println!(
        "{name:>9}: {deliveries} requests in {:.2} s: {rate:.0} requests/s; {failures} non-200",
        elapsed.as_secs_f64()
    );
    Ok(rate)
}

/// `SET key NX PX` round trips, `count` of them over `connections` concurrent tasks sharing one
/// multiplexed connection (as `RedisStore` does): the operations per second.
async fn bare_set_nx(
    url: &str,
    round: usize,
    count: usize,
    connections: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let client = redis::Client::open(url)?;
    let connection = client.get_connection_manager().await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (mut connection, next) = (connection.clone(), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok::<(), redis::RedisError>(());
                    }
                    let _: Option<String> = redis::cmd("SET")
                        .arg(format!("bench-bare:{round}:{i}"))
                        .arg("claimed")
                        .arg("NX")
                        .arg("PX")
                        .arg(60_000)
                        .query_async(&mut connection)
                        .await?;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    println!("bare SET NX PX: {count} round trips: {rate:.0} per second");
    Ok(rate)
}

async fn client(
    addr: SocketAddr,
    path: &'static str,
    work: &[(Bytes, String)],
    next: &AtomicUsize,
) -> Result<usize, hyper::Error> {
    let stream = tokio::net::TcpStream::connect(addr).await.map_err(|_| ()).ok();
    let Some(stream) = stream else { return Ok(work.len()) };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut failures = 0;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some((body, signature)) = work.get(i) else { return Ok(failures) };
        let request = http::Request::post(path)
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

/// The store's own work per event, without HTTP: `claim` then `commit`, `count` events over
/// `connections` concurrent tasks (as the receiver's calls share the store): events per second.
async fn store_alone(
    store: RedisStore,
    round: usize,
    count: usize,
    connections: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let store = Arc::new(store);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (store, next) = (Arc::clone(&store), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok::<(), moveo_dialog::events::StoreError>(());
                    }
                    let request_id = format!("alone-{round}-{i}");
                    let key = DedupKey { event_type: "message:brain_send".to_owned(), request_id };
                    if let Claim::Acquired(token) = store.claim(&key, Duration::from_secs(30)).await? {
                        store.commit(&key, &token).await?;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    println!("redis store alone: {count} claims + commits: {rate:.0} events per second");
    Ok(rate)
}

/// The median of `values` (not empty).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn listed(values: &[f64]) -> String {
    values.iter().map(|value| format!("{value:.3}")).collect::<Vec<_>>().join(", ")
}

/// Starts `redis-server` on a free port unless `REDIS_URL` names one; `None` when it cannot.
async fn redis_url() -> Result<Option<(String, Option<RedisChild>)>, Box<dyn std::error::Error>> {
    if let Ok(url) = std::env::var("REDIS_URL") {
        return Ok(Some((url, None)));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let spawned = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(child) => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(Some((format!("redis://127.0.0.1:{port}/"), Some(RedisChild(child)))))
        }
        Err(err) => {
            println!("  redis: skipped, cannot start redis-server ({err})");
            Ok(None)
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count = setting("EVENTS", 20_000);
    let connections = setting("CONNECTIONS", 32);
    let rounds = setting("ROUNDS", 3).max(1);
    let spec = Bytes::from_static(include_bytes!("../../../tests/fixtures/spec/dialog-request.json"));
    let signature = sign(&Secret::new(SECRET), &spec);
    let dialog = || {
        let work = vec![(spec.clone(), signature.clone()); count];
        drive("dialog", moveo_dialog_examples::erasmus::router(SECRET), "/webhook", work, connections)
    };
    match std::env::var("ONLY").as_deref() {
        Ok("dialog") => return dialog().await.map(drop),
        Ok("memory") => return run("memory", MemoryStore::default(), count, false, connections).await.map(drop),
        _ => {}
    }
    let redis = redis_url().await?;
    let (mut memory_ratios, mut redis_ratios) = (Vec::new(), Vec::new());
    // Each round measures each pair back to back, in an order that alternates between rounds,
    // and the ratios are taken within a round: the machine's drift cancels.
    for round in 0..rounds {
        println!("round {}:", round + 1);
        let (dialog_rate, memory) = if round % 2 == 0 {
            let dialog_rate = dialog().await?;
            (dialog_rate, run("memory", MemoryStore::default(), count, false, connections).await?)
        } else {
            let memory = run("memory", MemoryStore::default(), count, false, connections).await?;
            (dialog().await?, memory)
        };
        memory_ratios.push(memory / dialog_rate);
        if round == 0 {
            run("memory x2", MemoryStore::default(), count, true, connections).await?;
        }
        let Some((url, _)) = &redis else { continue };
        let (bare, alone) = if round % 2 == 0 {
            let bare = bare_set_nx(url, round, count, connections).await?;
            (bare, store_alone(RedisStore::connect(url).await?, round, count, connections).await?)
        } else {
            let alone = store_alone(RedisStore::connect(url).await?, round, count, connections).await?;
            (bare_set_nx(url, round, count, connections).await?, alone)
        };
        println!("    redis store: {:.2} us per event; a bare SET NX PX: {:.2} us", 1e6 / alone, 1e6 / bare);
        redis_ratios.push(bare / alone);
        // End to end, for reference: the receiver with the Redis store.
        run("redis", RedisStore::connect(url).await?, count, false, connections).await?;
    }
    println!(
        "events (memory) / dialog, median of {rounds} rounds: {:.3} (target >= 0.9; rounds: {})",
        median(memory_ratios.clone()),
        listed(&memory_ratios)
    );
    if !redis_ratios.is_empty() {
        println!(
            "redis store per event / bare SET NX PX, median of {rounds} rounds: {:.2} (target <= 2; rounds: {})",
            median(redis_ratios.clone()),
            listed(&redis_ratios)
        );
    }
    Ok(())
}

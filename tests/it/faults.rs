//! Events under faults: the receiver process is killed (SIGKILL) in the middle of a stream,
//! restarted on the same address, and the deliveries that were never acknowledged are sent
//! again, as Moveo retries them. With acknowledge-after-handler, every event is handled at least
//! once, and no event is handled again after its 200 was sent.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use moveo_dialog::verify::{Secret, sign};
use serde_json::json;

use crate::hostile::{signal, spawn_server};

const SECRET: &str = "hostile-secret";
const EVENTS: usize = 400;

/// One delivery attempt; `Ok(true)` for a 2xx, `Err` when the connection failed.
async fn deliver(client: &reqwest::Client, addr: SocketAddr, body: &Bytes) -> Result<bool, reqwest::Error> {
    let response = client
        .post(format!("http://{addr}/events"))
        .header("content-type", "application/json")
        .header("x-moveo-signature", sign(&Secret::new(SECRET), body))
        .body(body.clone())
        .send()
        .await?;
    Ok(response.status().is_success())
}

fn handled(log: &std::path::Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
        *counts.entry(line.to_owned()).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_then_retries_lose_nothing_and_repeat_nothing_acknowledged() {
    let dir = std::env::temp_dir().join(format!("moveo-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("handled.log");
    let _ = std::fs::remove_file(&log);
    let log_arg = log.to_str().unwrap().to_owned();

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let events: Vec<(String, Bytes)> = (0..EVENTS)
        .map(|i| {
            let id = format!("req-{i:04}");
            let event = json!({
                "event_type": "message:brain_send", "request_id": id, "session_id": format!("sess-{}", i % 16),
                "integration_id": "intg-1", "timestamp": now,
                "output": {"responses": [{"type": "text", "text": format!("message {i}")}]}
            });
            (id, Bytes::from(serde_json::to_vec(&event).unwrap()))
        })
        .collect();

    let (mut child, addr) = spawn_server(&["events", &log_arg]).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let unacked: Arc<Mutex<Vec<usize>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    // Eight senders, as Moveo delivers concurrently; the process dies after 150 acknowledgements.
    let mut senders = Vec::new();
    for _ in 0..8 {
        let (client, events, acked, unacked, next) =
            (client.clone(), events.clone(), Arc::clone(&acked), Arc::clone(&unacked), Arc::clone(&next));
        senders.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((id, body)) = events.get(index) else { return };
                match deliver(&client, addr, body).await {
                    Ok(true) => acked.lock().unwrap().push(id.clone()),
                    _ => unacked.lock().unwrap().push(index),
                }
            }
        }));
    }
    let enough = async {
        while acked.lock().unwrap().len() < 150 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), enough).await.expect("150 events acknowledged within 30 s");
    signal(&child, "-KILL");
    let _ = child.wait().await;
    for sender in senders {
        tokio::time::timeout(Duration::from_secs(30), sender).await.unwrap().unwrap();
    }
    let acked_before: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
    let handled_at_kill = handled(&log);
    let pending: Vec<usize> = std::mem::take(&mut *unacked.lock().unwrap());
    assert!(!pending.is_empty() && acked_before.len() < EVENTS, "the kill landed mid-stream");

    // Restart on the same address, and retry what was not acknowledged, as Moveo does (up to
    // 5 attempts, backoff from 250 ms).
    let (mut child, restarted) = spawn_server(&["events", &log_arg, &addr.to_string()]).await;
    assert_eq!(restarted, addr);
    for index in &pending {
        let (id, body) = &events[*index];
        let mut delivered = false;
        for attempt in 0..5u32 {
            if matches!(deliver(&client, addr, body).await, Ok(true)) {
                delivered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250 << attempt.min(3))).await;
        }
        assert!(delivered, "{id} delivered after the restart");
    }
    signal(&child, "-TERM");
    let _ = child.wait().await;

    let counts = handled(&log);
    for (id, _) in &events {
        assert!(counts.get(id).copied().unwrap_or(0) >= 1, "{id} was never handled");
    }
    for id in &acked_before {
        // Acknowledged only after its handler finished: already in the log at the kill, and
        // never handled again after.
        assert_eq!(handled_at_kill.get(id).copied(), Some(1), "{id} acknowledged before it was handled");
        assert_eq!(counts[id], 1, "{id} handled again after its 200");
    }
    let twice = counts.values().filter(|count| **count > 1).count();
    println!(
        "{} acknowledged before the kill, {} retried, {twice} handled twice (in flight at the kill)",
        acked_before.len(),
        pending.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! Hostile clients over real loopback sockets, each bounded in count and time: slow headers,
//! thousands of keep-alive connections, oversized and malformed bodies, header floods, a burst
//! of panics, and SIGTERM in the middle of load. Nothing may crash the server, pin it, or leave
//! a request whose head it read without an answer.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use moveo_dialog::events::{Event, EventsReceiver};
use moveo_dialog::{Reply, Router, Server};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TOKEN, TestServer, call_body, post_signed, send, signed_post, signed_raw_to};

async fn fast() -> Reply {
    Reply::text("fast")
}

async fn pause() -> Reply {
    tokio::time::sleep(Duration::from_millis(20)).await;
    Reply::text("after a pause")
}

async fn boom() -> Reply {
    panic!("a handler bug")
}

/// Reads the whole request, so that a body the router leaves unchecked (a context value no
/// route reads, `tags`, `entities`) is checked when it gets here.
async fn whole(request: moveo_dialog::DialogRequest) -> Reply {
    Reply::text(format!("{} tags", request.tags.len()))
}

fn app() -> Router {
    Router::new().verify_token(TOKEN).node("fast", fast).node("pause", pause).node("boom", boom).fallback(whole)
}

/// The status of one raw exchange: what the server answers to `bytes`, or `None` when it
/// closes without an answer. At most 10 s.
async fn raw_status(addr: SocketAddr, bytes: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer (and close) before it has read everything: a failed write is fine.
    let _ = stream.write_all(bytes).await;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    head.extend_from_slice(&buf[..n]);
                    if head.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server neither answered nor closed within 10 s");
    let line = String::from_utf8_lossy(&head);
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn signed_raw(body: &[u8], extra_headers: &str) -> Vec<u8> {
    signed_raw_to("/webhook", TOKEN, body, extra_headers)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

async fn timed_calls(addr: SocketAddr, count: usize) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let answer = post_signed(addr, "/webhook", &call_body(Some("fast"), &[])).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        latencies.push(started.elapsed());
    }
    latencies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_tricklers_do_not_slow_normal_calls_and_are_cut_off() {
    let server = TestServer::start(Server::new(app()).header_read_timeout(Duration::from_secs(2))).await;
    let addr = server.addr;
    let mut before = timed_calls(addr, 30).await;

    let cut_off = Arc::new(AtomicUsize::new(0));
    let mut tricklers = Vec::new();
    for _ in 0..500 {
        let cut_off = Arc::clone(&cut_off);
        tricklers.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"POST /webhook HTTP/1.1\r\nhost: x\r\nx-slow: ").await.unwrap();
            // One byte every 100 ms, for at most 8 s: far longer than the header timeout.
            for _ in 0..80 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if stream.write_all(b"a").await.is_err() {
                    break;
                }
                let mut buf = [0u8; 256];
                // Closed, reset or answered (408): cut off either way.
                if tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await.is_ok() {
                    break;
                }
            }
            let mut buf = [0u8; 256];
            let closed =
                matches!(tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await, Ok(Ok(_) | Err(_)));
            if closed {
                cut_off.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut during = timed_calls(addr, 30).await;
    let (p50_before, p50_during) = (percentile(&mut before, 0.5), percentile(&mut during, 0.5));
    let worst = percentile(&mut during, 1.0);
    println!("30 calls: p50 {p50_before:?} alone, {p50_during:?} beside 500 tricklers (worst {worst:?})");
    assert!(
        p50_during <= p50_before * 10 + Duration::from_millis(50) && worst < Duration::from_secs(1),
        "with 500 tricklers: p50 {p50_during:?} (before {p50_before:?}), worst {worst:?}"
    );
    for trickler in tricklers {
        tokio::time::timeout(Duration::from_secs(15), trickler).await.unwrap().unwrap();
    }
    assert_eq!(cut_off.load(Ordering::SeqCst), 500, "every trickler is cut off by the header timeout");
    timed_calls(addr, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_keep_alive_connections_are_each_answered_200_or_503() {
    let server = TestServer::start(Server::new(app()).max_in_flight(256)).await;
    let addr = server.addr;
    let body = Bytes::from(call_body(Some("pause"), &[]));
    let mut connections = Vec::new();
    for _ in 0..2000 {
        let body = body.clone();
        connections.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await.expect("handshake");
            tokio::spawn(connection);
            let mut statuses = Vec::new();
            // Two calls on the same connection: the 503 of an overloaded server keeps it open.
            for _ in 0..2 {
                sender.ready().await.expect("the connection stays open");
                let request = signed_post("/webhook", TOKEN, &body);
                let response = sender.send_request(request).await.expect("answered, not reset");
                let status = response.status();
                response.into_body().collect().await.expect("a whole body");
                statuses.push(status);
            }
            statuses
        }));
    }
    let (mut ok, mut busy) = (0, 0);
    for connection in connections {
        let statuses = tokio::time::timeout(Duration::from_secs(60), connection).await.expect("within 60 s").unwrap();
        for status in statuses {
            match status {
                StatusCode::OK => ok += 1,
                StatusCode::SERVICE_UNAVAILABLE => busy += 1,
                other => panic!("answered {other}"),
            }
        }
    }
    println!("2,000 connections x 2 calls: {ok} answered 200, {busy} answered 503, none reset");
    assert_eq!(ok + busy, 4000);
    assert!(ok >= 256, "{ok} answered 200, {busy} answered 503");
}

#[tokio::test]
async fn oversized_bodies_get_413_declared_or_chunked() {
    let server = TestServer::start(Server::new(app().body_limit(64 * 1024))).await;
    let declared = format!(
        "POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-moveo-signature: {}\r\n\
         content-length: 100000000\r\n\r\n",
        "0".repeat(64)
    );
    assert_eq!(raw_status(server.addr, declared.as_bytes()).await, Some(413));

    let mut chunked = b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
        x-moveo-signature: 00\r\ntransfer-encoding: chunked\r\n\r\n"
        .to_vec();
    for _ in 0..40 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 4096, "a".repeat(4096)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw_status(server.addr, &chunked).await, Some(413));
    timed_calls(server.addr, 1).await;
}

/// Bodies no decoder may choke on, each with the status it must get.
fn malformed_bodies() -> Vec<(&'static str, Vec<u8>, &'static str, u16)> {
    let deep = format!("{{\"context\": {{\"a\": {}{}}}}}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_objects = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let huge_exponent = r#"{"context": {"n": 1e999999}}"#.to_owned();
    let huge_integer = format!(r#"{{"context": {{"n": {}}}}}"#, "9".repeat(100_000));
    vec![
        ("invalid UTF-8", b"{\"input\": {\"text\": \"\xff\xfe\"}}".to_vec(), "", 400),
        ("10,000-deep arrays", deep.into_bytes(), "", 400),
        ("10,000-deep objects", deep_objects.into_bytes(), "", 400),
        ("a huge exponent", huge_exponent.into_bytes(), "", 400),
        ("a 100,000-digit integer", huge_integer.into_bytes(), "", 400),
        ("duplicate keys", br#"{"session_id": "a", "session_id": "b"}"#.to_vec(), "", 400),
        ("tags that are not strings", br#"{"tags": ["a", 1]}"#.to_vec(), "", 400),
        ("a body that is not an object", b"[1, 2, 3]".to_vec(), "", 400),
        ("an encoding the server does not decode", b"{}".to_vec(), "content-encoding: gzip\r\n", 415),
        ("text/plain", b"{}".to_vec(), "content-type: text/plain\r\n", 415),
    ]
}

/// Sends each malformed body, signed so that it reaches the decoder rather than stopping at
/// the signature check, and checks its status.
async fn send_malformed(addr: SocketAddr, path: &str, key: &str) {
    for (what, body, extra, expected) in malformed_bodies() {
        let mut raw = signed_raw_to(path, key, &body, extra);
        if extra.starts_with("content-type") {
            raw = String::from_utf8_lossy(&raw).replacen("content-type: application/json\r\n", "", 1).into_bytes();
        }
        assert_eq!(raw_status(addr, &raw).await, Some(expected), "{path}: {what}");
    }
}

#[tokio::test]
async fn malformed_payloads_get_their_4xx_and_the_server_goes_on() {
    let server = TestServer::start(Server::new(app())).await;
    let addr = server.addr;
    send_malformed(addr, "/webhook", TOKEN).await;

    // Header floods: too many headers, one huge header.
    let mut many = b"POST /webhook HTTP/1.1\r\nhost: x\r\n".to_vec();
    for i in 0..10_000 {
        many.extend_from_slice(format!("x-flood-{i}: 1\r\n").as_bytes());
    }
    many.extend_from_slice(b"content-length: 0\r\n\r\n");
    assert_eq!(raw_status(addr, &many).await, Some(431), "10,000 headers");
    let huge =
        format!("POST /webhook HTTP/1.1\r\nhost: x\r\nx-huge: {}\r\ncontent-length: 0\r\n\r\n", "a".repeat(1 << 20));
    assert_eq!(raw_status(addr, huge.as_bytes()).await, Some(431), "a 1 MiB header");
    let garbage = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n";
    assert_eq!(raw_status(addr, garbage).await, Some(400), "a TLS hello on the plain port");

    timed_calls(addr, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_handler_panics_is_answered_500_and_contained() {
    let server = TestServer::start(Server::new(app())).await;
    let addr = server.addr;
    let mut calls = Vec::new();
    for _ in 0..300 {
        calls.push(tokio::spawn(async move { post_signed(addr, "/webhook", &call_body(Some("boom"), &[])).await }));
    }
    for call in calls {
        let answer = call.await.unwrap();
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(answer.error(), "handler_panic");
        assert!(!String::from_utf8_lossy(&answer.body).contains("a handler bug"), "the panic message stays inside");
    }
    timed_calls(addr, 5).await;
}

/// The test server process (`tests/bin/hostile_server.rs`) and the address it printed.
pub(crate) async fn spawn_server(args: &[&str]) -> (tokio::process::Child, SocketAddr) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hostile-server"));
    command.args(args);
    spawn(command).await
}

/// The test server process, under an open-file limit of `limit` (`ulimit -n`, then `exec`, so
/// the child is the server itself).
pub(crate) async fn spawn_server_with_fd_limit(limit: u32, args: &[&str]) -> (tokio::process::Child, SocketAddr) {
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_hostile-server"))
        .args(args);
    spawn(command).await
}

pub(crate) async fn spawn(mut command: tokio::process::Command) -> (tokio::process::Child, SocketAddr) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true).spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
    let addr = line.strip_prefix("listening on ").unwrap().parse().unwrap();
    (child, addr)
}

pub(crate) fn signal(child: &tokio::process::Child, name: &str) {
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args([name, &pid]).status().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_load_answers_every_read_request_and_exits_zero() {
    const SECRET: &str = "hostile-secret";
    let (mut child, addr) = spawn_server(&["dialog"]).await;
    let call = |node: &'static str| async move {
        let request = signed_post("/webhook", SECRET, &call_body(Some(node), &[]));
        let stream = TcpStream::connect(addr).await.map_err(|err| err.to_string())?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|err| err.to_string())?;
        tokio::spawn(connection);
        let response = sender.send_request(request).await.map_err(|err| err.to_string())?;
        Ok::<_, String>(response.status())
    };
    let slow: Vec<_> = (0..100).map(|_| tokio::spawn(call("slow"))).collect();
    // Every slow call's head is read within this (loopback); each is 300 ms in its handler.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let terminated = Instant::now();
    signal(&child, "-TERM");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let late: Vec<_> = (0..20).map(|_| tokio::spawn(call("fast"))).collect();

    for call in slow {
        let status = call.await.unwrap().expect("an in-flight call is answered, not reset");
        assert_eq!(status, StatusCode::OK);
    }
    for call in late {
        // Arriving during the shutdown: answered 503 `shutting_down` (or refused once the
        // process is gone, which is no head read), never reset after its head was read.
        if let Ok(status) = call.await.unwrap() {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        }
    }
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("exits").unwrap();
    assert_eq!(exit.code(), Some(0), "{exit:?}");
    assert!(terminated.elapsed() < Duration::from_secs(6), "within the 5 s grace period: {:?}", terminated.elapsed());
}

#[tokio::test]
async fn requests_without_a_body_or_with_a_wrong_method_get_their_4xx() {
    let server = TestServer::start(Server::new(app())).await;
    let get = Request::get("/webhook").header("host", "x").body(Full::new(Bytes::new())).unwrap();
    assert_eq!(send(server.addr, get).await.status, StatusCode::METHOD_NOT_ALLOWED);
    let empty = signed_raw(b"", "");
    assert_eq!(raw_status(server.addr, &empty).await, Some(400));
}

fn events_receiver() -> EventsReceiver {
    EventsReceiver::new().webhook_secret(EVENTS_SECRET).on_every(|_: Event| async { Ok::<_, String>(()) })
}

const EVENTS_SECRET: &str = "hostile-events-secret";

#[tokio::test]
async fn the_events_receiver_gives_malformed_payloads_their_4xx() {
    let server = TestServer::start(Server::new(events_receiver())).await;
    send_malformed(server.addr, "/events", EVENTS_SECRET).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let event = format!(r#"{{"event_type":"session:closed","request_id":"r-1","session_id":"s-1","timestamp":{now}}}"#);
    assert_eq!(
        raw_status(server.addr, &signed_raw_to("/events", EVENTS_SECRET, event.as_bytes(), "")).await,
        Some(200)
    );
}

/// Found by this suite: an event with a key given twice was decoded last-wins, while a dialog
/// request with one was refused. Two readers of one signed body must not see two events.
#[tokio::test]
async fn duplicate_top_level_keys_in_an_event_are_refused() {
    let server = TestServer::start(Server::new(events_receiver())).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let twice = format!(
        r#"{{"event_type":"session:closed","request_id":"r-2","session_id":"s-1","timestamp":{now},"event_type":"session:expired"}}"#
    );
    assert_eq!(
        raw_status(server.addr, &signed_raw_to("/events", EVENTS_SECRET, twice.as_bytes(), "")).await,
        Some(400)
    );
    assert!(Event::from_slice(twice.as_bytes()).unwrap_err().to_string().contains("duplicate field `event_type`"));
    let via_serde = serde_json::from_str::<Event>(&twice).unwrap_err();
    assert!(via_serde.to_string().contains("duplicate field `event_type`"), "{via_serde}");
    // Nested duplicates stay last-wins, as in serde_json (documented in SECURITY.md).
    let nested = format!(
        r#"{{"event_type":"session:closed","request_id":"r-3","session_id":"s-1","timestamp":{now},"context":{{"a":1,"a":2}}}}"#
    );
    assert_eq!(Event::from_slice(nested.as_bytes()).unwrap().to_value()["context"]["a"], 2);
}

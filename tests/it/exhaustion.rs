//! Connection exhaustion (issue 14): a server whose open-file limit is 512 holds against 1,000
//! connections that send nothing, 23 bytes of the HTTP/2 preface, or a whole HTTP/2 handshake
//! and then nothing. It neither exits nor spins, answers a signed call made meanwhile, and
//! closes every one of them within the idle timeout plus 2 s.

use std::time::Duration;

use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::hostile::spawn_server_with_fd_limit;
use crate::support::{call_body, send, signed_post};

const SECRET: &str = "hostile-secret";
const IDLE: Duration = Duration::from_secs(3);
const GRACE: Duration = Duration::from_secs(2);
/// The HTTP/2 client preface (24 bytes) and an empty SETTINGS frame.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const EMPTY_SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];

/// User plus system CPU time of a process, in clock ticks (Linux `/proc/PID/stat`).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Waits until the server closes the connection (EOF or reset), reading whatever it sends.
async fn closed_by_server(mut stream: TcpStream) {
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_silent_connections_cannot_exhaust_a_server_limited_to_512_files() {
    let millis = IDLE.as_millis().to_string();
    let (mut child, addr) = spawn_server_with_fd_limit(512, &["dialog-idle", &millis]).await;
    let pid = child.id().unwrap();
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let cpu_before = cpu_ticks(pid);
    let started = Instant::now();

    let mut open = Vec::new();
    for i in 0..1_000 {
        let Ok(mut stream) = TcpStream::connect(addr).await else { continue };
        let opened = Instant::now();
        match i % 3 {
            0 => {}
            1 => {
                let _ = stream.write_all(&PREFACE[..23]).await;
            }
            _ => {
                let _ = stream.write_all(PREFACE).await;
                let _ = stream.write_all(&EMPTY_SETTINGS).await;
            }
        }
        open.push((opened, stream));
    }
    assert!(open.len() >= 900, "the kernel accepted {} of 1,000 connections", open.len());

    // A real call, made while they are open, is answered within the idle timeout plus 2 s.
    let call = send(addr, signed_post("/webhook", SECRET, &call_body(Some("fast"), &[])));
    let answer = tokio::time::timeout(IDLE + GRACE, call).await.expect("answered within the idle timeout + 2 s");
    assert_eq!(answer.status, StatusCode::OK);

    // Every one of them is closed by the server within the idle timeout plus 2 s of opening.
    let waits: Vec<_> = open
        .into_iter()
        .map(|(opened, stream)| {
            tokio::spawn(async move { tokio::time::timeout_at(opened + IDLE + GRACE, closed_by_server(stream)).await })
        })
        .collect();
    let mut still_open = 0;
    let mut kinds = [0; 3];
    for (i, wait) in waits.into_iter().enumerate() {
        if wait.await.unwrap().is_err() {
            still_open += 1;
            kinds[i % 3] += 1;
        }
    }
    assert_eq!(
        still_open, 0,
        "connections the server did not close in time (silent, partial preface, idle HTTP/2): {kinds:?}"
    );

    // The server is alive, and did not spin: far less CPU than the wall time it ran.
    assert!(child.try_wait().unwrap().is_none(), "the server exited");
    let cpu = (cpu_ticks(pid) - cpu_before) as f64 / ticks_per_second;
    let wall = started.elapsed().as_secs_f64();
    assert!(cpu < wall * 0.5, "the server used {cpu:.2} s of CPU in {wall:.2} s");
    let answer = send(addr, signed_post("/webhook", SECRET, &call_body(Some("fast"), &[]))).await;
    assert_eq!(answer.status, StatusCode::OK);
    child.kill().await.unwrap();
}

//! Test support: the server in-process on `127.0.0.1:0`, and a small HTTP client over real
//! sockets (hyper's connection API, so each test controls its own connection).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use moveo_dialog::verify::{Secret, sign};
use moveo_dialog::{ServeError, Server};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) const TOKEN: &str = "test-verify-token";

pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub(crate) task: JoinHandle<Result<(), ServeError>>,
}

impl TestServer {
    pub(crate) async fn start<S: moveo_dialog::serve::HttpService>(server: Server<S>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve_with_shutdown(listener, async {
            let _ = stopped.await;
        }));
        Self { addr, stop: Some(stop), task }
    }

    /// Signals shutdown (the server finishes what is in flight).
    pub(crate) fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits up to `limit` for the server task to end, and asserts that it ended cleanly.
    pub(crate) async fn assert_stops_within(&mut self, limit: Duration) {
        let finished = tokio::time::timeout(limit, &mut self.task).await;
        assert!(matches!(finished, Ok(Ok(Ok(())))), "{finished:?}");
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `error` code of a JSON error body.
    pub(crate) fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends one request on a fresh HTTP/1.1 connection.
pub(crate) async fn send(addr: SocketAddr, request: Request<Full<Bytes>>) -> Answer {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    let response = tokio::time::timeout(Duration::from_secs(20), sender.send_request(request))
        .await
        .expect("the server answers within 20 s")
        .expect("a response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Answer { status: parts.status, headers: parts.headers, body }
}

/// Sends one request over HTTP/2 (prior knowledge).
pub(crate) async fn send_h2(addr: SocketAddr, request: Request<Full<Bytes>>) -> Answer {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    let response = sender.send_request(request).await.expect("a response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Answer { status: parts.status, headers: parts.headers, body }
}

/// A raw HTTP/1.1 POST of `body` to `path`, signed with `key`, with `extra_headers` (each line
/// ending in `\r\n`).
pub(crate) fn signed_raw_to(path: &str, key: &str, body: &[u8], extra_headers: &str) -> Vec<u8> {
    let mut raw = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         x-moveo-signature: {}\r\ncontent-length: {}\r\n{extra_headers}\r\n",
        sign(&Secret::new(key), body),
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// A POST of `body`, signed with `token` as Moveo signs it, with Moveo's headers.
pub(crate) fn signed_post(path: &str, token: &str, body: &[u8]) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("x-moveo-signature", sign(&Secret::new(token), body))
        .header("x-moveo-request-id", "req-test-1")
        .header("x-moveo-session-id", "00d2ff33-706e-4a2c-8544-df6c9d0c1ecf")
        .header("x-moveo-account-id", "acc-1")
        .header("x-moveo-account-slug", "acme")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request")
}

pub(crate) async fn post_signed(addr: SocketAddr, path: &str, body: &[u8]) -> Answer {
    send(addr, signed_post(path, TOKEN, body)).await
}

/// A request body naming the last node and the intents.
pub(crate) fn call_body(node: Option<&str>, intents: &[(&str, f64)]) -> Vec<u8> {
    let stack: Vec<Value> = node
        .map(|name| {
            vec![
                serde_json::json!({"node_id": "35411a26-cff7-4fb3-a2e9-0e8e6ada048a", "name": "greetings"}),
                serde_json::json!({"node_id": "a85b10e8-e7f3-40df-9715-196c4eae5f14", "name": name}),
            ]
        })
        .unwrap_or_default();
    let intents: Vec<Value> =
        intents.iter().map(|(name, c)| serde_json::json!({"intent": name, "confidence": c})).collect();
    serde_json::to_vec(&serde_json::json!({
        "channel": "web", "session_id": "s-1", "brain_id": "b-1", "lang": "en",
        "context": {"destination": "England"}, "input": {"text": "hi"},
        "intents": intents, "entities": [], "debug": {"dialog_stack": stack}
    }))
    .expect("json")
}

/// Every log line written while the guard lives, at TRACE level, on this thread (use a
/// `current_thread` runtime so every task logs here).
#[derive(Clone, Default)]
pub(crate) struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// An OTP sender that catches the codes instead of texting them.
#[derive(Clone, Default)]
pub(crate) struct Outbox(pub(crate) std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>);

impl moveo_dialog_examples::otp::Sender for Outbox {
    fn send<'a>(
        &'a self,
        phone: &'a str,
        code: &'a str,
    ) -> moveo_dialog::serve::BoxFuture<'a, Result<(), moveo_dialog_examples::otp::SendError>> {
        self.0.lock().unwrap().insert(phone.to_owned(), code.to_owned());
        Box::pin(async { Ok(()) })
    }
}

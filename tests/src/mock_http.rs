//! A scriptable HTTP server standing in for Moveo's API or for a webhook.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt::Display;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// One call the mock received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `POST`, `PUT`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Every header.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Seen {
    /// A header's value, or `""`.
    #[must_use]
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
    }

    /// The body as JSON; `null` when empty.
    ///
    /// # Panics
    ///
    /// When the body is not JSON.
    #[must_use]
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// A scripted answer: status, extra headers, body.
type Scripted = (u16, Vec<(&'static str, String)>, String);

/// A scriptable HTTP/1.1 server on a free loopback port: records every call and answers by
/// path, in order; `{BASE}` in a scripted body becomes `http://ADDR`. Unscripted calls get 200
/// `{"request_id": "r-1"}`.
#[derive(Clone, Default)]
pub struct MockHttp {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<HashMap<String, VecDeque<Scripted>>>>,
    stall: Arc<Mutex<Option<Duration>>>,
    addr: Arc<Mutex<Option<SocketAddr>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MockHttp {
    /// The next answer to `path`: `status`, `headers`, `body` (a `json!` value or a string).
    pub fn answer(&self, path: &str, status: u16, headers: Vec<(&'static str, String)>, body: impl Display) {
        lock(&self.script).entry(path.to_owned()).or_default().push_back((status, headers, body.to_string()));
    }

    /// Answers only after `delay`.
    pub fn stall(&self, delay: Duration) {
        *lock(&self.stall) = Some(delay);
    }

    /// The calls so far, in order.
    #[must_use]
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }

    /// Starts serving; the address.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start(&self) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        *lock(&self.addr) = Some(addr);
        let mock = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let mock = mock.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let mock = mock.clone();
                        async move { Ok::<_, Infallible>(mock.respond(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        addr
    }

    async fn respond(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map(http_body_util::Collected::to_bytes).unwrap_or_default();
        let path = parts.uri.path().to_owned();
        lock(&self.seen).push(Seen {
            method: parts.method.to_string(),
            path: path.clone(),
            headers: parts.headers,
            body,
        });
        let stall = *lock(&self.stall);
        if let Some(stall) = stall {
            tokio::time::sleep(stall).await;
        }
        let next = lock(&self.script).get_mut(&path).and_then(VecDeque::pop_front);
        let (status, headers, body) = next.unwrap_or((200, vec![], r#"{"request_id":"r-1"}"#.to_owned()));
        let base = lock(&self.addr).map(|addr| format!("http://{addr}")).unwrap_or_default();
        let mut response = Response::new(Full::new(Bytes::from(body.replace("{BASE}", &base))));
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

//! Which HTTP version a connection speaks, and the hyper connection that serves it.
//!
//! A plain connection's first bytes are peeked, not read: the HTTP/2 client preface
//! (`PRI * HTTP/2.0...`) means HTTP/2, anything else HTTP/1.1, and the connection goes straight
//! to hyper's builder for that version with the socket untouched. A TLS connection's version
//! comes from ALPN. Only when the peeked bytes are a part of the preface and no more (a client
//! that sent `P` or `PRI * HTTP/2.0` and paused), or a TLS client named no protocol, does
//! hyper-util's detection read the bytes and hand them back through its `Rewind` wrapper: on
//! every other connection that layer, and the larger read buffer it leaves hyper with, are
//! not paid for.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How often an idle HTTP/2 connection is pinged, and how long the answer may take.
const HTTP2_KEEP_ALIVE: (Duration, Duration) = (Duration::from_secs(20), Duration::from_secs(10));

/// The HTTP/2 client preface (RFC 9113, section 3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What a connection speaks, as far as its first bytes or ALPN tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Http1,
    Http2,
    /// Not known yet: hyper-util reads the first bytes and decides.
    Undecided,
}

impl Protocol {
    /// The protocol of a connection whose first bytes are `first` (as many as have arrived).
    /// `None` when nothing has arrived: the peer closed its side.
    pub(crate) fn of_first_bytes(first: &[u8]) -> Option<Self> {
        let shared = first.iter().zip(PREFACE).take_while(|(a, b)| a == b).count();
        match first.len() {
            0 => None,
            _ if shared < first.len() => Some(Self::Http1),
            len if len >= PREFACE.len() => Some(Self::Http2),
            _ => Some(Self::Undecided),
        }
    }

    /// The protocol a TLS client agreed on by ALPN.
    #[cfg(feature = "tls")]
    pub(crate) fn of_alpn(protocol: Option<&[u8]>) -> Self {
        match protocol {
            Some(b"h2") => Self::Http2,
            Some(b"http/1.1") => Self::Http1,
            _ => Self::Undecided,
        }
    }

    /// Peeks at a plain connection's first bytes: returns as soon as any have arrived (one
    /// `recv(MSG_PEEK)` on a connection whose request is already there). `None` when the peer
    /// closed without sending anything or the socket failed.
    pub(crate) async fn peek(stream: &TcpStream) -> Option<Self> {
        let mut first = [0u8; PREFACE.len()];
        match stream.peek(&mut first).await {
            Ok(read) => Self::of_first_bytes(&first[..read]),
            Err(err) => {
                tracing::debug!(error = %err, "reading a new connection failed");
                None
            }
        }
    }
}

/// hyper's connection builders, configured once per server.
pub(crate) struct Builders {
    http1: hyper::server::conn::http1::Builder,
    http2: hyper::server::conn::http2::Builder<TokioExecutor>,
    undecided: auto::Builder<TokioExecutor>,
}

impl Builders {
    pub(crate) fn new() -> Self {
        // No per-request header timer in hyper: the idle sweep (`Connections`) already closes a
        // connection whose head trickles in, with one timer for the whole server.
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1.header_read_timeout(None);
        let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        http2.timer(TokioTimer::new()).keep_alive_interval(HTTP2_KEEP_ALIVE.0).keep_alive_timeout(HTTP2_KEEP_ALIVE.1);
        let mut undecided = auto::Builder::new(TokioExecutor::new());
        undecided.http1().header_read_timeout(None);
        undecided
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(HTTP2_KEEP_ALIVE.0)
            .keep_alive_timeout(HTTP2_KEEP_ALIVE.1);
        Self { http1, http2, undecided }
    }

    /// The connection that serves `io` with `service` in `protocol`.
    pub(crate) fn serve<I, S, B>(&self, protocol: Protocol, io: I, service: S) -> HyperConnection<'_, I, S>
    where
        S: hyper::service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        match protocol {
            Protocol::Http1 => Serving::Http1 { connection: self.http1.serve_connection(io, service) },
            Protocol::Http2 => Serving::Http2 { connection: self.http2.serve_connection(io, service) },
            // Boxed: rare, and as large as the other two together.
            Protocol::Undecided => {
                Serving::Undecided { connection: Box::pin(self.undecided.serve_connection(io, service)) }
            }
        }
    }
}

/// A connection served by one of [`Builders`]' builders.
pub(crate) type HyperConnection<'a, I, S> = Serving<
    hyper::server::conn::http1::Connection<I, S>,
    hyper::server::conn::http2::Connection<I, S, TokioExecutor>,
    Pin<Box<auto::Connection<'a, I, S, TokioExecutor>>>,
>;

/// A connection that can be asked to finish its requests in flight and close.
pub(crate) trait Drain: Future<Output = Result<(), BoxError>> {
    /// Stops taking new requests; the connection ends once those in flight are answered.
    fn drain(self: Pin<&mut Self>);
}

pin_project_lite::pin_project! {
    /// One connection served by hyper in the protocol it speaks.
    #[project = ServingProjection]
    pub(crate) enum Serving<H1, H2, U> {
        Http1 { #[pin] connection: H1 },
        Http2 { #[pin] connection: H2 },
        Undecided { #[pin] connection: U },
    }
}

/// What each of hyper's connection types does to finish gracefully.
pub(crate) trait Graceful: Future {
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> Graceful for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<BoxError>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    B: http_body::Body + 'static,
    B::Error: Into<BoxError>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http1::Connection::graceful_shutdown(self);
    }
}

impl<I, S, B> Graceful for hyper::server::conn::http2::Connection<I, S, TokioExecutor>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http2::Connection::graceful_shutdown(self);
    }
}

impl<I, S, B> Graceful for Pin<Box<auto::Connection<'_, I, S, TokioExecutor>>>
where
    S: hyper::service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        self.get_mut().as_mut().graceful_shutdown();
    }
}

impl<H1, H2, U, E1, E2, E3> Future for Serving<H1, H2, U>
where
    H1: Future<Output = Result<(), E1>>,
    H2: Future<Output = Result<(), E2>>,
    U: Future<Output = Result<(), E3>>,
    E1: Into<BoxError>,
    E2: Into<BoxError>,
    E3: Into<BoxError>,
{
    type Output = Result<(), BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ServingProjection::Http1 { connection } => connection.poll(cx).map_err(Into::into),
            ServingProjection::Http2 { connection } => connection.poll(cx).map_err(Into::into),
            ServingProjection::Undecided { connection } => connection.poll(cx).map_err(Into::into),
        }
    }
}

impl<H1, H2, U, E1, E2, E3> Drain for Serving<H1, H2, U>
where
    H1: Graceful + Future<Output = Result<(), E1>>,
    H2: Graceful + Future<Output = Result<(), E2>>,
    U: Graceful + Future<Output = Result<(), E3>>,
    E1: Into<BoxError>,
    E2: Into<BoxError>,
    E3: Into<BoxError>,
{
    fn drain(self: Pin<&mut Self>) {
        match self.project() {
            ServingProjection::Http1 { connection } => connection.graceful_shutdown(),
            ServingProjection::Http2 { connection } => connection.graceful_shutdown(),
            ServingProjection::Undecided { connection } => connection.graceful_shutdown(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_tell_http2_from_http1_and_a_part_of_the_preface_waits() {
        assert_eq!(Protocol::of_first_bytes(b""), None);
        assert_eq!(Protocol::of_first_bytes(b"POST /webhook HTTP/1.1\r\n"), Some(Protocol::Http1));
        assert_eq!(Protocol::of_first_bytes(b"PO"), Some(Protocol::Http1));
        assert_eq!(Protocol::of_first_bytes(b"GET / HTTP/1.1\r\n\r\n"), Some(Protocol::Http1));
        assert_eq!(Protocol::of_first_bytes(PREFACE), Some(Protocol::Http2));
        assert_eq!(Protocol::of_first_bytes(b"P"), Some(Protocol::Undecided));
        assert_eq!(Protocol::of_first_bytes(&PREFACE[..23]), Some(Protocol::Undecided));
        // One byte off anywhere in the preface is HTTP/1.1 (and hyper answers it 400).
        let mut off = *PREFACE;
        off[20] = b'x';
        assert_eq!(Protocol::of_first_bytes(&off), Some(Protocol::Http1));
    }

    /// Serves `io` as an undecided connection, answering every request `ok`.
    fn serve_undecided(io: tokio::io::DuplexStream) -> tokio::task::JoinHandle<Result<(), BoxError>> {
        let service = hyper::service::service_fn(|_request| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::from("ok"))))
        });
        tokio::spawn(async move {
            let builders = Builders::new();
            builders.serve(Protocol::Undecided, hyper_util::rt::TokioIo::new(io), service).await
        })
    }

    /// On this single-threaded test runtime, lets the server's task run until it waits for
    /// more bytes.
    async fn let_the_server_read() {
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn an_undecided_connection_is_read_and_served_in_either_protocol() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // HTTP/1.1 whose first byte came alone.
        let (mut client, server) = tokio::io::duplex(4096);
        let serving = serve_undecided(server);
        client.write_all(b"P").await.unwrap();
        let_the_server_read().await;
        client.write_all(b"OST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"), "{answer}");
        serving.await.unwrap().unwrap();

        // HTTP/2 whose preface came in two parts: the server's SETTINGS frame comes back.
        let (mut client, server) = tokio::io::duplex(4096);
        let _serving = serve_undecided(server);
        client.write_all(&PREFACE[..23]).await.unwrap();
        let_the_server_read().await;
        client.write_all(&PREFACE[23..]).await.unwrap();
        client.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
        let mut frame_head = [0u8; 9];
        client.read_exact(&mut frame_head).await.unwrap();
        assert_eq!(frame_head[3], 4, "a SETTINGS frame: {frame_head:?}");
    }

    #[cfg(feature = "tls")]
    #[test]
    fn alpn_names_the_protocol_and_no_alpn_is_undecided() {
        assert_eq!(Protocol::of_alpn(Some(b"h2")), Protocol::Http2);
        assert_eq!(Protocol::of_alpn(Some(b"http/1.1")), Protocol::Http1);
        assert_eq!(Protocol::of_alpn(None), Protocol::Undecided);
    }
}

//! [`Server`]: serves any `tower::Service` over hyper 1 (HTTP/1.1 and HTTP/2) with a
//! header-read timeout, a limit on requests in flight, `GET /healthz`, and graceful shutdown
//! on SIGTERM or Ctrl-C.

use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::{Request, Response};
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tower::{Service, ServiceExt};

use super::address::RemoteAddr;
use super::answer::Answer;
use super::body::{CALL_LIMITS, CallLimits, ServerLimits, healthz};
use super::connections::{Activity, Admission, Connections, GuardedBody, RequestGuard, default_max_connections};
use super::pipeline::Endpoint;
use super::protocol::{Builders, Protocol};
use super::quota::Quota;
use super::rejection::{Rejection, ResponseBody};

/// Requests in flight before the server answers 503 `overloaded`.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4096;
/// How long a connection may sit without a request in flight: from accept to its first request
/// head, and between keep-alive requests.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Body bytes held in memory at once, over all requests: 64 MiB.
pub const DEFAULT_BODY_BUDGET: usize = 64 * 1024 * 1024;
/// How long shutdown waits for requests in flight.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why the server could not run. `Debug` prints the same sentence as `Display`, so
/// `main() -> Result<(), Box<dyn Error>>` shows it.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The router has no verify token and was not told to skip verification.
    #[error(
        "the router has no verify token: set Router::verify_token (or, for local experiments only, Router::insecure_skip_verification)"
    )]
    NoVerification,
    /// The events receiver has no webhook secret and was not told to run unsigned.
    #[error(
        "the events receiver has no webhook secret: set EventsReceiver::webhook_secret (or, when the integration has no secret, EventsReceiver::accept_unsigned_events)"
    )]
    NoWebhookSecret,
    /// A verify token or webhook secret is empty or only blanks: anyone could sign with it.
    #[error("{what} is empty or blank: anyone can sign a call with an empty key; set the real secret")]
    BlankSecret {
        /// Which setting: `the router's verify token`, `the events receiver's webhook secret`.
        what: String,
    },
    /// A handler takes `State<T>`, but the router has no state of that type.
    #[error(
        "the handler of {route} takes State<{state}>, but the router has no state of that type: add it with Router::state"
    )]
    MissingState {
        /// The missing state's type.
        state: &'static str,
        /// The route whose handler needs it, such as `node check_stock`.
        route: String,
    },
    /// The listener failed.
    #[error("the listener failed: {0}")]
    Io(#[from] std::io::Error),
}

impl fmt::Debug for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What the server learns at start-up from an endpoint of this crate: what would make it
/// refuse every call, and what it serves (for the start-up log).
pub(crate) trait Startup {
    fn check(&self) -> Result<(), ServeError>;
    fn describe(&self) -> Vec<String>;
    /// What is set up but cannot work as written, for the start-up log.
    fn warnings(&self) -> Vec<String>;
}

/// Finds the start-up checks of a service that is one of this crate's endpoints (the list
/// lives at the crate root, so this module knows neither the router nor the receiver).
fn startup_of(service: &dyn Any) -> Option<&dyn Startup> {
    crate::STARTUP_CHECKS.iter().find_map(|inspect| inspect(service))
}

/// Serves any `tower::Service<http::Request<hyper::body::Incoming>>` whose response body is an
/// `http_body::Body`, the shape `axum::serve` takes: a [`Router`](crate::Router), an
/// [`EventsReceiver`](crate::events::EventsReceiver), either under tower or tower-http layers,
/// or an axum `Router` that mounts both. Every one gets the same protection:
///
/// - a header-read timeout (default 10 s), so trickling clients cannot pin a connection;
/// - a cap on requests in flight (default 4096), past which calls get 503 `overloaded`;
/// - `GET /healthz` answered 200 `{"status":"ok"}` before the service is called;
/// - graceful shutdown: on SIGTERM or Ctrl-C, requests in flight finish within a grace period
///   (default 10 s); calls that arrive meanwhile get 503 `shutting_down`.
///
/// When the service is a `Router` or an `EventsReceiver` itself, the server also refuses to
/// start without a verify token or webhook secret ([`ServeError`]) and logs its routes.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use moveo_dialog::{Reply, Router, Server};
///
/// let router = Router::new().verify_token("my-verify-token").fallback(|| async { Reply::text("Hi!") });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// Server::new(router).serve(listener).await?; // until SIGTERM or Ctrl-C
/// # Ok(()) }
/// ```
///
/// A router under tower layers is served the same way:
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use moveo_dialog::{Reply, Router, Server};
/// use tower::ServiceBuilder;
///
/// let router = Router::new().verify_token("my-verify-token").fallback(|| async { Reply::text("Hi!") });
/// let service = ServiceBuilder::new()
///     .map_request(|request: http::Request<hyper::body::Incoming>| {
///         tracing::info!(path = request.uri().path(), "call");
///         request
///     })
///     .service(router);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// Server::new(service).serve(listener).await?;
/// # Ok(()) }
/// ```
#[must_use = "a server does nothing until `serve` is awaited"]
pub struct Server<S> {
    service: S,
    max_in_flight: usize,
    max_connections: usize,
    header_read_timeout: Duration,
    grace_period: Duration,
    body_budget: usize,
    #[cfg(feature = "tls")]
    tls: Option<super::tls::Tls>,
}

impl<S> fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("service", &std::any::type_name::<S>())
            .field("max_in_flight", &self.max_in_flight)
            .field("max_connections", &self.max_connections)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_budget", &self.body_budget)
            .field("grace_period", &self.grace_period)
            .finish()
    }
}

impl<S> Server<S> {
    /// A server for `service`, with the default limits.
    pub fn new(service: S) -> Self {
        Self {
            service,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_connections: default_max_connections(),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            grace_period: DEFAULT_GRACE_PERIOD,
            body_budget: DEFAULT_BODY_BUDGET,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Serves HTTPS with `tls` (feature `tls`): HTTP/1.1 and HTTP/2 by ALPN; the handshake
    /// counts against the idle timeout; on SIGHUP the certificate files are read again (new
    /// connections get the new certificate; a reload that fails keeps the old one and logs
    /// why).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: super::tls::Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Connections held at once (default: the process's open-file limit less an eighth and 32,
    /// so the accept loop never runs out of descriptors). At the cap, a new connection makes
    /// the longest-idle one close; a connection with a request in flight is never closed for a
    /// newcomer, and when every connection is busy the newcomer is closed instead.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// Body bytes the server's endpoints may hold in memory at once, over all requests
    /// (default 64 MiB). A body is counted at its declared `Content-Length` (or at its
    /// endpoint's body limit when it has none) before it is read; a call that does not fit is
    /// answered 503 `overloaded` without reading it.
    pub fn body_budget(mut self, bytes: usize) -> Self {
        self.body_budget = bytes;
        self
    }

    /// Requests in flight before new ones get 503 `overloaded` (default 4096). For this
    /// crate's endpoints a call does not count while its body is being read (the body budget
    /// and the body timeout bound those), so slow bodies cannot take the place of calls ready
    /// to run.
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.max_in_flight = requests.max(1);
        self
    }

    /// How long a connection may go without a request in flight before it is closed (default
    /// 10 s): counted from the moment it is accepted (so protocol detection, a partial HTTP/2
    /// preface and a trickled request head all count) and again after each response (idle
    /// keep-alive, on HTTP/1.1 and HTTP/2 alike). Trickling and silent clients cannot pin the
    /// server. One sweep a server checks every connection, every eighth of the timeout (at
    /// least twice a second): a connection is closed no earlier than the timeout and, idle
    /// after a response, at most two sweeps later (a request's end is not timed: the next
    /// sweep stamps it).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long shutdown waits for requests in flight (default 10 s).
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace_period = grace;
        self
    }
}

/// What a [`Server`] serves: any `tower::Service<http::Request<hyper::body::Incoming>>`
/// that is `Clone + Send + 'static`, with a `Send` future, an error that converts into a boxed
/// error, and an `http_body::Body` response body. It is implemented for every such service and
/// never by hand; use it as the bound of code generic over what it serves.
///
/// ```
/// use moveo_dialog::serve::HttpService;
/// use moveo_dialog::{Router, Server};
///
/// fn configured<S: HttpService>(service: S) -> Server<S> {
///     Server::new(service).max_in_flight(256)
/// }
/// let _ = configured(Router::new().insecure_skip_verification());
/// ```
pub trait HttpService:
    Service<Request<Incoming>, Response = Response<Self::ResponseBody>, Error: Into<BoxError>, Future: Send + 'static>
    + Clone
    + Send
    + 'static
{
    /// The service's response body.
    type ResponseBody: http_body::Body<Data: Send, Error: Into<BoxError>> + Send + 'static;
}

impl<S, B> HttpService for S
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type ResponseBody = B;
}

pin_project_lite::pin_project! {
    /// What the server sends: its own answer (`/healthz`, 503, ...) or the service's body, its
    /// data as `Bytes`. The size hint passes through, so an exact body gets a
    /// `Content-Length` rather than chunked encoding.
    #[project = ServerBodyProjection]
    enum ServerBody<B> {
        Own { #[pin] body: ResponseBody },
        Service { #[pin] body: B },
    }
}

impl<B> http_body::Body for ServerBody<B>
where
    B: http_body::Body,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            ServerBodyProjection::Own { body } => {
                body.poll_frame(cx).map(|frame| frame.map(|frame| frame.map_err(|never| match never {})))
            }
            ServerBodyProjection::Service { body } => body.poll_frame(cx).map(|frame| {
                frame.map(|frame| frame.map(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining()))))
            }),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Own { body } => body.is_end_stream(),
            Self::Service { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self {
            Self::Own { body } => body.size_hint(),
            Self::Service { body } => body.size_hint(),
        }
    }
}

impl<S> Server<S>
where
    S: HttpService,
{
    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
    ///
    /// # Errors
    ///
    /// [`ServeError::NoVerification`] (and the other start-up checks) before serving anything
    /// when a router has no verify token; [`ServeError::Io`] when the listener fails.
    pub async fn serve(self, listener: TcpListener) -> Result<(), ServeError> {
        self.serve_with_shutdown(listener, shutdown_signal()).await
    }

    /// Serves until `signal` completes, then shuts down gracefully: requests in flight are
    /// finished within the grace period, and requests that arrive meanwhile get 503
    /// `shutting_down` with `Connection: close`.
    ///
    /// # Errors
    ///
    /// As [`Server::serve`].
    pub async fn serve_with_shutdown<F>(self, listener: TcpListener, signal: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send,
    {
        let local = listener.local_addr()?;
        match startup_of(&self.service) {
            Some(startup) => {
                startup.check()?;
                tracing::info!(address = %local, "serving");
                for line in startup.describe() {
                    tracing::info!("{line}");
                }
                for line in startup.warnings() {
                    tracing::warn!("{line}");
                }
            }
            None => tracing::info!(address = %local, service = std::any::type_name::<S>(), "serving"),
        }
        let service = self.service;
        let shared = Arc::new(Shared {
            builders: Builders::new(),
            #[cfg(feature = "tls")]
            idle_timeout: self.header_read_timeout,
            #[cfg(feature = "tls")]
            tls: self.tls.clone(),
            connections: Arc::new(Connections::new(self.max_connections, self.header_read_timeout)),
            limits: Arc::new(ServerLimits {
                shutting_down: AtomicBool::new(false),
                in_flight: Quota::new(self.max_in_flight),
                body_budget: Quota::new(self.body_budget),
            }),
        });
        tracing::debug!(max_connections = self.max_connections, body_budget = self.body_budget, "limits");
        #[cfg(all(feature = "tls", unix))]
        let _reloader = self.tls.clone().map(|tls| {
            AbortOnDrop(tokio::spawn(async move {
                let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
                    return;
                };
                while hangup.recv().await.is_some() {
                    let _ = tls.reload();
                }
            }))
        });
        let sweeper = {
            let connections = Arc::clone(&shared.connections);
            AbortOnDrop(tokio::spawn(async move { connections.sweep_forever().await }))
        };
        let mut signal = std::pin::pin!(signal);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => spawn_connection(&shared, &service, stream, peer),
                    Err(err) => accept_failed(&shared, err).await,
                },
                () = &mut signal => break,
            }
        }
        shared.limits.shutting_down.store(true, Ordering::SeqCst);
        tracing::info!(grace_period_ms = self.grace_period.as_millis() as u64, "shutting down");
        let drained = shared.connections.drain();
        let mut drained = std::pin::pin!(drained);
        let grace = tokio::time::sleep(self.grace_period);
        let mut grace = std::pin::pin!(grace);
        loop {
            tokio::select! {
                () = &mut drained => {
                    tracing::info!("every connection finished");
                    break;
                }
                () = &mut grace => {
                    tracing::warn!("the grace period ended with requests still in flight");
                    break;
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => spawn_connection(&shared, &service, stream, peer),
                    Err(err) => accept_failed(&shared, err).await,
                },
            }
        }
        drop(sweeper);
        Ok(())
    }
}

/// Accept errors are passing: a reset before accept, or the process out of file descriptors
/// (then the longest-idle connection is closed to free one). Log, pause, go on; the pause keeps
/// a persistent error from spinning the loop.
async fn accept_failed(shared: &Shared, err: std::io::Error) {
    let out_of_descriptors = matches!(err.raw_os_error(), Some(23 | 24)); // ENFILE, EMFILE
    if out_of_descriptors {
        shared.connections.evict_one();
    }
    tracing::warn!(error = %err, "accept failed");
    tokio::time::sleep(Duration::from_millis(if out_of_descriptors { 50 } else { 10 })).await;
}

/// Aborts a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Shared {
    builders: Builders,
    #[cfg(feature = "tls")]
    idle_timeout: Duration,
    #[cfg(feature = "tls")]
    tls: Option<super::tls::Tls>,
    connections: Arc<Connections>,
    /// What every call counts against; each call holds it (one `Arc` clone a call).
    limits: Arc<ServerLimits>,
}

/// Serves a new connection with `service`: the framework's own endpoints (a bare [`Router`] or
/// [`EventsReceiver`]) are answered in place, anything else through `tower::Service`.
///
/// The choice is made here, outside any future, once per connection: for a given `S` the
/// type test is a constant, so only the live branch's connection task is compiled into the
/// binary. (Made inside the connection's `async` block, every branch's task stayed in it, the
/// state machine holding them all: a binary serving a `Router` carried the events receiver's
/// and the generic service's connection machinery too, for nothing.) Each connection's request
/// future is sized for its own endpoint (none is boxed).
///
/// [`Router`]: crate::Router
/// [`EventsReceiver`]: crate::events::EventsReceiver
fn spawn_connection<S: HttpService>(shared: &Arc<Shared>, service: &S, stream: TcpStream, peer: SocketAddr) {
    let (id, activity) = match shared.connections.admit() {
        Admission::Serve(id, activity) => (id, activity),
        Admission::Full => {
            tracing::warn!(%peer, "every connection is busy: closing a new one");
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    let connection = Connection { shared: Arc::clone(shared), id, activity, stream, peer };
    // The framework's own endpoints take the caller's address and the server's limits as
    // arguments; anything else finds the address in the request's extensions (an insertion
    // costs three allocations) and the limits in its task.
    if let Some(router) = (service as &dyn Any).downcast_ref::<crate::Router>() {
        let router = router.clone();
        return connection.spawn(move |request: Request<Incoming>, peer, limits, guard| {
            let router = router.clone();
            let (head, body) = request.into_parts();
            answer_in_place(move |path: &str| router.endpoint_for(path), head, body, peer, limits, guard)
        });
    }
    if let Some(receiver) = (service as &dyn Any).downcast_ref::<crate::events::EventsReceiver>() {
        let receiver = receiver.clone();
        return connection.spawn(move |request: Request<Incoming>, peer, limits, guard| {
            let endpoint = receiver.endpoint();
            let (head, body) = request.into_parts();
            answer_in_place(move |_: &str| endpoint, head, body, peer, limits, guard)
        });
    }
    let service = service.clone();
    connection
        .spawn(move |request, peer, limits, guard| answer_by_service(service.clone(), request, peer, limits, guard));
}

/// An admitted connection, not yet served.
struct Connection {
    shared: Arc<Shared>,
    id: u64,
    activity: Arc<Activity>,
    stream: TcpStream,
    peer: SocketAddr,
}

impl Connection {
    /// Spawns the task that serves the connection's requests, each through `answer` (given the
    /// request, the caller's address, the server's limits and the request's guard).
    fn spawn<A, F, B>(self, answer: A)
    where
        A: Fn(Request<Incoming>, RemoteAddr, Arc<ServerLimits>, RequestGuard) -> F + Send + 'static,
        F: Future<Output = HyperResponse<B>> + Send + 'static,
        B: http_body::Body<Data: Send, Error: Into<BoxError>> + Send + 'static,
    {
        let Self { shared, id, activity, stream, peer } = self;
        tokio::spawn(async move {
            #[cfg(feature = "tls")]
            if let Some(tls) = &shared.tls {
                // Boxed: a TLS connection's state (the handshake, the session) is several times
                // a plain one's, and every plain connection's task would be as large without it.
                Box::pin(serve_tls(&shared, tls, answer, &activity, stream, peer)).await;
                shared.connections.remove(id);
                return;
            }
            // Until its first bytes arrive, only the idle timeout (or shutdown) ends a connection.
            let protocol = tokio::select! {
                protocol = Protocol::peek(&stream) => protocol,
                () = activity.asked_to_close() => None,
            };
            if let Some(protocol) = protocol {
                serve_io(&shared, answer, &activity, TokioIo::new(stream), protocol, peer).await;
            }
            shared.connections.remove(id);
        });
    }
}

/// Serves one TLS connection: the handshake (within the idle timeout: a client that opens TLS
/// and stalls is closed like any other; plain HTTP fails the handshake at once), then its
/// requests.
#[cfg(feature = "tls")]
async fn serve_tls<A, F, B>(
    shared: &Arc<Shared>,
    tls: &super::tls::Tls,
    answer: A,
    activity: &Arc<Activity>,
    stream: TcpStream,
    peer: SocketAddr,
) where
    A: Fn(Request<Incoming>, RemoteAddr, Arc<ServerLimits>, RequestGuard) -> F + Send + 'static,
    F: Future<Output = HyperResponse<B>> + Send + 'static,
    B: http_body::Body<Data: Send, Error: Into<BoxError>> + Send + 'static,
{
    match tokio::time::timeout(shared.idle_timeout, tls.acceptor().accept(stream)).await {
        Ok(Ok(stream)) => {
            let protocol = Protocol::of_alpn(stream.get_ref().1.alpn_protocol());
            serve_io(shared, answer, activity, TokioIo::new(stream), protocol, peer).await;
        }
        Ok(Err(err)) => tracing::debug!(error = %err, %peer, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
    }
}

/// What hyper is given for each request: the response, its body holding the request's place
/// among the connection's requests in flight.
type HyperResponse<B> = Result<Response<GuardedBody<ServerBody<B>>>, Infallible>;

/// Answers a request with one of the framework's own endpoints, the one `endpoint_for` its
/// path. This future is the one hyper keeps for the request, and it keeps the request's head:
/// the pipeline borrows it (each layer that took the request by value copied its 264 bytes
/// into one more future).
///
/// A function returning an `async` block, not an `async fn`: the block uses what it captures
/// where it is, where an `async fn` would move each argument once more when first polled
/// (`bash benches/copies.sh`: 224 bytes a request).
#[allow(clippy::manual_async_fn)]
fn answer_in_place<E: Endpoint>(
    endpoint_for: impl FnOnce(&str) -> Arc<E> + Send + 'static,
    mut head: http::request::Parts,
    body: Incoming,
    peer: RemoteAddr,
    limits: Arc<ServerLimits>,
    guard: RequestGuard,
) -> impl Future<Output = HyperResponse<ResponseBody>> + Send + 'static {
    async move {
        let answer = match admit(limits, &head.method, &head.uri) {
            Admitted::Call(limits) => {
                let endpoint = endpoint_for(head.uri.path());
                super::pipeline::run(endpoint, &mut head, body, Some(peer), Some(limits)).await.1
            }
            Admitted::Answered(answered) => answered,
        };
        Ok(answer.into_response_with(|body| GuardedBody::new(ServerBody::Own { body }, guard)))
    }
}

/// Answers a request with any other `tower::Service`: the caller's address in the request's
/// extensions, the call's limits in its task.
async fn answer_by_service<S: HttpService>(
    service: S,
    mut request: Request<Incoming>,
    peer: RemoteAddr,
    limits: Arc<ServerLimits>,
    guard: RequestGuard,
) -> HyperResponse<S::ResponseBody> {
    let response = match admit(limits, request.method(), request.uri()) {
        Admitted::Call(limits) => {
            request.extensions_mut().insert(peer);
            match CALL_LIMITS.scope(limits, service.oneshot(request)).await {
                Ok(response) => response.map(|body| ServerBody::Service { body }),
                Err(err) => {
                    let err: BoxError = err.into();
                    tracing::error!(error = %err, "the service failed");
                    Rejection::handler_error().into_answer().into_response_with(|body| ServerBody::Own { body })
                }
            }
        }
        Admitted::Answered(answered) => answered.into_response_with(|body| ServerBody::Own { body }),
    };
    Ok(response.map(|body| GuardedBody::new(body, guard)))
}

/// Serves one connection's requests, each through `answer` (given the request, the caller's
/// address, the server's limits and the request's guard), until it ends, goes idle past the
/// timeout, or is evicted.
async fn serve_io<A, F, B, I>(
    shared: &Arc<Shared>,
    answer: A,
    activity: &Arc<Activity>,
    io: I,
    protocol: Protocol,
    peer: SocketAddr,
) where
    A: Fn(Request<Incoming>, RemoteAddr, Arc<ServerLimits>, RequestGuard) -> F + Send + 'static,
    F: Future<Output = HyperResponse<B>> + Send + 'static,
    B: http_body::Body<Data: Send, Error: Into<BoxError>> + Send + 'static,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let server_limits = Arc::clone(&shared.limits);
    let requests = Arc::clone(activity);
    // Per request: the endpoint (or service) cloned once and the limits once, each moved, not
    // cloned again, into the call.
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        answer(request, RemoteAddr(peer), Arc::clone(&server_limits), requests.begin())
    });
    let connection = shared.builders.serve(protocol, io, service);
    if let Some(Err(err)) = shared.connections.watch(activity, connection).await {
        tracing::debug!(error = %err, %peer, "connection ended with an error");
    }
}

/// What became of a request at the server's own checks.
enum Admitted {
    /// To be answered, under these limits.
    Call(CallLimits),
    /// Answered by the server itself (shutting down, `/healthz`, too many in flight).
    Answered(Answer),
}

/// The checks every request passes before it is answered (shutdown, `/healthz`, the cap on
/// requests in flight). The head is looked at, not moved: each move of it is a copy.
fn admit(limits: Arc<ServerLimits>, method: &http::Method, uri: &http::Uri) -> Admitted {
    if limits.shutting_down.load(Ordering::SeqCst) {
        return Admitted::Answered(Rejection::shutting_down().into_answer());
    }
    if let Some(health) = healthz(method, uri) {
        return Admitted::Answered(health);
    }
    match CallLimits::admit(limits) {
        Some(limits) => Admitted::Call(limits),
        None => Admitted::Answered(Rejection::overloaded().into_answer()),
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

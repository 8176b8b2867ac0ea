//! Serving a [`Router`] over hyper 1 (HTTP/1.1 and HTTP/2): a header-read timeout, a limit on
//! requests in flight, and graceful shutdown on SIGTERM or Ctrl-C.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::handler::BoxFuture;
use crate::rejection::{Body, Rejection};
use crate::router::{Inner, Router};
use crate::service::RemoteAddr;

pub(crate) mod sealed {
    use super::{Body, BoxFuture, Incoming, Request, Response, ServeError};

    /// What the server runs for each request; implemented inside this crate only.
    pub trait Endpoint: Send + Sync + 'static {
        fn handle(&self, request: Request<Incoming>) -> BoxFuture<'static, Response<Body>>;
        /// Refuses to serve a misconfigured endpoint.
        fn check(&self) -> Result<(), ServeError>;
        /// What it serves, for the start-up log.
        fn describe(&self) -> Vec<String>;
    }
}

/// Something a [`Server`] serves: a [`Router`] (dialog webhooks) or an
/// [`EventsReceiver`](crate::events::EventsReceiver) (custom-integration events).
pub trait Serve {
    #[doc(hidden)]
    fn into_endpoint(self) -> Arc<dyn sealed::Endpoint>;
}

struct RouterEndpoint(Arc<Inner>);

impl sealed::Endpoint for RouterEndpoint {
    fn handle(&self, request: Request<Incoming>) -> BoxFuture<'static, Response<Body>> {
        Box::pin(Arc::clone(&self.0).handle(request))
    }

    fn check(&self) -> Result<(), ServeError> {
        let verification = &self.0.verification;
        if verification.secret.is_none() && !verification.skip {
            return Err(ServeError::NoVerification);
        }
        Ok(())
    }

    fn describe(&self) -> Vec<String> {
        self.0.table.iter().map(|route| format!("dialog webhook route: {route}")).collect()
    }
}

impl Serve for Router {
    fn into_endpoint(self) -> Arc<dyn sealed::Endpoint> {
        Arc::new(RouterEndpoint(self.inner))
    }
}

/// Requests in flight before the server answers 503 `overloaded`.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4096;
/// How long a client may take to send its request head.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for requests in flight.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
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
    /// The listener failed.
    #[error("the listener failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves a [`Router`].
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
#[derive(Debug)]
#[must_use = "a server does nothing until `serve` is awaited"]
pub struct Server {
    endpoint: Arc<dyn sealed::Endpoint>,
    max_in_flight: usize,
    header_read_timeout: Duration,
    grace_period: Duration,
}

struct Shared {
    endpoint: Arc<dyn sealed::Endpoint>,
    in_flight: Arc<Semaphore>,
    shutting_down: AtomicBool,
}

impl std::fmt::Debug for dyn sealed::Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.describe()).finish()
    }
}

impl Server {
    /// A server for `app` (a [`Router`] or an events receiver), with the default limits.
    pub fn new(app: impl Serve) -> Self {
        Self {
            endpoint: app.into_endpoint(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            grace_period: DEFAULT_GRACE_PERIOD,
        }
    }

    /// Requests in flight before new ones get 503 `overloaded` (default 4096).
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.max_in_flight = requests.max(1);
        self
    }

    /// How long a client may take to send a request head before its connection is closed
    /// (default 10 s), so trickling clients cannot pin the server.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long shutdown waits for requests in flight (default 10 s).
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace_period = grace;
        self
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
    ///
    /// # Errors
    ///
    /// [`ServeError::NoVerification`] before serving anything when the router has no verify
    /// token; [`ServeError::Io`] when the listener fails.
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
        self.endpoint.check()?;
        let local = listener.local_addr()?;
        tracing::info!(address = %local, "serving");
        for line in self.endpoint.describe() {
            tracing::info!("{line}");
        }
        let shared = Arc::new(Shared {
            endpoint: Arc::clone(&self.endpoint),
            in_flight: Arc::new(Semaphore::new(self.max_in_flight)),
            shutting_down: AtomicBool::new(false),
        });
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(self.header_read_timeout);
        builder.http2().timer(TokioTimer::new());
        let graceful = GracefulShutdown::new();
        let mut signal = std::pin::pin!(signal);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => spawn_connection(&builder, &shared, stream, peer, Some(graceful.watcher())),
                    Err(err) => accept_failed(err).await,
                },
                () = &mut signal => break,
            }
        }
        shared.shutting_down.store(true, Ordering::SeqCst);
        tracing::info!(grace_period_ms = self.grace_period.as_millis() as u64, "shutting down");
        let drained = graceful.shutdown();
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
                    Ok((stream, peer)) => spawn_connection(&builder, &shared, stream, peer, None),
                    Err(err) => accept_failed(err).await,
                },
            }
        }
        Ok(())
    }
}

/// Accept errors (too many open files, a reset before accept) are passing: log, pause, go on.
async fn accept_failed(err: std::io::Error) {
    tracing::warn!(error = %err, "accept failed");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

fn spawn_connection(
    builder: &auto::Builder<TokioExecutor>,
    shared: &Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    watcher: Option<Watcher>,
) {
    let _ = stream.set_nodelay(true);
    let shared = Arc::clone(shared);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(shared.answer(request, peer).await) }
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
    tokio::spawn(async move {
        let result = match watcher {
            Some(watcher) => watcher.watch(connection).await,
            None => connection.await,
        };
        if let Err(err) = result {
            tracing::debug!(error = %err, %peer, "connection ended with an error");
        }
    });
}

impl Shared {
    async fn answer(&self, mut request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Rejection::shutting_down().into_response();
        }
        let Ok(_permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            return Rejection::overloaded().into_response();
        };
        request.extensions_mut().insert(RemoteAddr(peer));
        self.endpoint.handle(request).await
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

//! Prometheus metrics of the dialog router: requests by route and status, latency per route,
//! verification failures by reason, deadline fallbacks and panics. Exposed only where you
//! serve them: on a listener of their own (a [`Metrics`] is a tower `Service` answering
//! `GET /metrics`), or on the webhook port behind a bearer token
//! ([`Metrics::bearer_token`]). The public webhook port never shows them to anyone.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::serve::Answer;
use crate::serve::answer::BodyKind;

/// A route label shared with the router's entry, so counting a call allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Route(Arc<str>);

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, &self.0)
    }
}

type RequestLabels = ([(&'static str, Route); 1], [(&'static str, u16); 1]);
type RouteLabels = [(&'static str, Route); 1];
type ReasonLabels = [(&'static str, &'static str); 1];

/// The router's metrics: create one, give a clone to [`Router::metrics`](crate::Router::metrics),
/// and serve it.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use moveo_dialog::dialog::Metrics;
/// use moveo_dialog::{Reply, Router, Server};
///
/// let metrics = Metrics::new();
/// let router = Router::new()
///     .verify_token("my-verify-token")
///     .fallback(|| async { Reply::text("Hi!") })
///     .metrics(metrics.clone());
/// // Metrics on a private port; the webhook port does not serve them.
/// let private = tokio::net::TcpListener::bind("127.0.0.1:9100").await?;
/// tokio::spawn(Server::new(metrics).serve(private));
/// let public = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// Server::new(router).serve(public).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Registered>,
    bearer: Option<crate::verify::Secret>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("bearer_token", &self.bearer.as_ref().map(|_| "<redacted>")).finish()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

struct Registered {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    verification_failures: Family<ReasonLabels, Counter>,
    deadline_fallbacks: Counter,
    panics: Counter,
    /// The series of each (route, status) seen, found by the route label's pointer: a call
    /// counts without hashing its labels (a `Family` hashes them on every lookup).
    recent: std::sync::RwLock<Vec<Series>>,
}

/// One route's handles for one status; clones of a metric share its value.
struct Series {
    route: Arc<str>,
    status: u16,
    requests: Counter,
    latency: Histogram,
}

/// How many (route, status) pairs are kept in [`Registered::recent`]; more still count, through
/// the families.
const RECENT_SERIES: usize = 64;

fn latency_histogram() -> Histogram {
    // 50 µs to about 6.5 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
}

impl Metrics {
    /// Empty metrics, served to anyone who reaches the listener they are served on.
    #[must_use]
    pub fn new() -> Self {
        Self { inner: Arc::new(Registered::new()), bearer: None }
    }

    /// Requires `Authorization: Bearer TOKEN` to read them (compared in constant time), and
    /// makes the router also answer `GET /metrics` on the webhook port, to that token only;
    /// without it the router never serves them.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<crate::verify::Secret>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    pub(crate) fn serves_on_webhook_port(&self) -> bool {
        self.bearer.is_some()
    }

    /// The metrics in Prometheus text format.
    #[must_use]
    pub fn render_text(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.inner.registry).is_err() {
            text.clear();
        }
        text
    }

    /// Answers `GET /metrics`: 200 with the text, 401 without the bearer token (when one is
    /// set), 404 for any other path.
    pub(crate) fn answer(&self, request: &http::request::Parts) -> Answer {
        if request.uri.path() != "/metrics" || request.method != http::Method::GET {
            return crate::serve::Rejection::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "only GET /metrics is served here",
            )
            .into_answer();
        }
        if let Some(token) = &self.bearer {
            let given = request
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "));
            if token.verify_token(given).is_err() {
                return crate::serve::Rejection::new(
                    StatusCode::UNAUTHORIZED,
                    "bad_bearer_token",
                    "the metrics need Authorization: Bearer TOKEN",
                )
                .into_answer();
            }
        }
        Answer { kind: BodyKind::OpenMetrics, ..Answer::json(StatusCode::OK, self.render_text().into_bytes()) }
    }

    pub(crate) fn observe(&self, route: &Arc<str>, status: u16, elapsed: Duration) {
        self.inner.observe(route, status, elapsed);
    }

    pub(crate) fn verification_failed(&self, reason: &'static str) {
        self.inner.verification_failures.get_or_create(&[("reason", reason)]).inc();
    }

    pub(crate) fn deadline_fallback(&self) {
        self.inner.deadline_fallbacks.inc();
    }

    pub(crate) fn panicked(&self) {
        self.inner.panics.inc();
    }
}

crate::serve::pipeline::impl_service!(Metrics, |metrics, head, _body| metrics.answer(&head));

impl Registered {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("moveo_dialog");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let verification_failures = Family::<ReasonLabels, Counter>::default();
        let deadline_fallbacks = Counter::default();
        let panics = Counter::default();
        registry.register("requests", "Dialog webhook calls answered, by route and status", requests.clone());
        registry.register(
            "request_duration_seconds",
            "Time to answer a dialog webhook call, by route",
            latency.clone(),
        );
        registry.register(
            "verification_failures",
            "Calls refused by verification, by reason",
            verification_failures.clone(),
        );
        registry.register("deadline_fallbacks", "Handlers that missed their deadline", deadline_fallbacks.clone());
        registry.register("handler_panics", "Handlers that panicked", panics.clone());
        let recent = std::sync::RwLock::new(Vec::new());
        Self { registry, requests, latency, verification_failures, deadline_fallbacks, panics, recent }
    }

    fn observe(&self, route: &Arc<str>, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        {
            let recent = self.recent.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(series) =
                recent.iter().find(|series| series.status == status && Arc::ptr_eq(&series.route, route))
            {
                series.requests.inc();
                series.latency.observe(seconds);
                return;
            }
        }
        let label = Route(Arc::clone(route));
        let requests = self.requests.get_or_create(&([("route", label.clone())], [("status", status)])).clone();
        let latency = self.latency.get_or_create(&[("route", label)]).clone();
        requests.inc();
        latency.observe(seconds);
        let mut recent = self.recent.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if recent.len() < RECENT_SERIES
            && !recent.iter().any(|series| series.status == status && Arc::ptr_eq(&series.route, route))
        {
            recent.push(Series { route: Arc::clone(route), status, requests, latency });
        }
    }
}

//! `GET /metrics` in Prometheus text format: requests by route and status, latency per route,
//! verification failures by reason, deadline fallbacks and panics.

use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::serve::{ResponseBody, json_response};

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

pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    verification_failures: Family<ReasonLabels, Counter>,
    deadline_fallbacks: Counter,
    panics: Counter,
}

fn latency_histogram() -> Histogram {
    // 50 µs to about 6.5 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
}

impl Metrics {
    pub(crate) fn new() -> Self {
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
        Self { registry, requests, latency, verification_failures, deadline_fallbacks, panics }
    }

    pub(crate) fn observe(&self, route: &Arc<str>, status: u16, elapsed: Duration) {
        let route = Route(Arc::clone(route));
        self.requests.get_or_create(&([("route", route.clone())], [("status", status)])).inc();
        self.latency.get_or_create(&[("route", route)]).observe(elapsed.as_secs_f64());
    }

    pub(crate) fn verification_failed(&self, reason: &'static str) {
        self.verification_failures.get_or_create(&[("reason", reason)]).inc();
    }

    pub(crate) fn deadline_fallback(&self) {
        self.deadline_fallbacks.inc();
    }

    pub(crate) fn panicked(&self) {
        self.panics.inc();
    }

    pub(crate) fn render(&self) -> Response<ResponseBody> {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, b"{}".to_vec());
        }
        let mut response = json_response(StatusCode::OK, text.into_bytes());
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        );
        response
    }
}

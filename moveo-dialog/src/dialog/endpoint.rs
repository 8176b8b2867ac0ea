//! The dialog webhook layer over the serving pipeline: after the pipeline has read, verified
//! and decoded a call, pick the route (path, node, intent, fallback), run the extractors and
//! the handler under the guard, and answer with the reply. [`Router`] is a `tower::Service`
//! over `http::Request` that runs it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::extract::Call;
use super::router::{Choice, Inner, RouteId, Router};
use super::view::{ContextView, RequestView, range_in};
use crate::serve::body::is_healthz;
use crate::serve::guard::{Outcome, guarded};
use crate::serve::pipeline::{self, Admitted, DecodeFailure, Endpoint, Step, decode_tracked};
use crate::serve::{Answer, Rejection, ServeError, Startup};

pipeline::impl_service!(Router, |router, head, body| {
    let endpoint = router.endpoint_for(head.uri.path());
    pipeline::run(endpoint, &mut head, body, None, None).await.1
});

impl Router {
    /// The endpoint a call to `path` goes to: a nested router's when its prefix matches, else
    /// this router's own. What the router adds to every call (the `/metrics` and
    /// nothing-mounted answers, the `dialog_webhook` span, the latency for the metrics) are the
    /// pipeline's [`Endpoint`] hooks below, so a call is the pipeline's own future and nothing
    /// wraps it.
    ///
    /// Called on its own, before the pipeline's future is made: a call between the request and
    /// that future (this one inside the function that makes it) kept the compiler from building
    /// the future in place, and the whole 2 KB future was copied twice into the server's
    /// (`bash benches/copies.sh`: 11.0 KB a request against 8.1 KB).
    pub(crate) fn endpoint_for(self, path: &str) -> Arc<Inner> {
        let mut router = self;
        while let Some(nested) = router.inner.nested_for(path).cloned() {
            router = nested;
        }
        router.inner
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
}

/// A decoded call with its route chosen, and its context as [`Call`] holds it.
pub(crate) struct Routed {
    route: RouteId,
    /// Where the context's JSON object is in the body, when the router's pass kept it raw
    /// (`None`: absent or null); left to be found on first use when it decoded it.
    context: std::sync::OnceLock<Option<std::ops::Range<usize>>>,
    /// The context, when the router's pass decoded it.
    decoded_context: Option<Box<dyn std::any::Any + Send>>,
}

impl Endpoint for Inner {
    type Decoded = Routed;
    /// The route, once chosen: its label is looked up only when a call is observed.
    type Label = Option<RouteId>;

    fn gate(&self) -> &pipeline::Gate {
        &self.gate
    }

    fn unrouted(&self) -> Option<RouteId> {
        None
    }

    fn intercept(&self, request: &http::request::Parts) -> Option<Answer> {
        if !self.has_routes() && !self.nested.is_empty() && !is_healthz(&request.method, &request.uri) {
            let path = request.uri.path();
            tracing::debug!(path, "no router is mounted at this path");
            return Some(no_route(format!("nothing is mounted at the path {path:?}")).into_answer());
        }
        #[cfg(feature = "metrics")]
        if request.method == http::Method::GET
            && request.uri.path() == "/metrics"
            && let Some(metrics) = self.metrics.as_ref().filter(|metrics| metrics.serves_on_webhook_port())
        {
            return Some(metrics.answer(request));
        }
        None
    }

    fn span(&self, headers: &HeaderMap) -> tracing::Span {
        tracing::debug_span!(
            "dialog_webhook",
            request_id = header(headers, "x-moveo-request-id"),
            session_id = header(headers, "x-moveo-session-id"),
            route = tracing::field::Empty,
            status = tracing::field::Empty,
            latency_us = tracing::field::Empty,
        )
    }

    fn observes(&self, span: &tracing::Span) -> bool {
        #[cfg(feature = "metrics")]
        if self.metrics.is_some() {
            return true;
        }
        !span.is_disabled()
    }

    fn observe(&self, route: &Option<RouteId>, status: StatusCode, elapsed: Duration, span: &tracing::Span) {
        let label = self.label(*route);
        let status = status.as_u16();
        if !span.is_disabled() {
            span.record("route", &**label);
            span.record("status", status);
            span.record("latency_us", elapsed.as_micros() as u64);
            span.in_scope(|| {
                tracing::debug!(route = &**label, status, latency_us = elapsed.as_micros() as u64, "answered")
            });
        }
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.observe(label, status, elapsed);
        }
    }

    fn decode(&self, parts: &http::request::Parts, body: &Bytes) -> Result<Routed, Rejection> {
        let path_route = self.select_path(parts.uri.path());
        // The handlers the call can reach read the context as one type: decoded in this pass.
        let reads = match path_route {
            Some(route) => self.entry(route).and_then(|entry| entry.context),
            None => self.body_routes_context.one(),
        };
        let view = match reads.and_then(|reads| (reads.decode_view)(body)) {
            Some(view) => view,
            None => decode_tracked::<RequestView<'_>>(body).map_err(|failure| match failure {
                DecodeFailure::Json(detail) => Rejection::invalid_json(&detail),
                DecodeFailure::Shape(detail) => Rejection::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("the body is not a dialog webhook request: {detail}"),
                ),
            })?,
        };
        let (route, choice) = match path_route {
            Some(route) => (route, Choice::Path),
            None => match self.select(&view) {
                Some(found) => found,
                None => return Err(no_route(unmatched(parts.uri.path(), &view))),
            },
        };
        tracing::debug!(route = &**self.label(Some(route)), reason = %choice, "route chosen");
        let (context, decoded_context) = match view.context {
            ContextView::Absent => (std::sync::OnceLock::from(None), None),
            ContextView::Raw(raw) => (std::sync::OnceLock::from(range_in(body, raw)), None),
            ContextView::Decoded(value) => (std::sync::OnceLock::new(), Some(value)),
        };
        Ok(Routed { route, context, decoded_context })
    }

    fn refused(&self, step: Step, rejection: Rejection, headers: &HeaderMap) -> Answer {
        pipeline::log_refusal(step, &rejection, headers);
        #[cfg(feature = "metrics")]
        if step == Step::Verify
            && let Some(metrics) = &self.metrics
        {
            metrics.verification_failed(rejection.code());
        }
        rejection.into_answer()
    }

    async fn respond(self: Arc<Self>, call: Admitted<'_, Routed>) -> (Option<RouteId>, Answer) {
        let Admitted { parts, peer, body, verified, decoded: Routed { route, context, decoded_context } } = call;
        let router = &*self;
        let call = Call {
            request: std::sync::OnceLock::new(),
            context,
            decoded_context: std::sync::Mutex::new(decoded_context),
            parts,
            peer,
            extensions: std::sync::OnceLock::new(),
            body,
            router,
            verified,
        };
        // Chosen by this router's `decode`: always one of its routes.
        let Some(entry) = router.entry(route) else {
            return (None, Rejection::handler_error().into_answer());
        };
        let answer = match guarded(router.deadline, || (entry.handler)(&call)).await {
            Outcome::Done(Ok(reply)) => Answer::json(StatusCode::OK, reply.to_json_bytes()),
            Outcome::Done(Err(rejection)) => router.refused(Step::Decode, rejection, call.headers()),
            Outcome::Refused(rejection) => router.refused(Step::Decode, rejection, call.headers()),
            Outcome::Panicked(message) => router.panicked(&message),
            Outcome::Late => router.missed_deadline(),
        };
        (Some(route), answer)
    }
}

impl Inner {
    fn panicked(&self, message: &str) -> Answer {
        tracing::error!(panic = message, "the handler panicked");
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.panicked();
        }
        Rejection::handler_panic().into_answer()
    }

    fn missed_deadline(&self) -> Answer {
        tracing::warn!(deadline_ms = self.deadline.as_millis() as u64, "the handler missed its deadline");
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.deadline_fallback();
        }
        match &self.deadline_fallback {
            Some(reply) => Answer::json(StatusCode::OK, reply.to_vec()),
            None => Rejection::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline_exceeded",
                "the handler did not answer before its deadline",
            )
            .into_answer(),
        }
    }
}

fn no_route(message: String) -> Rejection {
    Rejection::new(StatusCode::NOT_FOUND, "no_route", message)
}

fn unmatched(path: &str, request: &RequestView<'_>) -> String {
    let node = request.node_name().map_or_else(|| "no dialog node".to_owned(), |name| format!("node {name:?}"));
    let intents: Vec<String> =
        request.intents.iter().map(|intent| format!("{} ({})", intent.intent.0, intent.confidence)).collect();
    let intents =
        if intents.is_empty() { "no intents".to_owned() } else { format!("intents [{}]", intents.join(", ")) };
    format!("no route matched path {path:?}, {node} or {intents}, and there is no fallback")
}

impl Startup for Router {
    fn check(&self) -> Result<(), ServeError> {
        let inner = &self.inner;
        if inner.has_routes() {
            let gate = &inner.gate;
            if gate.verifier.is_none() && !gate.unverified {
                return Err(ServeError::NoVerification);
            }
            if !gate.unverified && gate.verifier.as_ref().is_some_and(crate::verify::Verifier::has_blank_secret) {
                return Err(ServeError::BlankSecret { what: self.named("verify token") });
            }
        }
        for needs in &inner.needs {
            if let Some(missing) = needs.state.iter().find(|need| !need.is_met(&inner.state)) {
                return Err(ServeError::MissingState { state: missing.type_name(), route: needs.route.to_string() });
            }
        }
        inner.nested.iter().try_for_each(|nested| nested.router.check())
    }

    fn describe(&self) -> Vec<String> {
        let inner = &self.inner;
        let at = if inner.mount.is_empty() { String::new() } else { format!(" at {}", inner.mount) };
        let mut lines: Vec<String> =
            inner.table.iter().map(|route| format!("dialog webhook route{at}: {route}")).collect();
        if let Some(rotation) = inner.gate.rotation() {
            lines.push(format!("dialog webhook{at}: accepts {rotation} as verify tokens"));
        }
        lines.extend(inner.nested.iter().flat_map(|nested| nested.router.describe()));
        lines
    }

    fn warnings(&self) -> Vec<String> {
        let inner = &self.inner;
        let mut lines: Vec<String> =
            inner.gate.addresses.warning().map(|warning| self.named(warning)).into_iter().collect();
        lines.extend(inner.nested.iter().flat_map(|nested| nested.router.warnings()));
        lines
    }
}

impl Router {
    fn named(&self, what: &str) -> String {
        if self.inner.mount.is_empty() {
            format!("the router's {what}")
        } else {
            format!("the {what} of the router nested at {}", self.inner.mount)
        }
    }
}

//! The path of one dialog webhook call, checked in this order: method, content type, size,
//! verification, decoding, routing; then the handler under its deadline.
//! [`Router`] runs it as a `tower::Service` over `http::Request`.

use std::any::Any;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderMap, Request, Response, StatusCode};
use tracing::Instrument;

use crate::extract::Call;
use crate::handler::{BoxFuture, HandlerError};
use crate::rejection::{Body, Rejection, json_response};
use crate::reply::Reply;
use crate::request::DialogRequest;
use crate::router::{Choice, Inner, Router};
use crate::verify::{SIGNATURE_HEADER, VerifyError};

/// The caller's TCP address. The built-in server adds it to every request's extensions; when
/// the router runs inside another server and an address allowlist is set, add it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub SocketAddr);

/// Implements `tower::Service<http::Request<B>>` for a type whose `inner: Arc<_>` has
/// `handle(self: Arc<Self>, Request<B>) -> Response<Body>`: the dialog router and the events
/// receiver answer the same way.
macro_rules! impl_tower_service {
    ($app:ty) => {
        impl<B> tower::Service<http::Request<B>> for $app
        where
            B: http_body::Body + Send + 'static,
            B::Data: Send,
            B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        {
            type Response = http::Response<$crate::rejection::Body>;
            type Error = std::convert::Infallible;
            type Future = $crate::handler::BoxFuture<'static, Result<Self::Response, std::convert::Infallible>>;

            fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: http::Request<B>) -> Self::Future {
                let inner = std::sync::Arc::clone(&self.inner);
                Box::pin(async move { Ok(inner.handle(request).await) })
            }
        }
    };
}
pub(crate) use impl_tower_service;

impl_tower_service!(Router);

/// Where verification stands once the raw body is checked.
enum Verified {
    Yes,
    /// No signature header, and the body token is accepted in its place: check it once decoded.
    NeedsBodyToken,
}

use crate::body::header_str;

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}

/// Polls a handler's future, turning a panic into an error value.
pub(crate) struct CatchUnwind<T>(pub(crate) BoxFuture<'static, T>);

impl<T> Future for CatchUnwind<T> {
    type Output = Result<T, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

impl Inner {
    pub(crate) async fn handle<B>(self: Arc<Self>, request: Request<B>) -> Response<Body>
    where
        B: http_body::Body + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        if let Some(health) = crate::body::healthz(&parts) {
            return health;
        }
        #[cfg(feature = "metrics")]
        if parts.method == http::Method::GET
            && parts.uri.path() == "/metrics"
            && let Some(metrics) = &self.metrics
        {
            return metrics.render();
        }
        let started = Instant::now();
        let span = tracing::debug_span!(
            "dialog_webhook",
            request_id = header_str(&parts.headers, "x-moveo-request-id").unwrap_or(""),
            session_id = header_str(&parts.headers, "x-moveo-session-id").unwrap_or(""),
            route = tracing::field::Empty,
            status = tracing::field::Empty,
            latency_us = tracing::field::Empty,
        );
        let (label, response) = self.process(parts, body).instrument(span.clone()).await;
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        span.record("route", &*label);
        span.record("status", status);
        span.record("latency_us", elapsed.as_micros() as u64);
        span.in_scope(|| tracing::debug!(route = &*label, status, latency_us = elapsed.as_micros() as u64, "answered"));
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.observe(&label, status, elapsed);
        }
        response
    }

    /// Runs the checks and the handler; returns the route label and the response.
    async fn process<B>(&self, parts: http::request::Parts, body: B) -> (Arc<str>, Response<Body>)
    where
        B: http_body::Body + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let none = Arc::clone(&self.unrouted_label);
        let body = match crate::body::read_json_body(&parts, body, self.body_limit, self.body_timeout).await {
            Ok(body) => body,
            Err(rejection) => return (none, self.reject(rejection)),
        };
        let verified = match self.verify_raw(&parts, &body) {
            Ok(verified) => verified,
            Err(err) => return (none, self.reject_verification(err, &parts.headers)),
        };
        let request = match decode(&body) {
            Ok(request) => request,
            Err(_) if matches!(verified, Verified::NeedsBodyToken) => {
                return (none, self.reject_verification(VerifyError::BadVerifyToken, &parts.headers));
            }
            Err(rejection) => return (none, self.reject(rejection)),
        };
        if let Verified::NeedsBodyToken = verified {
            let checked = match &self.verification.secret {
                Some(secret) => secret.verify_token(request.verify_token.as_deref()),
                None => Err(VerifyError::BadVerifyToken),
            };
            if let Err(err) = checked {
                return (none, self.reject_verification(err, &parts.headers));
            }
        }
        let (entry, choice) = match self.select_path(parts.uri.path()) {
            Some(entry) => (entry, Choice::Path),
            None => match self.select(&request) {
                Some(found) => found,
                None => return (none, self.reject(no_route(&request))),
            },
        };
        tracing::debug!(route = &*entry.label, reason = %choice, "route chosen");
        let label = Arc::clone(&entry.label);
        let handler = Arc::clone(&entry.handler);
        let call = Call { request, headers: parts.headers, body, state: Arc::clone(&self.state) };
        let response = self.run(&handler, &call).await;
        (label, response)
    }

    async fn run(&self, handler: &crate::handler::ErasedHandler, call: &Call) -> Response<Body> {
        let future = match catch_unwind(AssertUnwindSafe(|| handler(call))) {
            Ok(Ok(future)) => future,
            Ok(Err(rejection)) => return self.reject(rejection),
            Err(payload) => return self.panicked(&*payload),
        };
        match tokio::time::timeout(self.deadline, CatchUnwind(future)).await {
            Ok(Ok(Ok(reply))) => reply_response(&reply),
            Ok(Ok(Err(err))) => self.failed(&err),
            Ok(Err(payload)) => self.panicked(&*payload),
            Err(_) => self.missed_deadline(),
        }
    }

    fn caller_address(&self, parts: &http::request::Parts) -> Option<IpAddr> {
        if let Some(header) = &self.verification.proxy_header {
            return parts
                .headers
                .get_all(header)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .next_back()
                .and_then(|last| last.trim().parse().ok());
        }
        parts.extensions.get::<RemoteAddr>().map(|addr| addr.0.ip())
    }

    fn verify_raw(&self, parts: &http::request::Parts, body: &[u8]) -> Result<Verified, VerifyError> {
        let verification = &self.verification;
        if let Some(allowlist) = &verification.allowlist {
            let allowed = self.caller_address(parts).is_some_and(|ip| {
                let ip = ip.to_canonical();
                allowlist.contains(&ip)
            });
            if !allowed {
                return Err(VerifyError::AddressNotAllowed);
            }
        }
        if verification.skip {
            return Ok(Verified::Yes);
        }
        let Some(secret) = &verification.secret else {
            tracing::error!("no verify token is configured: every call is refused (set Router::verify_token)");
            return Err(VerifyError::BadVerifyToken);
        };
        match parts.headers.get(SIGNATURE_HEADER) {
            Some(value) => {
                let signature = value.to_str().map_err(|_| VerifyError::BadSignature)?;
                secret.verify_signature(body, Some(signature)).map(|()| Verified::Yes)
            }
            None if verification.accept_body_token => Ok(Verified::NeedsBodyToken),
            None => Err(VerifyError::MissingSignature),
        }
    }

    fn reject(&self, rejection: Rejection) -> Response<Body> {
        tracing::debug!(status = rejection.status().as_u16(), error = rejection.code(), "{}", rejection.message());
        rejection.into_response()
    }

    fn reject_verification(&self, err: VerifyError, headers: &HeaderMap) -> Response<Body> {
        tracing::warn!(
            error = err.code(),
            request_id = header_str(headers, "x-moveo-request-id").unwrap_or(""),
            "verification failed: {err}"
        );
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.verification_failed(err.code());
        }
        let message = match err {
            VerifyError::MissingSignature => "the X-Moveo-Signature header is missing",
            VerifyError::BadSignature => "the X-Moveo-Signature header does not match the body",
            VerifyError::AddressNotAllowed => "the caller's address is not allowed",
            _ => "the verify token is missing or wrong",
        };
        Rejection::unauthorized(err.code(), message).into_response()
    }

    fn failed(&self, err: &HandlerError) -> Response<Body> {
        tracing::error!(error = %err, "the handler failed");
        Rejection::handler_error().into_response()
    }

    fn panicked(&self, payload: &(dyn Any + Send)) -> Response<Body> {
        tracing::error!(panic = panic_message(payload), "the handler panicked");
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.panicked();
        }
        Rejection::handler_panic().into_response()
    }

    fn missed_deadline(&self) -> Response<Body> {
        tracing::warn!(deadline_ms = self.deadline.as_millis() as u64, "the handler missed its deadline");
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.deadline_fallback();
        }
        match &self.deadline_fallback {
            Some(reply) => json_response(StatusCode::OK, reply.to_vec()),
            None => Rejection::deadline_exceeded().into_response(),
        }
    }
}

fn reply_response(reply: &Reply) -> Response<Body> {
    json_response(StatusCode::OK, reply.to_json_bytes())
}

/// Decodes the body. Path tracking costs an allocation per key, so it runs only to describe a
/// body that already failed.
fn decode(body: &[u8]) -> Result<DialogRequest, Rejection> {
    let err = match serde_json::from_slice::<DialogRequest>(body) {
        Ok(request) => return Ok(request),
        Err(err) => err,
    };
    if err.classify() != serde_json::error::Category::Data {
        return Err(Rejection::invalid_json(&err));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, DialogRequest>(&mut deserializer) {
        Err(err) if err.path().iter().next().is_some() => {
            Err(Rejection::invalid_request(format_args!("{}: {}", err.path(), err.inner())))
        }
        _ => Err(Rejection::invalid_request(err)),
    }
}

fn no_route(request: &DialogRequest) -> Rejection {
    let node = request.node_name().map_or_else(|| "no dialog node".to_owned(), |name| format!("node {name:?}"));
    let intents: Vec<String> =
        request.intents.iter().map(|intent| format!("{} ({})", intent.intent, intent.confidence)).collect();
    let intents =
        if intents.is_empty() { "no intents".to_owned() } else { format!("intents [{}]", intents.join(", ")) };
    Rejection::no_route(format!("no route matched {node} or {intents}, and there is no fallback"))
}

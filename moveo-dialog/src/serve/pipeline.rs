//! The one pipeline every endpoint runs on, dialog webhooks and custom-integration events
//! alike: `/healthz`, the request head (method, content type, declared size), the address
//! allowlist, the body under its size limit and timeout, verification of the raw bytes, then
//! decoding. Only a call that passed all of them reaches the endpoint's [`Endpoint::respond`],
//! which routes it and runs its handler under [`guarded`](super::guard::guarded). Every step
//! answers with an [`Answer`] (a status and a body, 40 bytes), made into the `http::Response`
//! only where the server hands it to hyper. What an endpoint adds around every call is a hook
//! here too ([`Endpoint::intercept`] for answers made before any check, [`Endpoint::span`] and
//! [`Endpoint::observe`] for the router's `dialog_webhook` span and metrics), so that a call is
//! this function's future and nothing wraps it: each `async` layer around it would copy the request into one more future.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;

use super::address::{AddressPolicy, RemoteAddr};
use super::answer::Answer;
use super::body::{CallLimits, check_head, header_str, healthz, pause_in_flight, read, reserve, resume_in_flight};
use super::rejection::Rejection;
use crate::verify::{Verified, Verifier, VerifyError};

/// The largest body accepted by default: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// How long the body may take to arrive by default.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything checked before an endpoint sees a call.
#[derive(Clone, Debug)]
pub(crate) struct Gate {
    pub(crate) verifier: Option<Verifier>,
    /// Serve without verification (an explicit, insecure choice).
    pub(crate) unverified: bool,
    /// What a call is refused with when there is no verifier and verification is not skipped.
    pub(crate) unconfigured: VerifyError,
    pub(crate) addresses: AddressPolicy,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Duration,
}

impl Gate {
    pub(crate) fn new(unconfigured: VerifyError) -> Self {
        Self {
            verifier: None,
            unverified: false,
            unconfigured,
            addresses: AddressPolicy::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }

    /// Accepts calls signed with any of `secrets` (none: no verifier), and with `body_token`
    /// the body's `verify_token` in place of a missing signature.
    pub(crate) fn set_secrets<I>(&mut self, secrets: I, body_token: bool)
    where
        I: IntoIterator,
        I::Item: Into<crate::verify::Secret>,
    {
        let verifier = Verifier::with_secrets(secrets);
        let verifier = if body_token { verifier.accept_body_token() } else { verifier };
        let any = verifier.fingerprints().next().is_some();
        self.verifier = any.then_some(verifier);
    }

    /// For the start-up log, while a rotation is in progress: `N secrets (fingerprints)`.
    pub(crate) fn rotation(&self) -> Option<String> {
        let fingerprints: Vec<String> = self.verifier.as_ref()?.fingerprints().map(|print| print.to_string()).collect();
        (fingerprints.len() > 1).then(|| format!("{} secrets ({})", fingerprints.len(), fingerprints.join(", ")))
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Option<Verified>, VerifyError> {
        if self.unverified {
            return Ok(None);
        }
        let Some(verifier) = &self.verifier else {
            tracing::error!("no secret is configured: every call is refused");
            return Err(self.unconfigured);
        };
        let verified = verifier.verify(headers, body)?;
        tracing::debug!(secret = %verified.fingerprint(), by = ?verified.by(), "verified");
        Ok(Some(verified))
    }
}

/// Where a call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Method, content type, declared size, or the body while it was read.
    Read,
    /// The address allowlist, the signature or the token.
    Verify,
    /// The body is not what the endpoint takes.
    Decode,
}

/// A call that passed every check of the pipeline, its head and body borrowed from the
/// pipeline's future (moved into each layer, they were copied into each layer's future).
pub(crate) struct Admitted<'a, D> {
    pub(crate) parts: &'a http::request::Parts,
    /// The caller's TCP address, when the server gave it in place (not in the extensions).
    pub(crate) peer: Option<RemoteAddr>,
    pub(crate) body: &'a Bytes,
    pub(crate) verified: Option<Verified>,
    pub(crate) decoded: D,
}

/// A layer over the pipeline: the dialog router or the events receiver.
pub(crate) trait Endpoint: Send + Sync + 'static {
    /// What the body decodes into.
    type Decoded: Send;
    /// What a response is reported under (the route, for the dialog router).
    type Label: Send;

    fn gate(&self) -> &Gate;

    /// The label of a call refused before it was routed.
    fn unrouted(&self) -> Self::Label;

    /// Decodes a verified body (and, for the router, picks the route).
    fn decode(&self, parts: &http::request::Parts, body: &Bytes) -> Result<Self::Decoded, Rejection>;

    /// A call answered before any check, such as the router's `GET /metrics` on the webhook
    /// port.
    fn intercept(&self, _head: &http::request::Parts) -> Option<Answer> {
        None
    }

    /// The span a call runs in (its events are logged inside it); disabled by default.
    fn span(&self, _headers: &HeaderMap) -> tracing::Span {
        tracing::Span::none()
    }

    /// Whether each call is [observed](Self::observe): the latency is read (two clock reads a
    /// call) only for an endpoint that does.
    fn observes(&self, _span: &tracing::Span) -> bool {
        false
    }

    /// Records an answered call: its label, status and latency, in `span`.
    fn observe(&self, _label: &Self::Label, _status: http::StatusCode, _elapsed: Duration, _span: &tracing::Span) {}

    /// Answers an admitted call.
    fn respond<'a>(
        self: Arc<Self>,
        call: Admitted<'a, Self::Decoded>,
    ) -> impl Future<Output = (Self::Label, Answer)> + Send + 'a;

    /// Answers a call refused at `step`; verification failures are logged as warnings.
    fn refused(&self, step: Step, rejection: Rejection, headers: &HeaderMap) -> Answer {
        log_refusal(step, &rejection, headers);
        rejection.into_answer()
    }
}

pub(crate) fn log_refusal(step: Step, rejection: &Rejection, headers: &HeaderMap) {
    if step == Step::Verify {
        tracing::warn!(
            error = rejection.code(),
            request_id = header_str(headers, "x-moveo-request-id").unwrap_or(""),
            "verification failed: {}",
            rejection.message()
        );
    } else {
        tracing::debug!(status = rejection.status().as_u16(), error = rejection.code(), "{}", rejection.message());
    }
}

/// Awaits `$future` with `$span` entered around each poll. Not `tracing::Instrument`: its
/// wrapper would move the whole future into a struct (a copy of every byte of its state); here
/// the future is pinned where it is built.
macro_rules! in_span {
    ($span:expr, $future:expr) => {{
        let mut future = std::pin::pin!($future);
        std::future::poll_fn(|cx| {
            let _entered = $span.enter();
            future.as_mut().poll(cx)
        })
        .await
    }};
}

/// Runs one call through the pipeline: its head `parts` (borrowed from the caller's future,
/// which keeps it: each layer that took the request by value copied it) and its `body`.
/// `peer` and `limits` are the caller's address and the server's limits when the server gives
/// them in place; without them the address allowlist reads the address from the request's
/// extensions, and the limits come from the task.
pub(crate) async fn run<E, B>(
    endpoint: Arc<E>,
    parts: &mut http::request::Parts,
    body: B,
    peer: Option<RemoteAddr>,
    mut limits: Option<CallLimits>,
) -> (E::Label, Answer)
where
    E: Endpoint,
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if let Some(answer) = endpoint.intercept(parts) {
        return (endpoint.unrouted(), answer);
    }
    let span = endpoint.span(&parts.headers);
    // The endpoint is moved into its `respond`: an observing one is kept for afterwards.
    let observer = endpoint.observes(&span).then(|| (std::time::Instant::now(), Arc::clone(&endpoint)));
    // Each step runs inside the call's span (entered around the steps, and carried by the two
    // futures awaited), which costs a check of a `None` when the span is disabled.
    let (label, answer) = 'call: {
        let entered = span.enter();
        if let Some(health) = healthz(&parts.method, &parts.uri) {
            break 'call (endpoint.unrouted(), health);
        }
        let gate = endpoint.gate();
        // Also marks the signature sensitive: it is a credential for this body.
        let declared = match check_head(parts, body.size_hint().exact(), gate.body_limit) {
            Ok(declared) => declared,
            Err(rejection) => break 'call refuse(&*endpoint, Step::Read, rejection, &parts.headers),
        };
        if !gate.addresses.admits(parts, peer) {
            let rejection = Rejection::unauthorized(VerifyError::AddressNotAllowed);
            break 'call refuse(&*endpoint, Step::Verify, rejection, &parts.headers);
        }
        // Held by `limits` until the call is answered.
        if let Err(rejection) = reserve(limits.as_ref(), declared, gate.body_limit) {
            break 'call refuse(&*endpoint, Step::Read, rejection, &parts.headers);
        }
        drop(entered);
        // While the body is waited for, the call does not count as in flight. (Held as `&mut`:
        // a shared reference to the limits, which are not `Sync`, would make the future not `Send`.)
        let held = &mut limits;
        let body =
            in_span!(span, read(body, gate.body_limit, gate.body_timeout, move || pause_in_flight(held.as_ref())));
        let entered = span.enter();
        let body = match body {
            Ok(body) => body,
            Err(rejection) => break 'call refuse(&*endpoint, Step::Read, rejection, &parts.headers),
        };
        if let Err(rejection) = resume_in_flight(limits.as_ref()) {
            break 'call refuse(&*endpoint, Step::Read, rejection, &parts.headers);
        }
        let verified = match gate.verify(&parts.headers, &body) {
            Ok(verified) => verified,
            Err(err) => break 'call refuse(&*endpoint, Step::Verify, Rejection::unauthorized(err), &parts.headers),
        };
        let decoded = match endpoint.decode(parts, &body) {
            Ok(decoded) => decoded,
            Err(rejection) => break 'call refuse(&*endpoint, Step::Decode, rejection, &parts.headers),
        };
        drop(entered);
        in_span!(span, endpoint.respond(Admitted { parts, peer, body: &body, verified, decoded }))
    };
    if let Some((started, endpoint)) = observer {
        endpoint.observe(&label, answer.status, started.elapsed(), &span);
    }
    (label, answer)
}

/// A call refused at `step`: the rare path, marked so for the optimiser.
#[cold]
fn refuse<E: Endpoint>(endpoint: &E, step: Step, rejection: Rejection, headers: &HeaderMap) -> (E::Label, Answer) {
    (endpoint.unrouted(), endpoint.refused(step, rejection, headers))
}

/// Why a body did not decode.
pub(crate) enum DecodeFailure {
    /// Not JSON at all (not UTF-8, or not JSON's grammar): what is wrong and where.
    Json(String),
    /// JSON, but not the shape: the message names the JSON path.
    Shape(String),
}

/// Decodes `T` from JSON bytes. The body is checked to be UTF-8 once (JSON text is UTF-8, RFC
/// 8259) and decoded as text: serde_json then checks no string again, and a raw value is
/// borrowed without a check of its own. Path tracking costs an allocation per key, so it runs
/// only to describe a body that already failed.
pub(crate) fn decode_tracked<'a, T>(body: &'a [u8]) -> Result<T, DecodeFailure>
where
    T: serde::Deserialize<'a>,
{
    let text = std::str::from_utf8(body).map_err(|err| DecodeFailure::Json(format!("not UTF-8: {err}")))?;
    let err = match serde_json::from_str::<T>(text) {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    if err.classify() != serde_json::error::Category::Data {
        return Err(DecodeFailure::Json(err.to_string()));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(err) if err.path().iter().next().is_some() => {
            Err(DecodeFailure::Shape(format!("{}: {}", err.path(), err.inner())))
        }
        _ => Err(DecodeFailure::Shape(err.to_string())),
    }
}

/// Implements `tower::Service<http::Request<B>>` for an endpoint type, answering each request
/// with `$answer` (an [`Answer`]), given a clone of the endpoint and the request's head and body: the router,
/// the receiver and the metrics are served the same way.
macro_rules! impl_service {
    ($endpoint:ty, |$this:ident, $head:ident, $body:ident| $answer:expr) => {
        impl<B> tower::Service<http::Request<B>> for $endpoint
        where
            B: http_body::Body + Send + 'static,
            B::Data: Send,
            B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        {
            type Response = http::Response<$crate::serve::ResponseBody>;
            type Error = std::convert::Infallible;
            type Future = $crate::serve::BoxFuture<'static, Result<Self::Response, Self::Error>>;

            fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: http::Request<B>) -> Self::Future {
                let $this = self.clone();
                Box::pin(async move {
                    // The pipeline borrows the head mutably (it marks the signature sensitive).
                    #[allow(unused_mut)]
                    let (mut $head, $body) = request.into_parts();
                    let answer: $crate::serve::Answer = $answer;
                    Ok(answer.into_response())
                })
            }
        }
    };
}
pub(crate) use impl_service;

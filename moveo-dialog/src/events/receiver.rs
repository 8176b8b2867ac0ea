//! The events receiver: verifies, decodes, refuses stale events, de-duplicates and dispatches
//! custom-integration webhook events by type.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;
use tokio::sync::mpsc;

use super::clock::{Clock, SystemClock};
use super::dedup::{Claim, ClaimToken, DedupKey, DedupStore, MemoryStore};
use super::event::{Event, EventDecodeError, EventKind, EventType};
use super::handler::EventHandler;
use crate::serve::guard::{Outcome, guarded};
use crate::serve::pipeline::{self, Admitted, Endpoint, Gate};
use crate::serve::{Answer, HandlerError, IpNet, Rejection, ServeError, Startup};
use crate::verify::{Secret, VerifyError};

/// How old an event may be (by its `timestamp`) before it is refused as stale.
pub const DEFAULT_TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// How far in the future an event's `timestamp` may be (clock skew).
pub const DEFAULT_FUTURE_SKEW: Duration = Duration::from_secs(60);
/// How long a handler may run: under Moveo's 30 s, so the answer arrives in time.
pub const DEFAULT_HANDLER_DEADLINE: Duration = Duration::from_secs(25);
/// How long a delivery waits for a concurrent delivery of the same event to finish.
pub const DEFAULT_DUPLICATE_WAIT: Duration = Duration::from_secs(2);
/// Worker queues in fast-ack mode; each session always goes to the same one.
const FAST_ACK_SHARDS: usize = 8;

type SharedHandler = Arc<dyn EventHandler>;

/// Receives Moveo's custom-integration webhook events.
///
/// Each delivery goes through: method, content type and size checks, then the
/// `X-Moveo-Signature` check (HMAC-SHA256 of the raw body with the webhook secret, in constant
/// time), decoding into an [`Event`], a timestamp window (default 5 minutes old to 1 minute
/// ahead), then de-duplication by (`event_type`, `request_id`) and the handler registered for
/// the type.
///
/// **Never a 4xx for what a retry or a newer Moveo could fix** (Moveo never retries a 4xx, so
/// such an event would be lost): a value this version does not know inside a known event (a
/// new webview height, author type or compose action) is kept as `Other(String)` and the event
/// is delivered; a float `timestamp` is taken in whole milliseconds; a slow body is 503. Only a
/// bad signature, a stale timestamp, or a body that is not an event at all is 4xx. An event type
/// this version does not know is delivered to [`on_unknown`](Self::on_unknown); without a
/// `request_id` it is de-duplicated by the SHA-256 of its body, and without an integer
/// `timestamp` it is refused as stale (its age cannot be checked).
///
/// **Delivery.** By default the 200 is sent only after the handler succeeded: a handler that
/// fails is answered 500, a handler past its deadline (default 25 s) 503, and Moveo delivers
/// the event again (up to 5 times). With de-duplication this handles each event effectively
/// once. Moveo's own advice is to answer at once and work in the background;
/// [`fast_ack`](Self::fast_ack) does that, at the price of losing queued events if the process
/// dies before handling them.
///
/// | outcome | status | body |
/// |---|---|---|
/// | handled, a duplicate of a handled event, or a known type with no handler | 200 | `{"status": "handled" \| "duplicate" \| "ignored" \| "queued"}` |
/// | not JSON (or not UTF-8) / a known type whose fields do not fit (the message names the JSON path) | 400 | `invalid_json` / `invalid_event` |
/// | timestamp outside the window; an unknown type without an integer `timestamp` | 400 | `stale_timestamp` |
/// | signature missing or wrong | 401 | `missing_signature` / `bad_signature` |
/// | handler failed or panicked | 500 | `handler_error` / `handler_panic` |
/// | overloaded, shutting down, past the deadline, a concurrent delivery still running, store down, body too slow | 503 | `overloaded`, `shutting_down`, `deadline_exceeded`, `in_progress`, `store_unavailable`, `body_timeout` |
///
/// ```
/// use moveo_dialog::events::{Event, EventKind, EventType, EventsReceiver, OutputResponse};
///
/// let receiver = EventsReceiver::new()
///     .webhook_secret("my-webhook-secret")
///     .on(EventType::MessageBrainSend, |event: Event| async move {
///         if let EventKind::MessageBrainSend(send) = &event.kind {
///             for response in &send.output.responses {
///                 if let OutputResponse::Text(text) = response {
///                     println!("bot: {}", text.text);
///                 }
///             }
///         }
///     });
/// # let _ = receiver;
/// ```
#[derive(Clone)]
#[must_use]
pub struct EventsReceiver {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    gate: Gate,
    handlers: HashMap<EventType, SharedHandler>,
    unknown: Option<SharedHandler>,
    store: Arc<dyn DedupStore>,
    clock: Arc<dyn Clock>,
    tolerance: Duration,
    future_skew: Duration,
    deadline: Duration,
    duplicate_wait: Duration,
    fast_ack: Option<usize>,
    queue: Arc<OnceLock<Queue>>,
}

impl fmt::Debug for EventsReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut types: Vec<&str> = self.inner.handlers.keys().map(|t| t.as_str()).collect();
        types.sort_unstable();
        f.debug_struct("EventsReceiver")
            .field("handlers", &types)
            .field("unknown_handler", &self.inner.unknown.is_some())
            .field("fast_ack", &self.inner.fast_ack)
            .finish_non_exhaustive()
    }
}

impl Default for EventsReceiver {
    fn default() -> Self {
        Self::new()
    }
}

impl EventsReceiver {
    /// A receiver with no handlers, an in-memory de-duplication store and the default limits.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                gate: Gate::new(VerifyError::BadSignature),
                handlers: HashMap::new(),
                unknown: None,
                store: Arc::new(MemoryStore::default()),
                clock: Arc::new(SystemClock),
                tolerance: DEFAULT_TIMESTAMP_TOLERANCE,
                future_skew: DEFAULT_FUTURE_SKEW,
                deadline: DEFAULT_HANDLER_DEADLINE,
                duplicate_wait: DEFAULT_DUPLICATE_WAIT,
                fast_ack: None,
                queue: Arc::new(OnceLock::new()),
            }),
        }
    }

    fn inner(&mut self) -> &mut Inner {
        Arc::make_mut(&mut self.inner)
    }

    /// The integration's webhook secret: every delivery's `X-Moveo-Signature` is checked
    /// against it. Replaces any secret given before.
    pub fn webhook_secret(self, secret: impl Into<Secret>) -> Self {
        self.webhook_secrets([secret])
    }

    /// Accepts deliveries signed with any of `secrets`, for rotating the webhook secret
    /// without losing events: give the new and the old secret until Moveo signs with the new
    /// one only. Each candidate is compared in constant time; the debug log names the one that
    /// matched by its fingerprint, never the secret. Replaces any secret given before.
    pub fn webhook_secrets<I>(mut self, secrets: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Secret>,
    {
        self.inner().gate.set_secrets(secrets, false);
        self
    }

    /// Accepts deliveries without checking any signature, for an integration configured
    /// without a webhook secret. Anyone who can reach the endpoint can then forge events.
    pub fn accept_unsigned_events(mut self) -> Self {
        self.inner().gate.unverified = true;
        self
    }

    /// Handles events of type `event_type` with `handler`.
    ///
    /// # Panics
    ///
    /// When the type already has a handler (a programmer error, caught at start-up).
    #[track_caller]
    pub fn on<H>(mut self, event_type: EventType, handler: H) -> Self
    where
        H: EventHandler,
    {
        if self.inner().handlers.insert(event_type, Arc::new(handler)).is_some() {
            panic!("moveo-dialog: the event type {event_type} has two handlers");
        }
        self
    }

    /// Handles event types this version does not know. Without it they are answered 200 and
    /// dropped.
    pub fn on_unknown<H>(mut self, handler: H) -> Self
    where
        H: EventHandler,
    {
        self.inner().unknown = Some(Arc::new(handler));
        self
    }

    /// Handles every event type that has no handler yet, unknown ones included.
    pub fn on_every<H>(mut self, handler: H) -> Self
    where
        H: EventHandler,
    {
        let handler: SharedHandler = Arc::new(handler);
        let inner = self.inner();
        for event_type in EventType::ALL {
            inner.handlers.entry(event_type).or_insert_with(|| Arc::clone(&handler));
        }
        inner.unknown.get_or_insert(handler);
        self
    }

    /// Where handled events are remembered (default: [`MemoryStore`]). Use a shared store
    /// when several instances serve one integration.
    pub fn dedup_store(mut self, store: impl DedupStore) -> Self {
        self.inner().store = Arc::new(store);
        self
    }

    /// The clock timestamps are checked against (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.inner().clock = Arc::new(clock);
        self
    }

    /// How old an event may be (default 5 minutes).
    pub fn timestamp_tolerance(mut self, tolerance: Duration) -> Self {
        self.inner().tolerance = tolerance;
        self
    }

    /// How far ahead of this clock an event's timestamp may be (default 1 minute).
    pub fn future_skew(mut self, skew: Duration) -> Self {
        self.inner().future_skew = skew;
        self
    }

    /// How long a handler may run before the delivery is answered 503 (default 25 s).
    pub fn handler_deadline(mut self, deadline: Duration) -> Self {
        self.inner().deadline = deadline;
        self
    }

    /// How long a delivery waits for a concurrent delivery of the same event (default 2 s)
    /// before answering 503 so that Moveo retries.
    pub fn duplicate_wait(mut self, wait: Duration) -> Self {
        self.inner().duplicate_wait = wait;
        self
    }

    /// Answers only senders from these addresses or CIDR ranges (401 `address_not_allowed`
    /// for others), checked before the body is read, as
    /// [`Router::allow_ips`](crate::Router::allow_ips).
    pub fn allow_ips<I>(mut self, ranges: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<IpNet>,
    {
        self.inner().gate.addresses.allow(ranges);
        self
    }

    /// Reads the sender's address from this header when the TCP peer is a trusted proxy, as
    /// [`Router::trusted_proxy_header`](crate::Router::trusted_proxy_header).
    pub fn trusted_proxy_header(mut self, name: http::HeaderName) -> Self {
        self.inner().gate.addresses.proxy_header = Some(name);
        self
    }

    /// The proxies whose forwarded-for header is believed, as
    /// [`Router::trusted_proxies`](crate::Router::trusted_proxies).
    pub fn trusted_proxies<I>(mut self, ranges: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<IpNet>,
    {
        self.inner().gate.addresses.trust_proxies(ranges);
        self
    }

    /// The largest body accepted (default 1 MiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.inner().gate.body_limit = bytes;
        self
    }

    /// Answers 200 as soon as an event is queued (at most `capacity` events waiting; beyond
    /// that 503), and handles it in the background, the events of one session in order.
    ///
    /// The trade-off: an event that is queued but not yet handled when the process dies is
    /// lost, since Moveo already has its 200 and will not deliver it again. A handler that
    /// fails is logged, not retried. The default (answer after the handler) does not lose
    /// events.
    pub fn fast_ack(mut self, capacity: usize) -> Self {
        self.inner().fast_ack = Some(capacity.max(FAST_ACK_SHARDS));
        self
    }
}

/// How a delivery answered 200 was taken: the `status` of its body.
#[derive(Debug, Clone, Copy)]
enum Taken {
    Handled,
    Duplicate,
    Ignored,
    Queued,
}

fn status_reply(taken: Taken) -> Answer {
    let body: &'static [u8] = match taken {
        Taken::Handled => br#"{"status":"handled"}"#,
        Taken::Duplicate => br#"{"status":"duplicate"}"#,
        Taken::Ignored => br#"{"status":"ignored"}"#,
        Taken::Queued => br#"{"status":"queued"}"#,
    };
    Answer::json(StatusCode::OK, body)
}

/// A claim that is released if it is dropped unsettled (the client went away mid-handler).
struct ClaimGuard {
    store: Arc<dyn DedupStore>,
    key: DedupKey,
    token: ClaimToken,
    settled: bool,
}

impl ClaimGuard {
    async fn commit(mut self) {
        self.settled = true;
        if let Err(err) = self.store.commit(&self.key, &self.token).await {
            tracing::error!(event = %self.key, error = %err, "handled, but not remembered: a redelivery will run it again");
        }
    }

    async fn release(mut self) {
        self.settled = true;
        if let Err(err) = self.store.release(&self.key, &self.token).await {
            tracing::warn!(event = %self.key, error = %err, "could not release the claim; it lapses with its lease");
        }
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (store, key, token) = (Arc::clone(&self.store), self.key.clone(), self.token.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = store.release(&key, &token).await;
            });
        }
    }
}

/// How a handler run ended.
enum Ran {
    Ok,
    Failed(HandlerError),
    Panicked(String),
    Late,
}

async fn run_handler(handler: &SharedHandler, event: Event, deadline: Duration) -> Ran {
    match guarded(deadline, || Ok::<_, Infallible>(handler.call(event))).await {
        Outcome::Done(Ok(())) => Ran::Ok,
        Outcome::Done(Err(err)) => Ran::Failed(err),
        Outcome::Panicked(message) => Ran::Panicked(message),
        Outcome::Late => Ran::Late,
        Outcome::Refused(never) => match never {},
    }
}

struct Job {
    handler: SharedHandler,
    event: Event,
    guard: ClaimGuard,
}

struct Queue {
    shards: Vec<mpsc::Sender<Job>>,
}

impl Queue {
    fn start(capacity: usize, deadline: Duration) -> Self {
        let per_shard = capacity.div_ceil(FAST_ACK_SHARDS).max(1);
        let shards = (0..FAST_ACK_SHARDS)
            .map(|_| {
                let (sender, mut receiver) = mpsc::channel::<Job>(per_shard);
                tokio::spawn(async move {
                    while let Some(job) = receiver.recv().await {
                        let key = job.guard.key.clone();
                        match run_handler(&job.handler, job.event, deadline).await {
                            Ran::Ok => job.guard.commit().await,
                            outcome => {
                                let why = match outcome {
                                    Ran::Failed(err) => err.to_string(),
                                    Ran::Panicked(message) => format!("panicked: {message}"),
                                    _ => "missed its deadline".to_owned(),
                                };
                                tracing::error!(event = %key, "a queued event's handler failed and is dropped: {why}");
                                job.guard.release().await;
                            }
                        }
                    }
                });
                sender
            })
            .collect();
        Self { shards }
    }

    fn shard(&self, session_id: &str) -> &mpsc::Sender<Job> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        session_id.hash(&mut hasher);
        &self.shards[(hasher.finish() % self.shards.len() as u64) as usize]
    }
}

impl Endpoint for Inner {
    type Decoded = Event;
    type Label = ();

    fn gate(&self) -> &Gate {
        &self.gate
    }

    fn unrouted(&self) {}

    fn decode(&self, _: &http::request::Parts, body: &Bytes) -> Result<Event, Rejection> {
        Event::from_slice(body).map_err(|err| match err {
            EventDecodeError::InvalidJson(message) => Rejection::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {message}"),
            ),
            shape => Rejection::new(
                StatusCode::BAD_REQUEST,
                "invalid_event",
                format!("the body is not a valid event: {shape}"),
            ),
        })
    }

    async fn respond(self: Arc<Self>, call: Admitted<'_, Event>) -> ((), Answer) {
        let answer = match self.dispatch(call.decoded, call.body).await {
            Ok(answer) => answer,
            Err(rejection) => self.refused(pipeline::Step::Decode, rejection, &call.parts.headers),
        };
        ((), answer)
    }
}

impl Inner {
    fn check_timestamp(&self, event: &Event) -> Result<(), Rejection> {
        if let EventKind::Unknown { json, .. } = &event.kind
            && !json.get("timestamp").is_some_and(Value::is_u64)
        {
            return Err(stale_timestamp("the event has no integer timestamp, so its age cannot be checked".to_owned()));
        }
        let now = self.clock.now_unix_ms();
        let age = now.saturating_sub(event.timestamp);
        let ahead = event.timestamp.saturating_sub(now);
        if u128::from(age) > self.tolerance.as_millis() {
            return Err(stale_timestamp(format!(
                "the event's timestamp is {age} ms old; at most {} ms are accepted",
                self.tolerance.as_millis()
            )));
        }
        if u128::from(ahead) > self.future_skew.as_millis() {
            return Err(stale_timestamp(format!(
                "the event's timestamp is {ahead} ms in the future; at most {} ms are accepted",
                self.future_skew.as_millis()
            )));
        }
        Ok(())
    }

    /// Checks the timestamp, de-duplicates and runs the handler of a verified event.
    async fn dispatch(&self, event: Event, body: &[u8]) -> Result<Answer, Rejection> {
        self.check_timestamp(&event)?;
        let handler = match event.kind.event_type() {
            Some(event_type) => self.handlers.get(&event_type),
            None => self.unknown.as_ref(),
        };
        let Some(handler) = handler.cloned() else {
            tracing::debug!(event_type = event.event_type(), "no handler for this event type");
            return Ok(status_reply(Taken::Ignored));
        };
        let key = DedupKey { event_type: event.event_type().to_owned(), request_id: dedup_id(&event, body) };
        tracing::debug!(event = %key, session_id = %event.session_id, "event received");
        match self.fast_ack {
            Some(capacity) => self.enqueue(capacity, handler, key, event).await,
            None => self.deliver(handler, key, event).await,
        }
    }

    fn lease(&self) -> Duration {
        self.deadline + Duration::from_secs(5)
    }

    /// Claims the event: the guard that owns its key, or the key back when the event was
    /// handled (or, with `accept_in_progress`, is being handled) already.
    async fn claim(&self, key: DedupKey, accept_in_progress: bool) -> Result<Result<ClaimGuard, DedupKey>, Rejection> {
        let mut give_up = None;
        loop {
            let claim = self.store.claim(&key, self.lease()).await.map_err(|err| {
                tracing::error!(event = %key, error = %err, "de-duplication store failed");
                Rejection::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the de-duplication store failed; retry later",
                )
            })?;
            match claim {
                Claim::Acquired(token) => {
                    return Ok(Ok(ClaimGuard { store: Arc::clone(&self.store), key, token, settled: false }));
                }
                Claim::Done => return Ok(Err(key)),
                Claim::InProgress if accept_in_progress => return Ok(Err(key)),
                // The wait for the other delivery starts when it is first seen.
                Claim::InProgress
                    if Instant::now() >= *give_up.get_or_insert_with(|| Instant::now() + self.duplicate_wait) =>
                {
                    return Err(Rejection::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "in_progress",
                        "another delivery of this event is being handled; retry later",
                    ));
                }
                Claim::InProgress => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    async fn deliver(&self, handler: SharedHandler, key: DedupKey, event: Event) -> Result<Answer, Rejection> {
        let guard = match self.claim(key, false).await? {
            Ok(guard) => guard,
            Err(key) => {
                tracing::debug!(event = %key, "duplicate delivery of a handled event");
                return Ok(status_reply(Taken::Duplicate));
            }
        };
        match run_handler(&handler, event, self.deadline).await {
            Ran::Ok => {
                guard.commit().await;
                Ok(status_reply(Taken::Handled))
            }
            Ran::Failed(err) => {
                tracing::error!(event = %guard.key, error = %err, "the event handler failed; Moveo will deliver it again");
                guard.release().await;
                Err(Rejection::handler_error())
            }
            Ran::Panicked(message) => {
                tracing::error!(event = %guard.key, panic = %message, "the event handler panicked; Moveo will deliver it again");
                guard.release().await;
                Err(Rejection::handler_panic())
            }
            Ran::Late => {
                tracing::warn!(event = %guard.key, "the event handler missed its deadline; Moveo will deliver it again");
                guard.release().await;
                Err(Rejection::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "deadline_exceeded",
                    "the handler did not finish before its deadline; retry later",
                ))
            }
        }
    }

    async fn enqueue(
        &self,
        capacity: usize,
        handler: SharedHandler,
        key: DedupKey,
        event: Event,
    ) -> Result<Answer, Rejection> {
        let Ok(guard) = self.claim(key, true).await? else {
            return Ok(status_reply(Taken::Duplicate));
        };
        let queue = self.queue.get_or_init(|| Queue::start(capacity, self.deadline));
        let shard = queue.shard(&event.session_id);
        match shard.try_send(Job { handler, event, guard }) {
            Ok(()) => Ok(status_reply(Taken::Queued)),
            Err(mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job)) => {
                job.guard.release().await;
                Err(Rejection::overloaded())
            }
        }
    }
}

/// What tells deliveries of one event apart: its `request_id`, or for an event without one (an
/// unknown type) the SHA-256 of its body, so two different events are never taken for one.
fn dedup_id(event: &Event, body: &[u8]) -> String {
    if event.request_id.is_empty() {
        use sha2::Digest;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(body)))
    } else {
        event.request_id.clone()
    }
}

fn stale_timestamp(message: String) -> Rejection {
    Rejection::new(StatusCode::BAD_REQUEST, "stale_timestamp", message)
}

impl Startup for EventsReceiver {
    fn check(&self) -> Result<(), ServeError> {
        let gate = &self.inner.gate;
        if gate.unverified {
            return Ok(());
        }
        match &gate.verifier {
            None => Err(ServeError::NoWebhookSecret),
            Some(verifier) if verifier.has_blank_secret() => {
                Err(ServeError::BlankSecret { what: "the events receiver's webhook secret".to_owned() })
            }
            Some(_) => Ok(()),
        }
    }

    fn warnings(&self) -> Vec<String> {
        self.inner.gate.addresses.warning().map(|warning| format!("events receiver: {warning}")).into_iter().collect()
    }

    fn describe(&self) -> Vec<String> {
        let inner = &self.inner;
        let mut lines: Vec<String> =
            inner.handlers.keys().map(|event_type| format!("event handler: {event_type}")).collect();
        lines.sort();
        if inner.unknown.is_some() {
            lines.push("event handler: unknown event types".to_owned());
        }
        if let Some(rotation) = inner.gate.rotation() {
            lines.push(format!("events: accepts {rotation} as webhook secrets"));
        }
        lines.push(match inner.fast_ack {
            Some(capacity) => format!("delivery: fast-ack, at most {capacity} queued"),
            None => "delivery: acknowledged after the handler succeeds".to_owned(),
        });
        lines
    }
}

pipeline::impl_service!(EventsReceiver, |receiver, head, body| {
    pipeline::run(receiver.inner, &mut head, body, None, None).await.1
});

impl EventsReceiver {
    /// What the server answers each delivery with, in place: the pipeline's endpoint.
    pub(crate) fn endpoint(&self) -> Arc<impl Endpoint<Label = ()> + use<>> {
        Arc::clone(&self.inner)
    }
}

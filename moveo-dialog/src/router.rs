//! The router: picks the handler for a dialog webhook call by path, by the node whose action
//! fired, by intent, or falls back.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Extensions, HeaderName};

use crate::handler::{ErasedHandler, Handler, erase};
use crate::reply::Reply;
use crate::request::DialogRequest;
use crate::verify::Secret;

/// The confidence an intent needs to reach its route, unless the route says otherwise.
pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.7;
/// The largest body accepted by default: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// How long a handler may take by default before the deadline fallback answers.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(5);
/// How long the body may take to arrive by default.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a handler is registered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Route {
    /// Calls to this URL path (one server hosting several webhooks).
    Path(String),
    /// Calls whose last dialog-stack node has this name.
    Node(String),
    /// Calls with this intent at or above `min_confidence`.
    Intent {
        /// The intent's name.
        name: String,
        /// The confidence it needs, 0 to 1.
        min_confidence: f64,
    },
    /// Calls nothing else matched.
    Fallback,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => write!(f, "path {path}"),
            Self::Node(name) => write!(f, "node {name}"),
            Self::Intent { name, min_confidence } => write!(f, "intent {name} (confidence >= {min_confidence})"),
            Self::Fallback => f.write_str("fallback"),
        }
    }
}

/// A handler that knows its own route, as the `#[node]` and `#[intent]` macros make them.
pub trait RoutedHandler<Args>: Handler<Args> {
    /// Where the handler is registered.
    fn route(&self) -> Route;
}

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) handler: ErasedHandler,
    /// `node:NAME`, `intent:NAME`, `path:PATH` or `fallback`, for logs and metrics.
    pub(crate) label: Arc<str>,
}

#[derive(Clone)]
pub(crate) struct Verification {
    pub(crate) secret: Option<Secret>,
    pub(crate) accept_body_token: bool,
    pub(crate) skip: bool,
    pub(crate) allowlist: Option<Arc<[IpAddr]>>,
    pub(crate) proxy_header: Option<HeaderName>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) paths: HashMap<String, Entry>,
    pub(crate) nodes: HashMap<String, Entry>,
    pub(crate) intents: HashMap<String, (f64, Entry)>,
    pub(crate) fallback: Option<Entry>,
    pub(crate) table: Vec<Route>,
    pub(crate) state: Arc<Extensions>,
    pub(crate) verification: Verification,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) deadline: Duration,
    pub(crate) deadline_fallback: Option<Arc<[u8]>>,
    /// The label of calls answered before a route was chosen.
    pub(crate) unrouted_label: Arc<str>,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<crate::metrics::Metrics>>,
}

/// Routes dialog webhook calls to handlers, and answers every failure with its status.
///
/// Selection, in this order (logged at debug level with the reason):
/// 1. the call's URL path, for handlers registered with [`Router::path`];
/// 2. the name of the **last** node of `debug.dialog_stack` (the node whose action fired);
/// 3. the request's intents in descending confidence: the first that has a route and reaches
///    that route's minimum confidence;
/// 4. the fallback; with none, 404 `no_route`.
///
/// Node, intent and fallback routes answer on any URL path not claimed by a path route.
///
/// ```
/// use moveo_dialog::{Reply, Router};
/// use moveo_dialog::extract::InputText;
///
/// async fn plan(InputText(text): InputText) -> Reply {
///     Reply::text(format!("You said: {text}"))
/// }
/// async fn fallback() -> Reply {
///     Reply::text("Sorry, I can't help with that yet.")
/// }
///
/// let router = Router::new()
///     .verify_token("my-verify-token")
///     .node("plan_erasmus", plan)
///     .intent("erasmus", plan)
///     .fallback(fallback);
/// assert_eq!(router.routes().len(), 3);
/// ```
#[derive(Clone)]
#[must_use]
pub struct Router {
    pub(crate) inner: Arc<Inner>,
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.inner.table)
            .field("body_limit", &self.inner.body_limit)
            .field("deadline", &self.inner.deadline)
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router with no routes, no verify token, and the default limits.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                paths: HashMap::new(),
                nodes: HashMap::new(),
                intents: HashMap::new(),
                fallback: None,
                table: Vec::new(),
                state: Arc::new(Extensions::new()),
                verification: Verification {
                    secret: None,
                    accept_body_token: false,
                    skip: false,
                    allowlist: None,
                    proxy_header: None,
                },
                body_limit: DEFAULT_BODY_LIMIT,
                body_timeout: DEFAULT_BODY_TIMEOUT,
                deadline: DEFAULT_DEADLINE,
                deadline_fallback: None,
                unrouted_label: Arc::from("-"),
                #[cfg(feature = "metrics")]
                metrics: None,
            }),
        }
    }

    fn inner(&mut self) -> &mut Inner {
        Arc::make_mut(&mut self.inner)
    }

    /// Registers `handler` at `route`.
    ///
    /// # Panics
    ///
    /// When the route is already taken, or names an empty node or intent, or a confidence
    /// outside 0..=1: programmer errors, caught at start-up.
    #[track_caller]
    pub fn route<H, Args>(mut self, route: Route, handler: H) -> Self
    where
        H: Handler<Args>,
        Args: 'static,
    {
        let handler = erase(handler);
        let inner = self.inner();
        match &route {
            Route::Path(path) => {
                assert!(path.starts_with('/'), "moveo-dialog: the webhook path {path:?} must start with '/'");
                let entry = Entry { handler, label: format!("path:{path}").into() };
                if inner.paths.insert(path.clone(), entry).is_some() {
                    panic!("moveo-dialog: the path {path:?} is registered twice");
                }
            }
            Route::Node(name) => {
                assert!(!name.is_empty(), "moveo-dialog: a node route needs a non-empty node name");
                let entry = Entry { handler, label: format!("node:{name}").into() };
                if inner.nodes.insert(name.clone(), entry).is_some() {
                    panic!("moveo-dialog: the node {name:?} is registered twice");
                }
            }
            Route::Intent { name, min_confidence } => {
                assert!(!name.is_empty(), "moveo-dialog: an intent route needs a non-empty intent name");
                assert!(
                    (0.0..=1.0).contains(min_confidence),
                    "moveo-dialog: the intent {name:?} has min_confidence {min_confidence}, outside 0..=1"
                );
                let entry = Entry { handler, label: format!("intent:{name}").into() };
                if inner.intents.insert(name.clone(), (*min_confidence, entry)).is_some() {
                    panic!("moveo-dialog: the intent {name:?} is registered twice");
                }
            }
            Route::Fallback => {
                let entry = Entry { handler, label: "fallback".into() };
                if inner.fallback.replace(entry).is_some() {
                    panic!("moveo-dialog: the fallback is registered twice");
                }
            }
        }
        inner.table.push(route);
        self
    }

    /// Registers a handler for calls whose last dialog-stack node is `name`.
    ///
    /// # Panics
    ///
    /// When `name` is empty or already registered.
    #[track_caller]
    pub fn node<H, Args>(self, name: impl Into<String>, handler: H) -> Self
    where
        H: Handler<Args>,
        Args: 'static,
    {
        self.route(Route::Node(name.into()), handler)
    }

    /// Registers a handler for the intent `name` at the default minimum confidence (0.7).
    ///
    /// # Panics
    ///
    /// When `name` is empty or already registered.
    #[track_caller]
    pub fn intent<H, Args>(self, name: impl Into<String>, handler: H) -> Self
    where
        H: Handler<Args>,
        Args: 'static,
    {
        self.intent_at_least(name, DEFAULT_MIN_CONFIDENCE, handler)
    }

    /// Registers a handler for the intent `name` when its confidence is at least
    /// `min_confidence`.
    ///
    /// # Panics
    ///
    /// When `name` is empty or already registered, or `min_confidence` is outside 0..=1.
    #[track_caller]
    pub fn intent_at_least<H, Args>(self, name: impl Into<String>, min_confidence: f64, handler: H) -> Self
    where
        H: Handler<Args>,
        Args: 'static,
    {
        self.route(Route::Intent { name: name.into(), min_confidence }, handler)
    }

    /// Registers a handler for every call to the URL path `path`, whatever its node or intent.
    ///
    /// # Panics
    ///
    /// When `path` does not start with `/` or is already registered.
    #[track_caller]
    pub fn path<H, Args>(self, path: impl Into<String>, handler: H) -> Self
    where
        H: Handler<Args>,
        Args: 'static,
    {
        self.route(Route::Path(path.into()), handler)
    }

    /// Registers the handler for calls that nothing else matched.
    ///
    /// # Panics
    ///
    /// When a fallback is already registered.
    #[track_caller]
    pub fn fallback<H, Args>(self, handler: H) -> Self
    where
        H: Handler<Args>,
        Args: 'static,
    {
        self.route(Route::Fallback, handler)
    }

    /// Registers a handler that carries its own route (see the `#[node]` and `#[intent]`
    /// attribute macros).
    ///
    /// # Panics
    ///
    /// As [`Router::route`].
    #[track_caller]
    pub fn handler<H, Args>(self, handler: H) -> Self
    where
        H: RoutedHandler<Args>,
        Args: 'static,
    {
        let route = handler.route();
        self.route(route, handler)
    }

    /// Adds shared state that handlers take with [`State<T>`](crate::extract::State). One
    /// value per type; a second of the same type replaces the first.
    pub fn state<T>(mut self, value: T) -> Self
    where
        T: Clone + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.inner().state).insert(value);
        self
    }

    /// Checks each call's `X-Moveo-Signature` against the verify token from the webhook's
    /// configuration in Moveo.
    pub fn verify_token(mut self, token: impl Into<Secret>) -> Self {
        self.inner().verification.secret = Some(token.into());
        self
    }

    /// Accepts a call without `X-Moveo-Signature` when its body's `verify_token` matches (for
    /// deployments where a proxy strips the header). Off by default.
    pub fn accept_body_token(mut self) -> Self {
        self.inner().verification.accept_body_token = true;
        self
    }

    /// Answers calls without checking any signature or token. For local experiments only:
    /// anyone who can reach the server can then call your handlers.
    pub fn insecure_skip_verification(mut self) -> Self {
        self.inner().verification.skip = true;
        self
    }

    /// Answers only callers from these addresses (401 `address_not_allowed` for others), such
    /// as [`MOVEO_IPS`](crate::verify::MOVEO_IPS). Moveo recommends signatures over address
    /// lists; this adds to the signature check, it does not replace it.
    pub fn allow_ips(mut self, ips: impl IntoIterator<Item = IpAddr>) -> Self {
        self.inner().verification.allowlist = Some(ips.into_iter().map(|ip| ip.to_canonical()).collect());
        self
    }

    /// Takes the caller's address from this header (such as `x-forwarded-for`), set by a
    /// proxy you trust, instead of the TCP peer. The **last** address in the header is used:
    /// the one your proxy saw.
    pub fn trusted_proxy_header(mut self, name: HeaderName) -> Self {
        self.inner().verification.proxy_header = Some(name);
        self
    }

    /// The largest body accepted (default 1 MiB); larger ones get 413 without being read.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.inner().body_limit = bytes;
        self
    }

    /// How long the body may take to arrive (default 10 s); then 408.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.inner().body_timeout = timeout;
        self
    }

    /// How long a handler may run (default 5 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.inner().deadline = deadline;
        self
    }

    /// The reply sent (200) when a handler misses its deadline; without one, 504.
    pub fn deadline_fallback(mut self, reply: Reply) -> Self {
        self.inner().deadline_fallback = Some(reply.to_json_bytes().into());
        self
    }

    /// Serves `GET /metrics` in Prometheus text format: requests by route and status, a
    /// latency histogram per route, verification failures by reason, deadline fallbacks and
    /// panics.
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self) -> Self {
        self.inner().metrics = Some(Arc::new(crate::metrics::Metrics::new()));
        self
    }

    /// The registered routes, in registration order.
    #[must_use]
    pub fn routes(&self) -> &[Route] {
        &self.inner.table
    }
}

/// Why a route was chosen.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Choice<'a> {
    Path,
    Node(&'a str),
    Intent(&'a str, f64),
    Fallback,
}

impl fmt::Display for Choice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path => f.write_str("the URL path"),
            Self::Node(name) => write!(f, "the last dialog node is {name:?}"),
            Self::Intent(name, confidence) => write!(f, "the intent {name:?} at confidence {confidence}"),
            Self::Fallback => f.write_str("nothing else matched"),
        }
    }
}

impl Inner {
    pub(crate) fn select_path(&self, path: &str) -> Option<&Entry> {
        self.paths.get(path)
    }

    pub(crate) fn select<'r>(&'r self, request: &'r DialogRequest) -> Option<(&'r Entry, Choice<'r>)> {
        if let Some(name) = request.node_name()
            && let Some(entry) = self.nodes.get(name)
        {
            return Some((entry, Choice::Node(name)));
        }
        if !self.intents.is_empty() {
            let mut ranked: Vec<_> = request.intents.iter().collect();
            ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
            for intent in ranked {
                if let Some((min, entry)) = self.intents.get(&intent.intent)
                    && intent.confidence >= *min
                {
                    return Some((entry, Choice::Intent(&intent.intent, intent.confidence)));
                }
            }
        }
        self.fallback.as_ref().map(|entry| (entry, Choice::Fallback))
    }
}

//! The router: picks the handler for a dialog webhook call by path, by the node whose action
//! fired, by intent, or falls back.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{Extensions, HeaderName};

use super::extract::{ContextType, StateRequirement};
use super::handler::{ErasedHandler, Handler, erase};
use super::names::Names;
use super::view::RequestView;
use crate::reply::Reply;
use crate::serve::IpNet;
use crate::serve::pipeline::Gate;
use crate::verify::{Secret, Verifier, VerifyError};

/// The confidence an intent needs to reach its route, unless the route says otherwise.
pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.7;
/// How long a handler may take by default before the deadline fallback answers.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(5);

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

/// Where a route's [`Entry`] is in its router's list: what a decoded call carries to its
/// handler, so choosing a route touches no reference count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RouteId(usize);

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) handler: ErasedHandler,
    /// `node:NAME`, `intent:NAME`, `path:PATH` or `fallback`, for logs and metrics.
    pub(crate) label: Arc<str>,
    /// The one type the handler reads the context as, if it reads it.
    pub(crate) context: Option<ContextType>,
}

/// The one type a set of handlers reads the context as: the type the router decodes the
/// context into in its own pass, for a call that can only reach those handlers.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum SharedContext {
    /// None of them reads it.
    #[default]
    Unread,
    /// Those that read it read it as this type.
    One(ContextType),
    /// They read it as different types: the router keeps it raw.
    Mixed,
}

impl SharedContext {
    fn with(self, types: &[ContextType]) -> Self {
        types.iter().fold(self, |shared, &read| match shared {
            Self::Unread => Self::One(read),
            Self::One(one) if one == read => Self::One(one),
            Self::One(_) | Self::Mixed => Self::Mixed,
        })
    }

    pub(crate) fn one(self) -> Option<ContextType> {
        match self {
            Self::One(one) => Some(one),
            Self::Unread | Self::Mixed => None,
        }
    }
}

/// The shared state a route's handler needs, checked when the server starts.
#[derive(Clone)]
pub(crate) struct Needs {
    pub(crate) route: Route,
    pub(crate) state: Vec<StateRequirement>,
}

/// A router hosted under a path prefix by [`Router::nest`].
#[derive(Clone)]
pub(crate) struct Nested {
    /// The absolute prefix (the prefixes of every enclosing router included).
    pub(crate) prefix: String,
    pub(crate) router: Router,
}

#[derive(Clone)]
pub(crate) struct Inner {
    /// Every route's handler and label, in registration order.
    pub(crate) routes: Vec<Entry>,
    pub(crate) paths: Names<RouteId>,
    pub(crate) nodes: Names<RouteId>,
    pub(crate) intents: Names<(f64, RouteId)>,
    pub(crate) fallback: Option<RouteId>,
    pub(crate) table: Vec<Route>,
    /// The state each route needs, in registration order.
    pub(crate) needs: Vec<Needs>,
    /// How the node, intent and fallback routes read the context: a call that no path route
    /// takes can reach any of them.
    pub(crate) body_routes_context: SharedContext,
    /// Routers hosted under a prefix, longest prefix first.
    pub(crate) nested: Vec<Nested>,
    /// Where this router is mounted ("" at the top); path routes are relative to it.
    pub(crate) mount: String,
    pub(crate) state: Arc<Extensions>,
    pub(crate) gate: Gate,
    /// Whether the body token is accepted, for tokens given after `accept_body_token`.
    pub(crate) accept_body_token: bool,
    pub(crate) deadline: Duration,
    pub(crate) deadline_fallback: Option<Arc<[u8]>>,
    /// The label of calls answered before a route was chosen.
    pub(crate) unrouted_label: Arc<str>,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<super::metrics::Metrics>,
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
/// Node, intent and fallback routes answer on any URL path not claimed by a path route or a
/// [nested](Router::nest) router. A router that only nests others answers a path where nothing
/// is mounted with 404 `no_route`, naming the path.
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
            .field(
                "nested",
                &self.inner.nested.iter().map(|nested| (&nested.prefix, &nested.router)).collect::<Vec<_>>(),
            )
            .field("verify_tokens", &self.inner.gate.verifier)
            .field("body_limit", &self.inner.gate.body_limit)
            .field("deadline", &self.inner.deadline)
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router with no routes, no verify token, and the default limits.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                routes: Vec::new(),
                paths: Names::default(),
                nodes: Names::default(),
                intents: Names::default(),
                fallback: None,
                table: Vec::new(),
                needs: Vec::new(),
                body_routes_context: SharedContext::Unread,
                nested: Vec::new(),
                mount: String::new(),
                state: Arc::new(Extensions::new()),
                gate: Gate::new(VerifyError::BadVerifyToken),
                accept_body_token: false,
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
    /// outside 0..=1, or a path that is not a plain URL path (see [`Router::path`]):
    /// programmer errors, caught at start-up.
    #[track_caller]
    pub fn route<H, Args>(mut self, route: Route, handler: H) -> Self
    where
        H: Handler<Args>,
        Args: 'static,
    {
        let state = handler.required_state();
        let reads = handler.context_types();
        let context = SharedContext::Unread.with(&reads).one();
        let handler = erase(handler);
        let inner = self.inner();
        let id = RouteId(inner.routes.len());
        if !matches!(route, Route::Path(_)) {
            inner.body_routes_context = inner.body_routes_context.with(&reads);
        }
        match &route {
            Route::Path(path) => {
                check_path("webhook path", path);
                inner.routes.push(Entry { handler, label: format!("path:{path}").into(), context });
                if !inner.paths.insert(path, id) {
                    panic!("moveo-dialog: the path {path:?} is registered twice");
                }
            }
            Route::Node(name) => {
                assert!(!name.is_empty(), "moveo-dialog: a node route needs a non-empty node name");
                inner.routes.push(Entry { handler, label: format!("node:{name}").into(), context });
                if !inner.nodes.insert(name, id) {
                    panic!("moveo-dialog: the node {name:?} is registered twice");
                }
            }
            Route::Intent { name, min_confidence } => {
                assert!(!name.is_empty(), "moveo-dialog: an intent route needs a non-empty intent name");
                assert!(
                    (0.0..=1.0).contains(min_confidence),
                    "moveo-dialog: the intent {name:?} has min_confidence {min_confidence}, outside 0..=1"
                );
                inner.routes.push(Entry { handler, label: format!("intent:{name}").into(), context });
                if !inner.intents.insert(name, (*min_confidence, id)) {
                    panic!("moveo-dialog: the intent {name:?} is registered twice");
                }
            }
            Route::Fallback => {
                inner.routes.push(Entry { handler, label: "fallback".into(), context });
                if inner.fallback.replace(id).is_some() {
                    panic!("moveo-dialog: the fallback is registered twice");
                }
            }
        }
        inner.needs.push(Needs { route: route.clone(), state });
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
    /// In a [nested](Router::nest) router, `path` is relative to the prefix. Read the query
    /// string with [`Query<T>`](crate::extract::Query).
    ///
    /// # Panics
    ///
    /// When `path` does not start with `/`, holds a `?` or `#` (a route matches the path
    /// only; the query string is the handler's to read), or is already registered.
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
    /// configuration in Moveo. Replaces any token given before.
    pub fn verify_token(self, token: impl Into<Secret>) -> Self {
        self.verify_tokens([token])
    }

    /// Accepts a call signed with any of `tokens` (and, with
    /// [`accept_body_token`](Self::accept_body_token), a body token equal to any of them), for
    /// rotating a verify token without downtime: give the new and the old token until Moveo
    /// signs with the new one only. Each candidate is compared in constant time; the debug log
    /// names the one that matched by its fingerprint (the first 8 hex of its SHA-256), never
    /// the token. Replaces any token given before.
    ///
    /// ```
    /// use moveo_dialog::{Reply, Router};
    ///
    /// let router = Router::new()
    ///     .verify_tokens(["token-2026-12", "token-2026-06"])
    ///     .fallback(|| async { Reply::text("Hi!") });
    /// # let _ = router;
    /// ```
    pub fn verify_tokens<I>(mut self, tokens: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Secret>,
    {
        let inner = self.inner();
        inner.gate.set_secrets(tokens, inner.accept_body_token);
        self
    }

    /// Accepts a call without `X-Moveo-Signature` when its body's `verify_token` matches (for
    /// deployments where a proxy strips the header). Off by default.
    pub fn accept_body_token(mut self) -> Self {
        let inner = self.inner();
        inner.accept_body_token = true;
        inner.gate.verifier = inner.gate.verifier.take().map(Verifier::accept_body_token);
        self
    }

    /// Answers calls without checking any signature or token. For local experiments only:
    /// anyone who can reach the server can then call your handlers.
    pub fn insecure_skip_verification(mut self) -> Self {
        self.inner().gate.unverified = true;
        self
    }

    /// Answers only callers from these addresses or CIDR ranges (401 `address_not_allowed`
    /// for others), such as [`MOVEO_IPS`](crate::verify::MOVEO_IPS); a range is an
    /// [`IpNet`](crate::serve::IpNet) (`"10.0.0.0/8".parse()?`), an address an `IpAddr`.
    /// Checked before the body is read. Moveo recommends signatures over address lists; this
    /// adds to the signature check, it does not replace it.
    pub fn allow_ips<I>(mut self, ranges: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<IpNet>,
    {
        self.inner().gate.addresses.allow(ranges);
        self
    }

    /// Reads the caller's address from this header (such as `x-forwarded-for`) when the TCP
    /// peer is one of the [`trusted_proxies`](Self::trusted_proxies); from anyone else the
    /// header is ignored, so a client cannot claim an allowed address.
    pub fn trusted_proxy_header(mut self, name: HeaderName) -> Self {
        self.inner().gate.addresses.proxy_header = Some(name);
        self
    }

    /// The proxies (addresses or CIDR ranges) whose [`trusted_proxy_header`](Self::trusted_proxy_header)
    /// is believed. The header is walked right to left, skipping these hops; the first address
    /// that is not one of them is the caller.
    pub fn trusted_proxies<I>(mut self, ranges: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<IpNet>,
    {
        self.inner().gate.addresses.trust_proxies(ranges);
        self
    }

    /// The largest body accepted (default 1 MiB); larger ones get 413 without being read.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.inner().gate.body_limit = bytes;
        self
    }

    /// How long the body may take to arrive (default 10 s); then 503 `body_timeout` and the
    /// connection is closed.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.inner().gate.body_timeout = timeout;
        self
    }

    /// Hosts `router` under the path prefix `prefix`: every call to `prefix` or below it goes
    /// to that router, with its own verify token(s), limits, routes, state and fallback. One
    /// server then hosts several Moveo webhooks, each with the token Moveo shows for it.
    /// Inside, [`Router::path`] routes are relative to the prefix.
    ///
    /// ```
    /// use moveo_dialog::{Reply, Router};
    ///
    /// let otp = Router::new().verify_token("otp-token").fallback(|| async { Reply::text("otp") });
    /// let stock = Router::new().verify_token("stock-token").fallback(|| async { Reply::text("stock") });
    /// let app = Router::new().nest("/webhooks/otp", otp).nest("/webhooks/inventory", stock);
    /// // Server::new(app).serve(listener).await?;
    /// # let _ = app;
    /// ```
    ///
    /// # Panics
    ///
    /// When `prefix` is `/`, does not start with `/`, ends with `/`, holds `?` or `#`, or is
    /// already nested here.
    #[track_caller]
    pub fn nest(mut self, prefix: impl Into<String>, mut router: Router) -> Self {
        let prefix = prefix.into();
        check_path("nest prefix", &prefix);
        assert!(
            prefix.len() > 1 && !prefix.ends_with('/'),
            "moveo-dialog: the nest prefix {prefix:?} must not be \"/\" nor end with '/'"
        );
        let inner = self.inner();
        let absolute = format!("{}{prefix}", inner.mount);
        assert!(
            inner.nested.iter().all(|nested| nested.prefix != absolute),
            "moveo-dialog: the prefix {prefix:?} is nested twice"
        );
        router.remount(&absolute);
        inner.nested.push(Nested { prefix: absolute, router });
        inner.nested.sort_by_key(|nested| std::cmp::Reverse(nested.prefix.len()));
        self
    }

    /// Moves this router (and the routers it nests) under `mount`.
    fn remount(&mut self, mount: &str) {
        let inner = self.inner();
        let old = std::mem::replace(&mut inner.mount, mount.to_owned());
        for nested in &mut inner.nested {
            let relative = nested.prefix[old.len()..].to_owned();
            nested.prefix = format!("{mount}{relative}");
            nested.router.remount(&nested.prefix.clone());
        }
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

    /// Counts this router's calls into `metrics`: requests by route and status, a latency
    /// histogram per route, verification failures by reason, deadline fallbacks and panics.
    /// The webhook port serves them (`GET /metrics`) only when they have a
    /// [bearer token](super::Metrics::bearer_token); otherwise serve them on a listener of their
    /// own with `Server::new(metrics)`.
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, metrics: super::Metrics) -> Self {
        self.inner().metrics = Some(metrics);
        self
    }

    /// The registered routes, in registration order (those of nested routers not included).
    #[must_use]
    pub fn routes(&self) -> &[Route] {
        &self.inner.table
    }
}

/// Panics, naming it, when `path` is not a plain URL path: it must start with `/` and hold no
/// `?` (a route never matches a query string) or `#` (never sent to a server).
#[track_caller]
fn check_path(what: &str, path: &str) {
    assert!(path.starts_with('/'), "moveo-dialog: the {what} {path:?} must start with '/'");
    assert!(
        !path.contains('?'),
        "moveo-dialog: the {what} {path:?} holds a query string ('?'); routes match the path only, read the query with extract::Query"
    );
    assert!(!path.contains('#'), "moveo-dialog: the {what} {path:?} holds a fragment ('#'), which clients never send");
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

/// `path` relative to `mount`, when it is `mount` itself or below it.
pub(crate) fn strip_mount<'p>(path: &'p str, mount: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(mount)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

impl Inner {
    /// The path route for the call's URL path.
    pub(crate) fn select_path(&self, path: &str) -> Option<RouteId> {
        if self.paths.is_empty() {
            return None;
        }
        self.paths.get(strip_mount(path, &self.mount)?).copied()
    }

    /// The handler and label of a route this router chose.
    pub(crate) fn entry(&self, route: RouteId) -> Option<&Entry> {
        self.routes.get(route.0)
    }

    /// What a call is reported under: its route's label, or `-` before a route was chosen.
    pub(crate) fn label(&self, route: Option<RouteId>) -> &Arc<str> {
        route.and_then(|route| self.entry(route)).map_or(&self.unrouted_label, |entry| &entry.label)
    }

    /// The nested router a call to `path` goes to.
    pub(crate) fn nested_for(&self, path: &str) -> Option<&Router> {
        self.nested.iter().find(|nested| strip_mount(path, &nested.prefix).is_some()).map(|nested| &nested.router)
    }

    /// Whether this router has handlers of its own (not only nested routers).
    pub(crate) fn has_routes(&self) -> bool {
        !self.table.is_empty()
    }

    /// The route for a call: its last dialog node's, else the most confident intent that has
    /// a route and reaches its threshold (the first such on a tie), else the fallback.
    pub(crate) fn select<'r>(&'r self, request: &'r RequestView<'_>) -> Option<(RouteId, Choice<'r>)> {
        if let Some(name) = request.node_name()
            && let Some(entry) = self.nodes.get(name)
        {
            return Some((*entry, Choice::Node(name)));
        }
        if !self.intents.is_empty() {
            let mut best: Option<(RouteId, &'r str, f64)> = None;
            for intent in &request.intents {
                if let Some((min, entry)) = self.intents.get(&intent.intent.0)
                    && intent.confidence >= *min
                    && best.is_none_or(|(_, _, confidence)| intent.confidence.total_cmp(&confidence).is_gt())
                {
                    best = Some((*entry, &intent.intent.0, intent.confidence));
                }
            }
            if let Some((entry, name, confidence)) = best {
                return Some((entry, Choice::Intent(name, confidence)));
            }
        }
        self.fallback.map(|entry| (entry, Choice::Fallback))
    }
}

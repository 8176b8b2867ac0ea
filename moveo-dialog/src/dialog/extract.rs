//! Extractors: the arguments of a handler, each taken from the verified, decoded call.
//!
//! A handler is a plain `async fn` whose arguments implement [`FromCall`]:
//!
//! ```
//! use moveo_dialog::extract::{Context, MoveoHeaders, State};
//! use moveo_dialog::Reply;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Trip { destination: String }
//!
//! #[derive(Clone)]
//! struct Prices { per_month: u32 }
//!
//! async fn quote(Context(trip): Context<Trip>, State(prices): State<Prices>, headers: MoveoHeaders) -> Reply {
//!     let _ = headers.request_id;
//!     Reply::text(format!("{}: {} a month", trip.destination, prices.per_month))
//! }
//! # let _ = moveo_dialog::Router::new().node("quote", quote).state(Prices { per_month: 500 });
//! ```

use bytes::Bytes;
use http::{Extensions, HeaderMap, Method};
use serde::de::DeserializeOwned;

use std::any::{Any, TypeId};
use std::convert::Infallible;

pub use super::rejections::{ContextRejection, QueryRejection, RequestRejection, StateRejection};
use crate::request::{DialogRequest, Entity, Intent};
use crate::serve::IntoRejection;
use crate::verify::Verified;

/// The request's URI, exactly as the client sent it (path and query string; a
/// [nested](crate::Router::nest) router sees the whole path, prefix included). A handler takes
/// it as an argument, as in axum: `async fn h(uri: Uri) -> Reply`.
pub use http::Uri;

/// One verified, decoded dialog webhook call, as extractors see it. `Debug` shows the request
/// (its verify token redacted), the method, URI and header names, never the raw body or the
/// signature.
///
/// It borrows the request's head and body from the server for as long as the call is being
/// answered (`'a`), so a call costs no copy of either; an extractor takes what it keeps out of
/// it (the [`HeaderMap`], the [`Uri`] and [`RawBody`] are clones). A custom extractor names it
/// `&Call<'_>` (or `&Call`: the lifetime may be left out):
///
/// ```
/// use moveo_dialog::extract::{Call, FromCall};
/// use moveo_dialog::Reply;
///
/// /// The `X-Tenant` header, or `default`.
/// struct Tenant(String);
///
/// impl FromCall for Tenant {
///     type Rejection = std::convert::Infallible;
///
///     fn from_call(call: &Call<'_>) -> Result<Self, Self::Rejection> {
///         let tenant = call.headers().get("x-tenant").and_then(|value| value.to_str().ok());
///         Ok(Tenant(tenant.unwrap_or("default").to_owned()))
///     }
/// }
///
/// async fn hello(Tenant(tenant): Tenant) -> Reply {
///     Reply::text(format!("Hello from {tenant}"))
/// }
/// # let _ = moveo_dialog::Router::new().node("hello", hello);
/// ```
pub struct Call<'a> {
    /// Decoded from `body` on first use: the router decodes only what routing reads.
    /// Boxed: most calls never decode it, and the call's future is smaller without it.
    pub(crate) request: std::sync::OnceLock<Result<Box<DialogRequest>, RequestRejection>>,
    /// Where the context's JSON object is in `body` (`None`: absent or null). Known from the
    /// router's pass when it kept the context raw; found on first use when it decoded it.
    pub(crate) context: std::sync::OnceLock<Option<std::ops::Range<usize>>>,
    /// The context as the router decoded it in its pass, for the first [`Context<T>`] of its
    /// type to take.
    pub(crate) decoded_context: std::sync::Mutex<Option<Box<dyn Any + Send>>>,
    pub(crate) parts: &'a http::request::Parts,
    /// The caller's address when the server gave it in place: added to the extensions the
    /// first time a handler asks for them, rather than on every call.
    pub(crate) peer: Option<crate::serve::RemoteAddr>,
    /// The request's extensions with `peer` added, made on first use.
    pub(crate) extensions: std::sync::OnceLock<Extensions>,
    pub(crate) body: &'a Bytes,
    /// The router answering the call: its shared state, for [`State<T>`].
    pub(crate) router: &'a super::router::Inner,
    pub(crate) verified: Option<Verified>,
}

impl std::fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("request", &self.try_request())
            .field("method", &self.parts.method)
            .field("uri", &self.parts.uri)
            .field("headers", &self.parts.headers.keys().collect::<Vec<_>>())
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

impl Call<'_> {
    /// The whole request, decoded from the body the first time it is asked for (the router
    /// decodes only what routing reads: the dialog stack, the intents and where the context
    /// is).
    ///
    /// A field the router did not check that does not fit (`"tags": [1]`) cannot be shown
    /// here: this returns an empty request and logs an error. The extractors use
    /// [`try_request`](Self::try_request), which says so instead; a custom extractor should too.
    #[must_use]
    pub fn request(&self) -> &DialogRequest {
        static EMPTY: std::sync::OnceLock<DialogRequest> = std::sync::OnceLock::new();
        match self.try_request() {
            Ok(request) => request,
            Err(rejection) => {
                tracing::error!("{rejection}; Call::request() answers an empty request (use try_request)");
                EMPTY.get_or_init(DialogRequest::default)
            }
        }
    }

    /// The whole request, decoded from the body the first time it is asked for.
    ///
    /// # Errors
    ///
    /// When a field routing does not read does not fit, such as `"tags": [1]`; the rejection
    /// names the JSON path and answers 400 `invalid_request`.
    pub fn try_request(&self) -> Result<&DialogRequest, RequestRejection> {
        self.request
            .get_or_init(|| {
                crate::serve::pipeline::decode_tracked::<DialogRequest>(self.body).map(Box::new).map_err(|failure| {
                    match failure {
                        crate::serve::pipeline::DecodeFailure::Json(detail) => RequestRejection::new(detail),
                        crate::serve::pipeline::DecodeFailure::Shape(detail) => RequestRejection::new(detail),
                    }
                })
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// The raw JSON of the request's `context` object; `{}` when it is absent or null.
    #[must_use]
    pub fn context_json(&self) -> &[u8] {
        let range = self.context.get_or_init(|| super::view::context_range(self.body));
        range.clone().and_then(|range| self.body.get(range)).unwrap_or(b"{}")
    }

    /// The context the router decoded into `T` in its pass, taken (a second `Context<T>`
    /// decodes it again from the body).
    fn take_decoded_context<T: Any>(&self) -> Option<T> {
        let mut decoded = self.decoded_context.lock().ok()?;
        if !decoded.as_ref().is_some_and(|value| value.is::<T>()) {
            return None;
        }
        decoded.take()?.downcast().ok().map(|value| *value)
    }

    /// The HTTP headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The request's URI: its path and query string.
    #[must_use]
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The HTTP method (always `POST` once a call reaches a handler).
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request's extensions, such as the [`RemoteAddr`](crate::RemoteAddr) the server
    /// adds, or what a tower layer put there.
    #[must_use]
    pub fn extensions(&self) -> &Extensions {
        let Some(peer) = self.peer else { return &self.parts.extensions };
        self.extensions.get_or_init(|| {
            let mut extensions = self.parts.extensions.clone();
            extensions.insert(peer);
            extensions
        })
    }

    /// Which secret verified the call, and how; `None` when verification is skipped.
    #[must_use]
    pub fn verified(&self) -> Option<&Verified> {
        self.verified.as_ref()
    }

    /// The raw body, exactly as signed.
    #[must_use]
    pub fn raw_body(&self) -> &Bytes {
        self.body
    }

    /// Shared state of type `T`, added with [`Router::state`](crate::Router::state).
    #[must_use]
    pub fn state<T>(&self) -> Option<&T>
    where
        T: Clone + Send + Sync + 'static,
    {
        self.router.state.get::<T>()
    }
}

/// Something a handler can take as an argument.
///
/// A fallible extractor has its own rejection type, which answers the call unless the handler
/// takes the extractor as `Result<T, T::Rejection>` (it gets the failure and can ask again) or
/// `Option<T>` (it gets `None`).
///
/// ```
/// use moveo_dialog::extract::{Context, ContextRejection};
/// use moveo_dialog::Reply;
///
/// #[derive(serde::Deserialize)]
/// struct Price { price: u64 }
///
/// async fn quote(price: Result<Context<Price>, ContextRejection>) -> Reply {
///     match price {
///         Ok(Context(Price { price })) => Reply::text(format!("{price} EUR")),
///         Err(why) => Reply::text(format!("Which price? ({} did not fit)", why.path())),
///     }
/// }
/// # let _ = moveo_dialog::Router::new().node("quote", quote);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument",
    label = "not an extractor",
    note = "handler arguments are extractors: `DialogRequest`, `Context<T>`, `Query<T>`, `Uri`, `HeaderMap`, `InputText`, `Intents`, `Entities`, `MoveoHeaders`, `State<T>`, `RawBody`, `Valid<T>` (feature `validate`), or `Option<E>` / `Result<E, E::Rejection>` of one",
    note = "a type of your own becomes an extractor by implementing `FromCall`"
)]
pub trait FromCall: Sized {
    /// What answers the call when the value cannot be taken.
    type Rejection: IntoRejection;

    /// Takes the value from the call.
    ///
    /// # Errors
    ///
    /// The rejection that answers the call instead of the handler.
    fn from_call(call: &Call<'_>) -> Result<Self, Self::Rejection>;

    /// Adds the shared state this extractor needs, so that the server checks it is there when
    /// it starts rather than on the first call. Only [`State<T>`] needs any.
    fn required_state(needs: &mut Vec<StateRequirement>) {
        let _ = needs;
    }

    /// The type this extractor decodes the context into, if it does: when every handler a
    /// call can reach reads the context as the same type, the router decodes it into that
    /// type in the same pass as it reads the route, rather than skipping it there and
    /// decoding it again for the handler. Only [`Context<T>`] (and an `Option` or `Result` of
    /// it) names one; an extractor that wraps a `Context<T>` may forward its answer.
    #[must_use]
    fn context_type() -> Option<ContextType> {
        None
    }
}

/// The type a [`Context<T>`] decodes the context into, as [`FromCall::context_type`] names it.
#[derive(Clone, Copy)]
pub struct ContextType {
    id: TypeId,
    type_name: &'static str,
    /// The router's view of a body with the context decoded into this type.
    pub(crate) decode_view: for<'a> fn(&'a [u8]) -> Option<super::view::RequestView<'a>>,
}

impl ContextType {
    /// The context type of a `Context<T>`.
    #[must_use]
    pub fn of<T>() -> Self
    where
        T: DeserializeOwned + Send + 'static,
    {
        Self {
            id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
            decode_view: super::view::decode_with_context::<T>,
        }
    }

    /// The type's name.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl PartialEq for ContextType {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for ContextType {}

impl std::fmt::Debug for ContextType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ContextType").field(&self.type_name).finish()
    }
}

/// A shared-state type a handler needs, checked when the server starts.
#[derive(Clone, Copy)]
pub struct StateRequirement {
    type_name: &'static str,
    present: fn(&Extensions) -> bool,
}

impl StateRequirement {
    /// The requirement of a `State<T>`.
    #[must_use]
    pub fn of<T>() -> Self
    where
        T: Clone + Send + Sync + 'static,
    {
        Self { type_name: std::any::type_name::<T>(), present: |state| state.get::<T>().is_some() }
    }

    /// The needed type's name.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    pub(crate) fn is_met(&self, state: &Extensions) -> bool {
        (self.present)(state)
    }
}

impl std::fmt::Debug for StateRequirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StateRequirement").field(&self.type_name).finish()
    }
}

/// `Option<T>`: the value, or `None` when it cannot be taken; the call always reaches the
/// handler.
impl<T> FromCall for Option<T>
where
    T: FromCall,
{
    type Rejection = Infallible;

    fn from_call(call: &Call<'_>) -> Result<Self, Infallible> {
        Ok(T::from_call(call).ok())
    }

    fn context_type() -> Option<ContextType> {
        T::context_type()
    }
}

/// `Result<T, T::Rejection>`: the value, or why it cannot be taken; the call always reaches
/// the handler.
impl<T> FromCall for Result<T, T::Rejection>
where
    T: FromCall,
{
    type Rejection = Infallible;

    fn from_call(call: &Call<'_>) -> Result<Self, Infallible> {
        Ok(T::from_call(call))
    }

    fn context_type() -> Option<ContextType> {
        T::context_type()
    }
}

impl FromCall for DialogRequest {
    type Rejection = RequestRejection;

    fn from_call(call: &Call<'_>) -> Result<Self, RequestRejection> {
        call.try_request().cloned()
    }
}

impl FromCall for HeaderMap {
    type Rejection = Infallible;

    fn from_call(call: &Call<'_>) -> Result<Self, Infallible> {
        Ok(call.parts.headers.clone())
    }
}

impl FromCall for Uri {
    type Rejection = Infallible;

    fn from_call(call: &Call<'_>) -> Result<Self, Infallible> {
        Ok(call.parts.uri.clone())
    }
}

/// The URL's query string, decoded into `T` with serde (`?isClothes=true&min=1` into a struct
/// with `is_clothes: bool` renamed, `min: u32`...). A query string that does not fit is
/// answered 400 `invalid_query`, naming the parameter. A missing query string is an empty one,
/// so `T`'s fields should be `Option` or `#[serde(default)]` when they may be absent.
///
/// ```
/// use moveo_dialog::extract::Query;
/// use moveo_dialog::{Reply, Router};
///
/// #[derive(serde::Deserialize)]
/// struct Range { min: u32, max: u32 }
///
/// async fn pick(Query(range): Query<Range>) -> Reply {
///     Reply::text(format!("between {} and {}", range.min, range.max))
/// }
/// let router = Router::new().verify_token("my-verify-token").path("/number", pick);
/// # let _ = router;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Query<T>(pub T);

impl<T> FromCall for Query<T>
where
    T: DeserializeOwned,
{
    type Rejection = QueryRejection;

    fn from_call(call: &Call<'_>) -> Result<Self, QueryRejection> {
        decode_query(call.parts.uri.query().unwrap_or("")).map(Query)
    }
}

fn decode_query<T>(query: &str) -> Result<T, QueryRejection>
where
    T: DeserializeOwned,
{
    if let Ok(value) = serde_urlencoded::from_str::<T>(query) {
        return Ok(value);
    }
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    Err(match serde_path_to_error::deserialize::<_, T>(deserializer) {
        Ok(_) => QueryRejection::new(None, "it does not fit".to_owned()),
        Err(err) if err.path().iter().next().is_some() => {
            QueryRejection::new(Some(err.path().to_string()), err.inner().to_string())
        }
        Err(err) => QueryRejection::new(None, err.inner().to_string()),
    })
}

/// The context, decoded into `T`. When it does not fit, the call is answered 400
/// `invalid_context`, naming the JSON path that did not fit.
///
/// When every handler a call can reach reads the context as the same `T` (a router whose node,
/// intent and fallback handlers all take `Context<Trip>`, or none; a path route's own handler),
/// the router decodes it into `T` in the pass that reads the route, and the handler's
/// `Context<T>` takes that value: the context is read once. A second `Context<T>` in the same
/// handler decodes it again from the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Context<T>(pub T);

impl<T> FromCall for Context<T>
where
    T: DeserializeOwned + Send + 'static,
{
    type Rejection = ContextRejection;

    fn from_call(call: &Call<'_>) -> Result<Self, ContextRejection> {
        match call.take_decoded_context::<T>() {
            Some(value) => Ok(Context(value)),
            None => decode_context(call).map(Context),
        }
    }

    fn context_type() -> Option<ContextType> {
        Some(ContextType::of::<T>())
    }
}

pub(crate) fn decode_context<T>(call: &Call<'_>) -> Result<T, ContextRejection>
where
    T: DeserializeOwned,
{
    // Straight from the body's text (the router checked it is UTF-8; checking the context's
    // part again costs less than serde_json checking each string of it). Path tracking
    // allocates per key: run it only to describe a context that did not fit.
    let json = std::str::from_utf8(call.context_json())
        .map_err(|err| ContextRejection::new("context".to_owned(), err.to_string()))?;
    if let Ok(value) = serde_json::from_str(json) {
        return Ok(value);
    }
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(json)).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." { "context".to_owned() } else { format!("context.{path}") };
        ContextRejection::new(path, err.into_inner().to_string())
    })
}

/// What the user typed (`input.text`); empty when there is none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InputText(pub String);

impl FromCall for InputText {
    type Rejection = RequestRejection;

    fn from_call(call: &Call<'_>) -> Result<Self, RequestRejection> {
        Ok(Self(call.try_request()?.input_text().unwrap_or_default().to_owned()))
    }
}

/// The recognised intents, sorted by confidence as Moveo sent them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Intents(pub Vec<Intent>);

impl FromCall for Intents {
    type Rejection = RequestRejection;

    fn from_call(call: &Call<'_>) -> Result<Self, RequestRejection> {
        Ok(Self(call.try_request()?.intents.clone()))
    }
}

/// The recognised entities.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entities(pub Vec<Entity>);

impl Entities {
    /// The first entity of type `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Entity> {
        self.0.iter().find(|entity| entity.entity == name)
    }
}

impl FromCall for Entities {
    type Rejection = RequestRejection;

    fn from_call(call: &Call<'_>) -> Result<Self, RequestRejection> {
        Ok(Self(call.try_request()?.entities.clone()))
    }
}

/// The headers Moveo sends on every call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MoveoHeaders {
    /// `X-Moveo-Request-Id`.
    pub request_id: Option<String>,
    /// `X-Moveo-Session-Id`.
    pub session_id: Option<String>,
    /// `X-Moveo-Account-Id`.
    pub account_id: Option<String>,
    /// `X-Moveo-Account-Slug`.
    pub account_slug: Option<String>,
}

impl MoveoHeaders {
    /// Reads Moveo's headers from a header map.
    #[must_use]
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            request_id: get("x-moveo-request-id"),
            session_id: get("x-moveo-session-id"),
            account_id: get("x-moveo-account-id"),
            account_slug: get("x-moveo-account-slug"),
        }
    }
}

impl FromCall for MoveoHeaders {
    type Rejection = Infallible;

    fn from_call(call: &Call<'_>) -> Result<Self, Infallible> {
        Ok(Self::from_headers(&call.parts.headers))
    }
}

/// Shared application state added with [`Router::state`](crate::Router::state), such as a
/// database pool. Cloned for each call, so share heavy values behind an `Arc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State<T>(pub T);

impl<T> FromCall for State<T>
where
    T: Clone + Send + Sync + 'static,
{
    type Rejection = StateRejection;

    fn from_call(call: &Call<'_>) -> Result<Self, StateRejection> {
        call.state::<T>().cloned().map(State).ok_or_else(StateRejection::of::<T>)
    }

    fn required_state(needs: &mut Vec<StateRequirement>) {
        needs.push(StateRequirement::of::<T>());
    }
}

/// The raw body, exactly the bytes that were signed. `Debug` shows its length only: the body
/// may hold the verify token.
#[derive(Clone, PartialEq, Eq)]
pub struct RawBody(pub Bytes);

impl std::fmt::Debug for RawBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawBody(<{} bytes>)", self.0.len())
    }
}

impl FromCall for RawBody {
    type Rejection = Infallible;

    fn from_call(call: &Call<'_>) -> Result<Self, Infallible> {
        Ok(Self(call.body.clone()))
    }
}

#[cfg(feature = "validate")]
pub use super::valid::{FieldError, InvalidInput, Valid};

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Range {
        min: u32,
        #[serde(rename = "isClothes", default)]
        is_clothes: bool,
    }

    #[test]
    fn a_query_decodes_or_names_its_parameter() {
        assert_eq!(decode_query::<Range>("min=3&isClothes=true").unwrap(), Range { min: 3, is_clothes: true });
        let bad = decode_query::<Range>("min=three").unwrap_err();
        assert_eq!(bad.parameter(), Some("min"));
        let bad = bad.into_rejection();
        assert_eq!((bad.status().as_u16(), bad.code()), (400, "invalid_query"));
        assert!(bad.message().contains("min"), "{}", bad.message());
        let missing = decode_query::<Range>("").unwrap_err().into_rejection();
        assert!(missing.message().contains("missing field `min`"), "{}", missing.message());
    }
}

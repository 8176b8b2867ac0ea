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

use std::sync::Arc;

use bytes::Bytes;
use http::{Extensions, HeaderMap, Method};
use serde::de::DeserializeOwned;

use crate::request::{DialogRequest, Entity, Intent};
use crate::serve::Rejection;
use crate::verify::Verified;

/// The request's URI, exactly as the client sent it (path and query string; a
/// [nested](crate::Router::nest) router sees the whole path, prefix included). A handler takes
/// it as an argument, as in axum: `async fn h(uri: Uri) -> Reply`.
pub use http::Uri;

/// One verified, decoded dialog webhook call, as extractors see it.
#[derive(Debug)]
pub struct Call {
    pub(crate) request: DialogRequest,
    pub(crate) parts: http::request::Parts,
    pub(crate) body: Bytes,
    pub(crate) state: Arc<Extensions>,
    pub(crate) verified: Option<Verified>,
}

impl Call {
    /// The decoded request.
    #[must_use]
    pub fn request(&self) -> &DialogRequest {
        &self.request
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
        &self.parts.extensions
    }

    /// Which secret verified the call, and how; `None` when verification is skipped.
    #[must_use]
    pub fn verified(&self) -> Option<&Verified> {
        self.verified.as_ref()
    }

    /// The raw body, exactly as signed.
    #[must_use]
    pub fn raw_body(&self) -> &Bytes {
        &self.body
    }

    /// Shared state of type `T`, added with [`Router::state`](crate::Router::state).
    #[must_use]
    pub fn state<T>(&self) -> Option<&T>
    where
        T: Clone + Send + Sync + 'static,
    {
        self.state.get::<T>()
    }
}

/// Something a handler can take as an argument.
pub trait FromCall: Sized {
    /// Takes the value from the call.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] that answers the call instead of the handler.
    fn from_call(call: &Call) -> Result<Self, Rejection>;
}

impl FromCall for DialogRequest {
    fn from_call(call: &Call) -> Result<Self, Rejection> {
        Ok(call.request.clone())
    }
}

impl FromCall for HeaderMap {
    fn from_call(call: &Call) -> Result<Self, Rejection> {
        Ok(call.parts.headers.clone())
    }
}

impl FromCall for Uri {
    fn from_call(call: &Call) -> Result<Self, Rejection> {
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
    fn from_call(call: &Call) -> Result<Self, Rejection> {
        decode_query(call.parts.uri.query().unwrap_or("")).map(Query)
    }
}

fn decode_query<T>(query: &str) -> Result<T, Rejection>
where
    T: DeserializeOwned,
{
    if let Ok(value) = serde_urlencoded::from_str::<T>(query) {
        return Ok(value);
    }
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let message = match serde_path_to_error::deserialize::<_, T>(deserializer) {
        Ok(_) => "the query string does not fit".to_owned(),
        Err(err) if err.path().iter().next().is_some() => {
            format!("the query parameter {} does not fit: {}", err.path(), err.inner())
        }
        Err(err) => format!("the query string does not fit: {}", err.inner()),
    };
    Err(Rejection::new(http::StatusCode::BAD_REQUEST, "invalid_query", message))
}

/// The context, decoded into `T`. When it does not fit, the call is answered 400
/// `invalid_context`, naming the JSON path that did not fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Context<T>(pub T);

impl<T> FromCall for Context<T>
where
    T: DeserializeOwned,
{
    fn from_call(call: &Call) -> Result<Self, Rejection> {
        decode_context(call).map(Context)
    }
}

pub(crate) fn decode_context<T>(call: &Call) -> Result<T, Rejection>
where
    T: DeserializeOwned,
{
    // Path tracking allocates per key: run it only to describe a context that did not fit.
    if let Ok(value) = T::deserialize(&call.request.context) {
        return Ok(value);
    }
    serde_path_to_error::deserialize(&call.request.context).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." { "context".to_owned() } else { format!("context.{path}") };
        invalid_context(format_args!("{path}: {}", err.into_inner()))
    })
}

pub(crate) fn invalid_context(detail: impl std::fmt::Display) -> Rejection {
    Rejection::new(http::StatusCode::BAD_REQUEST, "invalid_context", format!("the context does not fit: {detail}"))
}

/// What the user typed (`input.text`); empty when there is none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InputText(pub String);

impl FromCall for InputText {
    fn from_call(call: &Call) -> Result<Self, Rejection> {
        Ok(Self(call.request.input_text().unwrap_or_default().to_owned()))
    }
}

/// The recognised intents, sorted by confidence as Moveo sent them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Intents(pub Vec<Intent>);

impl FromCall for Intents {
    fn from_call(call: &Call) -> Result<Self, Rejection> {
        Ok(Self(call.request.intents.clone()))
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
    fn from_call(call: &Call) -> Result<Self, Rejection> {
        Ok(Self(call.request.entities.clone()))
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
    fn from_call(call: &Call) -> Result<Self, Rejection> {
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
    fn from_call(call: &Call) -> Result<Self, Rejection> {
        call.state::<T>().cloned().map(State).ok_or_else(|| {
            tracing::error!(
                state = std::any::type_name::<T>(),
                "a handler asked for State<T>, but the router has no state of that type: add it with Router::state"
            );
            Rejection::handler_error()
        })
    }
}

/// The raw body, exactly the bytes that were signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBody(pub Bytes);

impl FromCall for RawBody {
    fn from_call(call: &Call) -> Result<Self, Rejection> {
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
        assert_eq!((bad.status().as_u16(), bad.code()), (400, "invalid_query"));
        assert!(bad.message().contains("min"), "{}", bad.message());
        let missing = decode_query::<Range>("").unwrap_err();
        assert!(missing.message().contains("missing field `min`"), "{}", missing.message());
    }
}

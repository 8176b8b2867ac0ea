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
use http::{Extensions, HeaderMap};
use serde::de::DeserializeOwned;

use crate::rejection::Rejection;
use crate::request::{DialogRequest, Entity, Intent};

/// One verified, decoded dialog webhook call, as extractors see it.
#[derive(Debug)]
pub struct Call {
    pub(crate) request: DialogRequest,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) state: Arc<Extensions>,
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
        &self.headers
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
        Ok(call.headers.clone())
    }
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
        Rejection::invalid_context(format_args!("{path}: {}", err.into_inner()))
    })
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
        Ok(Self::from_headers(&call.headers))
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
pub use crate::valid::{FieldError, InvalidInput, Valid};

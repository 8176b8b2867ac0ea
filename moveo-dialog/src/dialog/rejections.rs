//! The rejections of the fallible extractors, each its own type with its status (as
//! axum-core's `extract/rejection.rs`). A handler that takes `Result<E, E::Rejection>` gets
//! them instead of the call being answered.

use std::fmt;

use http::StatusCode;

use crate::serve::{IntoRejection, Rejection};

/// The context did not fit `Context<T>`: answered 400 `invalid_context`, naming the JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextRejection {
    path: String,
    message: String,
}

impl ContextRejection {
    pub(crate) fn new(path: String, message: String) -> Self {
        Self { path, message }
    }

    /// Where the context did not fit, such as `context.total_months` (`context` for the whole).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What serde said, such as `invalid type: string "3", expected u32`.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ContextRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the context does not fit: {}: {}", self.path, self.message)
    }
}

impl IntoRejection for ContextRejection {
    fn into_rejection(self) -> Rejection {
        Rejection::new(StatusCode::BAD_REQUEST, "invalid_context", self.to_string())
    }
}

/// The body is not a dialog webhook request where a handler reads the whole of it
/// (`DialogRequest`, `InputText`, `Intents`, `Entities`, `Valid<T>`): answered 400
/// `invalid_request`, naming the JSON path. The router itself checks only what routing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRejection {
    message: String,
}

impl RequestRejection {
    pub(crate) fn new(message: String) -> Self {
        Self { message }
    }

    /// Where and how the body did not fit, such as `tags[0]: invalid type: integer `1`,
    /// expected a string`.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RequestRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the body is not a dialog webhook request: {}", self.message)
    }
}

impl IntoRejection for RequestRejection {
    fn into_rejection(self) -> Rejection {
        Rejection::new(StatusCode::BAD_REQUEST, "invalid_request", self.to_string())
    }
}

/// The query string did not fit `Query<T>`: answered 400 `invalid_query`, naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRejection {
    parameter: Option<String>,
    message: String,
}

impl QueryRejection {
    pub(crate) fn new(parameter: Option<String>, message: String) -> Self {
        Self { parameter, message }
    }

    /// The parameter that did not fit, when serde could say which.
    #[must_use]
    pub fn parameter(&self) -> Option<&str> {
        self.parameter.as_deref()
    }

    /// What serde said.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for QueryRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parameter {
            Some(parameter) => write!(f, "the query parameter {parameter} does not fit: {}", self.message),
            None => write!(f, "the query string does not fit: {}", self.message),
        }
    }
}

impl IntoRejection for QueryRejection {
    fn into_rejection(self) -> Rejection {
        Rejection::new(StatusCode::BAD_REQUEST, "invalid_query", self.to_string())
    }
}

/// The router has no state of the type a `State<T>` asks for: a programmer error that a
/// served router reports at start-up; answered 500 `handler_error` (with a log line) when the
/// router runs outside [`Server`](crate::Server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRejection {
    type_name: &'static str,
}

impl StateRejection {
    pub(crate) fn of<T>() -> Self {
        Self { type_name: std::any::type_name::<T>() }
    }

    /// The missing state's type.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl fmt::Display for StateRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the router has no state of type {}: add it with Router::state", self.type_name)
    }
}

impl IntoRejection for StateRejection {
    fn into_rejection(self) -> Rejection {
        tracing::error!(state = self.type_name, "a handler asked for State<T>, but {self}");
        Rejection::handler_error()
    }
}

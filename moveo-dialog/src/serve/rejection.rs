//! Every failure an endpoint answers, with its status and its JSON body
//! `{"error": CODE, "message": SENTENCE}`.

use std::borrow::Cow;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;

use super::answer::Answer;
use crate::verify::VerifyError;

/// The response body of the dialog router and the events receiver.
pub type ResponseBody = Full<Bytes>;

/// A request that is not answered with a reply: its status, its `error` code and a sentence
/// for the caller. Extractors return it, a handler may return it (`Err(rejection)` keeps its
/// status, see [`IntoRejection`]); the server turns it into a JSON response.
///
/// It is deliberately not a `std::error::Error`: an opaque error answers 500, a `Rejection`
/// answers its own status.
///
/// ```
/// use http::StatusCode;
/// use moveo_dialog::Rejection;
///
/// let rejection = Rejection::new(StatusCode::BAD_REQUEST, "missing_phone", "context.phone is missing");
/// assert_eq!(rejection.code(), "missing_phone");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    close: bool,
}

impl Rejection {
    /// A rejection with its status, machine-readable code and human sentence.
    #[must_use]
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { status, code, message: message.into(), close: false }
    }

    /// Answers with `Connection: close`, so the client does not send more on this connection.
    #[must_use]
    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` code of the JSON body.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The `message` of the JSON body.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    #[cold]
    pub(crate) fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "a webhook call must be a POST")
    }

    #[cold]
    pub(crate) fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be sent as Content-Type: application/json",
        )
    }

    #[cold]
    pub(crate) fn unsupported_encoding() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must not be content-encoded (no gzip, deflate or br)",
        )
    }

    #[cold]
    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than the limit of {limit} bytes"),
        )
        .closing()
    }

    #[cold]
    pub(crate) fn body_timeout() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "body_timeout", "the body did not arrive in time; retry later")
            .closing()
    }

    #[cold]
    pub(crate) fn unreadable_body() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_body", "the body could not be read").closing()
    }

    #[cold]
    pub(crate) fn unauthorized(err: VerifyError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, err.code(), err.message())
    }

    #[cold]
    pub(crate) fn invalid_json(detail: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", format!("the body is not valid JSON: {detail}"))
    }

    #[cold]
    pub(crate) fn handler_error() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "handler_error", "the handler failed; see the server log")
    }

    #[cold]
    pub(crate) fn handler_panic() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "handler_panic", "the handler panicked; see the server log")
    }

    #[cold]
    pub(crate) fn overloaded() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", "too many requests in flight; retry later")
    }

    #[cold]
    pub(crate) fn shutting_down() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the server is shutting down").closing()
    }

    /// The JSON response.
    #[must_use]
    pub fn into_response(self) -> Response<ResponseBody> {
        self.into_answer().into_response()
    }

    /// The JSON answer: `{"error": CODE, "message": SENTENCE}` with its status.
    pub(crate) fn into_answer(self) -> Answer {
        let body = serde_json::json!({"error": self.code, "message": self.message});
        Answer { close: self.close, ..Answer::json(self.status, serde_json::to_vec(&body).unwrap_or_default()) }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

/// What the error side of a handler's `Result` becomes, like the error half of axum's
/// `IntoResponse`.
///
/// - A [`Rejection`] (and any type of yours implementing this trait) keeps its status and
///   `error` code: `Err(Rejection::new(StatusCode::BAD_REQUEST, "missing_phone", ".."))` is a
///   400 `missing_phone`.
/// - Any other error: every `std::error::Error + Send + Sync`, `Box<dyn Error + Send + Sync>`,
///   `anyhow::Error`, `String` and `&str`: whatever converts into
///   `Box<dyn Error + Send + Sync>`. These are opaque: the answer is 500 `handler_error`, and
///   the whole chain (every `source()`) is logged, never sent.
///
/// A type of yours that implements `std::error::Error` is opaque; to choose its status,
/// implement this trait for it instead (and not `Error`), or map it to a [`Rejection`]. A
/// boxed error must be `Box<dyn Error + Send + Sync>` (a plain `Box<dyn Error>` cannot cross
/// threads, and Rust's coherence rules do not let one impl cover both).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the error of a handler's `Result`",
    label = "not a handler error",
    note = "the error side is a `Rejection` (its status is kept), a type implementing `IntoRejection`, or an opaque error answered 500: any `std::error::Error + Send + Sync`, `Box<dyn Error + Send + Sync>`, `anyhow::Error`, `String`"
)]
pub trait IntoRejection {
    /// The rejection that answers the call.
    fn into_rejection(self) -> Rejection;
}

impl IntoRejection for Rejection {
    fn into_rejection(self) -> Rejection {
        self
    }
}

impl<E> IntoRejection for E
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn into_rejection(self) -> Rejection {
        let err: Box<dyn std::error::Error + Send + Sync> = self.into();
        opaque(&*err)
    }
}

/// Logs an opaque error with its whole chain, and answers 500 `handler_error`.
fn opaque(err: &dyn std::error::Error) -> Rejection {
    tracing::error!(error = %ErrorChain(err), "the handler failed");
    Rejection::handler_error()
}

/// An error and every `source()` below it, as `outer: cause: root cause`.
pub(crate) struct ErrorChain<'e>(pub(crate) &'e dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

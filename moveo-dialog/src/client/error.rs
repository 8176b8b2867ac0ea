//! What a REST call can fail with; every error says which call failed.

use std::fmt;

/// Moveo's documented error codes; others are kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid-payload` (400).
    InvalidPayload,
    /// `unauthorized` (401).
    Unauthorized,
    /// `session-not-found` (404).
    SessionNotFound,
    /// `internal-server-error` (500).
    InternalServerError,
    /// A code this version does not know, or none (`""`).
    Other(String),
}

impl ErrorCode {
    fn from_wire(code: &str) -> Self {
        match code {
            "invalid-payload" => Self::InvalidPayload,
            "unauthorized" => Self::Unauthorized,
            "session-not-found" => Self::SessionNotFound,
            "internal-server-error" => Self::InternalServerError,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidPayload => "invalid-payload",
            Self::Unauthorized => "unauthorized",
            Self::SessionNotFound => "session-not-found",
            Self::InternalServerError => "internal-server-error",
            Self::Other(code) => code,
        }
    }
}

/// Why a call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientErrorKind {
    /// Moveo answered with an error status and (usually) `{"error_code", "error_message"}`.
    Api {
        /// The HTTP status.
        status: u16,
        /// `error_code`.
        code: ErrorCode,
        /// `error_message`.
        message: String,
    },
    /// The call took longer than the client's timeout.
    Timeout,
    /// The connection failed (refused, reset, TLS, DNS).
    Transport(reqwest::Error),
    /// The answer was not the documented JSON.
    Decode(String),
    /// Refused before any request was made (for example, a message with neither text nor
    /// attachments, or a session id that is not a path segment).
    Invalid(&'static str),
    /// The answer was larger than [`Client::max_response_bytes`](super::Client::max_response_bytes).
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The HTTP client could not be built.
    Build(reqwest::Error),
}

/// A failed call, naming the call (`create_session`, `send_message`, ...).
#[derive(Debug, thiserror::Error)]
#[error("{call}: {kind}")]
pub struct ClientError {
    call: &'static str,
    kind: ClientErrorKind,
}

impl ClientError {
    pub(crate) fn new(call: &'static str, kind: ClientErrorKind) -> Self {
        Self { call, kind }
    }

    pub(crate) fn api(call: &'static str, status: u16, body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct Wire {
            #[serde(default)]
            error_code: String,
            #[serde(default)]
            error_message: String,
        }
        let wire = serde_json::from_slice::<Wire>(body).unwrap_or_else(|_| Wire {
            error_code: String::new(),
            error_message: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
        });
        Self::new(
            call,
            ClientErrorKind::Api { status, code: ErrorCode::from_wire(&wire.error_code), message: wire.error_message },
        )
    }

    /// The call that failed, such as `send_message`.
    #[must_use]
    pub fn call(&self) -> &'static str {
        self.call
    }

    /// Why it failed.
    #[must_use]
    pub fn kind(&self) -> &ClientErrorKind {
        &self.kind
    }

    /// Moveo's error code, for an API error.
    #[must_use]
    pub fn code(&self) -> Option<&ErrorCode> {
        match &self.kind {
            ClientErrorKind::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl fmt::Display for ClientErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api { status, code, message } => write!(f, "Moveo answered {status} {}: {message}", code.as_str()),
            Self::Timeout => f.write_str("timed out"),
            Self::Transport(err) => write!(f, "connection failed: {err}"),
            Self::Decode(message) => write!(f, "unexpected answer: {message}"),
            Self::Invalid(why) => f.write_str(why),
            Self::TooLarge { limit } => {
                write!(f, "the answer is larger than {limit} bytes (raise Client::max_response_bytes)")
            }
            Self::Build(err) => write!(f, "cannot build the HTTP client: {err}"),
        }
    }
}

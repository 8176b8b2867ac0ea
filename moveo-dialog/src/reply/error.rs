//! The error a reply builder returns when a reply would break one of Moveo's limits.

use std::fmt;

/// A reply that would break one of Moveo's documented limits.
///
/// The message leads with the JSON path of the offending value, then says what is wrong:
///
/// ```text
/// responses[1].cards[3].title: 71 characters, at most 64
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyError {
    path: String,
    kind: ReplyErrorKind,
}

impl ReplyError {
    pub(crate) fn new(path: impl Into<String>, kind: ReplyErrorKind) -> Self {
        Self { path: path.into(), kind }
    }

    /// The JSON path of the offending value, such as `responses[0].options[2].label`.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong with the value.
    #[must_use]
    pub fn kind(&self) -> &ReplyErrorKind {
        &self.kind
    }
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { write!(f, "reply: {}", self.kind) } else { write!(f, "{}: {}", self.path, self.kind) }
    }
}

impl std::error::Error for ReplyError {}

/// What is wrong with a value in a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyErrorKind {
    /// A string is shorter than its minimum (in characters).
    TooShort {
        /// Characters the value has.
        chars: usize,
        /// The documented minimum.
        min: usize,
    },
    /// A string is longer than its maximum (in characters).
    TooLong {
        /// Characters the value has.
        chars: usize,
        /// The documented maximum.
        max: usize,
    },
    /// A list has fewer items than its minimum.
    TooFew {
        /// What the list holds ("options", "cards", "buttons").
        items: &'static str,
        /// Items the list has.
        count: usize,
        /// The documented minimum.
        min: usize,
    },
    /// A list has more items than its maximum.
    TooMany {
        /// What the list holds ("options", "cards", "buttons").
        items: &'static str,
        /// Items the list has.
        count: usize,
        /// The documented maximum.
        max: usize,
    },
    /// A URL is not an absolute URI (RFC 3986).
    InvalidUri {
        /// The value given.
        value: String,
    },
    /// A node or action id is not a hyphenated UUID (`8-4-4-4-12` hex digits).
    InvalidUuid {
        /// The value given.
        value: String,
    },
    /// A context key that Moveo reserves (`global`, `channels`).
    ReservedContextKey,
    /// A context value could not be turned into JSON.
    NotSerializable {
        /// What serde said.
        message: String,
    },
    /// A context update that is not a JSON object.
    NotAnObject,
    /// The reply has neither context nor responses.
    Empty,
}

impl fmt::Display for ReplyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { chars, min } => {
                write!(f, "{chars} character{}, at least {min}", if *chars == 1 { "" } else { "s" })
            }
            Self::TooLong { chars, max } => write!(f, "{chars} characters, at most {max}"),
            Self::TooFew { items, count, min } => write!(f, "{count} {items}, at least {min}"),
            Self::TooMany { items, count, max } => write!(f, "{count} {items}, at most {max}"),
            Self::InvalidUri { value } if !value.is_ascii() => write!(
                f,
                "{value:?} is not an absolute URI: it has non-ASCII characters; encode it with reply::Url::from_iri"
            ),
            Self::InvalidUri { value } => write!(f, "{value:?} is not an absolute URI"),
            Self::InvalidUuid { value } => {
                write!(f, "{value:?} is not a hyphenated UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
            }
            Self::ReservedContextKey => f.write_str("reserved by Moveo; a reply may not write `global` or `channels`"),
            Self::NotSerializable { message } => write!(f, "cannot be serialised: {message}"),
            Self::NotAnObject => f.write_str("a context update must be a JSON object"),
            Self::Empty => f.write_str("a reply needs context, responses, or both"),
        }
    }
}

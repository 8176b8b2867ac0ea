//! [`Url`]: an absolute URI for the builders, from an IRI with non-ASCII letters.

use std::fmt;

/// An absolute URI (RFC 3986), ready for the builders' URL arguments (`Url` converts into
/// `String`). Builders take URIs exactly as given, so a real product URL with non-ASCII
/// letters must be encoded first: [`Url::from_iri`] percent-encodes them as RFC 3987 says.
///
/// ```
/// use moveo_dialog::reply::{Button, Url};
///
/// let url = Url::from_iri("https://www.skroutz.gr/s/24785578/Logitech-G915-TKL-Ασύρματο-Gaming.html")?;
/// assert_eq!(
///     url.as_str(),
///     "https://www.skroutz.gr/s/24785578/Logitech-G915-TKL-%CE%91%CF%83%CF%8D%CF%81%CE%BC%CE%B1%CF%84%CE%BF-Gaming.html"
/// );
/// let button = Button::url("View", url);
/// # let _ = button;
/// # Ok::<(), moveo_dialog::reply::InvalidIri>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url(String);

impl Url {
    /// Percent-encodes the non-ASCII characters of an absolute IRI (host included; no
    /// punycode), giving the URI Moveo accepts.
    ///
    /// # Errors
    ///
    /// [`InvalidIri`], naming the value, when it is not an absolute IRI (no scheme, a space...).
    pub fn from_iri(iri: &str) -> Result<Self, InvalidIri> {
        fluent_uri::Iri::parse(iri)
            .map(|iri| Self(iri.to_uri().into_string()))
            .map_err(|err| InvalidIri { value: iri.to_owned(), reason: err.to_string() })
    }

    /// The URI.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Url> for String {
    fn from(url: Url) -> Self {
        url.0
    }
}

impl From<Url> for std::borrow::Cow<'static, str> {
    fn from(url: Url) -> Self {
        Self::Owned(url.0)
    }
}

/// A value that is not an absolute IRI, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not an absolute IRI: {reason}")]
pub struct InvalidIri {
    value: String,
    reason: String,
}

impl InvalidIri {
    /// The value given.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }
}

//! Signature and verify-token checks, framework-agnostic: bytes and a header value in, a
//! verdict out.
//!
//! Moveo signs every dialog webhook and every custom-integration event the same way: the
//! `X-Moveo-Signature` header holds the lowercase hex HMAC-SHA256 of the **raw body bytes**,
//! keyed with the webhook's verify token (dialog webhooks) or webhook secret (events). No
//! prefix, no timestamp. Every comparison here is constant-time.
//!
//! ```
//! use moveo_dialog::verify::{Secret, sign};
//!
//! let body = br#"{"lang": "el", "channel":"web", "context": {"firstname": "John", "lastname": "Snow"}}"#;
//! let secret = Secret::new("123456789");
//! assert_eq!(
//!     sign(&secret, body),
//!     "7b2e526f80d3ad094ee0a2ccc2501afdab7044f89839f9fcba9466d15a967774"
//! );
//! assert!(secret.verify_signature(body, Some(&sign(&secret, body))).is_ok());
//! assert!(secret.verify_signature(b"{}", Some(&sign(&secret, body))).is_err());
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The addresses Moveo publishes for its webhook calls, for
/// [`Router::allow_ips`](crate::Router::allow_ips). Moveo itself recommends signature checks
/// over address lists.
pub const MOVEO_IPS: [IpAddr; 3] = [
    IpAddr::V4(Ipv4Addr::new(18, 192, 167, 150)),
    IpAddr::V4(Ipv4Addr::new(18, 198, 233, 220)),
    IpAddr::V4(Ipv4Addr::new(3, 66, 239, 254)),
];

/// The header Moveo puts the signature in.
pub const SIGNATURE_HEADER: &str = "x-moveo-signature";

/// A verify token or webhook secret. `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(Box<[u8]>);

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        Self(secret.as_ref().into())
    }

    /// The secret's bytes, for code that must hand it on.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this never fails.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    /// Checks `X-Moveo-Signature` against the raw body, in constant time.
    ///
    /// # Errors
    ///
    /// [`VerifyError::MissingSignature`] when `signature` is `None`,
    /// [`VerifyError::BadSignature`] when it is not the body's signature (or not hex).
    pub fn verify_signature(&self, body: &[u8], signature: Option<&str>) -> Result<(), VerifyError> {
        let signature = signature.ok_or(VerifyError::MissingSignature)?;
        let mut expected = [0u8; 32];
        // Moveo sends lowercase hex; accept either case, since the bytes are what is signed.
        hex::decode_to_slice(signature.trim(), &mut expected).map_err(|_| VerifyError::BadSignature)?;
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_slice(&expected).map_err(|_| VerifyError::BadSignature)
    }

    /// Checks a verify token taken from a request body, in constant time.
    ///
    /// # Errors
    ///
    /// [`VerifyError::BadVerifyToken`] when it is absent or differs.
    pub fn verify_token(&self, token: Option<&str>) -> Result<(), VerifyError> {
        let token = token.ok_or(VerifyError::BadVerifyToken)?;
        if bool::from(self.0.ct_eq(token.as_bytes())) { Ok(()) } else { Err(VerifyError::BadVerifyToken) }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

/// The lowercase hex HMAC-SHA256 of `body` keyed with `secret`: what Moveo sends in
/// `X-Moveo-Signature`.
#[must_use]
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    let mut mac = secret.mac();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Which check failed. The message never holds the secret or the expected signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `X-Moveo-Signature` header, and the body token was not allowed in its place.
    #[error("the X-Moveo-Signature header is missing")]
    MissingSignature,
    /// The signature does not match the body.
    #[error("the X-Moveo-Signature header does not match the body")]
    BadSignature,
    /// The body's `verify_token` is absent or wrong.
    #[error("the verify token is missing or wrong")]
    BadVerifyToken,
    /// The caller's address is not on the allowlist.
    #[error("the caller's address is not allowed")]
    AddressNotAllowed,
}

impl VerifyError {
    /// The `error` code of the JSON body: `missing_signature`, `bad_signature`,
    /// `bad_verify_token` or `address_not_allowed`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::BadSignature => "bad_signature",
            Self::BadVerifyToken => "bad_verify_token",
            Self::AddressNotAllowed => "address_not_allowed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_BODY: &[u8] = include_bytes!("../../tests/fixtures/spec/signature-vector-body.json");
    const VECTOR_SIGNATURE: &str = "7b2e526f80d3ad094ee0a2ccc2501afdab7044f89839f9fcba9466d15a967774";

    #[test]
    fn reproduces_the_supplement_test_vector() {
        let secret = Secret::new("123456789");
        assert_eq!(sign(&secret, VECTOR_BODY), VECTOR_SIGNATURE);
        assert_eq!(secret.verify_signature(VECTOR_BODY, Some(VECTOR_SIGNATURE)), Ok(()));
    }

    #[test]
    fn refuses_what_does_not_match() {
        let secret = Secret::new("123456789");
        assert_eq!(secret.verify_signature(VECTOR_BODY, None), Err(VerifyError::MissingSignature));
        assert_eq!(secret.verify_signature(VECTOR_BODY, Some("zz")), Err(VerifyError::BadSignature));
        assert_eq!(secret.verify_signature(VECTOR_BODY, Some("")), Err(VerifyError::BadSignature));
        let mut tampered = VECTOR_BODY.to_vec();
        tampered.push(b' ');
        assert_eq!(secret.verify_signature(&tampered, Some(VECTOR_SIGNATURE)), Err(VerifyError::BadSignature));
        assert_eq!(
            Secret::new("12345678").verify_signature(VECTOR_BODY, Some(VECTOR_SIGNATURE)),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(secret.verify_signature(VECTOR_BODY, Some(&VECTOR_SIGNATURE.to_uppercase())), Ok(()));
    }

    #[test]
    fn verify_token_is_compared_whole() {
        let secret = Secret::new("token");
        assert_eq!(secret.verify_token(Some("token")), Ok(()));
        assert_eq!(secret.verify_token(Some("toke")), Err(VerifyError::BadVerifyToken));
        assert_eq!(secret.verify_token(Some("token2")), Err(VerifyError::BadVerifyToken));
        assert_eq!(secret.verify_token(None), Err(VerifyError::BadVerifyToken));
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", Secret::new("hunter2")).contains("hunter2"));
    }
}

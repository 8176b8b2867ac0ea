//! Signature and verify-token checks, framework-agnostic: headers and the raw body in, a
//! verdict out (svix's `verify(payload, headers)` shape).
//!
//! Moveo signs every dialog webhook and every custom-integration event the same way: the
//! `X-Moveo-Signature` header holds the lowercase hex HMAC-SHA256 of the **raw body bytes**,
//! keyed with the webhook's verify token (dialog webhooks) or webhook secret (events). No
//! prefix, no timestamp. Every comparison here is constant-time.
//!
//! [`Verifier`] is the one entry point the [`Router`](crate::Router) and the
//! [`EventsReceiver`](crate::events::EventsReceiver) use, and the one to call from a server of
//! your own. It holds one or more secrets, so a token can be rotated without downtime: during
//! the change, calls signed with the old or the new token are accepted.
//!
//! ```
//! use http::HeaderMap;
//! use moveo_dialog::verify::{Secret, Verifier, VerifyError, sign};
//!
//! let body = br#"{"context": {}}"#;
//! let verifier = Verifier::with_secrets(["new-token", "old-token"]);
//! let mut headers = HeaderMap::new();
//! headers.insert("x-moveo-signature", sign(&Secret::new("old-token"), body).parse()?);
//! let verified = verifier.verify(&headers, body)?;
//! assert_eq!(verified.fingerprint(), Secret::new("old-token").fingerprint());
//!
//! headers.insert("x-moveo-signature", sign(&Secret::new("someone-else"), body).parse()?);
//! assert_eq!(verifier.verify(&headers, body).unwrap_err(), VerifyError::BadSignature);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The lower-level pieces:
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

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};
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

/// [`SIGNATURE_HEADER`] as a header name, so that looking it up parses nothing.
pub(crate) static SIGNATURE_HEADER_NAME: http::HeaderName = http::HeaderName::from_static(SIGNATURE_HEADER);

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

    /// The first 8 hex digits of the SHA-256 of the secret: enough to tell in a log which of
    /// several secrets matched, never enough to recover it.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        let digest = Sha256::digest(&self.0);
        Fingerprint([digest[0], digest[1], digest[2], digest[3]])
    }

    /// Whether the secret is empty or only blanks: such a secret signs nothing worth trusting
    /// (anyone can compute an HMAC with an empty key), so servers refuse to start with one.
    #[must_use]
    pub fn is_blank(&self) -> bool {
        self.0.iter().all(u8::is_ascii_whitespace)
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
        // Moveo sends lowercase hex; accept either case, since the bytes are what is signed.
        let expected = signature_bytes(signature.trim().as_bytes()).ok_or(VerifyError::BadSignature)?;
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

/// A short, safe name for a [`Secret`] in logs: the first 8 hex digits of its SHA-256.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 4]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// How a call proved it came from Moveo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifiedBy {
    /// `X-Moveo-Signature` matched the raw body.
    Signature,
    /// No signature header; the body's `verify_token` matched (only with
    /// [`Verifier::accept_body_token`]).
    BodyToken,
}

/// A call that passed verification: which secret matched, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Verified {
    index: usize,
    fingerprint: Fingerprint,
    by: VerifiedBy,
}

impl Verified {
    /// The position of the matching secret in the order they were given.
    #[must_use]
    pub fn secret_index(&self) -> usize {
        self.index
    }

    /// The matching secret's fingerprint, for logs.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// How the call was verified.
    #[must_use]
    pub fn by(&self) -> VerifiedBy {
        self.by
    }
}

/// One accepted secret with its HMAC key schedule computed once.
#[derive(Clone)]
struct Candidate {
    secret: Secret,
    mac: Hmac<Sha256>,
    fingerprint: Fingerprint,
}

/// Verifies Moveo calls against one or more secrets: the verify token(s) of a dialog webhook,
/// or the webhook secret(s) of a custom integration.
///
/// [`verify`](Self::verify) takes the request's headers and its raw body and returns a
/// verdict; it knows nothing of any server, so it works under axum, actix or a hand-written
/// hyper loop as well as inside this crate. With several secrets (a rotation in progress) a
/// call signed with any of them passes; each candidate is compared in constant time. `Debug`
/// shows fingerprints, never the secrets.
#[derive(Clone)]
pub struct Verifier {
    candidates: Vec<Candidate>,
    body_token: bool,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &self.fingerprints().collect::<Vec<_>>())
            .field("accept_body_token", &self.body_token)
            .finish()
    }
}

impl Verifier {
    /// A verifier that accepts calls signed with `secret`.
    #[must_use]
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self::with_secrets([secret])
    }

    /// A verifier that accepts calls signed with any of `secrets`, for rotating a token: give
    /// the new one and the old one until Moveo uses only the new one.
    #[must_use]
    pub fn with_secrets<I>(secrets: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Secret>,
    {
        let candidates = secrets
            .into_iter()
            .map(|secret| {
                let secret = secret.into();
                Candidate { mac: secret.mac(), fingerprint: secret.fingerprint(), secret }
            })
            .collect();
        Self { candidates, body_token: false }
    }

    /// Also accepts a call **without** `X-Moveo-Signature` when the body's `verify_token`
    /// equals one of the secrets (for deployments where a proxy strips the header). A call
    /// that carries the header is always checked by its signature.
    #[must_use]
    pub fn accept_body_token(mut self) -> Self {
        self.body_token = true;
        self
    }

    /// Whether [`accept_body_token`](Self::accept_body_token) is on.
    #[must_use]
    pub fn accepts_body_token(&self) -> bool {
        self.body_token
    }

    /// The fingerprints of the accepted secrets, in order.
    pub fn fingerprints(&self) -> impl Iterator<Item = Fingerprint> + '_ {
        self.candidates.iter().map(|candidate| candidate.fingerprint)
    }

    /// Whether there is no secret at all, or one that is empty or blank.
    #[must_use]
    pub fn has_blank_secret(&self) -> bool {
        self.candidates.is_empty() || self.candidates.iter().any(|candidate| candidate.secret.is_blank())
    }

    /// Verifies a call from its headers and its raw body bytes (exactly as received; never
    /// re-serialised JSON).
    ///
    /// # Errors
    ///
    /// [`VerifyError::MissingSignature`] without `X-Moveo-Signature` (unless the body token is
    /// accepted), [`VerifyError::BadSignature`] when the signature matches no secret,
    /// [`VerifyError::BadVerifyToken`] when the body token is absent or matches no secret.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Verified, VerifyError> {
        match headers.get(&SIGNATURE_HEADER_NAME) {
            // The value's bytes as they are: anything but hex fails the decode.
            Some(value) => self.verify_hex(body, value.as_bytes()),
            None if self.body_token => self.verify_body_token(body),
            None => Err(VerifyError::MissingSignature),
        }
    }

    /// Verifies a signature header value against the raw body.
    ///
    /// # Errors
    ///
    /// [`VerifyError::MissingSignature`] when `signature` is `None`,
    /// [`VerifyError::BadSignature`] when it matches no secret (or is not hex).
    pub fn verify_signature(&self, body: &[u8], signature: Option<&str>) -> Result<Verified, VerifyError> {
        let signature = signature.ok_or(VerifyError::MissingSignature)?;
        self.verify_hex(body, signature.trim().as_bytes())
    }

    /// Verifies a hex signature (blanks around it allowed) against the raw body.
    fn verify_hex(&self, body: &[u8], signature: &[u8]) -> Result<Verified, VerifyError> {
        let expected = signature_bytes(signature.trim_ascii()).ok_or(VerifyError::BadSignature)?;
        for (index, candidate) in self.candidates.iter().enumerate() {
            let mut mac = candidate.mac.clone();
            mac.update(body);
            if mac.verify_slice(&expected).is_ok() {
                return Ok(Verified { index, fingerprint: candidate.fingerprint, by: VerifiedBy::Signature });
            }
        }
        Err(VerifyError::BadSignature)
    }

    /// Checks the `verify_token` field of a raw body against every secret. A body that is not
    /// a JSON object, or names the field twice, has no token.
    fn verify_body_token(&self, body: &[u8]) -> Result<Verified, VerifyError> {
        #[derive(serde::Deserialize)]
        struct TokenOnly<'a> {
            #[serde(borrow, default)]
            verify_token: Option<Cow<'a, str>>,
        }
        let token = serde_json::from_slice::<TokenOnly<'_>>(body)
            .ok()
            .and_then(|parsed| parsed.verify_token)
            .ok_or(VerifyError::BadVerifyToken)?;
        for (index, candidate) in self.candidates.iter().enumerate() {
            if candidate.secret.verify_token(Some(&token)).is_ok() {
                return Ok(Verified { index, fingerprint: candidate.fingerprint, by: VerifiedBy::BodyToken });
            }
        }
        Err(VerifyError::BadVerifyToken)
    }
}

/// Each byte's value as a hex digit (either case), or `INVALID`.
const HEX_DIGITS: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut digit = 0;
    while digit < 10 {
        table[b'0' as usize + digit] = digit as u8;
        digit += 1;
    }
    let mut letter = 0;
    while letter < 6 {
        table[b'a' as usize + letter] = 10 + letter as u8;
        table[b'A' as usize + letter] = 10 + letter as u8;
        letter += 1;
    }
    table
};
const INVALID: u8 = 0x10;

/// The 32 bytes a 64-digit hex signature spells (either case), or `None`. Looked up in a table
/// without a branch a digit: every signature is new, so a branch on digit or letter (the `hex`
/// crate's decode) is mispredicted about every other digit, ~0.2 µs a call. Timing here
/// depends only on the caller's own signature, never on the expected one.
fn signature_bytes(hex: &[u8]) -> Option<[u8; 32]> {
    let digits: &[u8; 64] = hex.try_into().ok()?;
    let mut bytes = [0u8; 32];
    let mut invalid = 0;
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let (high, low) = (HEX_DIGITS[usize::from(pair[0])], HEX_DIGITS[usize::from(pair[1])]);
        invalid |= high | low;
        *byte = (high << 4) | low;
    }
    (invalid & INVALID == 0).then_some(bytes)
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

    /// The sentence of the JSON body (the same as `Display`).
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::MissingSignature => "the X-Moveo-Signature header is missing",
            Self::BadSignature => "the X-Moveo-Signature header does not match the body",
            Self::BadVerifyToken => "the verify token is missing or wrong",
            Self::AddressNotAllowed => "the caller's address is not allowed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_BODY: &[u8] = include_bytes!("../../tests/fixtures/spec/signature-vector-body.json");
    const VECTOR_SIGNATURE: &str = "7b2e526f80d3ad094ee0a2ccc2501afdab7044f89839f9fcba9466d15a967774";

    /// The table decode takes exactly what the `hex` crate takes, at every position: each pair
    /// of bytes in the first and in the last digit pair, and every length around 64.
    #[test]
    fn a_signature_decodes_as_the_hex_crate_decodes_it() {
        let hex_crate = |digits: &[u8]| {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(digits, &mut bytes).ok().map(|()| bytes)
        };
        let mut digits = VECTOR_SIGNATURE.as_bytes().to_vec();
        for at in [0, 62] {
            for high in 0..=u8::MAX {
                for low in 0..=u8::MAX {
                    let mut digits = digits.clone();
                    digits[at] = high;
                    digits[at + 1] = low;
                    assert_eq!(signature_bytes(&digits), hex_crate(&digits), "{high:#x} {low:#x} at {at}");
                }
            }
        }
        assert_eq!(signature_bytes(VECTOR_SIGNATURE.to_uppercase().as_bytes()), hex_crate(VECTOR_SIGNATURE.as_bytes()));
        for length in [0, 1, 62, 63, 65, 66, 128] {
            digits.resize(length, b'a');
            assert_eq!(signature_bytes(&digits), None, "{length} digits");
        }
    }

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

    fn signed_headers(token: &str, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, sign(&Secret::new(token), body).parse().unwrap());
        headers
    }

    #[test]
    fn a_verifier_accepts_any_of_its_secrets_and_says_which() {
        let verifier = Verifier::with_secrets(["new", "old"]);
        let by_old = verifier.verify(&signed_headers("old", VECTOR_BODY), VECTOR_BODY).unwrap();
        assert_eq!(by_old.secret_index(), 1);
        assert_eq!(by_old.fingerprint(), Secret::new("old").fingerprint());
        assert_eq!(by_old.by(), VerifiedBy::Signature);
        assert_eq!(verifier.verify(&signed_headers("new", VECTOR_BODY), VECTOR_BODY).unwrap().secret_index(), 0);
        assert_eq!(verifier.verify(&signed_headers("other", VECTOR_BODY), VECTOR_BODY), Err(VerifyError::BadSignature));
        assert_eq!(verifier.verify(&HeaderMap::new(), VECTOR_BODY), Err(VerifyError::MissingSignature));
        assert_eq!(
            Verifier::with_secrets(Vec::<Secret>::new()).verify_signature(b"{}", Some("00")),
            Err(VerifyError::BadSignature)
        );
    }

    /// The header's bytes are decoded as they are: blanks around the hex are allowed, and
    /// anything that is not hex (bytes outside visible ASCII included) is a bad signature.
    #[test]
    fn a_signature_header_is_hex_or_bad() {
        let verifier = Verifier::with_secrets(["token"]);
        let signature = sign(&Secret::new("token"), VECTOR_BODY);
        let header = |value: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert(SIGNATURE_HEADER, http::HeaderValue::from_bytes(value).unwrap());
            headers
        };
        let padded = format!(" \t{signature} ");
        assert!(verifier.verify(&header(padded.as_bytes()), VECTOR_BODY).is_ok());
        let mut not_ascii = signature.clone().into_bytes();
        not_ascii[0] = 0xe9;
        assert_eq!(verifier.verify(&header(&not_ascii), VECTOR_BODY), Err(VerifyError::BadSignature));
        let upper = signature.to_ascii_uppercase();
        assert!(verifier.verify(&header(upper.as_bytes()), VECTOR_BODY).is_ok(), "hex is case-insensitive");
        assert_eq!(verifier.verify(&header(&signature.as_bytes()[..62]), VECTOR_BODY), Err(VerifyError::BadSignature));
    }

    #[test]
    fn the_body_token_is_checked_only_when_accepted_and_unsigned() {
        let verifier = Verifier::with_secrets(["new", "old"]).accept_body_token();
        let body = br#"{"verify_token": "old", "context": {}}"#;
        let verified = verifier.verify(&HeaderMap::new(), body).unwrap();
        assert_eq!((verified.secret_index(), verified.by()), (1, VerifiedBy::BodyToken));
        for bad in [
            &br#"{"verify_token": "olde"}"#[..],
            br#"{"context": {}}"#,
            b"not json",
            br#"{"verify_token": "old", "verify_token": "x"}"#,
        ] {
            assert_eq!(verifier.verify(&HeaderMap::new(), bad), Err(VerifyError::BadVerifyToken), "{bad:?}");
        }
        // A signature header is always checked by its signature, even with a good body token.
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, "00".parse().unwrap());
        assert_eq!(verifier.verify(&headers, body), Err(VerifyError::BadSignature));
        assert_eq!(Verifier::new("old").verify(&HeaderMap::new(), body), Err(VerifyError::MissingSignature));
    }

    #[test]
    fn fingerprints_are_the_first_8_hex_of_sha256() {
        // printf %s token | sha256sum → 3c469e9d6c5875d37a43f353d4f88e61fcf812c66eee3457465a40b0da4153e0
        assert_eq!(Secret::new("token").fingerprint().to_string(), "3c469e9d");
        assert!(!format!("{:?}", Verifier::new("hunter2")).contains("hunter2"));
        assert!(Secret::new(" \t").is_blank() && Secret::new("").is_blank() && !Secret::new("a").is_blank());
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", Secret::new("hunter2")).contains("hunter2"));
    }
}

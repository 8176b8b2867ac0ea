//! Signature and token checks on any secret, body and header: never a panic, and a check
//! passes exactly when the header is the body's HMAC (hex, either case, surrounding blanks
//! ignored) and the token is the secret.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use moveo_dialog::verify::{Secret, sign};

#[derive(Debug, Arbitrary)]
struct Case<'a> {
    secret: &'a [u8],
    body: &'a [u8],
    header: Option<&'a str>,
    token: Option<&'a str>,
    use_real_signature: bool,
}

fuzz_target!(|case: Case<'_>| {
    let secret = Secret::new(case.secret);
    let real = sign(&secret, case.body);
    let header = if case.use_real_signature { Some(real.as_str()) } else { case.header };
    let verdict = secret.verify_signature(case.body, header);
    let matches = header.is_some_and(|header| header.trim().to_ascii_lowercase() == real);
    assert_eq!(verdict.is_ok(), matches, "{header:?} vs {real}");
    let token_ok = secret.verify_token(case.token).is_ok();
    assert_eq!(token_ok, case.token.is_some_and(|token| token.as_bytes() == case.secret));
});

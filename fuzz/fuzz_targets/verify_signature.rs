//! Signature and token checks on any secret, body and header:
//! `moveo_dialog_tests::properties::signature_verifies_exactly`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Case<'a> {
    secret: &'a [u8],
    body: &'a [u8],
    header: Option<&'a str>,
    token: Option<&'a str>,
    use_real_signature: bool,
}

fuzz_target!(|case: Case<'_>| {
    moveo_dialog_tests::properties::signature_verifies_exactly(
        case.secret,
        case.body,
        case.header,
        case.token,
        case.use_real_signature,
    );
});

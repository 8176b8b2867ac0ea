//! The invariants the fuzz targets run for minutes and CI runs briefly as proptests. Each
//! takes arbitrary input and panics when the invariant breaks.

use moveo_dialog::events::Event;
use moveo_dialog::testing::Schema;
use moveo_dialog::verify::{Secret, sign};
use moveo_dialog::{DialogRequest, Reply, ReplyError};

/// Any bytes as a dialog request: decoding never panics; what decodes survives a round trip,
/// answers its accessors, and neither its `Debug` nor its serialised form shows the verify token.
///
/// # Panics
///
/// When an invariant breaks.
pub fn request_decodes(bytes: &[u8]) {
    let Ok(request) = serde_json::from_slice::<DialogRequest>(bytes) else { return };
    let _ = (request.last_node(), request.node_name(), request.top_intent(), request.input_text());
    let _ = request.entity("firstname");
    let _ = request.context_value::<String>("destination");
    let encoded = serde_json::to_vec(&request).expect("a request serialises");
    let again: DialogRequest = serde_json::from_slice(&encoded).expect("a request's own JSON decodes");
    assert_eq!(again.verify_token, None, "the verify token is never serialised");
    let mut without_token = request.clone();
    without_token.verify_token = None;
    assert_eq!(again, without_token, "a decoded request survives a round trip, less its verify token");
    if let Some(token) = request.verify_token.as_deref().filter(|token| token.len() >= 8) {
        assert!(!format!("{request:?}").contains(token), "Debug shows the verify token");
        assert!(!String::from_utf8_lossy(&encoded).contains(token), "the serialised request holds the token");
    }
}

/// Any bytes as a custom-integration event: decoding never panics, what decodes is what
/// the same body's JSON value decodes into (the decoder's path straight from the text agrees
/// with the general one through a `Value`), and it survives a round trip through its JSON.
///
/// # Panics
///
/// When an invariant breaks.
pub fn event_decodes(bytes: &[u8]) {
    let Ok(event) = Event::from_slice(bytes) else { return };
    let _ = event.event_type();
    let value: serde_json::Value = serde_json::from_slice(bytes).expect("an event's body is JSON");
    assert_eq!(Event::from_value(value).as_ref(), Ok(&event), "the body decodes as its JSON value does");
    let again = Event::from_value(event.to_value()).expect("an event's own JSON decodes");
    assert_eq!(again.to_value(), event.to_value(), "a decoded event survives a round trip");
}

/// A signature verifies exactly when `header` is the body's HMAC (hex, either case, blanks
/// trimmed); a token exactly when it equals the secret. With `use_real_signature`, the header
/// is the real signature.
///
/// # Panics
///
/// When an invariant breaks.
pub fn signature_verifies_exactly(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
    token: Option<&str>,
    use_real_signature: bool,
) {
    let key = Secret::new(secret);
    let real = sign(&key, body);
    let header = if use_real_signature { Some(real.as_str()) } else { header };
    let matches = header.is_some_and(|header| header.trim().to_ascii_lowercase() == real);
    assert_eq!(key.verify_signature(body, header).is_ok(), matches, "{header:?} vs {real}");
    assert_eq!(key.verify_token(token).is_ok(), token.is_some_and(|token| token.as_bytes() == secret));
}

/// What a builder returned: accepted replies are valid against `schemas/reply.schema.json`,
/// refusals carry a message.
///
/// # Panics
///
/// When an invariant breaks.
pub fn built_reply_is_valid(built: Result<Reply, ReplyError>) {
    match built {
        Ok(reply) => {
            let json: serde_json::Value = serde_json::from_slice(&reply.to_json_bytes()).expect("a reply is JSON");
            if let Err(violations) = Schema::Reply.validate(&json) {
                panic!("the builder accepted a reply the schema refuses: {violations:?}\n{json}");
            }
        }
        Err(err) => assert!(!err.to_string().is_empty(), "a refusal says why"),
    }
}

//! Any bytes as a dialog webhook request: decoding never panics; what decodes survives a
//! round trip, answers its accessors, and its `Debug` never shows the verify token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moveo_dialog::DialogRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<DialogRequest>(data) else { return };
    let _ = (request.last_node(), request.node_name(), request.top_intent(), request.input_text());
    let _ = request.entity("firstname");
    let _ = request.context_value::<String>("destination");
    let again: DialogRequest = serde_json::from_slice(&serde_json::to_vec(&request).unwrap()).unwrap();
    assert_eq!(again, request, "a decoded request survives a round trip");
    if let Some(token) = request.verify_token.as_deref().filter(|token| token.len() >= 8) {
        assert!(!format!("{request:?}").contains(token), "Debug shows the verify token");
    }
});

//! The fuzz targets' properties (`fuzz/fuzz_targets/`), run briefly as proptests in CI:
//! decoding requests and events, verifying signatures, building replies, and the router fed
//! arbitrary signed bodies never panic, and hold their invariants. Regression tests for what
//! the long fuzz runs found sit at the end, named after the finding.

use http::StatusCode;
use moveo_dialog::events::{Event, EventsReceiver};
use moveo_dialog::reply::{Button, Card, CardMedia, Carousel, Media, Text, Webview};
use moveo_dialog::testing::Schema;
use moveo_dialog::verify::{Secret, sign};
use moveo_dialog::{DialogRequest, Reply, Router};
use proptest::prelude::*;
use tower::ServiceExt;

use crate::fixtures::bytes as spec_bytes;
use crate::support::{TOKEN, signed_post};

/// The spec's request and events with a few bytes overwritten, inserted or removed: inputs
/// that get past the first bytes of the parser, unlike uniform noise.
fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = seed.len();
    prop::collection::vec((0..len, any::<u8>(), 0u8..3), 1..8).prop_map(move |edits| {
        let mut bytes = seed.clone();
        for (at, byte, how) in edits {
            let at = at.min(bytes.len().saturating_sub(1));
            match how {
                0 if !bytes.is_empty() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                _ => {}
            }
        }
        bytes
    })
}

fn request_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..512), mutated(spec_bytes("dialog-request.json"))]
}

fn event_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        mutated(spec_bytes("event-brain_send-all-responses.json")),
        mutated(spec_bytes("event-message-send.json")),
    ]
}

/// The request property of `fuzz_targets/request_decode.rs`.
fn check_request(bytes: &[u8]) {
    let Ok(request) = serde_json::from_slice::<DialogRequest>(bytes) else { return };
    let _ = (request.last_node(), request.node_name(), request.top_intent(), request.input_text());
    let _ = request.context_value::<String>("destination");
    let again: DialogRequest = serde_json::from_slice(&serde_json::to_vec(&request).unwrap()).unwrap();
    assert_eq!(again, request);
    if let Some(token) = request.verify_token.as_deref().filter(|token| token.len() >= 8) {
        assert!(!format!("{request:?}").contains(token));
    }
}

/// The event property of `fuzz_targets/event_decode.rs`.
fn check_event(bytes: &[u8]) {
    let Ok(event) = Event::from_slice(bytes) else { return };
    let again = Event::from_value(event.to_value()).unwrap();
    assert_eq!(again.to_value(), event.to_value());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn request_decoding_never_panics(bytes in request_bytes()) {
        check_request(&bytes);
    }

    #[test]
    fn event_decoding_never_panics(bytes in event_bytes()) {
        check_event(&bytes);
    }

    #[test]
    fn a_signature_verifies_exactly_when_it_is_the_bodys_hmac(
        secret in prop::collection::vec(any::<u8>(), 0..64),
        body in prop::collection::vec(any::<u8>(), 0..256),
        header in prop::option::of(".{0,80}"),
        real in any::<bool>(),
    ) {
        let key = Secret::new(&secret);
        let expected = sign(&key, &body);
        let header = if real { Some(expected.clone()) } else { header };
        let matches = header.as_deref().is_some_and(|h| h.trim().to_ascii_lowercase() == expected);
        prop_assert_eq!(key.verify_signature(&body, header.as_deref()).is_ok(), matches);
        let token = String::from_utf8_lossy(&secret).into_owned();
        prop_assert_eq!(key.verify_token(Some(&token)).is_ok(), token.as_bytes() == secret.as_slice());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any strings in every builder slot: `build` never panics, and what it accepts is valid.
    #[test]
    fn builders_never_panic_and_accept_only_valid_replies(
        text in ".{0,300}", label in ".{0,40}", url in ".{0,80}", id in ".{0,40}", key in ".{0,20}",
        cards in 0usize..8, buttons in 0usize..5, options in 0usize..12,
    ) {
        let mut text_response = Text::new(text.clone());
        for _ in 0..options {
            text_response = text_response.option(label.clone(), text.clone());
        }
        let mut carousel = Carousel::new().action_id(id.clone());
        for _ in 0..cards {
            let mut card = Card::new(label.clone(), CardMedia::image(url.clone())).subtitle(text.clone());
            for _ in 0..buttons {
                card = card.button(Button::url(label.clone(), url.clone()));
            }
            carousel = carousel.card(card);
        }
        let built = Reply::builder()
            .text(text_response)
            .media(Media::image(url.clone()).name(label.clone()))
            .carousel(carousel)
            .webview(Webview::new(label.clone(), label.clone(), url.clone()).trigger_node_id(id.clone()))
            .event(id.clone())
            .context(key.clone(), text.clone())
            .build();
        match built {
            Ok(reply) => {
                let json: serde_json::Value = serde_json::from_slice(&reply.to_json_bytes()).unwrap();
                prop_assert!(Schema::Reply.validate(&json).is_ok(), "accepted but invalid: {}", json);
            }
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any signed body through the whole router: never a 5xx, never a panic.
    #[test]
    fn the_router_answers_any_signed_body_with_a_status_below_500(bytes in request_bytes()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let status = runtime.block_on(async {
            let router = Router::new().verify_token(TOKEN).node("plan_erasmus", || async { Reply::text("ok") });
            let request = signed_post("/webhook", TOKEN, &bytes);
            router.oneshot(request).await.unwrap().status()
        });
        prop_assert!(status.as_u16() < 500 || status == StatusCode::SERVICE_UNAVAILABLE, "{}", status);
    }

    /// Any signed body through the whole events receiver: never a 5xx, never a panic.
    #[test]
    fn the_events_receiver_answers_any_signed_body_with_a_status_below_500(bytes in event_bytes()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let status = runtime.block_on(async {
            let receiver = EventsReceiver::new().webhook_secret(TOKEN).on_every(|_: Event| async { Ok::<_, String>(()) });
            let request = signed_post("/events", TOKEN, &bytes);
            receiver.oneshot(request).await.unwrap().status()
        });
        prop_assert!(status.as_u16() < 500, "{}", status);
    }
}

//! The fuzz targets' properties (`moveo_dialog_tests::properties`), run briefly as proptests:
//! decoding requests and events, verifying signatures, building replies, and the router fed
//! arbitrary signed bodies never panic, and hold their invariants. The long fuzz runs found
//! nothing; the hostile suite's finding has its regression test in `hostile.rs`.

use http::StatusCode;
use moveo_dialog::events::{Event, EventsReceiver};
use moveo_dialog::extract::Context;
use moveo_dialog::reply::{Button, Card, CardMedia, Carousel, Media, Text, Webview};
use moveo_dialog::{Reply, Router};
use moveo_dialog_tests::properties;
use proptest::prelude::*;
use tower::ServiceExt;

use crate::fixtures::bytes as spec_bytes;
use crate::support::{TOKEN, signed_post};

/// The erasmus example's context, strictly typed: a misfit is a 400 naming the path.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Trip {
    destination: Option<String>,
    total_months: Option<f64>,
    #[serde(default)]
    total_expenses: f64,
    #[serde(rename = "sys-channel")]
    channel: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Other {
    other: Option<u8>,
}

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

/// Dialog requests whose context is of every shape: an object with the erasmus keys (each a
/// value of any JSON type, a key maybe twice), an array, a string, `null` or absent; before or
/// after the dialog stack, which names `plan_erasmus` or another node.
fn context_bodies() -> impl Strategy<Value = Vec<u8>> {
    let value = prop::sample::select(vec![
        "null",
        "true",
        "3",
        "-1.5e3",
        "1e999999",
        "\"England\"",
        "\"Espa\\u00f1a\"",
        "\"3\"",
        "[]",
        "[1, \"x\"]",
        "{}",
        "{\"k\": 1}",
    ]);
    let key = prop::sample::select(vec!["destination", "total_months", "total_expenses", "sys-channel", "other"]);
    let object = prop::collection::vec((key, value.clone()), 0..6).prop_map(|entries| {
        let entries: Vec<String> = entries.iter().map(|(key, value)| format!("\"{key}\": {value}")).collect();
        format!("{{{}}}", entries.join(", "))
    });
    let context = prop_oneof![
        4 => object.prop_map(Some),
        1 => value.prop_map(|value| Some(value.to_owned())),
        1 => Just(None),
    ];
    let node = prop::sample::select(vec!["plan_erasmus", "elsewhere"]);
    (context, node, any::<bool>(), any::<bool>()).prop_map(|(context, node, intent, context_last)| {
        let stack = format!("\"debug\": {{\"dialog_stack\": [{{\"node_id\": \"n\", \"name\": \"{node}\"}}]}}");
        let intents =
            if intent { r#""intents": [{"intent": "erasmus", "confidence": 0.9}]"# } else { r#""intents": []"# };
        let mut parts = vec![stack, intents.to_owned()];
        if let Some(context) = context {
            let context = format!("\"context\": {context}");
            if context_last { parts.push(context) } else { parts.insert(0, context) }
        }
        format!("{{{}}}", parts.join(", ")).into_bytes()
    })
}

fn event_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        mutated(spec_bytes("event-brain_send-all-responses.json")),
        mutated(spec_bytes("event-message-send.json")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn request_decoding_never_panics(bytes in request_bytes()) {
        properties::request_decodes(&bytes);
    }

    #[test]
    fn event_decoding_never_panics(bytes in event_bytes()) {
        properties::event_decodes(&bytes);
    }

    #[test]
    fn a_signature_verifies_exactly_when_it_is_the_bodys_hmac(
        secret in prop::collection::vec(any::<u8>(), 0..64),
        body in prop::collection::vec(any::<u8>(), 0..256),
        header in prop::option::of(".{0,80}"),
        token in prop::option::of(".{0,64}"),
        real in any::<bool>(),
    ) {
        properties::signature_verifies_exactly(&secret, &body, header.as_deref(), token.as_deref(), real);
        // The token check with the secret itself, when it is text.
        let own = String::from_utf8_lossy(&secret).into_owned();
        properties::signature_verifies_exactly(&secret, &body, None, Some(&own), real);
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
        properties::built_reply_is_valid(built);
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

    /// Any signed body, through a router that decodes the context in its routing pass (its
    /// handlers read it as one type) and through one that keeps it raw (they do not): the same
    /// status and the same bytes.
    #[test]
    fn a_router_answers_alike_whether_it_decodes_the_context_in_its_pass_or_not(
        bytes in prop_oneof![request_bytes(), context_bodies()],
    ) {
        use http_body_util::BodyExt;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (one_pass, raw) = runtime.block_on(async {
            let trip = |Context(trip): Context<Trip>| async move { Reply::text(format!("{trip:?}")) };
            let one_pass = Router::new()
                .verify_token(TOKEN)
                .node("plan_erasmus", trip)
                .intent("erasmus", trip)
                .fallback(|| async { Reply::text("fallback") });
            let raw = one_pass.clone().node("a node no body names", |Context(other): Context<Other>| async move {
                Reply::text(format!("{other:?}"))
            });
            let mut answers = Vec::new();
            for router in [one_pass, raw] {
                let response = router.oneshot(signed_post("/webhook", TOKEN, &bytes)).await.unwrap();
                let status = response.status();
                answers.push((status, response.into_body().collect().await.unwrap().to_bytes()));
            }
            (answers.remove(0), answers.remove(0))
        });
        prop_assert_eq!(one_pass, raw);
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

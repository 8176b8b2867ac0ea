//! The typed wire formats against the spec's examples.

use moveo_dialog::events::{Event, EventDecodeError, EventKind, EventType, OutputResponse, OutputWebviewHeight};
use moveo_dialog::reply::{Button, Card, CardMedia, Carousel, DefaultAction, Media, Text, Webview, WebviewHeight};
use moveo_dialog::testing::assert_valid_reply;
use moveo_dialog::{DialogRequest, Reply};
use serde_json::{Value, json};

use crate::fixtures;

#[test]
fn the_spec_request_round_trips() {
    let bytes = fixtures::bytes("dialog-request.json");
    let request: DialogRequest = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(request.node_name(), Some("plan_erasmus"));
    assert_eq!(request.input_text(), Some("Hello, my name is George and I would like to go for erasmus"));
    // Serialised and decoded again, nothing is lost (numbers compare as numbers, not as text).
    let again: DialogRequest = serde_json::from_slice(&serde_json::to_vec(&request).unwrap()).unwrap();
    assert_eq!(again, request);
}

#[test]
fn builders_reproduce_the_spec_full_reply() {
    let reply = moveo_dialog_tests::spec::full_reply();
    assert_eq!(serde_json::to_value(&reply).unwrap(), fixtures::json("reply-full.json"));
}

#[test]
fn builders_reproduce_every_spec_response_example() {
    let uuid = "123e4567-e89b-12d3-a456-426614174000";
    let cases: Vec<(&str, Reply)> = vec![
        (
            "reply-context.json",
            Reply::builder().context("selected_product", "apples").context("amount", "6").build().unwrap(),
        ),
        (
            "reply-text.json",
            Reply::builder()
                .text(
                    Text::new("Hello! How can I assist you today?")
                        .option("Help", "I need help")
                        .option("Browse", "Just browsing"),
                )
                .build()
                .unwrap(),
        ),
        (
            "reply-media.json",
            Reply::builder()
                .media(Media::image("https://example.com/image.jpg").name("Sample Image").size(102_400))
                .build()
                .unwrap(),
        ),
        ("reply-event.json", Reply::builder().event(uuid).build().unwrap()),
        (
            "reply-carousel.json",
            Reply::builder()
                .carousel(
                    Carousel::new()
                        .card(
                            Card::new("Product 1", CardMedia::image("https://example.com/product1.jpg"))
                                .subtitle("Description of product 1")
                                .button(Button::postback("Buy Now", "buy_product_1"))
                                .button(Button::url("Learn More", "https://example.com/product1"))
                                .default_action(DefaultAction::url("https://example.com/product1")),
                        )
                        .action_id(uuid),
                )
                .build()
                .unwrap(),
        ),
        (
            "reply-webview.json",
            Reply::builder()
                .webview(
                    Webview::new("Survey", "Visit our website", "https://example.com/")
                        .height(WebviewHeight::Full)
                        .trigger_node_id(uuid),
                )
                .build()
                .unwrap(),
        ),
        ("reply-reset.json", Reply::builder().reset().build().unwrap()),
    ];
    for (name, reply) in cases {
        assert_eq!(serde_json::to_value(&reply).unwrap(), fixtures::json(name), "{name}");
    }
}

#[test]
fn errors_name_the_path_the_limit_and_the_value() {
    let card = |title: String| Card::new(title, CardMedia::image("https://example.com/a.jpg"));
    let err = Reply::builder()
        .text(Text::new("hi"))
        .carousel(
            Carousel::new()
                .card(card("a".into()))
                .card(card("b".into()))
                .card(card("c".into()))
                .card(card("x".repeat(71))),
        )
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "responses[1].cards[3].title: 71 characters, at most 64");
    assert_eq!(err.path(), "responses[1].cards[3].title");

    let eleven = (0..11).fold(Text::new("pick"), |text, i| text.option(format!("o{i}"), "x"));
    let err = Reply::builder().text(eleven).build().unwrap_err();
    assert_eq!(err.to_string(), "responses[0].options: 11 options, at most 10");

    let err = Reply::builder().context("global", 1).build().unwrap_err();
    assert_eq!(err.path(), "context.global");
    let err = Reply::builder().context("channels", 1).build().unwrap_err();
    assert_eq!(err.path(), "context.channels");

    let err = Reply::builder().event("{123e4567-e89b-12d3-a456-426614174000}").build().unwrap_err();
    assert_eq!(err.path(), "responses[0].trigger_node_id");

    let err = Reply::builder().media(Media::video("video.mp4")).build().unwrap_err();
    assert_eq!(err.to_string(), "responses[0].url: \"video.mp4\" is not an absolute URI");

    let err = Reply::builder().build().unwrap_err();
    assert_eq!(err.to_string(), "reply: a reply needs context, responses, or both");

    let four = (0..4).fold(card("t".into()), |card, i| card.button(Button::postback("b", i.to_string())));
    let err = Reply::builder().carousel(Carousel::new().card(four)).build().unwrap_err();
    assert_eq!(err.to_string(), "responses[0].cards[0].buttons: 4 buttons, at most 3");

    let err = Reply::builder()
        .carousel(Carousel::new().card(card("t".into()).subtitle("s".repeat(101))))
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "responses[0].cards[0].subtitle: 101 characters, at most 100");
}

#[test]
fn a_derived_action_id_is_a_stable_uuid() {
    let build = || {
        Reply::builder()
            .carousel(Carousel::new().card(Card::new("P", CardMedia::video("https://example.com/p.mp4"))))
            .build()
            .unwrap()
    };
    let first = serde_json::to_value(build()).unwrap();
    assert_valid_reply(&first);
    assert_eq!(first, serde_json::to_value(build()).unwrap());
    let id = first["responses"][0]["action_id"].as_str().unwrap();
    assert!(moveo_dialog::reply::is_hyphenated_uuid(id), "{id}");
}

#[test]
fn absent_optional_fields_are_left_out() {
    let reply = Reply::builder()
        .media(Media::file("https://example.com/f.pdf"))
        .webview(Webview::new("n", "l", "https://example.com/"))
        .carousel(
            Carousel::new().card(
                Card::new("t", CardMedia::image("https://example.com/a.jpg"))
                    .button(Button::webview("Open", "https://example.com/w")),
            ),
        )
        .build()
        .unwrap();
    let text = serde_json::to_string(&reply).unwrap();
    assert!(!text.contains("null"), "{text}");
    assert!(!text.contains("\"context\""), "{text}");
    assert!(!text.contains("\"height\""), "{text}");
}

#[test]
fn every_spec_event_decodes_to_its_variant() {
    let expected = [
        ("event-message-brain_send.json", EventType::MessageBrainSend),
        ("event-message-send.json", EventType::MessageSend),
        ("event-message-compose.json", EventType::MessageCompose),
        ("event-message-read.json", EventType::MessageRead),
        ("event-message-delivered.json", EventType::MessageDelivered),
        ("event-conversation-member_join.json", EventType::ConversationMemberJoin),
        ("event-conversation-member_leave.json", EventType::ConversationMemberLeave),
        ("event-conversation-closed.json", EventType::ConversationClosed),
        ("event-conversation-reopened.json", EventType::ConversationReopened),
        ("event-session-closed.json", EventType::SessionClosed),
        ("event-session-expired.json", EventType::SessionExpired),
        ("event-complete-example.json", EventType::MessageBrainSend),
        ("event-brain_send-all-responses.json", EventType::MessageBrainSend),
    ];
    for (name, kind) in expected {
        let json = fixtures::json(name);
        let event = Event::from_slice(&fixtures::bytes(name)).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(event.kind.event_type(), Some(kind), "{name}");
        assert_eq!(event.event_type(), json["event_type"], "{name}");
        assert_eq!(event.request_id, json["request_id"], "{name}");
        assert_eq!(event.timestamp, 1_704_067_200_000, "{name}");
        assert_eq!(event.to_value(), json, "{name} does not round-trip");
    }
}

#[test]
fn brain_send_responses_decode_to_their_own_types() {
    let event = Event::from_slice(&fixtures::bytes("event-brain_send-all-responses.json")).unwrap();
    let EventKind::MessageBrainSend(send) = &event.kind else { panic!("{event:?}") };
    let kinds: Vec<&str> = send.output.responses.iter().map(OutputResponse::kind).collect();
    assert_eq!(kinds, ["text", "image", "video", "audio", "file", "carousel", "handover", "webview"]);
    let OutputResponse::Text(text) = &send.output.responses[0] else { panic!() };
    assert_eq!(text.options[0].label, "Track Order");
    let OutputResponse::File(file) = &send.output.responses[4] else { panic!() };
    assert_eq!(file.size, Some(102_400));
    let OutputResponse::Handover(handover) = &send.output.responses[6] else { panic!() };
    assert_eq!(handover.department_id.as_deref(), Some("support"));
    let OutputResponse::Webview(webview) = &send.output.responses[7] else { panic!() };
    assert_eq!(webview.height, Some(OutputWebviewHeight::Full));
    let complete = Event::from_slice(&fixtures::bytes("event-complete-example.json")).unwrap();
    assert_eq!(complete.integration_id, None);
    assert_eq!(complete.context, None);
}

#[test]
fn unknown_types_are_kept_not_refused() {
    let body =
        json!({"event_type": "message:reaction", "request_id": "r", "session_id": "s", "timestamp": 1, "emoji": "👍"});
    let event = Event::from_value(body.clone()).unwrap();
    assert_eq!(event.event_type(), "message:reaction");
    let EventKind::Unknown { json, .. } = &event.kind else { panic!() };
    assert_eq!(json["emoji"], "👍");
    assert_eq!(event.to_value(), body);

    let mut send: Value = fixtures::json("event-message-brain_send.json");
    send["output"]["responses"] = json!([{"type": "quick_poll", "question": "?"}, {"type": "pause", "time": 500}]);
    let event = Event::from_value(send).unwrap();
    let EventKind::MessageBrainSend(send) = &event.kind else { panic!() };
    assert!(matches!(&send.output.responses[0], OutputResponse::Unknown(v) if v["question"] == "?"));
    assert!(matches!(&send.output.responses[1], OutputResponse::Pause(v) if v["time"] == 500));
}

#[test]
fn a_known_type_that_does_not_fit_names_the_path() {
    let mut body = fixtures::json("event-message-compose.json");
    body.as_object_mut().unwrap().remove("action");
    let err = Event::from_value(body).unwrap_err();
    assert!(err.to_string().contains("missing field `action`"), "{err}");

    let mut body = fixtures::json("event-message-send.json");
    body["from"]["agent_name"] = json!(42);
    let err = Event::from_value(body).unwrap_err();
    let EventDecodeError::InvalidShape { path, .. } = &err else { panic!("{err}") };
    assert_eq!(path, "from.agent_name");

    let mut body = fixtures::json("event-message-read.json");
    body.as_object_mut().unwrap().remove("timestamp");
    assert!(Event::from_value(body).unwrap_err().to_string().contains("timestamp"));

    assert!(matches!(Event::from_slice(b"{not json"), Err(EventDecodeError::InvalidJson(_))));
    assert!(Event::from_slice(b"[1]").is_err());
}

fn carousel_id(card: Card) -> String {
    let reply = moveo_dialog::Reply::builder().carousel(Carousel::new().card(card)).build().unwrap();
    serde_json::to_value(&reply).unwrap()["responses"][0]["action_id"].as_str().unwrap().to_owned()
}

#[test]
fn the_derived_action_id_covers_every_field_of_the_carousel() {
    let media = || CardMedia::image("https://example.com/a.jpg");
    let base = || Card::new("Apples", media()).button(Button::postback("Buy", "buy_apples"));
    let id = carousel_id(base());
    assert_eq!(carousel_id(base()), id, "the same carousel always has the same id");
    let variants = [
        ("a subtitle", base().subtitle("Fresh")),
        ("a postback value", Card::new("Apples", media()).button(Button::postback("Buy", "buy_pears"))),
        ("a button url", Card::new("Apples", media()).button(Button::url("Buy", "https://example.com/buy"))),
        ("a default action", base().default_action(DefaultAction::url("https://example.com/apples"))),
        (
            "the media kind",
            Card::new("Apples", CardMedia::video("https://example.com/a.jpg"))
                .button(Button::postback("Buy", "buy_apples")),
        ),
    ];
    for (what, card) in variants {
        assert_ne!(carousel_id(card), id, "{what} changes the id");
    }
}

#[test]
fn a_url_with_non_ascii_letters_is_named_and_can_be_encoded() {
    let iri = "https://www.skroutz.gr/s/24785578/Logitech-G915-TKL-Ασύρματο-Gaming.html";
    let err = moveo_dialog::Reply::builder()
        .carousel(Carousel::new().card(Card::new("Keyboard", CardMedia::image(iri))))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("reply::Url::from_iri"), "{err}");
    let url = moveo_dialog::reply::Url::from_iri(iri).unwrap();
    let reply = moveo_dialog::Reply::builder()
        .carousel(
            Carousel::new().card(Card::new("Keyboard", CardMedia::image(url.clone())).button(Button::url("View", url))),
        )
        .build()
        .unwrap();
    moveo_dialog::testing::assert_valid_reply(&serde_json::to_value(&reply).unwrap());
    assert!(moveo_dialog::reply::Url::from_iri("not a url").is_err());
}

//! The bundled schemas accept every example of the spec pages and refuse what breaks a limit.

use moveo_dialog::testing::{Schema, assert_valid_event, assert_valid_reply, assert_valid_request};
use serde_json::{Value, json};

use crate::fixtures;

#[test]
fn every_spec_reply_example_is_valid() {
    let names = fixtures::named("reply-");
    assert_eq!(names.len(), 8, "{names:?}");
    for name in names {
        assert_valid_reply(&fixtures::json(&name));
    }
}

#[test]
fn the_spec_request_example_is_valid() {
    assert_valid_request(&fixtures::json("dialog-request.json"));
}

#[test]
fn every_spec_event_example_is_valid() {
    let names = fixtures::named("event-");
    assert_eq!(names.len(), 13, "{names:?}");
    for name in names {
        assert_valid_event(&fixtures::json(&name));
    }
}

fn text_with_options(count: usize) -> Value {
    let options: Vec<Value> = (0..count).map(|i| json!({"text": format!("t{i}"), "label": format!("l{i}")})).collect();
    json!({"responses": [{"type": "text", "texts": ["hi"], "options": options}]})
}

fn card(title: &str) -> Value {
    json!({"media": {"url": "https://example.com/a.jpg", "type": "image"}, "title": title})
}

fn carousel(cards: Vec<Value>) -> Value {
    json!({"responses": [{"type": "carousel", "action_id": "123e4567-e89b-12d3-a456-426614174000", "cards": cards}]})
}

/// Each row breaks one documented limit; the schema must refuse it at the named pointer.
#[test]
fn every_broken_limit_is_refused_at_its_pointer() {
    let uuid = "123e4567-e89b-12d3-a456-426614174000";
    let rows: Vec<(&str, Value, &str)> = vec![
        ("neither context nor responses", json!({}), ""),
        ("11 options", text_with_options(11), "/responses/0/options"),
        ("0 options", text_with_options(0), "/responses/0/options"),
        (
            "empty option text",
            json!({"responses": [{"type": "text", "texts": ["x"], "options": [{"text": "", "label": "a"}]}]}),
            "/responses/0/options/0/text",
        ),
        (
            "65-char label",
            json!({"responses": [{"type": "text", "texts": ["x"], "options": [{"text": "a", "label": "é".repeat(65)}]}]}),
            "/responses/0/options/0/label",
        ),
        (
            "empty label",
            json!({"responses": [{"type": "text", "texts": ["x"], "options": [{"text": "a", "label": ""}]}]}),
            "/responses/0/options/0/label",
        ),
        ("text without texts", json!({"responses": [{"type": "text"}]}), "/responses/0"),
        ("7 cards", carousel((0..7).map(|i| card(&format!("c{i}"))).collect()), "/responses/0/cards"),
        ("0 cards", carousel(vec![]), "/responses/0/cards"),
        ("65-char title", carousel(vec![card(&"x".repeat(65))]), "/responses/0/cards/0/title"),
        ("empty title", carousel(vec![card("")]), "/responses/0/cards/0/title"),
        (
            "101-char subtitle",
            carousel(vec![
                json!({"media": {"url": "https://e.com/a", "type": "image"}, "title": "t", "subtitle": "s".repeat(101)}),
            ]),
            "/responses/0/cards/0/subtitle",
        ),
        (
            "4 buttons",
            carousel(vec![
                json!({"media": {"url": "https://e.com/a", "type": "image"}, "title": "t", "buttons": (0..4).map(|i| json!({"type": "postback", "label": "b", "value": i.to_string()})).collect::<Vec<_>>()}),
            ]),
            "/responses/0/cards/0/buttons",
        ),
        (
            "0 buttons",
            carousel(vec![json!({"media": {"url": "https://e.com/a", "type": "image"}, "title": "t", "buttons": []})]),
            "/responses/0/cards/0/buttons",
        ),
        (
            "card media of type audio",
            carousel(vec![json!({"media": {"url": "https://e.com/a", "type": "audio"}, "title": "t"})]),
            "/responses/0/cards/0/media/type",
        ),
        (
            "postback default action with a label",
            carousel(vec![
                json!({"media": {"url": "https://e.com/a", "type": "image"}, "title": "t", "default_action": {"type": "postback", "value": "v", "label": "l"}}),
            ]),
            "/responses/0/cards/0/default_action",
        ),
        (
            "phone button",
            carousel(vec![
                json!({"media": {"url": "https://e.com/a", "type": "image"}, "title": "t", "buttons": [{"type": "phone", "label": "call", "value": "+30"}]}),
            ]),
            "/responses/0/cards/0/buttons/0/type",
        ),
        (
            "carousel without action_id",
            json!({"responses": [{"type": "carousel", "cards": [card("t")]}]}),
            "/responses/0",
        ),
        (
            "braced action_id",
            json!({"responses": [{"type": "carousel", "action_id": format!("{{{uuid}}}"), "cards": [card("t")]}]}),
            "/responses/0/action_id",
        ),
        (
            "32-hex trigger_node_id",
            json!({"responses": [{"type": "event", "trigger_node_id": uuid.replace('-', "")}]}),
            "/responses/0/trigger_node_id",
        ),
        (
            "urn trigger_node_id",
            json!({"responses": [{"type": "event", "trigger_node_id": format!("urn:uuid:{uuid}")}]}),
            "/responses/0/trigger_node_id",
        ),
        ("relative media url", json!({"responses": [{"type": "image", "url": "/image.jpg"}]}), "/responses/0/url"),
        (
            "negative media size",
            json!({"responses": [{"type": "file", "url": "https://e.com/f", "size": -1}]}),
            "/responses/0/size",
        ),
        (
            "fractional media size",
            json!({"responses": [{"type": "file", "url": "https://e.com/f", "size": 1.5}]}),
            "/responses/0/size",
        ),
        (
            "webview without name",
            json!({"responses": [{"type": "webview", "label": "l", "url": "https://e.com/"}]}),
            "/responses/0",
        ),
        (
            "webview height new_window",
            json!({"responses": [{"type": "webview", "name": "n", "label": "l", "url": "https://e.com/", "height": "new_window"}]}),
            "/responses/0/height",
        ),
        ("context writes global", json!({"context": {"global": {"a": 1}}}), "/context"),
        ("context writes channels", json!({"context": {"channels": {}}}), "/context"),
        ("unknown response type", json!({"responses": [{"type": "phone"}]}), "/responses/0/type"),
        (
            "null instead of an optional field",
            json!({"responses": [{"type": "image", "url": "https://e.com/i", "name": null}]}),
            "/responses/0/name",
        ),
    ];
    for (what, reply, pointer) in rows {
        let violations =
            Schema::Reply.validate(&reply).err().unwrap_or_else(|| panic!("{what}: the schema accepted {reply}"));
        assert!(
            violations.iter().any(|v| v.pointer == pointer),
            "{what}: expected a violation at {pointer:?}, got {violations:?}"
        );
    }
}

#[test]
fn limits_are_inclusive() {
    assert_valid_reply(&text_with_options(10));
    assert_valid_reply(&text_with_options(1));
    assert_valid_reply(&carousel((0..6).map(|i| card(&format!("c{i}"))).collect()));
    assert_valid_reply(&carousel(vec![card(&"😀".repeat(64))]));
    assert_valid_reply(
        &json!({"responses": [{"type": "event", "trigger_node_id": "123E4567-E89B-12D3-A456-426614174000"}]}),
    );
}

#[test]
fn a_violation_message_names_its_pointer() {
    let result = std::panic::catch_unwind(|| assert_valid_reply(&text_with_options(11)));
    let payload = result.expect_err("11 options must be refused");
    let message = payload.downcast_ref::<String>().expect("a formatted panic message");
    assert!(message.contains("/responses/0/options"), "{message}");
}

#[test]
fn the_schemas_inside_the_crate_are_the_published_copy() {
    // `schemas/` is what users download; `moveo-dialog/schemas/` is what the published crate
    // bundles (a package cannot reach outside its folder). They must be the same bytes.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in ["reply.schema.json", "request.schema.json", "event.schema.json"] {
        let published = std::fs::read(root.join("schemas").join(name)).unwrap();
        let bundled = std::fs::read(root.join("moveo-dialog/schemas").join(name)).unwrap();
        assert!(published == bundled, "schemas/{name} and moveo-dialog/schemas/{name} differ: copy one over the other");
    }
}

#[test]
fn the_event_schema_enforces_the_documented_values() {
    let refused = |event: &Value, pointer: &str| {
        let violations = Schema::Event.validate(event).expect_err("refused");
        assert!(violations.iter().any(|v| v.pointer == pointer), "{pointer}: {violations:?}");
    };
    let compose = fixtures::json("event-message-compose.json");
    for (key, value) in [("action", "pause"), ("author_type", "visitor")] {
        let mut event = compose.clone();
        event[key] = json!(value);
        refused(&event, &format!("/{key}"));
    }
    let mut brain = compose.clone();
    brain["author_type"] = json!("brain");
    assert_valid_event(&brain);

    let mut read = fixtures::json("event-message-read.json");
    read["author_type"] = json!("supervisor");
    refused(&read, "/author_type");
    for author in ["agent", "brain", "visitor"] {
        read["author_type"] = json!(author);
        assert_valid_event(&read);
    }

    let all = fixtures::json("event-brain_send-all-responses.json");
    let carousel = all["output"]["responses"]
        .as_array()
        .unwrap()
        .iter()
        .position(|response| response["type"] == "carousel")
        .unwrap();
    let button = format!("/output/responses/{carousel}/cards/0/buttons/0");
    let mut no_value = all.clone();
    no_value.pointer_mut(&button).unwrap().as_object_mut().unwrap().remove("value");
    refused(&no_value, &button);
    let mut no_url = all.clone();
    *no_url.pointer_mut(&button).unwrap() = json!({"type": "url", "label": "Open"});
    refused(&no_url, &button);
    let mut with_url = all;
    *with_url.pointer_mut(&button).unwrap() = json!({"type": "url", "label": "Open", "url": "https://example.com"});
    assert_valid_event(&with_url);
}

#[test]
fn the_test_kit_flags_the_legacy_output_key() {
    let legacy = json!({"output": {"live_instructor": true}, "responses": [{"type": "text", "texts": ["hi"]}]});
    assert!(Schema::Reply.validate(&legacy).is_ok(), "the schema alone allows it");
    let warnings = Schema::Reply.warnings(&legacy);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].pointer, "/output");
    assert!(warnings[0].message.contains("legacy key: Moveo documents `context`"));
    let failed = std::panic::catch_unwind(|| assert_valid_reply(&legacy)).unwrap_err();
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("/output: legacy key"), "{message}");
}

//! Random builder calls, checked both ways against `schemas/reply.schema.json`: what the
//! builders accept validates, and the JSON of what they refuse does not.
//!
//! Each case is generated as a plain description (`ReplySpec`), turned once into builder calls
//! and once, independently, into the JSON those calls describe.

use moveo_dialog::Reply;
use moveo_dialog::reply::{Button, Card, CardMedia, Carousel, DefaultAction, Media, Text, Webview, WebviewHeight};
use moveo_dialog::testing::Schema;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const PLACEHOLDER_ID: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Clone)]
enum ButtonSpec {
    Postback { label: String, value: String },
    Url { label: String, url: String },
    Webview { label: String, url: String, height: Option<WebviewHeight>, node: Option<String> },
}

#[derive(Debug, Clone)]
struct CardSpec {
    title: String,
    subtitle: Option<String>,
    media_url: String,
    video: bool,
    buttons: Vec<ButtonSpec>,
    default_action: Option<ButtonSpec>,
}

#[derive(Debug, Clone)]
enum ResponseSpec {
    Text { texts: Vec<String>, options: Vec<(String, String)> },
    Media { kind: usize, url: String, name: Option<String>, size: Option<u64> },
    Event { node: String },
    Carousel { cards: Vec<CardSpec>, action_id: Option<String> },
    Webview { name: String, label: String, url: String, height: Option<WebviewHeight>, node: Option<String> },
    Reset,
}

#[derive(Debug, Clone)]
struct ReplySpec {
    context: Vec<(String, i64)>,
    responses: Vec<ResponseSpec>,
}

/// Strings around every documented length limit, in 1-, 2- and 4-byte characters.
fn sized_string() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::sample::select(vec![0usize, 1, 2, 63, 64, 65, 99, 100, 101]),
            prop::sample::select(vec!["a", "é", "😀"])
        )
            .prop_map(|(len, ch)| ch.repeat(len)),
        "[a-zA-Z0-9 ]{0,12}",
    ]
}

fn url() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "https://example.com/a.jpg",
        "http://example.com/x?y=1#z",
        "mailto:someone@example.com",
        "urn:isbn:0451450523",
        "/relative/path",
        "example.com",
        "",
        "https://exa mple.com/",
        "ht tp://x",
    ])
    .prop_map(str::to_owned)
}

fn uuid() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "123e4567-e89b-12d3-a456-426614174000",
        "123E4567-E89B-12D3-A456-426614174000",
        "{123e4567-e89b-12d3-a456-426614174000}",
        "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
        "123e4567e89b12d3a456426614174000",
        "123e4567-e89b-12d3-a456-42661417400",
        "not-a-uuid",
        "",
    ])
    .prop_map(str::to_owned)
}

fn height() -> impl Strategy<Value = Option<WebviewHeight>> {
    prop::option::of(prop::sample::select(vec![WebviewHeight::Tall, WebviewHeight::Compact, WebviewHeight::Full]))
}

fn button() -> impl Strategy<Value = ButtonSpec> {
    prop_oneof![
        (sized_string(), sized_string()).prop_map(|(label, value)| ButtonSpec::Postback { label, value }),
        (sized_string(), url()).prop_map(|(label, url)| ButtonSpec::Url { label, url }),
        (sized_string(), url(), height(), prop::option::of(uuid()))
            .prop_map(|(label, url, height, node)| ButtonSpec::Webview { label, url, height, node }),
    ]
}

fn card() -> impl Strategy<Value = CardSpec> {
    (
        sized_string(),
        prop::option::of(sized_string()),
        url(),
        any::<bool>(),
        prop::collection::vec(button(), 0..=4),
        prop::option::of(button()),
    )
        .prop_map(|(title, subtitle, media_url, video, buttons, default_action)| CardSpec {
            title,
            subtitle,
            media_url,
            video,
            buttons,
            default_action,
        })
}

fn response() -> impl Strategy<Value = ResponseSpec> {
    prop_oneof![
        (prop::collection::vec(sized_string(), 1..=2), prop::collection::vec((sized_string(), sized_string()), 0..=12))
            .prop_map(|(texts, options)| ResponseSpec::Text { texts, options }),
        (0usize..4, url(), prop::option::of(sized_string()), prop::option::of(any::<u64>()))
            .prop_map(|(kind, url, name, size)| ResponseSpec::Media { kind, url, name, size }),
        uuid().prop_map(|node| ResponseSpec::Event { node }),
        (prop::collection::vec(card(), 0..=7), prop::option::of(uuid()))
            .prop_map(|(cards, action_id)| ResponseSpec::Carousel { cards, action_id }),
        (sized_string(), sized_string(), url(), height(), prop::option::of(uuid()))
            .prop_map(|(name, label, url, height, node)| ResponseSpec::Webview { name, label, url, height, node }),
        Just(ResponseSpec::Reset),
    ]
}

fn reply_spec() -> impl Strategy<Value = ReplySpec> {
    (
        prop::collection::vec(
            (
                prop::sample::select(vec!["a", "total", "user", "global", "channels"]).prop_map(str::to_owned),
                any::<i64>(),
            ),
            0..=2,
        ),
        prop::collection::vec(response(), 0..=3),
    )
        .prop_map(|(context, responses)| ReplySpec { context, responses })
}

// ---- the description as builder calls ----

fn webview_button(
    label: &str,
    url: &str,
    height: Option<WebviewHeight>,
    node: &Option<String>,
) -> moveo_dialog::reply::WebviewButton {
    let mut button = Button::webview(label.to_owned(), url.to_owned());
    if let Some(height) = height {
        button = button.height(height);
    }
    if let Some(node) = node {
        button = button.trigger_node_id(node.clone());
    }
    button
}

fn build(spec: &ReplySpec) -> Result<Reply, moveo_dialog::ReplyError> {
    let mut builder = Reply::builder();
    for (key, value) in &spec.context {
        builder = builder.context(key.clone(), value);
    }
    for response in &spec.responses {
        builder = match response {
            ResponseSpec::Text { texts, options } => {
                let text = options
                    .iter()
                    .fold(Text::from_texts(texts.clone()), |text, (label, t)| text.option(label.clone(), t.clone()));
                builder.text(text)
            }
            ResponseSpec::Media { kind, url, name, size } => {
                let mut media = [Media::image, Media::video, Media::audio, Media::file][*kind](url.clone());
                if let Some(name) = name {
                    media = media.name(name.clone());
                }
                if let Some(size) = size {
                    media = media.size(*size);
                }
                builder.media(media)
            }
            ResponseSpec::Event { node } => builder.event(node.clone()),
            ResponseSpec::Carousel { cards, action_id } => {
                let mut carousel = Carousel::new();
                for spec in cards {
                    let media = if spec.video {
                        CardMedia::video(spec.media_url.clone())
                    } else {
                        CardMedia::image(spec.media_url.clone())
                    };
                    let mut card = Card::new(spec.title.clone(), media);
                    if let Some(subtitle) = &spec.subtitle {
                        card = card.subtitle(subtitle.clone());
                    }
                    for button in &spec.buttons {
                        card = card.button(match button {
                            ButtonSpec::Postback { label, value } => Button::postback(label.clone(), value.clone()),
                            ButtonSpec::Url { label, url } => Button::url(label.clone(), url.clone()),
                            ButtonSpec::Webview { label, url, height, node } => {
                                webview_button(label, url, *height, node).into()
                            }
                        });
                    }
                    if let Some(action) = &spec.default_action {
                        card = card.default_action(match action {
                            ButtonSpec::Postback { value, .. } => DefaultAction::postback(value.clone()),
                            ButtonSpec::Url { url, .. } => DefaultAction::url(url.clone()),
                            ButtonSpec::Webview { label, url, height, node } => {
                                webview_button(label, url, *height, node).into()
                            }
                        });
                    }
                    carousel = carousel.card(card);
                }
                if let Some(id) = action_id {
                    carousel = carousel.action_id(id.clone());
                }
                builder.carousel(carousel)
            }
            ResponseSpec::Webview { name, label, url, height, node } => {
                let mut webview = Webview::new(name.clone(), label.clone(), url.clone());
                if let Some(height) = height {
                    webview = webview.height(*height);
                }
                if let Some(node) = node {
                    webview = webview.trigger_node_id(node.clone());
                }
                builder.webview(webview)
            }
            ResponseSpec::Reset => builder.reset(),
        };
    }
    builder.build()
}

// ---- the same description as JSON, written from the spec page ----

fn insert_some<T: Into<Value> + Clone>(map: &mut Map<String, Value>, key: &str, value: &Option<T>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value.clone().into());
    }
}

fn height_json(height: Option<WebviewHeight>) -> Option<Value> {
    height.map(|h| serde_json::to_value(h).expect("height"))
}

fn button_json(button: &ButtonSpec, as_default_action: bool) -> Value {
    match button {
        ButtonSpec::Postback { label, value } if as_default_action => {
            let _ = label;
            json!({"type": "postback", "value": value})
        }
        ButtonSpec::Postback { label, value } => json!({"type": "postback", "label": label, "value": value}),
        ButtonSpec::Url { url, .. } if as_default_action => json!({"type": "url", "url": url}),
        ButtonSpec::Url { label, url } => json!({"type": "url", "label": label, "url": url}),
        ButtonSpec::Webview { label, url, height, node } => {
            let mut map = Map::new();
            map.insert("type".into(), "webview".into());
            map.insert("label".into(), label.clone().into());
            map.insert("url".into(), url.clone().into());
            insert_some(&mut map, "height", &height_json(*height));
            insert_some(&mut map, "trigger_node_id", node);
            Value::Object(map)
        }
    }
}

fn model(spec: &ReplySpec) -> Value {
    let mut reply = Map::new();
    let context: Map<String, Value> = spec.context.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    if !context.is_empty() {
        reply.insert("context".into(), Value::Object(context));
    }
    let responses: Vec<Value> = spec
        .responses
        .iter()
        .map(|response| match response {
            ResponseSpec::Text { texts, options } => {
                let mut map = Map::new();
                map.insert("type".into(), "text".into());
                map.insert("texts".into(), json!(texts));
                if !options.is_empty() {
                    let options: Vec<Value> = options.iter().map(|(label, text)| json!({"text": text, "label": label})).collect();
                    map.insert("options".into(), Value::Array(options));
                }
                Value::Object(map)
            }
            ResponseSpec::Media { kind, url, name, size } => {
                let mut map = Map::new();
                map.insert("type".into(), ["image", "video", "audio", "file"][*kind].into());
                map.insert("url".into(), url.clone().into());
                insert_some(&mut map, "name", name);
                insert_some(&mut map, "size", size);
                Value::Object(map)
            }
            ResponseSpec::Event { node } => json!({"type": "event", "trigger_node_id": node}),
            ResponseSpec::Carousel { cards, action_id } => {
                let cards: Vec<Value> = cards
                    .iter()
                    .map(|card| {
                        let mut map = Map::new();
                        map.insert(
                            "media".into(),
                            json!({"url": card.media_url, "type": if card.video { "video" } else { "image" }}),
                        );
                        map.insert("title".into(), card.title.clone().into());
                        insert_some(&mut map, "subtitle", &card.subtitle);
                        if !card.buttons.is_empty() {
                            let buttons: Vec<Value> = card.buttons.iter().map(|b| button_json(b, false)).collect();
                            map.insert("buttons".into(), Value::Array(buttons));
                        }
                        insert_some(&mut map, "default_action", &card.default_action.as_ref().map(|b| button_json(b, true)));
                        Value::Object(map)
                    })
                    .collect();
                json!({"type": "carousel", "cards": cards, "action_id": action_id.clone().unwrap_or_else(|| PLACEHOLDER_ID.to_owned())})
            }
            ResponseSpec::Webview { name, label, url, height, node } => {
                let mut map = Map::new();
                map.insert("type".into(), "webview".into());
                map.insert("name".into(), name.clone().into());
                map.insert("label".into(), label.clone().into());
                map.insert("url".into(), url.clone().into());
                insert_some(&mut map, "height", &height_json(*height));
                insert_some(&mut map, "trigger_node_id", node);
                Value::Object(map)
            }
            ResponseSpec::Reset => json!({"type": "reset"}),
        })
        .collect();
    if !responses.is_empty() {
        reply.insert("responses".into(), Value::Array(responses));
    }
    Value::Object(reply)
}

/// Replaces the action ids the builder derived (where the description gave none) by the
/// model's placeholder, after checking they are hyphenated UUIDs.
fn normalise_derived_ids(spec: &ReplySpec, json: &mut Value) {
    for (i, response) in spec.responses.iter().enumerate() {
        if let ResponseSpec::Carousel { action_id: None, .. } = response {
            let id = &mut json["responses"][i]["action_id"];
            assert!(moveo_dialog::reply::is_hyphenated_uuid(id.as_str().unwrap_or("")), "derived id {id}");
            *id = PLACEHOLDER_ID.into();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn builders_and_schema_agree(spec in reply_spec()) {
        let model = model(&spec);
        let schema_accepts = Schema::Reply.is_valid(&model);
        match build(&spec) {
            Ok(reply) => {
                let mut json = serde_json::to_value(&reply).expect("a reply serialises");
                prop_assert!(Schema::Reply.is_valid(&json), "built reply invalid: {json}");
                normalise_derived_ids(&spec, &mut json);
                prop_assert_eq!(&json, &model);
                prop_assert!(schema_accepts, "the builder accepted what the schema refuses: {}", model);
            }
            Err(err) => {
                prop_assert!(!schema_accepts, "the builder refused ({}) what the schema accepts: {}", err, model);
            }
        }
    }
}

// ---- the bytes sent ----

/// Text with everything JSON escapes (quotes, backslashes, control characters) among plain,
/// 2- and 4-byte characters, in runs shorter and longer than a word.
fn text_to_escape() -> impl Strategy<Value = String> {
    "[\\x00-\\x1f\"\\\\/a-z é😀\\x7f]{1,40}"
}

/// Any JSON value, numbers of every kind and strings to escape in keys and values.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
        text_to_escape().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text_to_escape(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// `Reply::to_json_bytes` (the framework's own JSON writer) sends exactly the bytes
    /// `serde_json` writes for the same reply.
    #[test]
    fn the_bytes_sent_are_the_bytes_serde_json_writes(
        context in prop::collection::vec((text_to_escape(), json_value()), 0..3),
        texts in prop::collection::vec(text_to_escape(), 1..3),
        options in prop::collection::vec((text_to_escape(), text_to_escape()), 0..3),
        cards in prop::collection::vec((text_to_escape(), prop::option::of(text_to_escape()), text_to_escape()), 1..3),
    ) {
        let mut builder = Reply::builder();
        for (key, value) in &context {
            builder = builder.context(key.clone(), value);
        }
        let text = options.iter().fold(Text::from_texts(texts), |text, (label, sent)| text.option(label.clone(), sent.clone()));
        let carousel = cards.iter().fold(Carousel::new(), |carousel, (title, subtitle, value)| {
            let card = Card::new(title.clone(), CardMedia::image("https://example.com/a.jpg"))
                .button(Button::postback(title.clone(), value.clone()));
            carousel.card(match subtitle {
                Some(subtitle) => card.subtitle(subtitle.clone()),
                None => card,
            })
        });
        let built = builder.text(text).carousel(carousel).build();
        // Only a reserved context key (or a context key too long) refuses the reply here.
        if let Ok(reply) = built {
            let sent = reply.to_json_bytes();
            let expected = serde_json::to_vec(&reply).expect("a reply serialises");
            prop_assert_eq!(String::from_utf8_lossy(&sent), String::from_utf8_lossy(&expected));
        }
    }
}

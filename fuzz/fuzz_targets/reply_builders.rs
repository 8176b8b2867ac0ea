//! The reply builders fed arbitrary strings, numbers and shapes:
//! `moveo_dialog_tests::properties::built_reply_is_valid`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use moveo_dialog::Reply;
use moveo_dialog::reply::{
    Button, Card, CardMedia, Carousel, DefaultAction, Media, MediaKind, Text, Webview, WebviewHeight,
};

#[derive(Debug, Arbitrary)]
enum ButtonOp {
    Postback(String, String),
    Url(String, String),
    Webview(String, String, Option<u8>, Option<String>),
}

#[derive(Debug, Arbitrary)]
struct CardOp {
    title: String,
    subtitle: Option<String>,
    media_url: String,
    video: bool,
    buttons: Vec<ButtonOp>,
    default_action: Option<ButtonOp>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Text(Vec<String>, Vec<(String, String)>),
    Media(u8, String, Option<String>, Option<u64>),
    Event(String),
    Carousel(Vec<CardOp>, Option<String>),
    Webview(String, String, String, Option<u8>, Option<String>),
    Reset,
    Context(String, String),
    ContextNumber(String, f64),
}

fn height(choice: u8) -> WebviewHeight {
    match choice % 3 {
        0 => WebviewHeight::Tall,
        1 => WebviewHeight::Compact,
        _ => WebviewHeight::Full,
    }
}

fn webview_button(
    label: String,
    url: String,
    h: Option<u8>,
    node: Option<String>,
) -> moveo_dialog::reply::WebviewButton {
    let mut button = Button::webview(label, url);
    if let Some(h) = h {
        button = button.height(height(h));
    }
    if let Some(node) = node {
        button = button.trigger_node_id(node);
    }
    button
}

fn button(op: ButtonOp) -> Button {
    match op {
        ButtonOp::Postback(label, value) => Button::postback(label, value),
        ButtonOp::Url(label, url) => Button::url(label, url),
        ButtonOp::Webview(label, url, h, node) => webview_button(label, url, h, node).into(),
    }
}

fn default_action(op: ButtonOp) -> DefaultAction {
    match op {
        ButtonOp::Postback(_, value) => DefaultAction::postback(value),
        ButtonOp::Url(_, url) => DefaultAction::url(url),
        ButtonOp::Webview(label, url, h, node) => webview_button(label, url, h, node).into(),
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut builder = Reply::builder();
    for op in ops {
        builder = match op {
            Op::Text(texts, options) => {
                let mut text = Text::from_texts(texts);
                for (label, value) in options {
                    text = text.option(label, value);
                }
                builder.text(text)
            }
            Op::Media(kind, url, name, size) => {
                let kind =
                    [MediaKind::Image, MediaKind::Video, MediaKind::Audio, MediaKind::File][usize::from(kind % 4)];
                let mut media = Media::new(kind, url);
                if let Some(name) = name {
                    media = media.name(name);
                }
                if let Some(size) = size {
                    media = media.size(size);
                }
                builder.media(media)
            }
            Op::Event(node) => builder.event(node),
            Op::Carousel(cards, action_id) => {
                let mut carousel = Carousel::new();
                for card in cards {
                    let media =
                        if card.video { CardMedia::video(card.media_url) } else { CardMedia::image(card.media_url) };
                    let mut built = Card::new(card.title, media);
                    if let Some(subtitle) = card.subtitle {
                        built = built.subtitle(subtitle);
                    }
                    for op in card.buttons {
                        built = built.button(button(op));
                    }
                    if let Some(op) = card.default_action {
                        built = built.default_action(default_action(op));
                    }
                    carousel = carousel.card(built);
                }
                if let Some(id) = action_id {
                    carousel = carousel.action_id(id);
                }
                builder.carousel(carousel)
            }
            Op::Webview(name, label, url, h, node) => {
                let mut webview = Webview::new(name, label, url);
                if let Some(h) = h {
                    webview = webview.height(height(h));
                }
                if let Some(node) = node {
                    webview = webview.trigger_node_id(node);
                }
                builder.webview(webview)
            }
            Op::Reset => builder.reset(),
            Op::Context(key, value) => builder.context(key, value),
            Op::ContextNumber(key, value) => builder.context(key, value),
        };
    }
    moveo_dialog_tests::properties::built_reply_is_valid(builder.build());
});

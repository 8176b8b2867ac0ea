//! A dialog webhook reply as a readable transcript: what the user would see, and what changes.
//!
//! ```text
//! text      Welcome back! What would you like to do today?
//!           [Products] [Support]
//! carousel  2 cards
//!           1. Product 1
//!              image https://example.com/product1.jpg
//!              [Buy Now] postback buy_product_1
//! context   total_expenses = 100
//! ```
//!
//! Nothing here assumes the reply is valid: a missing field is left out, never a panic.

use serde_json::Value;

const INDENT: &str = "          ";

/// A part of a transcript line a renderer may style (the CLI colours them on a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The response kind in the first column (`text`, `carousel`...).
    Kind,
    /// A label: options, buttons, card titles, context keys.
    Label,
    /// A note: sizes, names, subtitles.
    Dim,
}

/// How a transcript styles its parts: `|_, text| text.to_owned()` for plain text.
pub type Painter<'p> = &'p dyn Fn(Part, &str) -> String;

/// The reply's transcript, one line per string, plain: what the user would see, and what
/// changes in the context. [`TestReply::transcript`](super::TestReply::transcript) joins it.
#[must_use]
pub fn transcript(reply: &Value) -> Vec<String> {
    transcript_styled(reply, &|_, text| text.to_owned())
}

/// [`transcript`] with each part styled by `paint`.
#[must_use]
pub fn transcript_styled(reply: &Value, paint: Painter<'_>) -> Vec<String> {
    let paint = |part: Part, text: &dyn std::fmt::Display| paint(part, &text.to_string());
    let head =
        |kind: &str| format!("{}{}", paint(Part::Kind, &kind), " ".repeat(INDENT.len().saturating_sub(kind.len())));
    let mut lines = Vec::new();
    let style = Style { paint: &paint, head: &head };
    for response in reply.get("responses").and_then(Value::as_array).into_iter().flatten() {
        response_lines(response, &style, &mut lines);
    }
    if let Some(context) = reply.get("context").and_then(Value::as_object) {
        for (index, (key, value)) in context.iter().enumerate() {
            let head = if index == 0 { head("context") } else { INDENT.to_owned() };
            lines.push(format!("{head}{} = {}", paint(Part::Label, key), compact(value)));
        }
    }
    if lines.is_empty() {
        lines.push(paint(Part::Dim, &"(an empty reply: no responses, no context changes)"));
    }
    lines
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The painter and the first-column formatter, for the line builders below.
struct Style<'s> {
    paint: &'s dyn Fn(Part, &dyn std::fmt::Display) -> String,
    head: &'s dyn Fn(&str) -> String,
}

fn response_lines(response: &Value, style: &Style<'_>, lines: &mut Vec<String>) {
    let (paint, head) = (style.paint, style.head);
    let kind = text(response, "type").unwrap_or("?");
    match kind {
        "text" => {
            let texts: Vec<&str> = response
                .get("texts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match texts.as_slice() {
                [] => lines.push(head("text")),
                [only] => lines.push(format!("{}{only}", head("text"))),
                several => {
                    lines.push(format!("{}{}", head("text"), paint(Part::Dim, &format!("one of {}:", several.len()))));
                    lines.extend(several.iter().map(|text| format!("{INDENT}- {text}")));
                }
            }
            let options: Vec<String> = response
                .get("options")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|option| format!("[{}]", text(option, "label").unwrap_or("?")))
                .collect();
            if !options.is_empty() {
                lines.push(format!("{INDENT}{}", paint(Part::Label, &options.join(" "))));
            }
        }
        "image" | "video" | "audio" | "file" => {
            let mut line = format!("{}{}", head(kind), text(response, "url").unwrap_or("?"));
            if let Some(name) = text(response, "name") {
                line.push_str(&format!(" {}", paint(Part::Dim, &format!("\"{name}\""))));
            }
            if let Some(size) = response.get("size").and_then(Value::as_u64) {
                line.push_str(&format!(" {}", paint(Part::Dim, &format!("({size} bytes)"))));
            }
            lines.push(line);
        }
        "carousel" => carousel_lines(response, style, lines),
        "webview" => {
            let label = text(response, "label").unwrap_or("?");
            let mut line = format!(
                "{}{} {}",
                head("webview"),
                paint(Part::Label, &format!("[{label}]")),
                text(response, "url").unwrap_or("?")
            );
            if let Some(height) = text(response, "height") {
                line.push_str(&format!(" {}", paint(Part::Dim, &format!("height {height}"))));
            }
            lines.push(line);
            if let Some(name) = text(response, "name") {
                lines.push(format!("{INDENT}name {name}"));
            }
            if let Some(node) = text(response, "trigger_node_id") {
                lines.push(format!("{INDENT}then triggers node {node}"));
            }
        }
        "event" => {
            lines.push(format!("{}triggers node {}", head("event"), text(response, "trigger_node_id").unwrap_or("?")))
        }
        "reset" => lines.push(format!("{}{}", head("reset"), paint(Part::Dim, &"the conversation starts over"))),
        other => lines.push(format!("{}{}", head(other), compact(response))),
    }
}

fn carousel_lines(response: &Value, style: &Style<'_>, lines: &mut Vec<String>) {
    let (paint, head) = (style.paint, style.head);
    let cards = response.get("cards").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let plural = if cards.len() == 1 { "card" } else { "cards" };
    lines.push(format!("{}{} {plural}", head("carousel"), cards.len()));
    for (index, card) in cards.iter().enumerate() {
        let mut title = format!("{INDENT}{}. {}", index + 1, paint(Part::Label, &text(card, "title").unwrap_or("?")));
        if let Some(subtitle) = text(card, "subtitle") {
            title.push_str(&format!(" {}", paint(Part::Dim, &format!("- {subtitle}"))));
        }
        lines.push(title);
        let inner = format!("{INDENT}   ");
        if let Some(media) = card.get("media") {
            lines.push(format!(
                "{inner}{} {}",
                text(media, "type").unwrap_or("media"),
                text(media, "url").unwrap_or("?")
            ));
        }
        for button in card.get("buttons").and_then(Value::as_array).into_iter().flatten() {
            let kind = text(button, "type").unwrap_or("?");
            let target = if kind == "postback" { text(button, "value") } else { text(button, "url") };
            lines.push(format!(
                "{inner}{} {kind} {}",
                paint(Part::Label, &format!("[{}]", text(button, "label").unwrap_or("?"))),
                target.unwrap_or("?")
            ));
        }
        if let Some(action) = card.get("default_action") {
            lines.push(format!(
                "{inner}tap: {} {}",
                text(action, "type").unwrap_or("?"),
                text(action, "url").or_else(|| text(action, "value")).unwrap_or("?")
            ));
        }
    }
}

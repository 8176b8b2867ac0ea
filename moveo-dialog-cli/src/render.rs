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
//! The reply has been checked against the schema before it is rendered, but nothing here
//! assumes it: a missing field is left out, never a panic.

use serde_json::Value;

use crate::style::{DIM, KIND, LABEL, paint};

const INDENT: &str = "          ";

/// The transcript's lines, styled (plain once printed through `anstream` to a pipe).
pub(crate) fn transcript(reply: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for response in reply.get("responses").and_then(Value::as_array).into_iter().flatten() {
        response_lines(response, &mut lines);
    }
    if let Some(context) = reply.get("context").and_then(Value::as_object) {
        for (index, (key, value)) in context.iter().enumerate() {
            let head = if index == 0 { head("context") } else { INDENT.to_owned() };
            lines.push(format!("{head}{} = {}", paint(LABEL, key), compact(value)));
        }
    }
    if lines.is_empty() {
        lines.push(paint(DIM, "(an empty reply: no responses, no context changes)"));
    }
    lines
}

fn head(kind: &str) -> String {
    format!("{}{}", paint(KIND, kind), " ".repeat(INDENT.len().saturating_sub(kind.len())))
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn response_lines(response: &Value, lines: &mut Vec<String>) {
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
                    lines.push(format!("{}{}", head("text"), paint(DIM, format!("one of {}:", several.len()))));
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
                lines.push(format!("{INDENT}{}", paint(LABEL, options.join(" "))));
            }
        }
        "image" | "video" | "audio" | "file" => {
            let mut line = format!("{}{}", head(kind), text(response, "url").unwrap_or("?"));
            if let Some(name) = text(response, "name") {
                line.push_str(&format!(" {}", paint(DIM, format!("\"{name}\""))));
            }
            if let Some(size) = response.get("size").and_then(Value::as_u64) {
                line.push_str(&format!(" {}", paint(DIM, format!("({size} bytes)"))));
            }
            lines.push(line);
        }
        "carousel" => carousel_lines(response, lines),
        "webview" => {
            let label = text(response, "label").unwrap_or("?");
            let mut line = format!(
                "{}{} {}",
                head("webview"),
                paint(LABEL, format!("[{label}]")),
                text(response, "url").unwrap_or("?")
            );
            if let Some(height) = text(response, "height") {
                line.push_str(&format!(" {}", paint(DIM, format!("height {height}"))));
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
        "reset" => lines.push(format!("{}{}", head("reset"), paint(DIM, "the conversation starts over"))),
        other => lines.push(format!("{}{}", head(other), compact(response))),
    }
}

fn carousel_lines(response: &Value, lines: &mut Vec<String>) {
    let cards = response.get("cards").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let plural = if cards.len() == 1 { "card" } else { "cards" };
    lines.push(format!("{}{} {plural}", head("carousel"), cards.len()));
    for (index, card) in cards.iter().enumerate() {
        let mut title = format!("{INDENT}{}. {}", index + 1, paint(LABEL, text(card, "title").unwrap_or("?")));
        if let Some(subtitle) = text(card, "subtitle") {
            title.push_str(&format!(" {}", paint(DIM, format!("- {subtitle}"))));
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
                paint(LABEL, format!("[{}]", text(button, "label").unwrap_or("?"))),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const GOLDEN_TRANSCRIPT: &str = r#"text      Welcome back!
          [Products] [Support]
text      one of 2:
          - Hi
          - Hello
image     https://example.com/a.jpg "A" (10 bytes)
carousel  1 card
          1. Product 1 - Cheap
             image https://example.com/p1.jpg
             [Buy Now] postback buy_1
             [More] url https://example.com/p1
             tap: url https://example.com/p1
webview   [Visit] https://example.com/ height full
          then triggers node 123e4567-e89b-12d3-a456-426614174000
event     triggers node 123e4567-e89b-12d3-a456-426614174000
reset     the conversation starts over
context   total_expenses = 100
          user = {"language":"en"}"#;

    fn plain(reply: &Value) -> String {
        let lines = transcript(reply);
        let styled = lines.join("\n");
        let mut plain = Vec::new();
        let mut stream = anstream::StripStream::new(&mut plain);
        std::io::Write::write_all(&mut stream, styled.as_bytes()).unwrap();
        String::from_utf8(plain).unwrap()
    }

    #[test]
    fn every_response_type_is_shown() {
        let reply = json!({
            "context": {"total_expenses": 100, "user": {"language": "en"}},
            "responses": [
                {"type": "text", "texts": ["Welcome back!"], "options": [
                    {"label": "Products", "text": "View Products"}, {"label": "Support", "text": "Contact Support"}]},
                {"type": "text", "texts": ["Hi", "Hello"]},
                {"type": "image", "url": "https://example.com/a.jpg", "name": "A", "size": 10},
                {"type": "carousel", "cards": [{"title": "Product 1", "subtitle": "Cheap",
                    "media": {"type": "image", "url": "https://example.com/p1.jpg"},
                    "buttons": [{"type": "postback", "label": "Buy Now", "value": "buy_1"},
                                {"type": "url", "label": "More", "url": "https://example.com/p1"}],
                    "default_action": {"type": "url", "url": "https://example.com/p1"}}]},
                {"type": "webview", "label": "Visit", "url": "https://example.com/", "height": "full",
                 "trigger_node_id": "123e4567-e89b-12d3-a456-426614174000"},
                {"type": "event", "trigger_node_id": "123e4567-e89b-12d3-a456-426614174000"},
                {"type": "reset"}
            ]
        });
        let text = plain(&reply);
        // The transcript the renderer gave before it moved into the library
        // (`moveo_dialog::testing::transcript`): the bytes must stay the same.
        assert_eq!(text, GOLDEN_TRANSCRIPT);
        for expected in [
            "text      Welcome back!",
            "[Products] [Support]",
            "one of 2:",
            "- Hello",
            "image     https://example.com/a.jpg \"A\" (10 bytes)",
            "carousel  1 card",
            "1. Product 1 - Cheap",
            "image https://example.com/p1.jpg",
            "[Buy Now] postback buy_1",
            "[More] url https://example.com/p1",
            "tap: url https://example.com/p1",
            "webview   [Visit] https://example.com/ height full",
            "then triggers node 123e4567-e89b-12d3-a456-426614174000",
            "event     triggers node 123e4567",
            "reset",
            "context   total_expenses = 100",
            "user = {\"language\":\"en\"}",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
        }
        assert!(!text.contains('\u{1b}'), "no escape codes once stripped");
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        for reply in [json!({}), json!({"responses": [{"type": "carousel"}, {}, {"type": 3}]}), json!([1, 2])] {
            assert!(!transcript(&reply).is_empty());
        }
    }
}

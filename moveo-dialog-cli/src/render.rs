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

use moveo_dialog::testing::Part;
use serde_json::Value;

use crate::style::{DIM, KIND, LABEL, paint};

/// The transcript's lines, styled (plain once printed through `anstream` to a pipe): the
/// library's renderer ([`moveo_dialog::testing::transcript`], what tests snapshot), coloured.
pub(crate) fn transcript(reply: &Value) -> Vec<String> {
    moveo_dialog::testing::transcript_styled(reply, &|part, text| match part {
        Part::Kind => paint(KIND, text),
        Part::Label => paint(LABEL, text),
        _ => paint(DIM, text),
    })
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

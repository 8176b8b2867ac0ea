//! Where two JSON documents differ, as JSON pointers: what a snapshot mismatch shows.

use serde_json::Value;

/// Every difference between `expected` and `actual`, one line each, such as
/// `/responses/0/texts/0: expected "Hi", got "Hello"`.
pub(crate) fn differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(&mut String::new(), expected, actual, &mut found);
    found
}

fn show(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    if text.chars().count() > 120 { format!("{}...", text.chars().take(117).collect::<String>()) } else { text }
}

fn walk(pointer: &mut String, expected: &Value, actual: &Value, found: &mut Vec<String>) {
    let at = |pointer: &str| if pointer.is_empty() { "/".to_owned() } else { pointer.to_owned() };
    match (expected, actual) {
        (Value::Object(left), Value::Object(right)) => {
            for (key, value) in left {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                match right.get(key) {
                    Some(other) => walk(pointer, value, other, found),
                    None => found.push(format!("{}: missing, expected {}", at(pointer), show(value))),
                }
                pointer.truncate(len);
            }
            for (key, value) in right.iter().filter(|(key, _)| !left.contains_key(*key)) {
                let key = key.replace('~', "~0").replace('/', "~1");
                found.push(format!("{pointer}/{key}: unexpected {}", show(value)));
            }
        }
        (Value::Array(left), Value::Array(right)) => {
            for (index, (value, other)) in left.iter().zip(right).enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{index}"));
                walk(pointer, value, other, found);
                pointer.truncate(len);
            }
            if left.len() != right.len() {
                found.push(format!("{}: expected {} items, got {}", at(pointer), left.len(), right.len()));
            }
        }
        _ if expected != actual => {
            found.push(format!("{}: expected {}, got {}", at(pointer), show(expected), show(actual)));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn equal_documents_have_no_differences() {
        let reply = json!({"responses": [{"type": "text", "texts": ["Hi"]}], "context": {"a": 1}});
        assert!(differences(&reply, &reply.clone()).is_empty());
    }

    #[test]
    fn each_difference_is_named_by_its_pointer() {
        let expected = json!({"responses": [{"type": "text", "texts": ["Hi"]}], "context": {"a/b": 1, "gone": true}});
        let actual = json!({"responses": [{"type": "text", "texts": ["Hello"]}, {"type": "reset"}],
                            "context": {"a/b": 2, "new": null}});
        assert_eq!(
            differences(&expected, &actual),
            [
                "/context/a~1b: expected 1, got 2",
                "/context/gone: missing, expected true",
                "/context/new: unexpected null",
                "/responses/0/texts/0: expected \"Hi\", got \"Hello\"",
                "/responses: expected 1 items, got 2",
            ]
        );
        assert_eq!(differences(&json!(1), &json!("1")), ["/: expected 1, got \"1\""]);
    }
}

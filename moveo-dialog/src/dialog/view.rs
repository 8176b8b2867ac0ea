//! The borrowed view of a dialog webhook request that the router decodes on every call: the
//! same checks as [`DialogRequest`](crate::DialogRequest)'s own decoding (every documented
//! field's type, duplicate keys refused, a JSON object at the top), but nothing is copied out of
//! the body except what routing reads. The context stays raw JSON for
//! [`Context<T>`](crate::extract::Context) to decode `T` from directly; the whole
//! `DialogRequest` is decoded only when a handler asks for it.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use serde_json::value::RawValue;

/// What routing reads, and where the context is.
pub(crate) struct RequestView<'a> {
    /// The raw JSON of `context` (an object), when present and not null.
    pub(crate) context: Option<&'a RawValue>,
    pub(crate) intents: Vec<IntentView<'a>>,
    /// The name of the last node on the dialog stack.
    pub(crate) node: Option<Text<'a>>,
}

impl RequestView<'_> {
    pub(crate) fn node_name(&self) -> Option<&str> {
        self.node.as_ref().map(|name| &*name.0)
    }
}

/// A JSON string, borrowed from the body when it holds no escapes.
#[derive(Default)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A JSON string, checked and dropped.
#[derive(Default)]
struct AnyText;

impl<'de> Deserialize<'de> for AnyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnyTextVisitor;
        impl Visitor<'_> for AnyTextVisitor {
            type Value = AnyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<AnyText, E> {
                Ok(AnyText)
            }
        }
        deserializer.deserialize_str(AnyTextVisitor)
    }
}

/// A JSON array of `T`, each element checked and dropped.
struct Each<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Each<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EachVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for EachVisitor<T> {
            type Value = Each<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Each<T>, A::Error> {
                while seq.next_element::<T>()?.is_some() {}
                Ok(Each(std::marker::PhantomData))
            }
        }
        deserializer.deserialize_seq(EachVisitor(std::marker::PhantomData))
    }
}

/// [`Intent`](crate::Intent), borrowed.
#[derive(serde::Deserialize)]
pub(crate) struct IntentView<'a> {
    #[serde(borrow)]
    pub(crate) intent: Text<'a>,
    pub(crate) confidence: f64,
}

/// [`Input`](crate::Input), checked.
#[derive(serde::Deserialize)]
struct InputView {
    #[serde(default, rename = "text")]
    _text: Option<AnyText>,
}

/// [`Entity`](crate::Entity), checked.
#[derive(serde::Deserialize)]
struct EntityView {
    #[serde(rename = "entity")]
    _entity: AnyText,
    #[serde(rename = "value")]
    _value: AnyText,
    #[serde(default, rename = "start")]
    _start: Option<u64>,
    #[serde(default, rename = "end")]
    _end: Option<u64>,
    #[serde(default, rename = "confidence")]
    _confidence: Option<f64>,
    #[serde(default, rename = "type")]
    _kind: Option<AnyText>,
}

/// [`DialogNode`](crate::DialogNode), with the name kept.
#[derive(serde::Deserialize)]
struct NodeView<'a> {
    #[serde(default, rename = "node_id")]
    _node_id: AnyText,
    #[serde(default, borrow)]
    name: Text<'a>,
}

/// [`DialogDebug`](crate::DialogDebug): the last node's name.
#[derive(serde::Deserialize)]
struct DebugView<'a> {
    #[serde(default, borrow, deserialize_with = "last_node")]
    dialog_stack: Option<Text<'a>>,
}

/// The name of the last node of a stack (`null` is an empty stack).
fn last_node<'de: 'a, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Text<'a>>, D::Error> {
    struct StackVisitor;
    impl<'de> Visitor<'de> for StackVisitor {
        type Value = Option<Text<'de>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_seq(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut last = None;
            while let Some(node) = seq.next_element::<NodeView<'de>>()? {
                last = Some(node.name);
            }
            Ok(last)
        }
    }
    deserializer.deserialize_option(StackVisitor)
}

/// Reads an optional field once; a second occurrence is an error, as with serde's derive.
fn once<'de, A, T>(map: &mut A, seen: &mut bool, name: &'static str) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    if std::mem::replace(seen, true) {
        return Err(de::Error::duplicate_field(name));
    }
    map.next_value::<Option<T>>()
}

/// How deep a value under the top-level object may nest, its own brackets included:
/// `serde_json` refuses a 128th level when it builds a `Value`, as `DialogRequest` does for the
/// context and unknown fields; a raw value is skipped without that limit, so it is counted here.
const MAX_DEPTH: usize = 126;

/// Why a raw value would not become a `serde_json::Value`, if it would not: too deep, or a
/// number out of `f64`'s range (`serde_json` refuses both; skipping a raw value checks neither).
fn unfit(raw: &str) -> Option<&'static str> {
    let bytes = raw.as_bytes();
    let (mut depth, mut at) = (0usize, 0usize);
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => {
                at += 1;
                while let Some(&byte) = bytes.get(at) {
                    at += if byte == b'\\' { 2 } else { 1 };
                    if byte == b'"' {
                        break;
                    }
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some("nests too many arrays or objects deep");
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'-' | b'0'..=b'9' => {
                let end = bytes[at..]
                    .iter()
                    .position(|byte| !matches!(byte, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .map_or(bytes.len(), |length| at + length);
                let number = raw.get(at..end).unwrap_or_default();
                // Without an exponent, only a number of over 300 digits can leave f64's range.
                let plain = number.len() < 300 && !number.bytes().any(|byte| matches!(byte, b'e' | b'E'));
                if !plain && !number.parse::<f64>().is_ok_and(f64::is_finite) {
                    return Some("holds a number out of range");
                }
                at = end;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    None
}

fn unfit_field<E: de::Error>(field: &str, why: &str) -> E {
    E::custom(format_args!("`{field}` {why}"))
}

fn kind_of(raw: &str) -> Unexpected<'_> {
    match raw.as_bytes().first() {
        Some(b'[') => Unexpected::Seq,
        Some(b'"') => Unexpected::Other("string"),
        Some(b't' | b'f') => Unexpected::Other("boolean"),
        _ => Unexpected::Other("number"),
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RequestView<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ViewVisitor)
    }
}

struct ViewVisitor;

impl<'de> Visitor<'de> for ViewVisitor {
    type Value = RequestView<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a dialog webhook request (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestView<'de>, A::Error> {
        let mut view = RequestView { context: None, intents: Vec::new(), node: None };
        let mut seen = [false; 11];
        let mut unknown: Vec<Text<'de>> = Vec::new();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key.0 {
                "channel" => {
                    once::<_, AnyText>(&mut map, &mut seen[0], "channel")?;
                }
                "session_id" => {
                    once::<_, AnyText>(&mut map, &mut seen[1], "session_id")?;
                }
                "brain_id" => {
                    once::<_, AnyText>(&mut map, &mut seen[2], "brain_id")?;
                }
                "lang" => {
                    once::<_, AnyText>(&mut map, &mut seen[3], "lang")?;
                }
                "verify_token" => {
                    once::<_, AnyText>(&mut map, &mut seen[4], "verify_token")?;
                }
                "context" => {
                    let raw = once::<_, &'de RawValue>(&mut map, &mut seen[5], "context")?;
                    if let Some(raw) = raw.filter(|raw| raw.get() != "null") {
                        if !raw.get().starts_with('{') {
                            return Err(de::Error::invalid_type(kind_of(raw.get()), &"a map"));
                        }
                        if let Some(why) = unfit(raw.get()) {
                            return Err(unfit_field("context", why));
                        }
                        view.context = Some(raw);
                    }
                }
                "input" => {
                    once::<_, InputView>(&mut map, &mut seen[6], "input")?;
                }
                "intents" => {
                    view.intents =
                        once::<_, Vec<IntentView<'de>>>(&mut map, &mut seen[7], "intents")?.unwrap_or_default();
                }
                "entities" => {
                    once::<_, Each<EntityView>>(&mut map, &mut seen[8], "entities")?;
                }
                "tags" => {
                    once::<_, Each<AnyText>>(&mut map, &mut seen[9], "tags")?;
                }
                "debug" => {
                    let debug = once::<_, DebugView<'de>>(&mut map, &mut seen[10], "debug")?;
                    view.node = debug.and_then(|debug| debug.dialog_stack);
                }
                _ => {
                    if let Some(why) = unfit(map.next_value::<&'de RawValue>()?.get()) {
                        return Err(unfit_field(&key.0, why));
                    }
                    if unknown.iter().any(|seen| seen.0 == key.0) {
                        return Err(de::Error::custom(format_args!("duplicate field `{}`", key.0)));
                    }
                    unknown.push(key);
                }
            }
        }
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::RequestView;
    use crate::DialogRequest;

    /// The view accepts exactly what `DialogRequest` accepts, so the full request decoded later
    /// from the same bytes never fails.
    #[test]
    fn the_view_accepts_and_refuses_what_the_request_does() {
        let bodies = [
            include_str!("../../../tests/fixtures/spec/dialog-request.json"),
            "{}",
            r#"{"context": null, "debug": {"dialog_stack": null}}"#,
            r#"{"context": {"a": 1}, "x": 1, "y": [1, {"z": null}]}"#,
            r#"{"context": "text"}"#,
            r#"{"context": [1]}"#,
            r#"{"context": 3}"#,
            r#"{"context": true}"#,
            r#"{"channel": 5}"#,
            r#"{"channel": null, "lang": "en\u00e9"}"#,
            r#"{"channel": "web", "channel": "web"}"#,
            r#"{"x": 1, "x": 2}"#,
            r#"{"intents": [{"intent": "a"}]}"#,
            r#"{"intents": [{"intent": "a", "confidence": "high"}]}"#,
            r#"{"intents": [{"intent": "a", "confidence": 1, "extra": 2}]}"#,
            r#"{"entities": [{"entity": "a"}]}"#,
            r#"{"entities": [{"entity": "a", "value": "b", "start": -1}]}"#,
            r#"{"entities": [{"entity": "a", "value": "b", "type": null}]}"#,
            r#"{"tags": ["a", 1]}"#,
            r#"{"tags": null}"#,
            r#"{"input": {"text": null}}"#,
            r#"{"input": {"text": 1}}"#,
            r#"{"input": "hi"}"#,
            r#"{"debug": {"dialog_stack": [{"name": "a"}, {"node_id": "n"}]}}"#,
            r#"{"debug": {"dialog_stack": [{"name": null}]}}"#,
            r#"{"debug": {"dialog_stack": [{"node_id": 1}]}}"#,
            r#"{"debug": {"dialog_stack": {}}}"#,
            r#"{"debug": null}"#,
            "[]",
            "null",
            r#"{"context": {"n": 1e999999}}"#,
            r#"{"context": {"n": -1e308, "m": 1e-999999, "s": "1e999999 \\\" [[["}}"#,
            r#"{"future": [1.5e309]}"#,
            r#"{"future": {"n": 123456789012345678901234567890}}"#,
        ];
        let huge_integer = format!(r#"{{"context": {{"n": {}}}}}"#, "9".repeat(400));
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let deep: Vec<String> = (124..=128)
            .flat_map(|depth| {
                let inner = nested(depth - 1);
                [
                    format!(r#"{{"context": {{"a": {inner}}}}}"#),
                    format!(r#"{{"future": {}}}"#, nested(depth)),
                    format!(r#"{{"future": "{}"}}"#, "[".repeat(depth + 10)),
                ]
            })
            .collect();
        let generated = deep.iter().chain([&huge_integer]).map(String::as_str);
        for body in bodies.iter().copied().chain(generated) {
            let full = serde_json::from_str::<DialogRequest>(body);
            let view = serde_json::from_str::<RequestView<'_>>(body);
            assert_eq!(view.is_ok(), full.is_ok(), "{body}: view {:?}, request {:?}", view.err(), full.err());
            if let (Ok(view), Ok(full)) = (view, full) {
                assert_eq!(view.node_name(), full.node_name(), "{body}");
                let intents: Vec<_> = view.intents.iter().map(|i| (i.intent.0.to_string(), i.confidence)).collect();
                let expected: Vec<_> = full.intents.iter().map(|i| (i.intent.clone(), i.confidence)).collect();
                assert_eq!(intents, expected, "{body}");
                let context = view.context.map(|raw| serde_json::from_str(raw.get()).unwrap()).unwrap_or_default();
                assert_eq!(full.context, context, "{body}");
            }
        }
    }
}

//! The borrowed view of a dialog webhook request that the router decodes on every call: the
//! body is JSON, its top level an object without duplicate keys; what routing reads (the dialog
//! stack, the intents) has its documented types; the context is an object, kept as raw JSON for
//! [`Context<T>`](crate::extract::Context) to decode `T` from directly, or, when every handler
//! the call can reach reads the context as the same `T`, decoded into `T` in this same pass
//! ([`decode_with_context`]). Nothing is copied out of the body but the last node's name and
//! the intents. Each extractor checks what it reads: the whole
//! [`DialogRequest`](crate::DialogRequest) (`input`, `entities`, `tags`, the scalar fields,
//! every context value) is decoded, and checked, only when a handler asks for it.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected,
    Visitor,
};
use serde_json::value::RawValue;

use crate::borrowed::Text;

/// What routing reads, and the context.
pub(crate) struct RequestView<'a> {
    pub(crate) context: ContextView<'a>,
    pub(crate) intents: Vec<IntentView<'a>>,
    /// The name of the last node on the dialog stack.
    pub(crate) node: Option<Text<'a>>,
}

/// The request's `context`, as the view read it.
pub(crate) enum ContextView<'a> {
    /// Absent, or `null`.
    Absent,
    /// The raw JSON of the object, for [`Context<T>`](crate::extract::Context) to decode.
    Raw(&'a RawValue),
    /// The object, already decoded into the one type the call's handlers read it as.
    Decoded(Box<dyn Any + Send>),
}

impl RequestView<'_> {
    pub(crate) fn node_name(&self) -> Option<&str> {
        self.node.as_ref().map(|name| &*name.0)
    }
}

/// Where the context's JSON object is in `body`: `None` when it is absent or null, or when the
/// body is not a request the router accepts.
pub(crate) fn context_range(body: &[u8]) -> Option<Range<usize>> {
    let view: RequestView<'_> = crate::serve::pipeline::decode_tracked(body).ok()?;
    let ContextView::Raw(raw) = view.context else { return None };
    range_in(body, raw)
}

/// Where `raw` (a slice of `body`) starts and ends in it.
pub(crate) fn range_in(body: &[u8], raw: &RawValue) -> Option<Range<usize>> {
    let part = raw.get();
    let start = (part.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= body.len()).then_some(start..end)
}

/// The view of `body` with its context decoded into `T` in the same pass, when everything fits:
/// the body is a request the router accepts and its context (when present) is an object that
/// decodes into `T`. `None` otherwise, and the caller decodes the view with the context kept
/// raw, which answers exactly as before (the rejection of a body that does not fit, the
/// rejection of `Context<T>` naming the path of a context that does not fit `T`): this pass
/// accepts nothing the raw view refuses, and its `T` is the value `Context<T>` would decode.
pub(crate) fn decode_with_context<T>(body: &[u8]) -> Option<RequestView<'_>>
where
    T: DeserializeOwned + Send + 'static,
{
    let text = std::str::from_utf8(body).ok()?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let view = deserializer.deserialize_map(ViewVisitor::<Typed<T>>(PhantomData)).ok()?;
    deserializer.end().ok()?;
    Some(view)
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

/// [`Intent`](crate::Intent), borrowed.
#[derive(serde::Deserialize)]
pub(crate) struct IntentView<'a> {
    #[serde(borrow)]
    pub(crate) intent: Text<'a>,
    pub(crate) confidence: f64,
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

/// Skips a field the router does not read (checked when a handler asks for the whole request),
/// refusing a second occurrence. Not inlined: the seven fields it skips share one copy of the
/// code, which a call runs seven times, rather than seven copies that it runs once each.
#[inline(never)]
fn skip_once<'de, A: MapAccess<'de>>(map: &mut A, seen: &mut bool, name: &'static str) -> Result<(), A::Error> {
    if std::mem::replace(seen, true) {
        return Err(duplicate(name));
    }
    map.next_value::<IgnoredAny>().map(drop)
}

#[cold]
#[inline(never)]
fn duplicate<E: de::Error>(name: &'static str) -> E {
    E::duplicate_field(name)
}

/// Reads an optional field once; a second occurrence is an error, as with serde's derive.
fn once<'de, A, T>(map: &mut A, seen: &mut bool, name: &'static str) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    if std::mem::replace(seen, true) {
        return Err(duplicate(name));
    }
    map.next_value::<Option<T>>()
}

fn kind_of(raw: &str) -> Unexpected<'_> {
    match raw.as_bytes().first() {
        Some(b'[') => Unexpected::Seq,
        Some(b'"') => Unexpected::Other("string"),
        Some(b't' | b'f') => Unexpected::Other("boolean"),
        _ => Unexpected::Other("number"),
    }
}

/// How the view reads `context`: kept raw ([`Raw`]) or decoded into a type ([`Typed`]).
trait ReadContext {
    fn read<'de, A: MapAccess<'de>>(map: &mut A, seen: &mut bool) -> Result<ContextView<'de>, A::Error>;
}

/// The context kept as raw JSON; anything but an object or `null` is refused.
struct Raw;

impl ReadContext for Raw {
    fn read<'de, A: MapAccess<'de>>(map: &mut A, seen: &mut bool) -> Result<ContextView<'de>, A::Error> {
        // `null` is absent, as for `DialogRequest`.
        let Some(raw) = once::<_, &'de RawValue>(map, seen, "context")? else { return Ok(ContextView::Absent) };
        if !raw.get().starts_with('{') {
            return Err(de::Error::invalid_type(kind_of(raw.get()), &"a map"));
        }
        Ok(ContextView::Raw(raw))
    }
}

/// The context decoded into `T`, from an object only.
struct Typed<T>(PhantomData<fn() -> T>);

impl<T> ReadContext for Typed<T>
where
    T: DeserializeOwned + Send + 'static,
{
    fn read<'de, A: MapAccess<'de>>(map: &mut A, seen: &mut bool) -> Result<ContextView<'de>, A::Error> {
        if std::mem::replace(seen, true) {
            return Err(duplicate("context"));
        }
        match map.next_value_seed(OptionalObject::<T>(PhantomData))? {
            Some(value) => Ok(ContextView::Decoded(Box::new(value))),
            None => Ok(ContextView::Absent),
        }
    }
}

/// `null`, or an object decoded into `T`. `T` sees the object's entries whatever it asks for
/// (serde's [`MapAccessDeserializer`]), so a struct cannot take the context from an array, as
/// it would from serde_json directly: the raw view refuses an array.
struct OptionalObject<T>(PhantomData<fn() -> T>);

impl<'de, T> DeserializeSeed<'de> for OptionalObject<T>
where
    T: DeserializeOwned,
{
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, T> Visitor<'de> for OptionalObject<T>
where
    T: DeserializeOwned,
{
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Some)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RequestView<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ViewVisitor::<Raw>(PhantomData))
    }
}

struct ViewVisitor<C>(PhantomData<C>);

impl<'de, C: ReadContext> Visitor<'de> for ViewVisitor<C> {
    type Value = RequestView<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a dialog webhook request (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestView<'de>, A::Error> {
        let mut view = RequestView { context: ContextView::Absent, intents: Vec::new(), node: None };
        let mut seen = [false; 11];
        let mut unknown: Vec<Text<'de>> = Vec::new();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key.0 {
                "channel" => skip_once(&mut map, &mut seen[0], "channel")?,
                "session_id" => skip_once(&mut map, &mut seen[1], "session_id")?,
                "brain_id" => skip_once(&mut map, &mut seen[2], "brain_id")?,
                "lang" => skip_once(&mut map, &mut seen[3], "lang")?,
                "verify_token" => skip_once(&mut map, &mut seen[4], "verify_token")?,
                "context" => view.context = C::read(&mut map, &mut seen[5])?,
                "input" => skip_once(&mut map, &mut seen[6], "input")?,
                "intents" => {
                    view.intents =
                        once::<_, Vec<IntentView<'de>>>(&mut map, &mut seen[7], "intents")?.unwrap_or_default();
                }
                "entities" => skip_once(&mut map, &mut seen[8], "entities")?,
                "tags" => skip_once(&mut map, &mut seen[9], "tags")?,
                "debug" => {
                    let debug = once::<_, DebugView<'de>>(&mut map, &mut seen[10], "debug")?;
                    view.node = debug.and_then(|debug| debug.dialog_stack);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
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
    use super::{ContextView, RequestView, decode_with_context};
    use crate::DialogRequest;

    fn view(body: &str) -> Result<RequestView<'_>, serde_json::Error> {
        serde_json::from_str(body)
    }

    /// What `DialogRequest` accepts, the view accepts, and reads the same node, intents and
    /// context from.
    #[test]
    fn the_view_accepts_every_request_and_reads_what_it_reads() {
        let bodies = [
            include_str!("../../../tests/fixtures/spec/dialog-request.json"),
            "{}",
            r#"{"context": null, "debug": {"dialog_stack": null}}"#,
            r#"{"context": {"a": 1}, "x": 1, "y": [1, {"z": null}]}"#,
            r#"{"channel": null, "lang": "en\u00e9"}"#,
            r#"{"intents": [{"intent": "a", "confidence": 1, "extra": 2}, {"intent": "b\n", "confidence": 0.5}]}"#,
            r#"{"entities": [{"entity": "a", "value": "b", "type": null}]}"#,
            r#"{"tags": null, "input": {"text": null}}"#,
            r#"{"debug": {"dialog_stack": [{"name": "a"}, {"node_id": "n"}]}}"#,
            r#"{"debug": {"dialog_stack": [{"node_id": "n", "name": "plan"}]}, "debug_extra": {}}"#,
            r#"{"debug": null}"#,
        ];
        for body in bodies {
            let full: DialogRequest = serde_json::from_str(body).unwrap_or_else(|err| panic!("{body}: {err}"));
            let view = view(body).unwrap_or_else(|err| panic!("{body}: {err}"));
            assert_eq!(view.node_name(), full.node_name(), "{body}");
            let intents: Vec<_> = view.intents.iter().map(|i| (i.intent.0.to_string(), i.confidence)).collect();
            let expected: Vec<_> = full.intents.iter().map(|i| (i.intent.clone(), i.confidence)).collect();
            assert_eq!(intents, expected, "{body}");
            let context = match view.context {
                super::ContextView::Raw(raw) => serde_json::from_str(raw.get()).unwrap(),
                _ => serde_json::Map::new(),
            };
            assert_eq!(full.context, context, "{body}");
        }
    }

    /// What routing would trip on, the view refuses (400 before routing);
    /// what only `DialogRequest` reads, it leaves to the handler that asks for it.
    #[test]
    fn the_view_refuses_what_routing_reads_wrong_and_leaves_the_rest() {
        let refused = [
            "[]",
            "null",
            r#"{"context": "text"}"#,
            r#"{"context": [1]}"#,
            r#"{"context": 3}"#,
            r#"{"channel": "web", "channel": "web"}"#,
            r#"{"tags": [], "tags": []}"#,
            r#"{"x": 1, "x": 2}"#,
            r#"{"intents": [{"intent": "a"}]}"#,
            r#"{"intents": [{"intent": "a", "confidence": "high"}]}"#,
            r#"{"debug": {"dialog_stack": [{"name": null}]}}"#,
            r#"{"debug": {"dialog_stack": [{"node_id": 1}]}}"#,
            r#"{"debug": {"dialog_stack": {}}}"#,
            r#"{"session_id": "a""#,
        ];
        for body in refused {
            assert!(view(body).is_err(), "{body}");
            assert!(serde_json::from_str::<DialogRequest>(body).is_err(), "{body}");
        }
        let left = [
            r#"{"channel": 5}"#,
            r#"{"input": {"text": 1}}"#,
            r#"{"input": "hi"}"#,
            r#"{"tags": ["a", 1]}"#,
            r#"{"entities": [{"entity": "a"}]}"#,
            r#"{"entities": [{"entity": "a", "value": "b", "start": -1}]}"#,
            r#"{"context": {"n": 1e999999}}"#,
            r#"{"future": [1.5e309]}"#,
        ];
        for body in left {
            assert!(view(body).is_ok(), "{body}");
            assert!(serde_json::from_str::<DialogRequest>(body).is_err(), "{body}");
        }
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Trip {
        destination: Option<String>,
        #[serde(default)]
        months: Vec<u8>,
    }

    /// The view with the context decoded in the same pass accepts a body only when the raw view
    /// does and `Context<T>` would decode the same `T` from it; anything else (a body the raw
    /// view refuses, a context that does not fit `T`) it leaves to the raw view.
    fn agrees<T>(body: &str)
    where
        T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug + Send + 'static,
    {
        let raw = view(body);
        let Some(typed) = decode_with_context::<T>(body.as_bytes()) else {
            let fits = raw.as_ref().ok().map(|raw| match &raw.context {
                ContextView::Raw(json) => serde_json::from_str::<T>(json.get()).is_ok(),
                _ => false,
            });
            assert_ne!(fits, Some(true), "{body}: the raw view and T accept it, the typed view does not");
            return;
        };
        let raw = raw.unwrap_or_else(|err| panic!("{body}: the typed view accepts what the raw view refuses: {err}"));
        assert_eq!(typed.node_name(), raw.node_name(), "{body}");
        assert_eq!(typed.intents.len(), raw.intents.len(), "{body}");
        match (typed.context, raw.context) {
            (ContextView::Absent, ContextView::Absent) => {}
            (ContextView::Decoded(value), ContextView::Raw(json)) => {
                let value = value.downcast::<T>().unwrap_or_else(|_| panic!("{body}: not a T"));
                assert_eq!(*value, serde_json::from_str::<T>(json.get()).unwrap(), "{body}");
            }
            _ => panic!("{body}: the views read the context differently"),
        }
    }

    #[test]
    fn the_view_that_decodes_the_context_agrees_with_the_raw_view() {
        let bodies = [
            include_str!("../../../tests/fixtures/spec/dialog-request.json"),
            "{}",
            r#"{"context": null, "debug": {"dialog_stack": null}}"#,
            r#"{"context": {"destination": "Spain", "x": [1, {"y": null}]}, "intents": [{"intent": "a", "confidence": 1}]}"#,
            r#"{"context": {"destination": "Sp\u00e4in", "months": [3, 6]}}"#,
            r#"{"context": {}}"#,
            // Refused by the raw view, though serde_json would decode a struct from an array.
            r#"{"context": ["Spain", [3]]}"#,
            r#"{"context": "Spain"}"#,
            r#"{"context": 3}"#,
            r#"{"context": {"destination": "Spain"}, "context": {"destination": "Italy"}}"#,
            // Does not fit T: left to `Context<T>`, which names the path.
            r#"{"context": {"destination": 5}}"#,
            r#"{"context": {"destination": "a", "destination": "b"}}"#,
            r#"{"context": {"months": [300]}}"#,
            r#"{"context": {"n": 1e999999}}"#,
            // The rest of the body does not fit, or is not JSON.
            r#"{"context": {"destination": "Spain"}, "debug": {"dialog_stack": [{"name": 7}]}}"#,
            r#"{"context": {"destination": "Spain"}, "intents": [{"intent": "a"}]}"#,
            r#"{"context": {"destination": "Spain"}} trailing"#,
            r#"{"context": {"destination": "Spain"}"#,
            r#"{"context": {"destination": "Spain"}, "x": 1, "x": 2}"#,
        ];
        for body in bodies {
            agrees::<Trip>(body);
            agrees::<serde_json::Map<String, serde_json::Value>>(body);
            agrees::<serde_json::Value>(body);
            agrees::<std::collections::BTreeMap<String, serde_json::Value>>(body);
        }
    }
}

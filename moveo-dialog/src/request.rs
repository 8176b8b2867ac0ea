//! The incoming dialog webhook request, typed.

use std::fmt;

use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The JSON body Moveo POSTs when a dialog node's webhook action fires.
///
/// Every field is optional or defaults to empty, since the documentation promises none of them.
/// Fields the documentation does not name are kept in [`extra`](Self::extra). The verify token
/// is never shown by `Debug`.
///
/// ```
/// use moveo_dialog::DialogRequest;
///
/// let request: DialogRequest = serde_json::from_str(r#"{
///     "session_id": "00d2ff33-706e-4a2c-8544-df6c9d0c1ecf",
///     "context": {"destination": "England", "total_months": 3},
///     "intents": [{"intent": "erasmus", "confidence": 0.89}],
///     "debug": {"dialog_stack": [
///         {"node_id": "35411a26-cff7-4fb3-a2e9-0e8e6ada048a", "name": "greetings"},
///         {"node_id": "a85b10e8-e7f3-40df-9715-196c4eae5f14", "name": "plan_erasmus"}
///     ]}
/// }"#)?;
/// assert_eq!(request.node_name(), Some("plan_erasmus"));
/// assert_eq!(request.top_intent().map(|i| i.intent.as_str()), Some("erasmus"));
/// assert_eq!(request.context_value::<u32>("total_months")?, Some(3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DialogRequest {
    /// The channel the message came from (`"web"`, `"viber"`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The id of the user's session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The id of the AI agent (not always a UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brain_id: Option<String>,
    /// The language of the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The verify token from the webhook's configuration. It is also the HMAC key of the
    /// signature, so it is never serialised (a serialised request cannot be used to forge
    /// calls) and `Debug` shows `<redacted>`.
    #[serde(skip_serializing)]
    pub verify_token: Option<String>,
    /// The context variables collected so far.
    pub context: Map<String, Value>,
    /// The user input that triggered the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
    /// The intents recognised, sorted by confidence.
    pub intents: Vec<Intent>,
    /// The entities recognised in the input.
    pub entities: Vec<Entity>,
    /// The session's tags.
    pub tags: Vec<String>,
    /// The dialog state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug: Option<DialogDebug>,
    /// Top-level fields the documentation does not name, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The user input that triggered the dialog node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Input {
    /// What the user typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A recognised intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Intent {
    /// The intent's name.
    pub intent: String,
    /// The confidence, between 0 and 1.
    pub confidence: f64,
}

/// A recognised entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entity {
    /// The entity type, such as `firstname`.
    pub entity: String,
    /// The value found in the user's input.
    pub value: String,
    /// Where the value starts in the user's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// Where the value ends in the user's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
    /// The detection confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// `"user"`, `"system"`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Information on the dialog state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DialogDebug {
    /// The nodes on the dialog stack; the last one is the node whose action fired.
    #[serde(default, deserialize_with = "null_as_default")]
    pub dialog_stack: Vec<DialogNode>,
}

/// A node on the dialog stack.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DialogNode {
    /// The node's id.
    #[serde(default)]
    pub node_id: String,
    /// The node's name.
    #[serde(default)]
    pub name: String,
}

impl DialogRequest {
    /// The node whose webhook action fired: the last entry of the dialog stack.
    #[must_use]
    pub fn last_node(&self) -> Option<&DialogNode> {
        self.debug.as_ref()?.dialog_stack.last()
    }

    /// The name of the node whose webhook action fired.
    #[must_use]
    pub fn node_name(&self) -> Option<&str> {
        self.last_node().map(|node| node.name.as_str())
    }

    /// The intent with the highest confidence.
    #[must_use]
    pub fn top_intent(&self) -> Option<&Intent> {
        self.intents.iter().reduce(|best, intent| if intent.confidence > best.confidence { intent } else { best })
    }

    /// The first entity of type `name`.
    #[must_use]
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|entity| entity.entity == name)
    }

    /// The text the user typed.
    #[must_use]
    pub fn input_text(&self) -> Option<&str> {
        self.input.as_ref()?.text.as_deref()
    }

    /// The context variable `key`, decoded into `T`; `Ok(None)` when it is absent or null.
    ///
    /// # Errors
    ///
    /// When the value does not fit `T`; the error names the key.
    pub fn context_value<T>(&self, key: &str) -> Result<Option<T>, ContextValueError>
    where
        T: DeserializeOwned,
    {
        match self.context.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => {
                T::deserialize(value).map(Some).map_err(|source| ContextValueError { key: key.to_owned(), source })
            }
        }
    }
}

/// A context value that does not fit the type asked for.
#[derive(Debug, thiserror::Error)]
#[error("context.{key}: {source}")]
pub struct ContextValueError {
    key: String,
    #[source]
    source: serde_json::Error,
}

impl ContextValueError {
    /// The context key whose value did not fit.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for DialogRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DialogRequest")
            .field("channel", &self.channel)
            .field("session_id", &self.session_id)
            .field("brain_id", &self.brain_id)
            .field("lang", &self.lang)
            .field("verify_token", &self.verify_token.as_ref().map(|_| "<redacted>"))
            .field("context", &self.context)
            .field("input", &self.input)
            .field("intents", &self.intents)
            .field("entities", &self.entities)
            .field("tags", &self.tags)
            .field("debug", &self.debug)
            .field("extra", &self.extra)
            .finish()
    }
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Hand-written so that unknown fields land in `extra` without the buffering that
/// `#[serde(flatten)]` costs on the common path.
impl<'de> Deserialize<'de> for DialogRequest {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserializer.deserialize_map(RequestVisitor)
    }
}

struct RequestVisitor;

/// Reads an optional field once; a second occurrence is an error, as with serde's derive.
fn once<'de, A, T>(map: &mut A, slot: &mut Option<T>, seen: &mut bool, name: &'static str) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    if std::mem::replace(seen, true) {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = map.next_value::<Option<T>>()?;
    Ok(())
}

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = DialogRequest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a dialog webhook request (a JSON object)")
    }

    fn visit_map<A>(self, mut map: A) -> Result<DialogRequest, A::Error>
    where
        A: MapAccess<'de>,
    {
        let mut request = DialogRequest::default();
        let mut context = None;
        let mut intents = None;
        let mut entities = None;
        let mut tags = None;
        let mut seen = [false; 11];
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "channel" => once(&mut map, &mut request.channel, &mut seen[0], "channel")?,
                "session_id" => once(&mut map, &mut request.session_id, &mut seen[1], "session_id")?,
                "brain_id" => once(&mut map, &mut request.brain_id, &mut seen[2], "brain_id")?,
                "lang" => once(&mut map, &mut request.lang, &mut seen[3], "lang")?,
                "verify_token" => once(&mut map, &mut request.verify_token, &mut seen[4], "verify_token")?,
                "context" => once(&mut map, &mut context, &mut seen[5], "context")?,
                "input" => once(&mut map, &mut request.input, &mut seen[6], "input")?,
                "intents" => once(&mut map, &mut intents, &mut seen[7], "intents")?,
                "entities" => once(&mut map, &mut entities, &mut seen[8], "entities")?,
                "tags" => once(&mut map, &mut tags, &mut seen[9], "tags")?,
                "debug" => once(&mut map, &mut request.debug, &mut seen[10], "debug")?,
                other => {
                    if request.extra.contains_key(other) {
                        map.next_value::<IgnoredAny>()?;
                        return Err(de::Error::custom(format_args!("duplicate field `{other}`")));
                    }
                    let value = map.next_value::<Value>()?;
                    request.extra.insert(other.to_owned(), value);
                }
            }
        }
        request.context = context.unwrap_or_default();
        request.intents = intents.unwrap_or_default();
        request.entities = entities.unwrap_or_default();
        request.tags = tags.unwrap_or_default();
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = include_str!("../../tests/fixtures/spec/dialog-request.json");

    #[test]
    fn decodes_the_spec_example() {
        let request: DialogRequest = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        assert_eq!(request.channel.as_deref(), Some("web"));
        assert_eq!(request.brain_id.as_deref(), Some("d3d08940-f0ef-42e0-993c-1bea065dcqwe"));
        assert_eq!(request.node_name(), Some("plan_erasmus"));
        assert_eq!(request.last_node().unwrap().node_id, "a85b10e8-e7f3-40df-9715-196c4eae5f14");
        assert_eq!(request.top_intent().unwrap().intent, "erasmus");
        assert_eq!(request.entity("firstname").unwrap().value, "George");
        assert_eq!(request.entity("firstname").unwrap().kind.as_deref(), Some("user"));
        assert_eq!(request.context_value::<String>("destination").unwrap().as_deref(), Some("England"));
        assert_eq!(request.context_value::<u32>("total_expenses").unwrap(), Some(500));
        assert_eq!(request.tags, ["erasmus", "destination"]);
        assert!(request.extra.is_empty());
    }

    #[test]
    fn unknown_fields_are_kept_and_nothing_is_required() {
        let request: DialogRequest =
            serde_json::from_str(r#"{"future_field": {"a": 1}, "context": null, "debug": {"dialog_stack": null}}"#)
                .unwrap();
        assert_eq!(request.extra["future_field"]["a"], 1);
        assert!(request.context.is_empty());
        assert_eq!(request.node_name(), None);
        let empty: DialogRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, DialogRequest::default());
    }

    #[test]
    fn wrong_shapes_and_duplicates_are_errors() {
        assert!(serde_json::from_str::<DialogRequest>("[]").is_err());
        assert!(serde_json::from_str::<DialogRequest>(r#"{"intents": "erasmus"}"#).is_err());
        assert!(serde_json::from_str::<DialogRequest>(r#"{"lang": "en", "lang": "el"}"#).is_err());
        assert!(serde_json::from_str::<DialogRequest>(r#"{"x": 1, "x": 2}"#).is_err());
    }

    #[test]
    fn top_intent_is_the_most_confident() {
        let request: DialogRequest = serde_json::from_str(
            r#"{"intents": [{"intent": "a", "confidence": 0.2}, {"intent": "b", "confidence": 0.9}]}"#,
        )
        .unwrap();
        assert_eq!(request.top_intent().unwrap().intent, "b");
    }

    #[test]
    fn context_value_names_the_key_that_did_not_fit() {
        let request: DialogRequest = serde_json::from_str(r#"{"context": {"total_months": "three"}}"#).unwrap();
        let err = request.context_value::<u32>("total_months").unwrap_err();
        assert_eq!(err.key(), "total_months");
        assert!(err.to_string().starts_with("context.total_months: invalid type"), "{err}");
        assert_eq!(request.context_value::<u32>("absent").unwrap(), None);
    }

    #[test]
    fn debug_hides_the_verify_token() {
        let request: DialogRequest = serde_json::from_str(r#"{"verify_token": "s3cr3t-token"}"#).unwrap();
        let shown = format!("{request:?}");
        assert!(!shown.contains("s3cr3t-token"));
        assert!(shown.contains("<redacted>"));
    }
}

//! [`DialogCall`]: a dialog webhook request as Moveo builds it, for tests and for the
//! `moveo-dialog` command line.

use serde_json::{Map, Value, json};

use super::ids::{name_uuid, random_uuid};

/// A realistic dialog webhook request: the dialog stack with stable node ids, the `sys-*`
/// context variables Moveo sets, intents, entities with their character offsets in the text,
/// channel, language and session.
///
/// ```
/// use moveo_dialog::testing::DialogCall;
/// use serde_json::json;
///
/// let call = DialogCall::node("check_order")
///     .intent("cancel_order", 0.92)
///     .text("cancel order A17")
///     .entity("order_id", "A17")
///     .context("order_id", json!("A17"))
///     .lang("el");
/// let request = call.to_value();
/// assert_eq!(request["debug"]["dialog_stack"][0]["name"], "check_order");
/// assert_eq!(request["entities"][0]["start"], 13);
/// assert_eq!(request["context"]["sys-user_message_counter"], 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct DialogCall {
    nodes: Vec<String>,
    intents: Vec<(String, f64)>,
    entities: Vec<(String, String)>,
    context: Map<String, Value>,
    text: Option<String>,
    channel: String,
    lang: String,
    session: Option<String>,
    message_counter: u64,
}

impl Default for DialogCall {
    fn default() -> Self {
        Self::new()
    }
}

impl DialogCall {
    /// A call with no node, intent or entity, on the `web` channel in English.
    pub fn new() -> Self {
        Self {
            nodes: Vec::new(),
            intents: Vec::new(),
            entities: Vec::new(),
            context: Map::new(),
            text: None,
            channel: "web".to_owned(),
            lang: "en".to_owned(),
            session: None,
            message_counter: 1,
        }
    }

    /// A call whose dialog stack ends with the node `name` (the node whose webhook fired).
    pub fn node(name: impl Into<String>) -> Self {
        Self::new().then_node(name)
    }

    /// Pushes a node onto the dialog stack; the last one is the node whose webhook fired.
    pub fn then_node(mut self, name: impl Into<String>) -> Self {
        self.nodes.push(name.into());
        self
    }

    /// A recognised intent.
    ///
    /// # Panics
    ///
    /// When `confidence` is outside 0..=1, or the name is empty.
    #[track_caller]
    pub fn intent(mut self, name: impl Into<String>, confidence: f64) -> Self {
        let name = name.into();
        assert!(!name.trim().is_empty(), "an intent needs a name");
        assert!((0.0..=1.0).contains(&confidence), "the intent {name:?} has confidence {confidence}, outside 0..=1");
        self.intents.push((name, confidence));
        self
    }

    /// A recognised entity; `start` and `end` (in characters) are set when the value occurs in
    /// the text.
    pub fn entity(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.entities.push((name.into(), value.into()));
        self
    }

    /// A context variable.
    pub fn context(mut self, key: impl Into<String>, value: Value) -> Self {
        self.context.insert(key.into(), value);
        self
    }

    /// The context variables, replacing any set before (the `sys-*` ones are added on top).
    pub fn with_context(mut self, context: Map<String, Value>) -> Self {
        self.context = context;
        self
    }

    /// What the user typed.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// The channel (default `web`).
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// The language (default `en`).
    pub fn lang(mut self, lang: impl Into<String>) -> Self {
        self.lang = lang.into();
        self
    }

    /// The session id (default: a random UUID each time the call is built).
    pub fn session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// The user's message count in the session (`sys-user_message_counter`, default 1).
    pub fn message_counter(mut self, counter: u64) -> Self {
        self.message_counter = counter;
        self
    }

    /// The session id, when one is set.
    #[must_use]
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The dialog stack's node names.
    #[must_use]
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// The context variables set (without the `sys-*` ones).
    #[must_use]
    pub fn context_map(&self) -> &Map<String, Value> {
        &self.context
    }

    /// The request as JSON, without a verify token (Moveo adds its own; see
    /// [`to_signed_bytes`](Self::to_signed_bytes)).
    #[must_use]
    pub fn to_value(&self) -> Value {
        Value::Object(self.to_map())
    }

    /// The request as a JSON object.
    #[must_use]
    pub fn to_map(&self) -> Map<String, Value> {
        let mut request = Map::new();
        request.insert("channel".into(), json!(self.channel));
        request.insert("session_id".into(), json!(self.session.clone().unwrap_or_else(random_uuid)));
        request.insert("brain_id".into(), json!(name_uuid("moveo-dialog local brain")));
        request.insert("lang".into(), json!(self.lang));
        let mut context = Map::new();
        context.insert("sys-channel".into(), json!(self.channel));
        context.insert("sys-unknown_counter".into(), json!(0));
        context.insert("sys-user_message_counter".into(), json!(self.message_counter));
        context.extend(self.context.clone());
        request.insert("context".into(), Value::Object(context));
        if let Some(text) = &self.text {
            request.insert("input".into(), json!({ "text": text }));
        }
        let intents: Vec<Value> =
            self.intents.iter().map(|(name, confidence)| json!({ "intent": name, "confidence": confidence })).collect();
        request.insert("intents".into(), Value::Array(intents));
        let entities: Vec<Value> =
            self.entities.iter().map(|(name, value)| entity(name, value, self.text.as_deref())).collect();
        request.insert("entities".into(), Value::Array(entities));
        request.insert("tags".into(), json!([]));
        let stack: Vec<Value> =
            self.nodes.iter().map(|name| json!({ "node_id": name_uuid(name), "name": name })).collect();
        request.insert("debug".into(), json!({ "dialog_stack": stack }));
        request
    }

    /// The bytes Moveo would send: the request with `verify_token` in its body, serialised
    /// once (sign exactly these bytes).
    #[must_use]
    pub fn to_signed_bytes(&self, verify_token: &str) -> Vec<u8> {
        with_token(self.to_map(), verify_token)
    }
}

/// Puts the verify token in the body, as Moveo does, and serialises it: the bytes to sign.
#[must_use]
pub fn with_token(mut request: Map<String, Value>, token: &str) -> Vec<u8> {
    request.insert("verify_token".into(), Value::String(token.to_owned()));
    serde_json::to_vec(&Value::Object(request)).unwrap_or_default()
}

/// An entity as Moveo reports it; `start`/`end` when the value occurs in the text.
fn entity(name: &str, value: &str, text: Option<&str>) -> Value {
    let mut object = json!({ "entity": name, "value": value, "confidence": 1, "type": "user" });
    let found = text.filter(|_| !value.is_empty()).and_then(|text| Some((text, text.find(value)?)));
    if let Some((text, at)) = found {
        let start = text[..at].chars().count();
        object["start"] = json!(start);
        object["end"] = json!(start + value.chars().count());
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_point_into_the_text_in_characters() {
        let entity = entity("firstname", "George", Some("Ω, my name is George"));
        assert_eq!((entity["start"].as_u64(), entity["end"].as_u64()), (Some(14), Some(20)));
        assert!(super::entity("city", "Paris", Some("hello")).get("start").is_none());
    }

    #[test]
    fn a_built_call_matches_the_request_schema() {
        let call = DialogCall::node("greetings").then_node("plan").intent("erasmus", 0.8).session("s-1").text("hi");
        crate::testing::assert_valid_request(&call.to_value());
        assert_eq!(call.to_value()["session_id"], "s-1");
    }
}

//! The event envelope: the base fields every payload carries, and the payload by `event_type`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapDeserializer;
use serde::de::{DeserializeOwned, DeserializeSeed};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::conversation::{ConversationClosed, Member};
use super::message::{AgentMessage, BrainSend, Compose, Receipt};
use super::session::SessionClosed;
use crate::borrowed::Text;

/// The event types Moveo documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EventType {
    /// `message:brain_send`: the AI agent answered.
    MessageBrainSend,
    /// `message:send`: a human agent answered.
    MessageSend,
    /// `message:compose`: typing started or stopped.
    MessageCompose,
    /// `message:read`.
    MessageRead,
    /// `message:delivered`.
    MessageDelivered,
    /// `conversation:member_join`.
    ConversationMemberJoin,
    /// `conversation:member_leave`.
    ConversationMemberLeave,
    /// `conversation:closed`.
    ConversationClosed,
    /// `conversation:reopened`.
    ConversationReopened,
    /// `session:closed`.
    SessionClosed,
    /// `session:expired`.
    SessionExpired,
}

impl EventType {
    /// Every documented event type.
    pub const ALL: [Self; 11] = [
        Self::MessageBrainSend,
        Self::MessageSend,
        Self::MessageCompose,
        Self::MessageRead,
        Self::MessageDelivered,
        Self::ConversationMemberJoin,
        Self::ConversationMemberLeave,
        Self::ConversationClosed,
        Self::ConversationReopened,
        Self::SessionClosed,
        Self::SessionExpired,
    ];

    /// The wire name, such as `message:brain_send`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MessageBrainSend => "message:brain_send",
            Self::MessageSend => "message:send",
            Self::MessageCompose => "message:compose",
            Self::MessageRead => "message:read",
            Self::MessageDelivered => "message:delivered",
            Self::ConversationMemberJoin => "conversation:member_join",
            Self::ConversationMemberLeave => "conversation:member_leave",
            Self::ConversationClosed => "conversation:closed",
            Self::ConversationReopened => "conversation:reopened",
            Self::SessionClosed => "session:closed",
            Self::SessionExpired => "session:expired",
        }
    }

    /// The type with this wire name, if it is a documented one.
    #[must_use]
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A custom-integration webhook event: the base fields, then the payload by type.
///
/// ```
/// use moveo_dialog::events::{Event, EventKind, OutputResponse};
///
/// let event = Event::from_slice(br#"{
///     "event_type": "message:brain_send", "request_id": "req-003",
///     "session_id": "a1b2", "timestamp": 1704067200000,
///     "output": {"responses": [{"type": "text", "text": "We offer three plans."}]}
/// }"#)?;
/// assert_eq!(event.event_type(), "message:brain_send");
/// let EventKind::MessageBrainSend(send) = &event.kind else { panic!() };
/// let OutputResponse::Text(text) = &send.output.responses[0] else { panic!() };
/// assert_eq!(text.text, "We offer three plans.");
/// # Ok::<(), moveo_dialog::events::EventDecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// Unique per delivery attempt of this event (see the de-duplication notes).
    pub request_id: String,
    /// Moveo's session id.
    pub session_id: String,
    /// Your system's id for the session, when it gave one.
    pub external_session_id: Option<String>,
    /// The custom integration's id.
    pub integration_id: Option<String>,
    /// The desk's id.
    pub desk_id: Option<String>,
    /// The session context.
    pub context: Option<Map<String, Value>>,
    /// When the event was sent, in Unix milliseconds.
    pub timestamp: u64,
    /// The payload, by event type.
    pub kind: EventKind,
}

/// An event's payload, by `event_type`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// `message:brain_send`.
    MessageBrainSend(BrainSend),
    /// `message:send`.
    MessageSend(AgentMessage),
    /// `message:compose`.
    MessageCompose(Compose),
    /// `message:read`.
    MessageRead(Receipt),
    /// `message:delivered`.
    MessageDelivered(Receipt),
    /// `conversation:member_join`.
    ConversationMemberJoin(Member),
    /// `conversation:member_leave`.
    ConversationMemberLeave(Member),
    /// `conversation:closed`.
    ConversationClosed(ConversationClosed),
    /// `conversation:reopened`.
    ConversationReopened,
    /// `session:closed`.
    SessionClosed(SessionClosed),
    /// `session:expired`.
    SessionExpired,
    /// An event type this version does not know; the whole JSON object, as it came.
    Unknown {
        /// The `event_type` it had.
        event_type: String,
        /// The whole payload.
        json: Map<String, Value>,
    },
}

impl EventKind {
    /// The documented type, or `None` for [`EventKind::Unknown`].
    #[must_use]
    pub fn event_type(&self) -> Option<EventType> {
        Some(match self {
            Self::MessageBrainSend(_) => EventType::MessageBrainSend,
            Self::MessageSend(_) => EventType::MessageSend,
            Self::MessageCompose(_) => EventType::MessageCompose,
            Self::MessageRead(_) => EventType::MessageRead,
            Self::MessageDelivered(_) => EventType::MessageDelivered,
            Self::ConversationMemberJoin(_) => EventType::ConversationMemberJoin,
            Self::ConversationMemberLeave(_) => EventType::ConversationMemberLeave,
            Self::ConversationClosed(_) => EventType::ConversationClosed,
            Self::ConversationReopened => EventType::ConversationReopened,
            Self::SessionClosed(_) => EventType::SessionClosed,
            Self::SessionExpired => EventType::SessionExpired,
            Self::Unknown { .. } => return None,
        })
    }
}

/// Why an event payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventDecodeError {
    /// The body is not JSON.
    #[error("body is not valid JSON: {0}")]
    InvalidJson(String),
    /// The JSON does not have the documented shape; `path` names the value.
    #[error("{path}: {message}")]
    InvalidShape {
        /// The JSON path of the value that did not fit (`.` for the whole body).
        path: String,
        /// What was wrong.
        message: String,
    },
}

#[derive(Deserialize)]
struct Base {
    event_type: String,
}

#[derive(Deserialize)]
struct KnownBase {
    request_id: String,
    session_id: String,
    #[serde(default)]
    external_session_id: Option<String>,
    #[serde(default)]
    integration_id: Option<String>,
    #[serde(default)]
    desk_id: Option<String>,
    #[serde(default)]
    context: Option<Map<String, Value>>,
    #[serde(deserialize_with = "whole_milliseconds")]
    timestamp: u64,
}

/// The raw JSON of the member `name`.
fn member<'a>(members: &[(Text<'_>, &'a RawValue)], name: &str) -> Option<&'a RawValue> {
    members.iter().find(|(key, _)| key.0 == name).map(|(_, raw)| *raw)
}

/// A timestamp in milliseconds: an integer, or a float (some senders write `1704067200000.0`),
/// truncated. A negative or non-finite number is not a timestamp.
fn whole_milliseconds<'de, D>(deserializer: D) -> Result<u64, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Millis {
        Whole(u64),
        Float(f64),
    }
    match Millis::deserialize(deserializer)? {
        Millis::Whole(millis) => Ok(millis),
        Millis::Float(millis) if millis.is_finite() && millis >= 0.0 && millis < u64::MAX as f64 => Ok(millis as u64),
        Millis::Float(millis) => Err(serde::de::Error::custom(format!("{millis} is not a timestamp in milliseconds"))),
    }
}

fn decode_at<T>(value: &Value) -> Result<T, EventDecodeError>
where
    T: DeserializeOwned,
{
    decode_seed_at(PhantomData::<T>, value)
}

/// What `seed` decodes from `value`, or the JSON path and message of what did not fit.
fn decode_seed_at<'v, S>(seed: S, value: &'v Value) -> Result<S::Value, EventDecodeError>
where
    S: DeserializeSeed<'v> + Copy,
{
    // Path tracking allocates for every key it passes: run it only to describe a value that
    // did not fit (as the dialog router's `decode_tracked` does).
    if let Ok(decoded) = seed.deserialize(value) {
        return Ok(decoded);
    }
    let mut track = serde_path_to_error::Track::new();
    seed.deserialize(serde_path_to_error::Deserializer::new(value, &mut track))
        .map_err(|err| EventDecodeError::InvalidShape { path: track.path().to_string(), message: err.to_string() })
}

/// Decodes the payload of an event of a known type from the event's members (the payload
/// types read their own and leave the base fields): one list of types for both decodes.
#[derive(Clone, Copy)]
struct PayloadOf(EventType);

impl<'de> DeserializeSeed<'de> for PayloadOf {
    type Value = EventKind;

    fn deserialize<D: serde::Deserializer<'de>>(self, members: D) -> Result<EventKind, D::Error> {
        Ok(match self.0 {
            EventType::MessageBrainSend => EventKind::MessageBrainSend(Deserialize::deserialize(members)?),
            EventType::MessageSend => EventKind::MessageSend(Deserialize::deserialize(members)?),
            EventType::MessageCompose => EventKind::MessageCompose(Deserialize::deserialize(members)?),
            EventType::MessageRead => EventKind::MessageRead(Deserialize::deserialize(members)?),
            EventType::MessageDelivered => EventKind::MessageDelivered(Deserialize::deserialize(members)?),
            EventType::ConversationMemberJoin => EventKind::ConversationMemberJoin(Deserialize::deserialize(members)?),
            EventType::ConversationMemberLeave => {
                EventKind::ConversationMemberLeave(Deserialize::deserialize(members)?)
            }
            EventType::ConversationClosed => EventKind::ConversationClosed(Deserialize::deserialize(members)?),
            EventType::ConversationReopened => EventKind::ConversationReopened,
            EventType::SessionClosed => EventKind::SessionClosed(Deserialize::deserialize(members)?),
            EventType::SessionExpired => EventKind::SessionExpired,
        })
    }
}

impl Event {
    /// Decodes an event from the raw body.
    ///
    /// # Errors
    ///
    /// [`EventDecodeError::InvalidJson`] for bytes that are not JSON, or that give a top-level
    /// key twice (as for dialog requests: two readers of one signed body must not see two
    /// different events); [`EventDecodeError::InvalidShape`] naming the JSON path for a known
    /// event type whose fields do not fit. An unknown event type is not an error: it decodes
    /// into [`EventKind::Unknown`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, EventDecodeError> {
        // Checked to be UTF-8 once and decoded as text: serde_json then checks no string again.
        let text =
            std::str::from_utf8(bytes).map_err(|err| EventDecodeError::InvalidJson(format!("not UTF-8: {err}")))?;
        if let Some(event) = Self::from_members(text) {
            return Ok(event);
        }
        let top: TopLevel = serde_json::from_str(text).map_err(|err| EventDecodeError::InvalidJson(err.to_string()))?;
        Self::from_value(top.0)
    }

    /// A known event decoded part by part straight from the body's text: its top-level members
    /// are found once, each value kept as raw JSON, and the base fields and the payload are
    /// each decoded from them, as [`Event::from_value`] decodes them from a [`Value`] (which
    /// costs every key and string of the body copied into a map, then copied again). `None`
    /// for anything this path does not take (an unknown event type, a key given twice in the
    /// event or in one of its typed parts, a value that does not fit): the body is then decoded
    /// the general way, which gives the answer, error or not
    /// (`event::tests::both_decodes_agree_on_every_event`). A key given twice inside a free-form
    /// map (the `context`) keeps its last value on either path.
    fn from_members(text: &str) -> Option<Self> {
        let Members(members) = serde_json::from_str(text).ok()?;
        let (_, event_type) = members.iter().find(|(key, _)| key.0 == "event_type")?;
        let known = EventType::from_wire(&Text::deserialize(*event_type).ok()?.0)?;
        // The base fields and the payload each read their own members, as from a `Value`.
        let fields = || MapDeserializer::<_, serde_json::Error>::new(members.iter().map(|(key, raw)| (&*key.0, *raw)));
        let base = KnownBase::deserialize(fields()).ok()?;
        let kind = match known {
            EventType::MessageBrainSend => {
                EventKind::MessageBrainSend(BrainSend::from_raw(member(&members, "output")?)?)
            }
            known => PayloadOf(known).deserialize(fields()).ok()?,
        };
        Some(Self::with_base(base, kind))
    }

    /// Decodes an event from JSON already parsed.
    ///
    /// # Errors
    ///
    /// As [`Event::from_slice`].
    pub fn from_value(value: Value) -> Result<Self, EventDecodeError> {
        if !value.is_object() {
            return Err(EventDecodeError::InvalidShape {
                path: ".".to_owned(),
                message: "an event must be a JSON object".to_owned(),
            });
        }
        let Base { event_type } = decode_at(&value)?;
        let Some(known) = EventType::from_wire(&event_type) else {
            return Ok(Self::unknown(event_type, value));
        };
        let base: KnownBase = decode_at(&value)?;
        let kind = decode_seed_at(PayloadOf(known), &value)?;
        Ok(Self::with_base(base, kind))
    }

    fn with_base(base: KnownBase, kind: EventKind) -> Self {
        Self {
            request_id: base.request_id,
            session_id: base.session_id,
            external_session_id: base.external_session_id,
            integration_id: base.integration_id,
            desk_id: base.desk_id,
            context: base.context,
            timestamp: base.timestamp,
            kind,
        }
    }

    /// An unknown type: the base fields are read where they fit, and nothing fails.
    fn unknown(event_type: String, value: Value) -> Self {
        let json = match value {
            Value::Object(json) => json,
            _ => Map::new(),
        };
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        Self {
            request_id: text("request_id").unwrap_or_default(),
            session_id: text("session_id").unwrap_or_default(),
            external_session_id: text("external_session_id"),
            integration_id: text("integration_id"),
            desk_id: text("desk_id"),
            context: json.get("context").and_then(Value::as_object).cloned(),
            timestamp: json.get("timestamp").and_then(Value::as_u64).unwrap_or_default(),
            kind: EventKind::Unknown { event_type, json },
        }
    }

    /// The wire `event_type`, such as `message:brain_send`.
    #[must_use]
    pub fn event_type(&self) -> &str {
        match &self.kind {
            EventKind::Unknown { event_type, .. } => event_type,
            kind => kind.event_type().map_or("", EventType::as_str),
        }
    }

    /// The event as JSON, base fields and payload in one object, as Moveo sends it.
    #[must_use]
    pub fn to_value(&self) -> Value {
        if let EventKind::Unknown { json, .. } = &self.kind {
            return Value::Object(json.clone());
        }
        let mut map = Map::new();
        map.insert("event_type".into(), self.event_type().into());
        map.insert("request_id".into(), self.request_id.clone().into());
        map.insert("session_id".into(), self.session_id.clone().into());
        let optional = [
            ("external_session_id", &self.external_session_id),
            ("integration_id", &self.integration_id),
            ("desk_id", &self.desk_id),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                map.insert(key.into(), value.clone().into());
            }
        }
        if let Some(context) = &self.context {
            map.insert("context".into(), Value::Object(context.clone()));
        }
        map.insert("timestamp".into(), self.timestamp.into());
        let payload = match &self.kind {
            EventKind::MessageBrainSend(payload) => serde_json::to_value(payload),
            EventKind::MessageSend(payload) => serde_json::to_value(payload),
            EventKind::MessageCompose(payload) => serde_json::to_value(payload),
            EventKind::MessageRead(payload) | EventKind::MessageDelivered(payload) => serde_json::to_value(payload),
            EventKind::ConversationMemberJoin(payload) | EventKind::ConversationMemberLeave(payload) => {
                serde_json::to_value(payload)
            }
            EventKind::ConversationClosed(payload) => serde_json::to_value(payload),
            EventKind::SessionClosed(payload) => serde_json::to_value(payload),
            EventKind::ConversationReopened | EventKind::SessionExpired | EventKind::Unknown { .. } => Ok(Value::Null),
        };
        if let Ok(Value::Object(fields)) = payload {
            map.extend(fields);
        }
        Value::Object(map)
    }
}

impl Serialize for Event {
    fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
    {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        let TopLevel(value) = TopLevel::deserialize(deserializer)?;
        Self::from_value(value).map_err(serde::de::Error::custom)
    }
}

/// The members of a top-level object with no key given twice, each value as its raw JSON.
struct Members<'a>(Vec<(Text<'a>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                // An event has about eight members: a scan finds a repeated key sooner than a hash.
                let mut members: Vec<(Text<'de>, &'de RawValue)> = Vec::with_capacity(8);
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    if members.iter().any(|(seen, _)| seen.0 == key.0) {
                        return Err(serde::de::Error::custom("a key is given twice"));
                    }
                    members.push((key, map.next_value()?));
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(Visitor)
    }
}

/// Any JSON document; an object among them with no key given twice.
struct TopLevel(Value);

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TopLevel;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON document")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
                let mut object = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if object.contains_key(&key) {
                        return Err(serde::de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    object.insert(key, map.next_value()?);
                }
                Ok(TopLevel(Value::Object(object)))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(TopLevel(Value::Array(items)))
            }

            fn visit_bool<E>(self, value: bool) -> Result<TopLevel, E> {
                Ok(TopLevel(Value::Bool(value)))
            }

            fn visit_i64<E>(self, value: i64) -> Result<TopLevel, E> {
                Ok(TopLevel(Value::from(value)))
            }

            fn visit_u64<E>(self, value: u64) -> Result<TopLevel, E> {
                Ok(TopLevel(Value::from(value)))
            }

            fn visit_f64<E>(self, value: f64) -> Result<TopLevel, E> {
                Ok(TopLevel(Value::from(value)))
            }

            fn visit_str<E>(self, value: &str) -> Result<TopLevel, E> {
                Ok(TopLevel(Value::from(value)))
            }

            fn visit_unit<E>(self) -> Result<TopLevel, E> {
                Ok(TopLevel(Value::Null))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: [&str; 13] = [
        include_str!("../../../tests/fixtures/spec/event-brain_send-all-responses.json"),
        include_str!("../../../tests/fixtures/spec/event-complete-example.json"),
        include_str!("../../../tests/fixtures/spec/event-conversation-closed.json"),
        include_str!("../../../tests/fixtures/spec/event-conversation-member_join.json"),
        include_str!("../../../tests/fixtures/spec/event-conversation-member_leave.json"),
        include_str!("../../../tests/fixtures/spec/event-conversation-reopened.json"),
        include_str!("../../../tests/fixtures/spec/event-message-brain_send.json"),
        include_str!("../../../tests/fixtures/spec/event-message-compose.json"),
        include_str!("../../../tests/fixtures/spec/event-message-delivered.json"),
        include_str!("../../../tests/fixtures/spec/event-message-read.json"),
        include_str!("../../../tests/fixtures/spec/event-message-send.json"),
        include_str!("../../../tests/fixtures/spec/event-session-closed.json"),
        include_str!("../../../tests/fixtures/spec/event-session-expired.json"),
    ];

    /// The general decode: the whole body into a `Value` (a key given twice at the top level
    /// refused), then each part from it.
    fn general(text: &str) -> Result<Event, EventDecodeError> {
        let top: TopLevel = serde_json::from_str(text).map_err(|err| EventDecodeError::InvalidJson(err.to_string()))?;
        Event::from_value(top.0)
    }

    #[test]
    fn every_documented_event_takes_the_fast_path_and_decodes_as_the_general_one() {
        for fixture in FIXTURES {
            let fast = Event::from_members(fixture);
            assert!(fast.is_some(), "not taken: {fixture}");
            assert_eq!(fast, general(fixture).ok(), "{fixture}");
        }
    }

    /// Whatever the fast path takes, it decodes as the general decode does; what it does not
    /// take gets the general decode's answer, error or not.
    #[test]
    fn both_decodes_agree_on_every_event() {
        let brain_send = r#""event_type": "message:brain_send", "request_id": "r", "session_id": "s""#;
        let output = r#""output": {"responses": [{"type": "text", "text": "hi"}]}"#;
        let cases = [
            // Taken: members in any order, unknown members, escapes, a float timestamp, nulls.
            format!(r#"{{{output}, "timestamp": 1704067200000, {brain_send}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 1704067200000.9, {output}, "extra": [1, {{"a": 2}}]}}"#),
            format!(r#"{{{brain_send}, "time\u0073tamp": 5, "context": null, "desk_id": null, {output}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "context": {{"a": 1, "a": 2}}, {output}}}"#),
            r#"{"event_type": "message:\u0073end", "request_id": "r\n", "session_id": "s", "timestamp": 1,
                "from": {"agent_id": "a", "agent_name": "Ann"}, "to": {"user_id": "u"}, "body": {"text": "é \" \\"}}"#
                .to_owned(),
            format!(
                r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": [{{"type": null, "x": 1}},
                {{"type": "sticker", "id": 9}}, {{"type": "pause", "time": 2}}, {{"text": "no type"}}], "extra": 1}}}}"#
            ),
            // Not taken, and the general decode answers.
            format!(r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": [["text", "hi"]]}}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": [["sticker"]]}}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": [[]]}}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": [{{"type": 5}}]}}}}"#),
            format!(
                r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": [{{"type": "text", "type": "x"}}]}}}}"#
            ),
            format!(
                r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": [{{"type": "text", "text": "a", "text": "b"}}]}}}}"#
            ),
            format!(r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": [{{"type": "text"}}]}}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": {{"type": "text"}}}}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "output": []}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "timestamp": 6, {output}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "time\u0073tamp": 6, {output}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "output": {{"responses": [], "responses": []}}}}"#),
            format!(r#"{{{brain_send}, "timestamp": "5", {output}}}"#),
            format!(r#"{{{brain_send}, "timestamp": -5, {output}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, "context": [], {output}}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5}}"#),
            format!(r#"{{{brain_send}, "timestamp": 5, {output}}} trailing"#),
            r#"{"event_type": "message:unheard_of", "request_id": "r", "timestamp": 5, "x": {"y": 1}}"#.to_owned(),
            r#"{"event_type": 7, "request_id": "r", "session_id": "s", "timestamp": 5}"#.to_owned(),
            r#"{"request_id": "r", "session_id": "s", "timestamp": 5}"#.to_owned(),
            r#"[{"event_type": "session:expired"}]"#.to_owned(),
            "17".to_owned(),
            "{".to_owned(),
        ];
        for case in &cases {
            assert_eq!(Event::from_slice(case.as_bytes()), general(case), "{case}");
        }
        for case in &cases[..6] {
            assert!(Event::from_members(case).is_some(), "not taken: {case}");
        }
        let taken = cases.iter().filter(|case| Event::from_members(case).is_some()).count();
        assert_eq!(taken, 6, "the first six cases take the fast path");
    }
}

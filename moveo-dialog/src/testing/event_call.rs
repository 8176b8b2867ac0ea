//! [`EventCall`]: a custom-integration event as Moveo delivers it, for tests and for
//! `moveo-dialog event`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::ids::random_uuid;
use crate::events::EventType;

/// A realistic event of one of the 11 types: the base fields, then the type's own, valid
/// against `schemas/event.schema.json`.
///
/// ```
/// use moveo_dialog::events::EventType;
/// use moveo_dialog::testing::EventCall;
///
/// let event = EventCall::new(EventType::MessageBrainSend).session("sess-1").text("Hello!").to_value();
/// assert_eq!(event["output"]["responses"][0]["text"], "Hello!");
/// moveo_dialog::testing::assert_valid_event(&event);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct EventCall {
    kind: EventType,
    session: Option<String>,
    text: Option<String>,
    request_id: Option<String>,
    timestamp: Option<u64>,
}

impl EventCall {
    /// An event of type `kind`, with a random `request_id`, now as its `timestamp`.
    pub fn new(kind: EventType) -> Self {
        Self { kind, session: None, text: None, request_id: None, timestamp: None }
    }

    /// The session id (default: a random UUID).
    pub fn session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// The text of a `message:brain_send` or `message:send`.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// The `request_id` (default: random), to deliver the same event again.
    pub fn request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// The `timestamp` in milliseconds (default: now).
    pub fn timestamp(mut self, millis: u64) -> Self {
        self.timestamp = Some(millis);
        self
    }

    /// The event type.
    #[must_use]
    pub fn kind(&self) -> EventType {
        self.kind
    }

    /// The event as JSON. Each call without a fixed `request_id` gets a new one.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let session_id = self.session.clone().unwrap_or_else(random_uuid);
        let timestamp = self.timestamp.unwrap_or_else(|| {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_millis()).unwrap_or_default();
            u64::try_from(now).unwrap_or(u64::MAX)
        });
        let text = self.text.as_deref();
        let mut event = Map::new();
        event.insert("event_type".into(), json!(self.kind.as_str()));
        event.insert("request_id".into(), json!(self.request_id.clone().unwrap_or_else(random_uuid)));
        event.insert("session_id".into(), json!(session_id));
        event.insert("external_session_id".into(), json!(format!("local-{session_id}")));
        event.insert("integration_id".into(), json!("local-integration"));
        event.insert("desk_id".into(), json!("local-desk"));
        event.insert("context".into(), json!({ "user": { "user_id": "local-user" } }));
        event.insert("timestamp".into(), json!(timestamp));
        let agent = json!({ "author_id": "agent-1", "author_name": "Sarah Johnson", "author_type": "agent" });
        let own = match self.kind {
            EventType::MessageBrainSend => json!({ "output": { "responses": [
                { "type": "text", "text": text.unwrap_or("Hello! How can I help you today?") }
            ] } }),
            EventType::MessageSend => json!({
                "from": { "agent_id": "agent-1", "agent_name": "Sarah Johnson" },
                "to": { "user_id": "local-user" },
                "body": { "text": text.unwrap_or("Hi! I'm Sarah from support. How can I help you?"), "attachments": [] }
            }),
            EventType::MessageCompose => {
                let mut own = agent;
                own["action"] = json!("start");
                own
            }
            EventType::MessageRead => json!({ "author_type": "agent" }),
            EventType::MessageDelivered => json!({ "author_type": "brain" }),
            EventType::ConversationMemberJoin | EventType::ConversationMemberLeave => agent,
            EventType::ConversationClosed => {
                json!({ "status": "resolved", "agent_id": "agent-1", "agent_name": "Sarah Johnson" })
            }
            EventType::SessionClosed => json!({ "status": "closed" }),
            _ => json!({}),
        };
        if let Value::Object(own) = own {
            event.extend(own);
        }
        Value::Object(event)
    }

    /// The bytes to deliver (sign exactly these).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_value()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;
    use crate::testing::Schema;

    /// What `moveo-dialog event --type message:brain_send --session s-1 --text Hi` built before
    /// the builder moved into the library, with its random id and clock fixed.
    #[test]
    fn the_cli_event_is_the_same_as_before() {
        let event = EventCall::new(EventType::MessageBrainSend)
            .session("s-1")
            .text("Hi")
            .request_id("r-1")
            .timestamp(1_704_067_200_000)
            .to_bytes();
        assert_eq!(
            String::from_utf8(event).unwrap(),
            r#"{"context":{"user":{"user_id":"local-user"}},"desk_id":"local-desk","event_type":"message:brain_send","external_session_id":"local-s-1","integration_id":"local-integration","output":{"responses":[{"text":"Hi","type":"text"}]},"request_id":"r-1","session_id":"s-1","timestamp":1704067200000}"#
        );
    }

    #[test]
    fn every_built_event_matches_the_schema_and_decodes_as_its_type() {
        for kind in EventType::ALL {
            let event = EventCall::new(kind).session("sess-1").text("Hello").to_value();
            if let Err(violations) = Schema::Event.validate(&event) {
                panic!("{kind}: {violations:?}");
            }
            assert_eq!(Event::from_value(event).unwrap().event_type(), kind.as_str());
        }
    }
}

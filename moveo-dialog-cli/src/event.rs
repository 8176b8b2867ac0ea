//! `moveo-dialog event`: a realistic custom-integration event, signed as Moveo signs them.

use std::time::{SystemTime, UNIX_EPOCH};

use moveo_dialog::events::EventType;
use moveo_dialog::verify::{Secret, sign};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

use crate::cli::EventArgs;
use crate::failure::Failure;
use crate::http;
use crate::request::random_uuid;
use crate::style::{GOOD, paint};

pub(crate) async fn run(args: EventArgs) -> Result<(), Failure> {
    let event_type = EventType::from_wire(&args.event_type).ok_or_else(|| {
        let known: Vec<&str> = EventType::ALL.iter().map(|kind| kind.as_str()).collect();
        Failure::Input(format!("--type {:?} is not an event type; one of: {}", args.event_type, known.join(", ")))
    })?;
    let session = args.session.clone().unwrap_or_else(random_uuid);
    let event = build(event_type, &session, args.text.as_deref());
    if args.print {
        anstream::println!("{}", crate::replay::pretty(&event).trim_end());
    }
    let body = serde_json::to_vec(&event).unwrap_or_default();
    let mut headers = HeaderMap::new();
    let signature = sign(&Secret::new(&args.secret), &body);
    headers.insert(
        "x-moveo-signature",
        HeaderValue::from_str(&signature).map_err(|err| Failure::Input(format!("signature header: {err}")))?,
    );
    let client = http::client(http::timeout(args.timeout)?)?;
    let answer = http::post(&client, &args.url, headers, body).await?;
    if !answer.status.is_success() {
        return Err(Failure::Check(answer.describe_failure()));
    }
    let request_id = event.get("request_id").and_then(Value::as_str).unwrap_or_default();
    anstream::eprintln!(
        "{event_type} {request_id} (session {session}): {} in {}",
        paint(GOOD, answer.status),
        http::millis(answer.latency)
    );
    Ok(())
}

/// An event of `kind` as Moveo would deliver it: the base fields, then the type's own.
pub(crate) fn build(kind: EventType, session_id: &str, text: Option<&str>) -> Value {
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_millis()).unwrap_or_default();
    let mut event = Map::new();
    event.insert("event_type".into(), json!(kind.as_str()));
    event.insert("request_id".into(), json!(random_uuid()));
    event.insert("session_id".into(), json!(session_id));
    event.insert("external_session_id".into(), json!(format!("local-{session_id}")));
    event.insert("integration_id".into(), json!("local-integration"));
    event.insert("desk_id".into(), json!("local-desk"));
    event.insert("context".into(), json!({ "user": { "user_id": "local-user" } }));
    event.insert("timestamp".into(), json!(u64::try_from(timestamp).unwrap_or(u64::MAX)));
    let agent = json!({ "author_id": "agent-1", "author_name": "Sarah Johnson", "author_type": "agent" });
    let own = match kind {
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

#[cfg(test)]
mod tests {
    use moveo_dialog::events::Event;
    use moveo_dialog::testing::Schema;

    use super::*;

    #[test]
    fn every_built_event_matches_the_schema_and_decodes_as_its_type() {
        for kind in EventType::ALL {
            let event = build(kind, "sess-1", Some("Hello"));
            if let Err(violations) = Schema::Event.validate(&event) {
                panic!("{kind}: {violations:?}");
            }
            let decoded = Event::from_value(event).unwrap();
            assert_eq!(decoded.event_type(), kind.as_str());
        }
    }
}

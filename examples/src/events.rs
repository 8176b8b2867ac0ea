//! Receives custom-integration events at `POST /events` and prints one JSON line per handled
//! event to stdout: `{"event_type", "request_id", "session_id"}`, plus `"texts"` (the text of
//! each text response, in order) for `message:brain_send`. Logs go to stderr.

use std::io::Write;

use moveo_dialog::events::{Event, EventKind, EventsReceiver, OutputResponse};
use serde_json::{Value, json};

/// The line printed for one event.
#[must_use]
pub fn summary(event: &Event) -> Value {
    let mut line = json!({
        "event_type": event.event_type(),
        "request_id": event.request_id,
        "session_id": event.session_id,
    });
    if let EventKind::MessageBrainSend(send) = &event.kind {
        let texts: Vec<&str> = send
            .output
            .responses
            .iter()
            .filter_map(|response| match response {
                OutputResponse::Text(text) => Some(text.text.as_str()),
                _ => None,
            })
            .collect();
        line["texts"] = json!(texts);
    }
    line
}

/// The events app: every event type, known or not, is printed.
pub fn receiver(webhook_secret: impl Into<String>) -> EventsReceiver {
    EventsReceiver::new().webhook_secret(webhook_secret.into()).on_every(|event: Event| async move {
        let line = summary(&event);
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").and_then(|()| stdout.flush()).map_err(|err| format!("cannot write to stdout: {err}"))
    })
}

//! `moveo-dialog event`: a realistic custom-integration event, signed as Moveo signs them.

use moveo_dialog::events::EventType;
use moveo_dialog::testing::EventCall;
use moveo_dialog::verify::{Secret, sign};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

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

/// An event of `kind` as Moveo would deliver it: the library's [`EventCall`], the one tests use.
pub(crate) fn build(kind: EventType, session_id: &str, text: Option<&str>) -> Value {
    let call = EventCall::new(kind).session(session_id);
    match text {
        Some(text) => call.text(text).to_value(),
        None => call.to_value(),
    }
}

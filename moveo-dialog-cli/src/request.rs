//! Building a dialog webhook request as Moveo sends it: from flags or from a file.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::cli::SendArgs;
use crate::failure::Failure;

/// The bytes of `path`, or of stdin for `-`.
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|err| Failure::Input(format!("cannot read stdin: {err}")))?;
        Ok(bytes)
    } else {
        std::fs::read(path).map_err(|err| Failure::Input(format!("cannot read {}: {err}", path.display())))
    }
}

/// The JSON in `path` (or stdin), which must be an object.
pub(crate) fn read_object(path: &Path) -> Result<Map<String, Value>, Failure> {
    let bytes = read_input(path)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Failure::Input(format!("{}: a request is a JSON object", path.display()))),
        Err(err) => Err(Failure::Input(format!("{}: not JSON: {err}", path.display()))),
    }
}

/// A random UUID v4, hyphenated.
pub(crate) fn random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A stable UUID v8 derived from `name`: the same node always gets the same id.
pub(crate) fn name_uuid(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::new_v8(bytes).to_string()
}

/// The request `send` posts: read from `--from`, or built from the flags as Moveo would build it.
pub(crate) fn from_args(args: &SendArgs) -> Result<Map<String, Value>, Failure> {
    if let Some(path) = &args.from {
        return read_object(path);
    }
    let mut request = Map::new();
    request.insert("channel".into(), json!(args.channel));
    request.insert("session_id".into(), json!(args.session.clone().unwrap_or_else(random_uuid)));
    request.insert("brain_id".into(), json!(name_uuid("moveo-dialog local brain")));
    request.insert("lang".into(), json!(args.lang));

    let mut context = Map::new();
    context.insert("sys-channel".into(), json!(args.channel));
    context.insert("sys-unknown_counter".into(), json!(0));
    context.insert("sys-user_message_counter".into(), json!(1));
    for pair in &args.context {
        let (key, value) = split_pair(pair, '=', "--context", "KEY=JSON")?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        context.insert(key.to_owned(), value);
    }
    request.insert("context".into(), Value::Object(context));

    if let Some(text) = &args.text {
        request.insert("input".into(), json!({ "text": text }));
    }
    let intents = args.intents.iter().map(|intent| parse_intent(intent)).collect::<Result<Vec<_>, _>>()?;
    request.insert("intents".into(), Value::Array(intents));
    let entities =
        args.entities.iter().map(|entity| parse_entity(entity, args.text.as_deref())).collect::<Result<Vec<_>, _>>()?;
    request.insert("entities".into(), Value::Array(entities));
    request.insert("tags".into(), json!([]));
    let stack: Vec<Value> = args.nodes.iter().map(|name| json!({ "node_id": name_uuid(name), "name": name })).collect();
    request.insert("debug".into(), json!({ "dialog_stack": stack }));
    Ok(request)
}

fn split_pair<'a>(pair: &'a str, at: char, flag: &str, shape: &str) -> Result<(&'a str, &'a str), Failure> {
    match pair.split_once(at) {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim(), value)),
        _ => Err(Failure::Input(format!("{flag} {pair:?}: expected {shape}"))),
    }
}

fn parse_intent(intent: &str) -> Result<Value, Failure> {
    let (name, confidence) = match intent.rsplit_once(':') {
        Some((name, confidence)) => {
            let confidence: f64 = confidence.trim().parse().map_err(|_| {
                Failure::Input(format!("--intent {intent:?}: the confidence {confidence:?} is not a number"))
            })?;
            (name, confidence)
        }
        None => (intent, 1.0),
    };
    if name.trim().is_empty() {
        return Err(Failure::Input(format!("--intent {intent:?}: expected NAME[:CONFIDENCE]")));
    }
    if !(0.0..=1.0).contains(&confidence) {
        return Err(Failure::Input(format!("--intent {intent:?}: the confidence {confidence} is not within 0..=1")));
    }
    Ok(json!({ "intent": name.trim(), "confidence": confidence }))
}

/// An entity as Moveo reports it; `start`/`end` when the value occurs in the text.
fn parse_entity(entity: &str, text: Option<&str>) -> Result<Value, Failure> {
    let (name, value) = split_pair(entity, '=', "--entity", "NAME=VALUE")?;
    let mut object = json!({ "entity": name, "value": value, "confidence": 1, "type": "user" });
    let found = text.filter(|_| !value.is_empty()).and_then(|text| Some((text, text.find(value)?)));
    if let Some((text, at)) = found {
        let start = text[..at].chars().count();
        object["start"] = json!(start);
        object["end"] = json!(start + value.chars().count());
    }
    Ok(object)
}

/// What the value of `verify_token` becomes in a recorded fixture.
pub(crate) const REDACTED: &str = "<redacted>";

/// The token to sign with: the flag (or `MOVEO_VERIFY_TOKEN`), else the request's own
/// `verify_token` unless it was redacted.
pub(crate) fn token_for(flag: Option<&str>, request: &Map<String, Value>) -> Result<String, Failure> {
    if let Some(token) = flag.filter(|token| !token.is_empty()) {
        return Ok(token.to_owned());
    }
    match request.get("verify_token").and_then(Value::as_str) {
        Some(token) if !token.is_empty() && token != REDACTED => Ok(token.to_owned()),
        _ => Err(Failure::Input("no verify token: pass --token or set MOVEO_VERIFY_TOKEN".to_owned())),
    }
}

/// Puts the verify token in the body, as Moveo does, and serialises it: the bytes to sign.
pub(crate) fn with_token(mut request: Map<String, Value>, token: &str) -> Vec<u8> {
    request.insert("verify_token".into(), Value::String(token.to_owned()));
    serde_json::to_vec(&Value::Object(request)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request the flags below built before the builder moved into the library
    /// (`moveo_dialog::testing::DialogCall`): the bytes must stay the same.
    const GOLDEN_REQUEST: &str = r#"{"brain_id":"51a8e494-f02e-86b3-b26e-fa73aeb8a557","channel":"viber","context":{"destination":"England","sys-channel":"viber","sys-unknown_counter":0,"sys-user_message_counter":1,"total_months":3},"debug":{"dialog_stack":[{"name":"greetings","node_id":"7dd4f2f0-77e4-89b4-b215-359e8020c0b6"},{"name":"plan_erasmus","node_id":"1d4e6fe7-813b-8514-829f-eae6f114330e"}]},"entities":[{"confidence":1,"end":10,"entity":"city","start":5,"type":"user","value":"Paris"}],"input":{"text":"Ω to Paris"},"intents":[{"confidence":0.9,"intent":"erasmus"}],"lang":"el","session_id":"s-fixed","tags":[]}"#;

    #[test]
    fn the_flags_build_the_same_request_as_before() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "moveo-dialog",
            "send",
            "http://x/webhook",
            "--node",
            "greetings",
            "--node",
            "plan_erasmus",
            "--intent",
            "erasmus:0.9",
            "--entity",
            "city=Paris",
            "--text",
            "Ω to Paris",
            "--context",
            "total_months=3",
            "--context",
            "destination=England",
            "--session",
            "s-fixed",
            "--lang",
            "el",
            "--channel",
            "viber",
            "--token",
            "t",
        ])
        .unwrap();
        let crate::cli::Command::Send(args) = cli.command else { panic!() };
        let request = from_args(&args).unwrap();
        assert_eq!(serde_json::to_string(&request).unwrap(), GOLDEN_REQUEST);
    }

    #[test]
    fn uuids_are_well_formed_and_node_ids_stable() {
        let pattern = |id: &str, version: char| {
            id.len() == 36
                && id.chars().nth(14) == Some(version)
                && id.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        };
        assert!(pattern(&random_uuid(), '4'));
        assert_ne!(random_uuid(), random_uuid());
        assert!(pattern(&name_uuid("greetings"), '8'));
        assert_eq!(name_uuid("greetings"), name_uuid("greetings"));
        assert_ne!(name_uuid("greetings"), name_uuid("plan_erasmus"));
    }

    #[test]
    fn intents_take_an_optional_confidence_within_bounds() {
        assert_eq!(parse_intent("erasmus:0.89").unwrap(), json!({"intent": "erasmus", "confidence": 0.89}));
        assert_eq!(parse_intent("erasmus").unwrap(), json!({"intent": "erasmus", "confidence": 1.0}));
        assert!(parse_intent("erasmus:1.5").unwrap_err().to_string().contains("within 0..=1"));
        assert!(parse_intent("erasmus:high").unwrap_err().to_string().contains("not a number"));
        assert!(parse_intent(":0.5").is_err());
    }

    #[test]
    fn entities_point_into_the_text_in_characters() {
        let entity = parse_entity("firstname=George", Some("Ω, my name is George")).unwrap();
        assert_eq!(entity["start"], 14);
        assert_eq!(entity["end"], 20);
        let absent = parse_entity("city=Paris", Some("hello")).unwrap();
        assert!(absent.get("start").is_none());
        assert!(parse_entity("no-equals", None).is_err());
    }
}

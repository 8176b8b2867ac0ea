//! Building a dialog webhook request as Moveo sends it: from flags or from a file.

use std::io::Read;
use std::path::Path;

use moveo_dialog::testing::DialogCall;
use serde_json::{Map, Value};

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

pub(crate) use moveo_dialog::testing::random_uuid;

/// The request `send` posts: read from `--from`, or built from the flags as Moveo would build it
/// (by the library's [`DialogCall`], the one tests use).
pub(crate) fn from_args(args: &SendArgs) -> Result<Map<String, Value>, Failure> {
    if let Some(path) = &args.from {
        return read_object(path);
    }
    let mut call = DialogCall::new().channel(&args.channel).lang(&args.lang);
    if let Some(session) = &args.session {
        call = call.session(session);
    }
    for name in &args.nodes {
        call = call.then_node(name);
    }
    for pair in &args.context {
        let (key, value) = split_pair(pair, '=', "--context", "KEY=JSON")?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        call = call.context(key, value);
    }
    if let Some(text) = &args.text {
        call = call.text(text);
    }
    for intent in &args.intents {
        let (name, confidence) = parse_intent(intent)?;
        call = call.intent(name, confidence);
    }
    for entity in &args.entities {
        let (name, value) = split_pair(entity, '=', "--entity", "NAME=VALUE")?;
        call = call.entity(name, value);
    }
    Ok(call.to_map())
}

fn split_pair<'a>(pair: &'a str, at: char, flag: &str, shape: &str) -> Result<(&'a str, &'a str), Failure> {
    match pair.split_once(at) {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim(), value)),
        _ => Err(Failure::Input(format!("{flag} {pair:?}: expected {shape}"))),
    }
}

fn parse_intent(intent: &str) -> Result<(&str, f64), Failure> {
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
    Ok((name.trim(), confidence))
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

pub(crate) use moveo_dialog::testing::with_token;

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
        use moveo_dialog::testing::name_uuid;
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
        assert_eq!(parse_intent("erasmus:0.89").unwrap(), ("erasmus", 0.89));
        assert_eq!(parse_intent("erasmus").unwrap(), ("erasmus", 1.0));
        assert!(parse_intent("erasmus:1.5").unwrap_err().to_string().contains("within 0..=1"));
        assert!(parse_intent("erasmus:high").unwrap_err().to_string().contains("not a number"));
        assert!(parse_intent(":0.5").is_err());
    }
}

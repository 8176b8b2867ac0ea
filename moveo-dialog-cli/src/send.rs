//! `moveo-dialog send`: one dialog webhook call, signed as Moveo signs it, and its reply.

use serde_json::Value;

use crate::cli::SendArgs;
use crate::failure::Failure;
use crate::http::{self, Answer};
use crate::style::{GOOD, paint};
use crate::{render, request};

pub(crate) async fn run(args: SendArgs) -> Result<(), Failure> {
    let request = request::from_args(&args)?;
    let client = http::client(http::timeout(args.target.timeout)?)?;
    let answer = post_request(&client, &args.url, &args.target, request).await?;
    let checked = check_reply(&answer);
    if args.json {
        anstream::println!("{}", String::from_utf8_lossy(&answer.body));
    } else if let Ok(reply) = &checked {
        for line in render::transcript(reply) {
            anstream::println!("{line}");
        }
    }
    checked?;
    let status = paint(GOOD, answer.status);
    if args.json {
        anstream::eprintln!("{status} in {}", http::millis(answer.latency));
    } else {
        anstream::println!("{status} in {}", http::millis(answer.latency));
    }
    Ok(())
}

/// Signs and posts one dialog request (the token put in its body) to `url`.
pub(crate) async fn post_request(
    client: &reqwest::Client,
    url: &str,
    target: &crate::cli::DialogTarget,
    request: serde_json::Map<String, Value>,
) -> Result<Answer, Failure> {
    let session_id = request.get("session_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let token = request::token_for(target.token.as_deref(), &request)?;
    let body = request::with_token(request, &token);
    let headers = http::dialog_headers(target, &token, &body, &session_id)?;
    http::post(client, url, headers, body).await
}

/// The reply, when the answer is a 200 whose body matches the reply schema.
pub(crate) fn check_reply(answer: &Answer) -> Result<Value, Failure> {
    if answer.status != reqwest::StatusCode::OK {
        return Err(Failure::Check(answer.describe_failure()));
    }
    let reply: Value = serde_json::from_slice(&answer.body)
        .map_err(|err| Failure::Check(format!("HTTP 200, but the reply is not JSON: {err}")))?;
    moveo_dialog::testing::Schema::Reply.validate(&reply).map_err(|violations| {
        let lines: Vec<String> = violations.iter().map(|violation| format!("  {violation}")).collect();
        Failure::Check(format!(
            "HTTP 200, but the reply breaks the reply schema ({} violations):\n{}\nreply: {}",
            violations.len(),
            lines.join("\n"),
            String::from_utf8_lossy(&answer.body).trim()
        ))
    })?;
    Ok(reply)
}

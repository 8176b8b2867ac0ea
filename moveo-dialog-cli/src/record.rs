//! `moveo-dialog record`: a recording proxy between Moveo and a local webhook server.
//!
//! Each call is forwarded unchanged and its answer returned unchanged. A call whose signature
//! verifies is saved as `NNNN-NODE.request.json` (the verify token redacted; headers, and so the
//! signature, are not kept) and its 200 reply as `NNNN-NODE.reply.json`: `replay` sends them
//! again, signed with the token of the day.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use moveo_dialog::Server;
use moveo_dialog::verify::{SIGNATURE_HEADER, Secret};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::cli::RecordArgs;
use crate::failure::Failure;
use crate::style::{BAD, GOOD, WARN, paint};
use crate::{http as wire, replay};

/// The largest call the proxy accepts: Moveo's payloads are a few kilobytes.
const BODY_LIMIT: usize = 1024 * 1024;
/// How long a call's body may take to arrive, as for a webhook server.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

struct Recorder {
    forward: String,
    out: PathBuf,
    secret: Secret,
    client: reqwest::Client,
    next: AtomicUsize,
}

pub(crate) async fn run(args: RecordArgs) -> Result<(), Failure> {
    wire::parse_url(&args.forward)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|err| Failure::Input(format!("cannot create {}: {err}", args.out.display())))?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|err| Failure::Input(format!("cannot listen on {}: {err}", args.listen)))?;
    let addr = listener.local_addr().map_err(|err| Failure::Input(err.to_string()))?;
    let recorder = Arc::new(Recorder {
        next: AtomicUsize::new(existing_fixtures(&args.out) + 1),
        forward: args.forward,
        out: args.out,
        secret: Secret::new(&args.token),
        client: wire::client(wire::timeout(args.timeout)?)?,
    });
    anstream::println!(
        "recording on http://{addr}, forwarding to {}, saving to {} (Ctrl-C to stop)",
        recorder.forward,
        recorder.out.display()
    );
    let out = recorder.out.clone();
    // Served by moveo-dialog's own `Server`: the same idle and head timeouts, connection cap
    // and graceful shutdown on SIGTERM or Ctrl-C as a webhook server.
    let service = tower::service_fn(move |request: Request<Incoming>| {
        let recorder = Arc::clone(&recorder);
        async move { Ok::<_, Infallible>(recorder.handle(request).await) }
    });
    Server::new(service).serve(listener).await.map_err(|err| Failure::Input(err.to_string()))?;
    anstream::println!("stopped; fixtures are in {}", out.display());
    Ok(())
}

/// How many request fixtures `dir` holds already, so a new recording never overwrites one.
fn existing_fixtures(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_name().to_string_lossy().ends_with(".request.json"))
                .count()
        })
        .unwrap_or(0)
}

fn proxy_error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": "proxy", "message": message }).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

/// Headers that belong to one hop, not to the call.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut kept = headers.clone();
    for name in [CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING] {
        kept.remove(name);
    }
    for name in ["keep-alive", "proxy-connection", "te", "trailer", "upgrade"] {
        kept.remove(name);
    }
    kept
}

/// `plan_erasmus` from the dialog stack's last node, cut to a safe file name.
fn fixture_name(request: &Value) -> String {
    let node = request
        .pointer("/debug/dialog_stack")
        .and_then(Value::as_array)
        .and_then(|stack| stack.last())
        .and_then(|node| node.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("call");
    let safe: String = node
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(48)
        .collect();
    if safe.is_empty() { "call".to_owned() } else { safe }
}

impl Recorder {
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, BODY_LIMIT).collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(_)) => return proxy_error(StatusCode::PAYLOAD_TOO_LARGE, "the call is over 1 MiB or was cut short"),
            Err(_) => return proxy_error(StatusCode::SERVICE_UNAVAILABLE, "the body did not arrive within 10 s"),
        };
        let started = Instant::now();
        let forwarded = self
            .client
            .request(parts.method.clone(), &self.forward)
            .headers(end_to_end(&parts.headers))
            .body(body.clone())
            .send()
            .await;
        let answer = match forwarded {
            Ok(answer) => answer,
            Err(err) => {
                let failure = wire::unreachable(&self.forward, &err);
                crate::style::error(&failure.to_string());
                return proxy_error(StatusCode::BAD_GATEWAY, &failure.to_string());
            }
        };
        let status = answer.status();
        let headers = end_to_end(answer.headers());
        let reply = match answer.bytes().await {
            Ok(reply) => reply,
            Err(err) => {
                return proxy_error(StatusCode::BAD_GATEWAY, &wire::unreachable(&self.forward, &err).to_string());
            }
        };
        let latency = wire::millis(started.elapsed());
        let signature = parts.headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok());
        match self.save(&body, signature, status, &reply) {
            Ok(name) => anstream::println!("{name}: {} in {latency}, saved", paint(GOOD, status)),
            Err(why) => anstream::println!("{} {status} in {latency}, not saved: {why}", paint(WARN, "call:")),
        }
        let mut response = Response::new(Full::new(reply));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }

    /// Saves the call as fixtures; the name they were saved under, or why they were not.
    fn save(&self, body: &[u8], signature: Option<&str>, status: StatusCode, reply: &[u8]) -> Result<String, String> {
        self.secret
            .verify_signature(body, signature)
            .map_err(|err| format!("{} ({err}; is --token the webhook's verify token?)", paint(BAD, "signature")))?;
        let mut request: Value = serde_json::from_slice(body).map_err(|err| format!("the call is not JSON: {err}"))?;
        let Some(object) = request.as_object_mut() else { return Err("the call is not a JSON object".to_owned()) };
        if object.contains_key("verify_token") {
            object.insert("verify_token".to_owned(), Value::String(crate::request::REDACTED.to_owned()));
        }
        let name = format!("{:04}-{}", self.next.fetch_add(1, Ordering::Relaxed), fixture_name(&request));
        let write = |path: PathBuf, value: &Value| {
            write_private(&path, replay::pretty(value).as_bytes())
                .map_err(|err| format!("cannot write {}: {err}", path.display()))
        };
        write(self.out.join(format!("{name}.request.json")), &request)?;
        if let (StatusCode::OK, Ok(reply)) = (status, serde_json::from_slice::<Value>(reply)) {
            write(self.out.join(format!("{name}.reply.json")), &reply)?;
        }
        Ok(name)
    }
}

/// Writes a fixture readable by its owner only (mode 0600 on Unix): a recorded call holds a
/// user's messages and context.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fixtures_are_named_after_the_node_that_fired() {
        let request = json!({"debug": {"dialog_stack": [{"name": "greetings"}, {"name": "plan erasmus/2"}]}});
        assert_eq!(fixture_name(&request), "plan_erasmus_2");
        assert_eq!(fixture_name(&json!({})), "call");
        assert_eq!(fixture_name(&json!({"debug": {"dialog_stack": [{"name": ""}]}})), "call");
    }

    #[test]
    fn hop_by_hop_headers_are_not_forwarded() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "example.com".parse().unwrap());
        headers.insert(CONNECTION, "close".parse().unwrap());
        headers.insert("x-moveo-signature", "abc".parse().unwrap());
        let kept = end_to_end(&headers);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept["x-moveo-signature"], "abc");
    }
}

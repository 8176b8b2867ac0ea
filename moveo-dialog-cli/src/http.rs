//! Posting signed JSON the way Moveo does, and telling apart "not reached" from "answered".

use std::time::{Duration, Instant};

use bytes::Bytes;
use moveo_dialog::verify::{Secret, sign};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::cli::DialogTarget;
use crate::failure::Failure;

/// What came back.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
    pub(crate) latency: Duration,
}

impl Answer {
    /// `HTTP 401 Unauthorized: {"error":"unauthorized",...}`, the body cut at 2,000 bytes.
    pub(crate) fn describe_failure(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let body = body.trim();
        let shown: String = body.chars().take(2000).collect();
        let cut = if shown.len() < body.len() { " ..." } else { "" };
        if shown.is_empty() {
            format!("HTTP {} (empty body)", self.status)
        } else {
            format!("HTTP {}: {shown}{cut}", self.status)
        }
    }
}

/// The seconds of a `--timeout` flag.
pub(crate) fn timeout(seconds: f64) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|timeout| !timeout.is_zero())
        .ok_or_else(|| Failure::Input(format!("--timeout {seconds}: expected a positive number of seconds")))
}

/// How https:// URLs are trusted: `--cacert` and `--insecure`, set once by `main`.
#[derive(Debug, Default)]
pub(crate) struct Trust {
    pub(crate) cacert: Option<reqwest::Certificate>,
    pub(crate) insecure: bool,
}

pub(crate) static TRUST: std::sync::OnceLock<Trust> = std::sync::OnceLock::new();

/// Reads `--cacert` and notes `--insecure` (saying so on stderr).
pub(crate) fn set_trust(cacert: Option<&std::path::Path>, insecure: bool) -> Result<(), Failure> {
    let cacert =
        match cacert {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|err| Failure::Input(format!("--cacert {}: cannot read it: {err}", path.display())))?;
                Some(reqwest::Certificate::from_pem(&pem).map_err(|err| {
                    Failure::Input(format!("--cacert {}: not a PEM certificate: {err}", path.display()))
                })?)
            }
            None => None,
        };
    if insecure {
        crate::style::warning("--insecure: any certificate is accepted; use it for local development only");
    }
    let _ = TRUST.set(Trust { cacert, insecure });
    Ok(())
}

/// An HTTP client for one command.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, Failure> {
    let mut builder =
        reqwest::Client::builder().timeout(timeout).user_agent(concat!("moveo-dialog-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(trust) = TRUST.get() {
        if let Some(cacert) = &trust.cacert {
            builder = builder.add_root_certificate(cacert.clone());
        }
        builder = builder.danger_accept_invalid_certs(trust.insecure);
    }
    builder.build().map_err(|err| Failure::Input(format!("cannot build the HTTP client: {err}")))
}

/// Moveo's headers on a dialog webhook call, the signature of `body` among them.
pub(crate) fn dialog_headers(
    target: &DialogTarget,
    token: &str,
    body: &[u8],
    session_id: &str,
) -> Result<HeaderMap, Failure> {
    if target.headers.len() > 10 {
        return Err(Failure::Input(format!("{} --header flags: Moveo sends at most 10", target.headers.len())));
    }
    let mut headers = HeaderMap::new();
    for custom in &target.headers {
        let (name, value) = custom
            .split_once(':')
            .ok_or_else(|| Failure::Input(format!("--header {custom:?}: expected NAME:VALUE")))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Failure::Input(format!("--header {custom:?}: {name:?} is not a header name")))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| Failure::Input(format!("--header {custom:?}: the value is not a header value")))?;
        headers.append(name, value);
    }
    let fixed = [
        ("x-moveo-signature", sign(&Secret::new(token), body)),
        ("x-moveo-request-id", crate::request::random_uuid()),
        ("x-moveo-session-id", session_id.to_owned()),
        ("x-moveo-account-id", target.account_id.clone()),
        ("x-moveo-account-slug", target.account_slug.clone()),
    ];
    for (name, value) in fixed {
        let value = HeaderValue::from_str(&value)
            .map_err(|_| Failure::Input(format!("{name}: {value:?} is not a header value")))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// An `http://` or `https://` URL.
pub(crate) fn parse_url(url: &str) -> Result<reqwest::Url, Failure> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(parsed),
        Ok(_) => Err(Failure::Input(format!("{url:?} is not a URL such as http://127.0.0.1:8080/webhook"))),
        Err(err) => Err(Failure::Input(format!("{url:?} is not a URL such as http://127.0.0.1:8080/webhook: {err}"))),
    }
}

/// POSTs `body` as JSON with `headers` and reads the whole answer.
pub(crate) async fn post(
    client: &reqwest::Client,
    url: &str,
    mut headers: HeaderMap,
    body: Vec<u8>,
) -> Result<Answer, Failure> {
    let parsed = parse_url(url)?;
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let started = Instant::now();
    let response =
        client.post(parsed).headers(headers).body(body).send().await.map_err(|err| unreachable(url, &err))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|err| unreachable(url, &err))?;
    Ok(Answer { status, body, latency: started.elapsed() })
}

/// "cannot connect to URL: Connection refused", "no answer from URL within 10 s", ...
pub(crate) fn unreachable(url: &str, err: &reqwest::Error) -> Failure {
    if err.is_timeout() {
        return Failure::Unreachable(format!("no answer from {url} in time (see --timeout)"));
    }
    let cause = root_cause(err);
    if err.is_connect() && cause.contains("certificate") {
        Failure::Unreachable(format!(
            "cannot connect to {url}: {cause} (a private or self-signed certificate? pass --cacert FILE)"
        ))
    } else if err.is_connect() {
        Failure::Unreachable(format!("cannot connect to {url}: {cause} (is the server running?)"))
    } else {
        Failure::Unreachable(format!("the exchange with {url} failed: {cause}"))
    }
}

/// The innermost error's message ("Connection refused (os error 111)"): what a user can act on.
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// `12.3 ms`.
pub(crate) fn millis(latency: Duration) -> String {
    format!("{:.1} ms", latency.as_secs_f64() * 1000.0)
}

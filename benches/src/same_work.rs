//! The erasmus example's work written by hand as fast as we know how, for the baselines of the
//! load benchmark (`typed-hyper`, `axum-same-work`): check the HMAC over the raw body with a
//! keyed state built once, decode every field the routing and the handler read into typed
//! structs borrowing from the body, route on the node name (else the top intent), and
//! serialise a derived reply: byte for byte what the example answers.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The HMAC-SHA256 state keyed with the verify token, built once and cloned per call.
#[derive(Clone)]
pub struct Key(Hmac<Sha256>);

impl Key {
    /// The state for `token`.
    #[must_use]
    pub fn new(token: &[u8]) -> Self {
        Self(<Hmac<Sha256> as Mac>::new_from_slice(token).unwrap_or_else(|_| unreachable!("any key length")))
    }
}

#[derive(Deserialize)]
struct Call<'a> {
    #[serde(default, borrow)]
    context: Trip<'a>,
    #[serde(default, borrow)]
    intents: Vec<Intent<'a>>,
    #[serde(default, borrow)]
    debug: Option<Debug<'a>>,
}

#[derive(Deserialize, Default)]
struct Trip<'a> {
    #[serde(default, borrow)]
    destination: Option<Cow<'a, str>>,
    #[serde(default)]
    total_months: Option<f64>,
    #[serde(default)]
    total_expenses: Option<f64>,
}

#[derive(Deserialize)]
struct Intent<'a> {
    #[serde(borrow)]
    intent: Cow<'a, str>,
    confidence: f64,
}

#[derive(Deserialize)]
struct Debug<'a> {
    #[serde(default, borrow)]
    dialog_stack: Vec<Frame<'a>>,
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Serialize)]
struct Reply<'a> {
    context: PlanContext,
    responses: [TextResponse<'a>; 1],
}

#[derive(Serialize)]
struct PlanContext {
    erasmus_plan_ready: bool,
    monthly_budget: f64,
}

#[derive(Serialize)]
struct TextResponse<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    texts: [String; 1],
    options: [Choice<'a>; 2],
}

#[derive(Serialize)]
struct Choice<'a> {
    text: &'a str,
    label: &'a str,
}

/// Whether `X-Moveo-Signature` is the HMAC of `body`.
#[must_use]
pub fn verified(key: &Key, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(signature) = headers.get("x-moveo-signature") else { return false };
    let Some(expected) = signature_bytes(signature.as_bytes()) else { return false };
    let mut mac = key.0.clone();
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The 32 bytes of a 64-digit hex signature, looked up by table: every signature Moveo sends
/// is new, and a branch on digit or letter (the `hex` crate's decode) would be mispredicted
/// about every other digit.
fn signature_bytes(hex: &[u8]) -> Option<[u8; 32]> {
    const INVALID: u8 = 0x10;
    const DIGITS: [u8; 256] = {
        let mut table = [INVALID; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = match i as u8 {
                digit @ b'0'..=b'9' => digit - b'0',
                letter @ b'a'..=b'f' => letter - b'a' + 10,
                letter @ b'A'..=b'F' => letter - b'A' + 10,
                _ => INVALID,
            };
            i += 1;
        }
        table
    };
    let hex: &[u8; 64] = hex.try_into().ok()?;
    let mut bytes = [0u8; 32];
    let mut invalid = 0;
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        let (high, low) = (DIGITS[usize::from(pair[0])], DIGITS[usize::from(pair[1])]);
        invalid |= high | low;
        *byte = (high << 4) | low;
    }
    (invalid & INVALID == 0).then_some(bytes)
}

/// Decodes what routing and the handler read; `None` when `body` is not a request.
#[must_use]
pub fn decode(body: &[u8]) -> Option<impl Sized + '_> {
    serde_json::from_slice::<Call<'_>>(body).ok()
}

/// The status and JSON body the erasmus example answers to `body` with `headers`, for a call
/// that reaches `plan_erasmus` with its three values (the load benchmark's call); other calls
/// get a status and `{}`.
#[must_use]
pub fn answer(key: &Key, headers: &HeaderMap, body: &[u8]) -> (StatusCode, Vec<u8>) {
    if !verified(key, headers, body) {
        return (StatusCode::UNAUTHORIZED, b"{}".to_vec());
    }
    // JSON text is UTF-8: checked once, then decoded as text (serde_json checks no string again).
    let Some(call) = std::str::from_utf8(body).ok().and_then(|text| serde_json::from_str::<Call<'_>>(text).ok()) else {
        return (StatusCode::BAD_REQUEST, b"{}".to_vec());
    };
    let node = call.debug.as_ref().and_then(|debug| debug.dialog_stack.last()).map(|frame| &*frame.name);
    let intent = call.intents.first().filter(|intent| intent.confidence >= 0.5).map(|intent| &*intent.intent);
    if node != Some("plan_erasmus") && intent != Some("erasmus") {
        return (StatusCode::OK, b"{}".to_vec());
    }
    let trip = call.context;
    let (Some(destination), Some(months), Some(expenses)) = (trip.destination, trip.total_months, trip.total_expenses)
    else {
        return (StatusCode::OK, b"{}".to_vec());
    };
    (StatusCode::OK, plan_reply(&destination, months, expenses))
}

/// The plan's reply, derived and serialised into a buffer sized for it.
#[must_use]
pub fn plan_reply(destination: &str, months: f64, expenses: f64) -> Vec<u8> {
    let monthly = (expenses / months * 100.0).round() / 100.0;
    let reply = Reply {
        context: PlanContext { erasmus_plan_ready: true, monthly_budget: monthly },
        responses: [TextResponse {
            kind: "text",
            texts: [format!(
                "Your Erasmus in {destination}: {months} months with €{expenses}, about €{monthly} a month."
            )],
            options: [
                Choice { text: "Looks good", label: "Looks good" },
                Choice { text: "I want another destination", label: "Change destination" },
            ],
        }],
    };
    // One buffer that holds the whole reply (~300 bytes and the destination's name): no
    // regrowth, where `serde_json::to_vec`'s 128-byte start reallocates twice.
    let mut buffer = Vec::with_capacity(384 + destination.len());
    match serde_json::to_writer(&mut buffer, &reply) {
        Ok(()) => buffer,
        Err(_) => Vec::new(),
    }
}

/// One HTTP call answered with the baseline's work: the body collected (413 past 1 MiB), then
/// [`answer`], as `application/json`. `typed-hyper`, `server-same-work` and the in-process
/// `extract/baseline` bench all answer through it (the service function itself: a wrapper
/// future around it costs the baseline ~0.35k instructions a request).
///
/// # Errors
///
/// Never.
pub async fn respond<B>(key: Arc<Key>, request: http::Request<B>) -> Result<http::Response<Full<Bytes>>, Infallible>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (head, body) = request.into_parts();
    let (status, reply) = match Limited::new(body, 1 << 20).collect().await {
        Ok(body) => answer(&key, &head.headers, &body.to_bytes()),
        Err(_) => (StatusCode::PAYLOAD_TOO_LARGE, b"{}".to_vec()),
    };
    let mut response = http::Response::new(Full::new(Bytes::from(reply)));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use moveo_dialog::verify::{Secret, sign};

    use super::*;

    fn headers(signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-moveo-signature", signature.parse().expect("a header value"));
        headers
    }

    /// The baseline verifies what the framework verifies: its signature in either case, and
    /// nothing else.
    #[test]
    fn the_baseline_takes_exactly_the_bodys_signature() {
        let key = Key::new(b"token");
        let body = br#"{"a": 1}"#;
        let signature = sign(&Secret::new("token"), body);
        assert!(verified(&key, &headers(&signature), body));
        assert!(verified(&key, &headers(&signature.to_uppercase()), body));
        assert!(!verified(&key, &headers(&signature), br#"{"a": 2}"#));
        let mut other = signature.clone().into_bytes();
        other[63] = if other[63] == b'0' { b'1' } else { b'0' };
        assert!(!verified(&key, &headers(std::str::from_utf8(&other).expect("hex")), body));
        assert!(!verified(&key, &headers(&signature[..62]), body));
        assert!(!verified(&key, &headers(&format!("{}g", &signature[..63])), body));
        assert!(!verified(&key, &HeaderMap::new(), body));
    }
}

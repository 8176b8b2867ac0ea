//! How a code reaches the phone: [`LogSender`] for development, [`HttpSender`] for an SMS
//! gateway's HTTP API.

use std::time::Duration;

use moveo_dialog::serve::BoxFuture;

/// A code could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The gateway answered, but not with a 2xx.
    #[error("the SMS gateway answered {status}: {body}")]
    Status {
        /// The status it answered.
        status: u16,
        /// The start of its body (at most 200 characters), for the log.
        body: String,
    },
    /// The gateway could not be reached, or did not answer in time.
    #[error("the SMS gateway could not be reached: {0}")]
    Transport(String),
    /// Another sender's failure, in its words.
    #[error("{0}")]
    Other(String),
}

/// Delivers a code to a phone.
pub trait Sender: Send + Sync + 'static {
    /// Sends `code` to `phone` (E.164).
    fn send<'a>(&'a self, phone: &'a str, code: &'a str) -> BoxFuture<'a, Result<(), SendError>>;
}

/// Writes the code to the log, for local development only.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSender;

impl Sender for LogSender {
    fn send<'a>(&'a self, phone: &'a str, code: &'a str) -> BoxFuture<'a, Result<(), SendError>> {
        tracing::info!(phone, "OTP code {code} (LogSender: development only; set OTP_SMS_URL for a gateway)");
        Box::pin(async { Ok(()) })
    }
}

/// How long the gateway has to answer.
pub const GATEWAY_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends through an SMS gateway's HTTP API: `POST URL` with `Authorization: Bearer API_KEY`
/// and the JSON body `{"to": "+306912345678", "text": "Your verification code is 123456"}`;
/// any 2xx is success. Redirects are not followed (the API key must not travel elsewhere); the
/// gateway has [`GATEWAY_TIMEOUT`] to answer.
#[derive(Clone)]
pub struct HttpSender {
    http: reqwest::Client,
    url: reqwest::Url,
    api_key: String,
}

impl std::fmt::Debug for HttpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSender").field("url", &self.url.as_str()).field("api_key", &"<redacted>").finish()
    }
}

impl HttpSender {
    /// A sender to the gateway at `url`, authenticated with `api_key`.
    ///
    /// # Errors
    ///
    /// The sentence to print when `url` is not an `http(s)` URL or the key is empty.
    pub fn new(url: &str, api_key: impl Into<String>) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url).map_err(|err| format!("OTP_SMS_URL={url:?} is not a URL: {err}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("OTP_SMS_URL={url:?} must be an http:// or https:// URL"));
        }
        let api_key = api_key.into();
        if api_key.trim().is_empty() {
            return Err("OTP_SMS_API_KEY is empty: set it to the gateway's API key".to_owned());
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(GATEWAY_TIMEOUT)
            .build()
            .map_err(|err| format!("cannot build the HTTP client for the SMS gateway: {err}"))?;
        Ok(Self { http, url: parsed, api_key })
    }
}

impl Sender for HttpSender {
    fn send<'a>(&'a self, phone: &'a str, code: &'a str) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let body = serde_json::json!({"to": phone, "text": format!("Your verification code is {code}")});
            let answer = self
                .http
                .post(self.url.clone())
                .bearer_auth(&self.api_key)
                .json(&body)
                .send()
                .await
                .map_err(|err| SendError::Transport(err.without_url().to_string()))?;
            let status = answer.status();
            if status.is_success() {
                return Ok(());
            }
            let text = answer.text().await.unwrap_or_default();
            Err(SendError::Status { status: status.as_u16(), body: text.chars().take(200).collect() })
        })
    }
}

//! The custom-integration REST client: sessions, messages, context, conversations, handover,
//! files (`client` feature).
//!
//! ```no_run
//! # async fn run() -> Result<(), moveo_dialog::client::ClientError> {
//! use moveo_dialog::client::{Client, CreateSession, UserMessage};
//!
//! let client = Client::new("MY_API_KEY", "MY_INTEGRATION_ID")?;
//! let session = client.create_session(&CreateSession::new().external_session_id("chat-1")).await?;
//! client.send_message(&session.session_id, &UserMessage::text("What plans do you offer?")).await?;
//! // The answer arrives on your webhook as a `message:brain_send` event.
//! # Ok(()) }
//! ```
//!
//! **Retries.** Every call retries 429 (honouring `Retry-After`) and 503 with exponential
//! backoff and jitter: Moveo did not process those. Other 5xx, timeouts and connection failures
//! are retried only for calls that are safe to repeat; the others (`create_session`,
//! `send_message`, `send_agent_message`, `handover`) retry a connection failure only when the
//! connection was never established, so no byte of the request was sent. `Retry-After` is
//! read in both of its forms (seconds, or an HTTP date), and capped at 60 s.
//!
//! **Hardening.** Every id in a path (integration, session) is percent-encoded as one path
//! segment, and an id that is empty, `.` or `..` is refused before any request: a session id
//! cannot reach another path or another integration. Redirects are never followed (the API key
//! would travel with them). Answers are read up to 1 MiB by default
//! ([`max_response_bytes`](Client::max_response_bytes)), then refused. `Debug` never shows the
//! API key, nor the presigned upload and download URLs (they are credentials).
//!
//! | call | method and path (under `/v1/custom/:integration_id`) | safe to repeat |
//! |---|---|---|
//! | `create_session` | `POST /sessions` | no |
//! | `update_context` | `PATCH /sessions/:id/context` | yes |
//! | `close_session` | `POST /sessions/:id/close` | yes |
//! | `send_message` | `POST /sessions/:id/messages` | no |
//! | `send_agent_message` | `POST /sessions/:id/messages/agent` | no |
//! | `mark_read` / `mark_delivered` | `POST /sessions/:id/messages/read` / `delivered` | yes |
//! | `close_conversation` / `reopen_conversation` | `POST /sessions/:id/conversation/close` / `reopen` | yes |
//! | `handover` | `POST /sessions/:id/handover` | no |
//! | `file_upload_url` / `file_download_url` | `POST /sessions/:id/files/upload-url` / `download-url` | yes |
//! | `upload_file` / `download_file` | the URL above, then `PUT` / `GET` the bytes | yes |

mod error;
mod model;

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::{ClientError, ClientErrorKind, ErrorCode};
pub use model::{
    Accepted, AgentInput, AgentMessageIn, AgentRef, Attachment, ContextUpdated, CreateSession, DownloadUrl,
    MessageInput, SessionContext, SessionCreated, UploadUrl, User, UserMessage,
};

use crate::verify::Secret;

/// Moveo's API.
pub const DEFAULT_BASE_URL: &str = "https://channels.moveo.ai";

/// The custom-integration REST client. Cheap to clone; `Debug` never shows the API key.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    api_key: Secret,
    integration_id: String,
    base_url: String,
    max_retries: u32,
    backoff: Duration,
    max_response_bytes: usize,
}

/// The largest answer a [`Client`] reads by default: 1 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// What a path segment may hold unencoded: RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// `id` as one path segment: percent-encoded, and refused when it is empty, `.` or `..` (which
/// URL parsers resolve as dot segments however they are encoded).
fn segment(call: &'static str, what: &'static str, id: &str) -> Result<String, ClientError> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(ClientError::new(call, ClientErrorKind::Invalid(what)));
    }
    Ok(percent_encoding::utf8_percent_encode(id, SEGMENT).to_string())
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_key", &"<redacted>")
            .field("integration_id", &self.integration_id)
            .field("base_url", &self.base_url)
            .field("max_retries", &self.max_retries)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeat {
    Safe,
    Unsafe,
}

impl Client {
    /// A client for `integration_id`, authenticated with `api_key`, against Moveo's API, with a
    /// 30 s timeout and 3 retries.
    ///
    /// # Errors
    ///
    /// [`ClientErrorKind::Build`] when the HTTP client cannot be built (no TLS roots, say):
    /// never a silent fallback to a client without the timeouts.
    pub fn new(api_key: impl AsRef<[u8]>, integration_id: impl Into<String>) -> Result<Self, ClientError> {
        Self::with_timeout(api_key, integration_id, Duration::from_secs(30))
    }

    /// As [`Client::new`], with `timeout` per request.
    ///
    /// # Errors
    ///
    /// As [`Client::new`].
    pub fn with_timeout(
        api_key: impl AsRef<[u8]>,
        integration_id: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| ClientError::new("build", ClientErrorKind::Build(err.without_url())))?;
        Ok(Self {
            http,
            api_key: Secret::new(api_key),
            integration_id: integration_id.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            max_retries: 3,
            backoff: Duration::from_millis(200),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        })
    }

    /// The largest answer read (default 1 MiB, downloads included); a larger one is refused
    /// with [`ClientErrorKind::TooLarge`] without reading the rest.
    #[must_use]
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Another base URL (a mock in tests, a proxy). Without a trailing slash.
    #[must_use]
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Retries after the first attempt (default 3).
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The first backoff (default 200 ms), doubled at each retry (capped at 5 s), with full jitter.
    #[must_use]
    pub fn backoff(mut self, first: Duration) -> Self {
        self.backoff = first;
        self
    }

    fn url(&self, call: &'static str, session: Option<&str>, tail: &str) -> Result<String, ClientError> {
        let integration = segment(call, "the integration id is not a path segment", &self.integration_id)?;
        Ok(match session {
            None => format!("{}/v1/custom/{integration}/sessions{tail}", self.base_url),
            Some(id) => {
                let id = segment(call, "the session id is empty, `.` or `..`", id)?;
                format!("{}/v1/custom/{integration}/sessions/{id}{tail}", self.base_url)
            }
        })
    }

    /// Reads an answer's body, up to the cap.
    async fn read_body(&self, call: &'static str, mut response: reqwest::Response) -> Result<Bytes, ClientError> {
        let limit = self.max_response_bytes;
        let too_large = || ClientError::new(call, ClientErrorKind::TooLarge { limit });
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return Err(too_large());
        }
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| transport(call, err))? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(Duration::from_secs(60));
        }
        let ceiling = self.backoff.saturating_mul(1 << attempt.min(16)).min(Duration::from_secs(5));
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(attempt);
        let jitter = hasher.finish() % 1_000;
        ceiling.mul_f64(jitter as f64 / 1_000.0)
    }

    /// Sends with the retry rules; returns the body of a 2xx.
    async fn send(
        &self,
        call: &'static str,
        repeat: Repeat,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Bytes, ClientError> {
        let mut attempt = 0;
        loop {
            let outcome = build().send().await;
            let (retry, retry_after, error) = match outcome {
                Ok(response) => {
                    let status = response.status();
                    let retry_after =
                        response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after);
                    let body = self.read_body(call, response).await?;
                    if status.is_success() {
                        return Ok(body);
                    }
                    let retry = match status {
                        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => true,
                        status if status.is_server_error() => repeat == Repeat::Safe,
                        _ => false,
                    };
                    (retry, retry_after, ClientError::api(call, status.as_u16(), &body))
                }
                Err(err) => {
                    let retry = err.is_connect() || (repeat == Repeat::Safe && (err.is_timeout() || err.is_request()));
                    (retry, None, transport(call, err))
                }
            };
            if !retry || attempt >= self.max_retries {
                return Err(error);
            }
            let delay = self.delay(attempt, retry_after);
            tracing::debug!(call, attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn api(&self, method: Method, url: &str) -> RequestBuilder {
        let mut key = HeaderValue::from_bytes(&[b"apikey ", self.api_key.expose()].concat())
            .unwrap_or_else(|_| HeaderValue::from_static("apikey"));
        key.set_sensitive(true);
        self.http.request(method, url).header(AUTHORIZATION, key).header(CONTENT_TYPE, "application/json")
    }

    async fn call<T, B>(
        &self,
        call: &'static str,
        repeat: Repeat,
        method: Method,
        url: String,
        body: Option<&B>,
    ) -> Result<T, ClientError>
    where
        T: DeserializeOwned,
        B: Serialize + ?Sized,
    {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|err| ClientError::new(call, ClientErrorKind::Decode(err.to_string())))?;
        let bytes = self
            .send(call, repeat, || {
                let request = self.api(method.clone(), &url);
                match &body {
                    Some(body) => request.body(body.clone()),
                    None => request,
                }
            })
            .await?;
        serde_json::from_slice(&bytes).map_err(|err| ClientError::new(call, ClientErrorKind::Decode(err.to_string())))
    }

    async fn bare(
        &self,
        call: &'static str,
        repeat: Repeat,
        session_id: &str,
        tail: &str,
    ) -> Result<Accepted, ClientError> {
        self.call::<Accepted, ()>(call, repeat, Method::POST, self.url(call, Some(session_id), tail)?, None).await
    }

    /// Creates a session (201). Not repeated on ambiguous failures.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `create_session`.
    pub async fn create_session(&self, request: &CreateSession) -> Result<SessionCreated, ClientError> {
        self.call("create_session", Repeat::Unsafe, Method::POST, self.url("create_session", None, "")?, Some(request))
            .await
    }

    /// Updates only the context fields given.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `update_context`.
    pub async fn update_context(
        &self,
        session_id: &str,
        context: &SessionContext,
    ) -> Result<ContextUpdated, ClientError> {
        self.call(
            "update_context",
            Repeat::Safe,
            Method::PATCH,
            self.url("update_context", Some(session_id), "/context")?,
            Some(context),
        )
        .await
    }

    /// Closes the session (Moveo then sends `session:closed`).
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `close_session`.
    pub async fn close_session(&self, session_id: &str) -> Result<Accepted, ClientError> {
        self.bare("close_session", Repeat::Safe, session_id, "/close").await
    }

    /// Sends a user message (202); the reply arrives on the webhook. A message with neither text
    /// nor attachments is refused before any request is made.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `send_message`.
    pub async fn send_message(&self, session_id: &str, message: &UserMessage) -> Result<Accepted, ClientError> {
        let empty_text = message.input.text.as_deref().is_none_or(|text| text.trim().is_empty());
        if empty_text && message.input.attachments.is_empty() {
            return Err(ClientError::new(
                "send_message",
                ClientErrorKind::Invalid("a user message needs text or attachments"),
            ));
        }
        self.call(
            "send_message",
            Repeat::Unsafe,
            Method::POST,
            self.url("send_message", Some(session_id), "/messages")?,
            Some(message),
        )
        .await
    }

    /// Records a message an external human agent sent.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `send_agent_message`.
    pub async fn send_agent_message(
        &self,
        session_id: &str,
        message: &AgentMessageIn,
    ) -> Result<Accepted, ClientError> {
        let url = self.url("send_agent_message", Some(session_id), "/messages/agent")?;
        self.call("send_agent_message", Repeat::Unsafe, Method::POST, url, Some(message)).await
    }

    /// Marks the messages read.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `mark_read`.
    pub async fn mark_read(&self, session_id: &str) -> Result<Accepted, ClientError> {
        self.bare("mark_read", Repeat::Safe, session_id, "/messages/read").await
    }

    /// Marks the messages delivered.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `mark_delivered`.
    pub async fn mark_delivered(&self, session_id: &str) -> Result<Accepted, ClientError> {
        self.bare("mark_delivered", Repeat::Safe, session_id, "/messages/delivered").await
    }

    /// Marks the conversation resolved; the session stays open.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `close_conversation`.
    pub async fn close_conversation(&self, session_id: &str) -> Result<Accepted, ClientError> {
        self.bare("close_conversation", Repeat::Safe, session_id, "/conversation/close").await
    }

    /// Reopens a resolved conversation.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `reopen_conversation`.
    pub async fn reopen_conversation(&self, session_id: &str) -> Result<Accepted, ClientError> {
        self.bare("reopen_conversation", Repeat::Safe, session_id, "/conversation/reopen").await
    }

    /// Hands the conversation over to a human agent.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `handover`.
    pub async fn handover(&self, session_id: &str) -> Result<Accepted, ClientError> {
        self.bare("handover", Repeat::Unsafe, session_id, "/handover").await
    }

    /// Asks where to upload a file.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `file_upload_url`.
    pub async fn file_upload_url(
        &self,
        session_id: &str,
        filename: &str,
        content_type: &str,
    ) -> Result<UploadUrl, ClientError> {
        let body = serde_json::json!({"filename": filename, "content_type": content_type});
        let url = self.url("file_upload_url", Some(session_id), "/files/upload-url")?;
        self.call("file_upload_url", Repeat::Safe, Method::POST, url, Some(&body)).await
    }

    /// Asks where to download a file.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `file_download_url`.
    pub async fn file_download_url(&self, session_id: &str, file_id: &str) -> Result<DownloadUrl, ClientError> {
        let body = serde_json::json!({"file_id": file_id});
        let url = self.url("file_download_url", Some(session_id), "/files/download-url")?;
        self.call("file_download_url", Repeat::Safe, Method::POST, url, Some(&body)).await
    }

    /// Uploads `bytes`: asks for the upload URL, `PUT`s the bytes there, returns the `file_id`
    /// (for `attachments[].id`).
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `file_upload_url` or `upload_file`.
    pub async fn upload_file(
        &self,
        session_id: &str,
        filename: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<String, ClientError> {
        let target = self.file_upload_url(session_id, filename, content_type).await?;
        self.send("upload_file", Repeat::Safe, || {
            self.http.put(&target.upload_url).header(CONTENT_TYPE, content_type).body(bytes.clone())
        })
        .await?;
        Ok(target.file_id)
    }

    /// Downloads a file: asks for the download URL, then `GET`s the bytes.
    ///
    /// # Errors
    ///
    /// [`ClientError`] naming `file_download_url` or `download_file`.
    pub async fn download_file(&self, session_id: &str, file_id: &str) -> Result<Bytes, ClientError> {
        let target = self.file_download_url(session_id, file_id).await?;
        self.send("download_file", Repeat::Safe, || self.http.get(&target.download_url)).await
    }
}

fn transport(call: &'static str, err: reqwest::Error) -> ClientError {
    if err.is_timeout() {
        ClientError::new(call, ClientErrorKind::Timeout)
    } else {
        ClientError::new(call, ClientErrorKind::Transport(err.without_url()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        let in_a_minute = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(61));
        let wait = retry_after(&in_a_minute).unwrap();
        assert!((Duration::from_secs(59)..=Duration::from_secs(61)).contains(&wait), "{wait:?}");
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO), "a date in the past");
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn a_segment_is_percent_encoded_and_dot_segments_are_refused() {
        assert_eq!(segment("c", "bad", "a b/c?d#e%").unwrap(), "a%20b%2Fc%3Fd%23e%25");
        assert_eq!(segment("c", "bad", "660e8400-e29b_41d4.a716~x").unwrap(), "660e8400-e29b_41d4.a716~x");
        for bad in ["", ".", ".."] {
            assert!(segment("c", "bad", bad).is_err(), "{bad:?}");
        }
    }
}

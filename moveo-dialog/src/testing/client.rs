//! [`TestClient`]: calls a router or an events receiver in-process, signed as Moveo signs,
//! and reads the answer as a test reads it ([`TestReply`]).

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Map, Value};
use tower::{Service, ServiceExt};

use super::call::{DialogCall, with_token};
use super::event_call::EventCall;
use super::schema::Schema;
use crate::verify::{Secret, sign};

/// How a test call proves it comes from Moveo.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signing {
    /// `X-Moveo-Signature` computed with the client's token (the default).
    Signed,
    /// No signature header.
    Unsigned,
    /// `X-Moveo-Signature` computed with another key.
    WrongKey(String),
}

/// Calls a [`Router`](crate::Router) or an [`EventsReceiver`](crate::events::EventsReceiver)
/// in-process (no socket), signing each call with [`verify_token`](Self::verify_token) as
/// Moveo signs it (for an events receiver, the token is the webhook secret). The service is any
/// `tower::Service<http::Request<Full<Bytes>>>`, such as the router under tower layers.
///
/// ```
/// # tokio_test_block_on(async {
/// use moveo_dialog::testing::{DialogCall, TestClient};
/// use moveo_dialog::{Reply, Router};
///
/// let router = Router::new().verify_token("t").node("greet", || async { Reply::text("Hi!") });
/// let reply = TestClient::new(router).verify_token("t").send(DialogCall::node("greet")).await;
/// assert_eq!(reply.texts(), ["Hi!"]);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TestClient<S> {
    service: S,
    token: Option<Secret>,
    path: String,
    signing: Signing,
}

/// What a [`TestClient`] calls: a `tower::Service` over `http::Request<Full<Bytes>>` answering
/// with this crate's response body and never failing, as [`Router`](crate::Router) and
/// [`EventsReceiver`](crate::events::EventsReceiver) are (under tower layers too).
/// Implemented for every such service, never by hand.
pub trait TestService:
    Service<Request<Full<Bytes>>, Response = Response<crate::serve::ResponseBody>, Error = Infallible, Future: Send>
    + Clone
    + Send
    + 'static
{
}

impl<S> TestService for S
where
    S: Service<Request<Full<Bytes>>, Response = Response<crate::serve::ResponseBody>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
}

impl<S> TestClient<S>
where
    S: TestService,
{
    /// A client for `service`; calls go to `/webhook` (and events to `/events`).
    pub fn new(service: S) -> Self {
        Self { service, token: None, path: "/webhook".to_owned(), signing: Signing::Signed }
    }

    /// The verify token (or webhook secret) each call is signed with, and put in a dialog
    /// call's body as Moveo does.
    pub fn verify_token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The URL path (and query string) calls go to.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// How calls are signed from now on (default [`Signing::Signed`]).
    pub fn signing(mut self, signing: Signing) -> Self {
        self.signing = signing;
        self
    }

    fn token_text(&self) -> String {
        self.token.as_ref().map(|token| String::from_utf8_lossy(token.expose()).into_owned()).unwrap_or_default()
    }

    /// Sends a dialog webhook call; a 200 reply is checked against the reply schema (a
    /// violation fails the test, naming its JSON pointer).
    ///
    /// # Panics
    ///
    /// When the service fails, or a 200 reply breaks the reply schema.
    pub async fn send(&self, call: DialogCall) -> TestReply {
        self.send_map(call.to_map()).await
    }

    /// Sends a dialog webhook request given as JSON (the token is put in its body).
    ///
    /// # Panics
    ///
    /// As [`send`](Self::send).
    pub async fn send_map(&self, request: Map<String, Value>) -> TestReply {
        let session = request.get("session_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let body = with_token(request, &self.token_text());
        let reply = self.post(&self.path.clone(), body, &session).await;
        if reply.status == StatusCode::OK
            && let Some(json) = &reply.json
            && let Err(violations) = Schema::Reply.validate(json)
        {
            let lines: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
            panic!("the 200 reply breaks the reply schema:\n{}\n{json:#}", lines.join("\n"));
        }
        reply
    }

    /// Delivers a custom-integration event (to `/events` unless [`path`](Self::path) was set
    /// to something else than `/webhook`), signed with the webhook secret.
    ///
    /// # Panics
    ///
    /// When the service fails.
    pub async fn deliver(&self, event: &EventCall) -> TestReply {
        self.deliver_bytes(event.to_bytes()).await
    }

    /// Delivers an event given as its exact bytes (to deliver the very same event again).
    ///
    /// # Panics
    ///
    /// When the service fails.
    pub async fn deliver_bytes(&self, body: Vec<u8>) -> TestReply {
        let path = if self.path == "/webhook" { "/events".to_owned() } else { self.path.clone() };
        self.post(&path, body, "").await
    }

    async fn post(&self, path: &str, body: Vec<u8>, session: &str) -> TestReply {
        let mut request = Request::post(path)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .header("x-moveo-request-id", super::ids::random_uuid())
            .header("x-moveo-account-id", "test-account")
            .header("x-moveo-account-slug", "test");
        if !session.is_empty() {
            request = request.header("x-moveo-session-id", session);
        }
        let signature = match &self.signing {
            Signing::Signed => self.token.as_ref().map(|token| sign(token, &body)),
            Signing::Unsigned => None,
            Signing::WrongKey(key) => Some(sign(&Secret::new(key), &body)),
        };
        if let Some(signature) = signature {
            request = request.header("x-moveo-signature", signature);
        }
        #[allow(clippy::expect_used)]
        let request = request.body(Full::new(Bytes::from(body))).expect("a valid test request");
        let response = match self.service.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        #[allow(clippy::expect_used)]
        let body = response.into_body().collect().await.expect("a full body").to_bytes();
        let json = serde_json::from_slice(&body).ok();
        TestReply { status, body, json }
    }
}

/// What a test call got back: the status, the `error` code of a failure, the reply, and the
/// parts of it a test reads.
#[derive(Debug, Clone)]
pub struct TestReply {
    status: StatusCode,
    body: Bytes,
    json: Option<Value>,
}

fn strings<'v>(values: impl IntoIterator<Item = &'v Value>, key: &str) -> Vec<&'v str> {
    values.into_iter().filter_map(|value| value.get(key).and_then(Value::as_str)).collect()
}

impl TestReply {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` code of a 4xx or 5xx (`bad_signature`, `no_route`...).
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        if self.status.is_success() {
            return None;
        }
        self.json.as_ref()?.get("error")?.as_str()
    }

    /// The `message` of a 4xx or 5xx.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        if self.status.is_success() {
            return None;
        }
        self.json.as_ref()?.get("message")?.as_str()
    }

    /// The body as JSON (the reply of a 200).
    #[must_use]
    pub fn json(&self) -> Option<&Value> {
        self.json.as_ref()
    }

    /// The raw body.
    #[must_use]
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    fn responses(&self) -> impl Iterator<Item = &Value> {
        self.json.as_ref().and_then(|json| json.get("responses")).and_then(Value::as_array).into_iter().flatten()
    }

    /// Every text of every text response, in order.
    #[must_use]
    pub fn texts(&self) -> Vec<&str> {
        self.responses()
            .filter(|response| response["type"] == "text")
            .flat_map(|response| response["texts"].as_array().into_iter().flatten().filter_map(Value::as_str))
            .collect()
    }

    /// Every quick-reply option, as (label, text).
    #[must_use]
    pub fn options(&self) -> Vec<(&str, &str)> {
        self.responses()
            .flat_map(|response| response["options"].as_array().into_iter().flatten())
            .filter_map(|option| Some((option.get("label")?.as_str()?, option.get("text")?.as_str()?)))
            .collect()
    }

    /// The titles of every carousel card.
    #[must_use]
    pub fn cards(&self) -> Vec<&str> {
        strings(self.responses().flat_map(|response| response["cards"].as_array().into_iter().flatten()), "title")
    }

    /// The labels of every card button.
    #[must_use]
    pub fn buttons(&self) -> Vec<&str> {
        let cards = self.responses().flat_map(|response| response["cards"].as_array().into_iter().flatten());
        strings(cards.flat_map(|card| card["buttons"].as_array().into_iter().flatten()), "label")
    }

    /// The context updates of the reply (`null` for a key it removes).
    #[must_use]
    pub fn context(&self) -> Map<String, Value> {
        self.json.as_ref().and_then(|json| json.get("context")).and_then(Value::as_object).cloned().unwrap_or_default()
    }

    /// For an events receiver: `handled`, `duplicate`, `ignored` or `queued`.
    #[must_use]
    pub fn event_status(&self) -> Option<&str> {
        self.json.as_ref()?.get("status")?.as_str()
    }

    /// Whether an events receiver ran its handler for this delivery.
    #[must_use]
    pub fn handled(&self) -> bool {
        self.event_status() == Some("handled")
    }

    /// The reply as the `moveo-dialog` CLI shows it (plain text, one line per row), or the
    /// status and error of a failure.
    #[must_use]
    pub fn transcript(&self) -> String {
        match &self.json {
            Some(json) if self.status == StatusCode::OK => super::transcript::transcript(json).join("\n"),
            _ => format!(
                "{} {}: {}",
                self.status.as_u16(),
                self.error().unwrap_or("?"),
                self.message().unwrap_or_default()
            ),
        }
    }
}

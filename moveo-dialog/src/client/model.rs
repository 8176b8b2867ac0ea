//! Requests and responses of the custom-integration REST API.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::events::Attachment;

/// A session's context: `user`, `tags`, `channels`, `global`, and any custom variables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionContext {
    /// The user's profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Tags to apply to the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Channel-specific data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Map<String, Value>>,
    /// Global variables (`disclaimer_accepted`, `client_url`, ... and custom ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<Map<String, Value>>,
    /// Custom context variables.
    #[serde(flatten)]
    pub custom: Map<String, Value>,
}

impl SessionContext {
    /// An empty context.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the user's profile.
    #[must_use]
    pub fn user(mut self, user: User) -> Self {
        self.user = Some(user);
        self
    }

    /// Sets the tags.
    #[must_use]
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = Some(tags.into_iter().map(Into::into).collect());
        self
    }

    /// Sets a global variable.
    #[must_use]
    pub fn global(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.global.get_or_insert_with(Map::new).insert(key.into(), value.into());
        self
    }

    /// Sets a custom context variable.
    #[must_use]
    pub fn var(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.custom.insert(key.into(), value.into());
        self
    }
}

/// The user's profile in a session context; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct User {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// ISO 639-1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// IANA, e.g. `America/New_York`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `city`, `country`, `region`, `latitude`, `longitude`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locales: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Fields the documentation does not list.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/custom/:integration_id/sessions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CreateSession {
    /// Your system's id for the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_session_id: Option<String>,
    /// The user's id in your system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_user_id: Option<String>,
    /// The initial context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<SessionContext>,
}

impl CreateSession {
    /// A session with no ids or context.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Your system's id for the session.
    #[must_use]
    pub fn external_session_id(mut self, id: impl Into<String>) -> Self {
        self.external_session_id = Some(id.into());
        self
    }

    /// The user's id in your system.
    #[must_use]
    pub fn channel_user_id(mut self, id: impl Into<String>) -> Self {
        self.channel_user_id = Some(id.into());
        self
    }

    /// The initial context.
    #[must_use]
    pub fn context(mut self, context: SessionContext) -> Self {
        self.context = Some(context);
        self
    }
}

/// 201 to a created session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionCreated {
    /// The request's id.
    pub request_id: String,
    /// The new session's id: use it for every later call.
    pub session_id: String,
    /// The session context, with defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// 200 to a context update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContextUpdated {
    /// The request's id.
    pub request_id: String,
    /// The context after the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// A bare acknowledgement: `{"request_id"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Accepted {
    /// The request's id.
    pub request_id: String,
}

/// A user message: text, attachments, or both (never neither).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UserMessage {
    /// The input.
    pub input: MessageInput,
    /// Context to set with the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<SessionContext>,
}

/// The `input` of a user message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MessageInput {
    /// What the user typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Files the user sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl UserMessage {
    /// A text message.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self { input: MessageInput { text: Some(text.into()), attachments: Vec::new() }, context: None }
    }

    /// Adds an attachment.
    #[must_use]
    pub fn attachment(mut self, attachment: Attachment) -> Self {
        self.input.attachments.push(attachment);
        self
    }

    /// Sets context with the message.
    #[must_use]
    pub fn context(mut self, context: SessionContext) -> Self {
        self.context = Some(context);
        self
    }
}

/// A message a human agent outside Moveo sent, recorded for history and analytics.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AgentMessageIn {
    /// `{"text"}`.
    pub input: AgentInput,
    /// Who sent it.
    pub agent: AgentRef,
}

/// The `input` of an agent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentInput {
    /// The text.
    pub text: String,
}

/// The agent of an agent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AgentRef {
    /// The agent's id.
    pub agent_id: String,
    /// The agent's name.
    pub agent_name: String,
    /// A URL to the agent's avatar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_avatar: Option<String>,
}

impl AgentMessageIn {
    /// `text` from the agent `agent_id` named `agent_name`.
    #[must_use]
    pub fn new(text: impl Into<String>, agent_id: impl Into<String>, agent_name: impl Into<String>) -> Self {
        Self {
            input: AgentInput { text: text.into() },
            agent: AgentRef { agent_id: agent_id.into(), agent_name: agent_name.into(), agent_avatar: None },
        }
    }
}

/// 200 to an upload-URL request. `Debug` hides the presigned URL: it is a credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadUrl {
    /// The request's id.
    pub request_id: String,
    /// Where to `PUT` the bytes.
    pub upload_url: String,
    /// The file's id, for `attachments[].id`.
    pub file_id: String,
}

/// 200 to a download-URL request. `Debug` hides the presigned URL: it is a credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DownloadUrl {
    /// The request's id.
    pub request_id: String,
    /// Where to `GET` the bytes.
    pub download_url: String,
    /// The file's id.
    pub file_id: String,
}

impl std::fmt::Debug for UploadUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadUrl")
            .field("request_id", &self.request_id)
            .field("upload_url", &"<redacted>")
            .field("file_id", &self.file_id)
            .finish()
    }
}

impl std::fmt::Debug for DownloadUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadUrl")
            .field("request_id", &self.request_id)
            .field("download_url", &"<redacted>")
            .field("file_id", &self.file_id)
            .finish()
    }
}

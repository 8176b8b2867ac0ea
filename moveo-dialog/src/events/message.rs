//! The `message:*` event payloads.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::output::OutputResponse;

/// `message:brain_send`: the AI agent answered the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BrainSend {
    /// The agent's output.
    pub output: Output,
}

/// The output of a `message:brain_send` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Output {
    /// One or more responses, in order.
    pub responses: Vec<OutputResponse>,
}

impl BrainSend {
    /// The payload from the raw JSON of its `output` member, as the derived `Deserialize`
    /// decodes it from the event (`BrainSend` reads no other member), each response
    /// [straight from its text](OutputResponse::from_raw); `None` where that decode would fail
    /// or where this one does not decide (a key given twice).
    pub(crate) fn from_raw(output: &RawValue) -> Option<Self> {
        #[derive(Deserialize)]
        struct RawOutput<'a> {
            #[serde(borrow)]
            responses: Vec<&'a RawValue>,
        }
        let RawOutput { responses } = RawOutput::deserialize(output).ok()?;
        let responses = responses.into_iter().map(OutputResponse::from_raw).collect::<Option<_>>()?;
        Some(Self { output: Output { responses } })
    }
}

/// `message:send`: a human agent from Moveo's live chat replied to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentMessage {
    /// The agent who wrote.
    pub from: Agent,
    /// The user written to.
    pub to: Recipient,
    /// The message.
    pub body: MessageBody,
}

/// A human agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Agent {
    /// The agent's id.
    pub agent_id: String,
    /// The agent's display name.
    pub agent_name: String,
    /// A URL to the agent's avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_avatar: Option<String>,
    /// The agent's team or department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
}

/// The user a message is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recipient {
    /// The user's id.
    pub user_id: String,
}

/// The text and attachments of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageBody {
    /// The message text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Attachments, in the format of a user message's attachments.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attachment {
    /// `"image"`, `"video"`, `"audio"` or `"file"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The MIME type.
    pub mime_type: String,
    /// Where the file is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// A title for the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The file's id (an uploaded file's `file_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

super::wire_enum::wire_enum! {
    /// Who acted: a human agent, the AI agent, or the visitor.
    pub enum AuthorType {
        /// `"agent"`: a human agent.
        Agent = "agent",
        /// `"brain"`: the AI agent.
        Brain = "brain",
        /// `"visitor"`: the user.
        Visitor = "visitor",
    }
}

super::wire_enum::wire_enum! {
    /// Whether typing started or stopped.
    pub enum ComposeAction {
        /// `"start"`.
        Start = "start",
        /// `"stop"`.
        Stop = "stop",
    }
}

/// `message:compose`: someone started or stopped typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Compose {
    /// Who is typing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    /// Their name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// A human agent or the AI agent.
    pub author_type: AuthorType,
    /// Started or stopped.
    pub action: ComposeAction,
}

/// `message:read` and `message:delivered`: messages were read or delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Receipt {
    /// Who read or received them.
    pub author_type: AuthorType,
}

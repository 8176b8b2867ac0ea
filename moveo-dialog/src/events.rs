//! Custom-integration webhook events: Moveo delivers the agent's replies and conversation
//! events to your webhook, signed with HMAC-SHA256 of the raw body keyed with the webhook
//! secret (see [`crate::verify`]).
//!
//! [`Event::from_slice`] decodes a body into the base fields and an [`EventKind`]; an event type
//! this version does not know becomes [`EventKind::Unknown`] and keeps its JSON.

mod conversation;
mod event;
mod message;
mod output;
mod session;

pub use conversation::{ConversationClosed, Member};
pub use event::{Event, EventDecodeError, EventKind, EventType};
pub use message::{
    Agent, AgentMessage, Attachment, AuthorType, BrainSend, Compose, ComposeAction, MessageBody, Output, Receipt,
    Recipient,
};
pub use output::{
    Handover, OutputButton, OutputCard, OutputCardMedia, OutputCarousel, OutputMedia, OutputOption, OutputResponse,
    OutputText, OutputWebview, OutputWebviewHeight,
};
pub use session::SessionClosed;

//! Custom-integration webhook events: Moveo delivers the agent's replies and conversation
//! events to your webhook, signed with HMAC-SHA256 of the raw body keyed with the webhook
//! secret (see [`crate::verify`]).
//!
//! [`Event::from_slice`] decodes a body into the base fields and an [`EventKind`]; an event type
//! this version does not know becomes [`EventKind::Unknown`] and keeps its JSON.

#[cfg(feature = "server")]
mod clock;
mod conversation;
#[cfg(feature = "server")]
mod dedup;
mod event;
#[cfg(feature = "server")]
mod handler;
mod message;
mod output;
#[cfg(feature = "server")]
mod receiver;
#[cfg(feature = "redis")]
mod redis;
mod session;
mod wire_enum;

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

#[cfg(feature = "server")]
pub use clock::{Clock, SystemClock};
#[cfg(feature = "server")]
pub use dedup::{Claim, ClaimToken, DEFAULT_DONE_TTL, DedupKey, DedupStore, MemoryStore, StoreError};
#[cfg(feature = "server")]
pub use handler::{EventHandler, EventOutcome};
#[cfg(feature = "server")]
pub use receiver::{
    DEFAULT_DUPLICATE_WAIT, DEFAULT_FUTURE_SKEW, DEFAULT_HANDLER_DEADLINE, DEFAULT_TIMESTAMP_TOLERANCE, EventsReceiver,
};
#[cfg(feature = "redis")]
pub use redis::RedisStore;

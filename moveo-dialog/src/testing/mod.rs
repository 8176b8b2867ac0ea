//! The test kit (`testing` feature): test a dialog webhook or an events receiver without
//! Moveo and without a socket.
//!
//! - [`TestClient`] calls a [`Router`](crate::Router) or an
//!   [`EventsReceiver`](crate::events::EventsReceiver) in-process, signed as Moveo signs, and
//!   returns a [`TestReply`]: the status, the `error` code, the texts, options, cards, buttons
//!   and context updates; every 200 reply is checked against the bundled reply schema.
//! - [`DialogCall`] builds a realistic request (dialog stack, `sys-*` context, intents,
//!   entities with their offsets); [`EventCall`] one of the 11 event types.
//! - [`Conversation`] carries one session's context from call to call, as Moveo does.
//! - [`TestReply::transcript`] renders a reply as the `moveo-dialog` CLI shows it, for
//!   snapshots (`insta::assert_snapshot!`).
//! - [`assert_valid_reply`], [`assert_valid_request`], [`assert_valid_event`] and [`Schema`]
//!   check JSON against the schemas.
//!
//! A node handler's test, from `use` to assertion:
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use moveo_dialog::testing::{DialogCall, TestClient};
//! use moveo_dialog::{Reply, Router};
//!
//! let router = Router::new().verify_token("t").node("check_order", || async { Reply::text("On its way.") });
//! let client = TestClient::new(router).verify_token("t");
//! let reply = client.send(DialogCall::node("check_order").entity("order_id", "A17")).await;
//! assert_eq!(reply.texts(), ["On its way."]);
//! # });
//! ```
//!
//! ```
//! use moveo_dialog::Reply;
//! use moveo_dialog::testing::{Schema, assert_valid_reply};
//!
//! let reply = Reply::text("Hello!");
//! assert_valid_reply(&serde_json::to_value(&reply).unwrap());
//!
//! let broken = serde_json::json!({"responses": [{"type": "text"}]});
//! let violations = Schema::Reply.validate(&broken).unwrap_err();
//! assert_eq!(violations[0].pointer, "/responses/0");
//! ```

mod call;
mod client;
mod conversation;
mod event_call;
mod ids;
mod schema;
mod transcript;

pub use call::{DialogCall, with_token};
pub use client::{Signing, TestClient, TestReply, TestService};
pub use conversation::Conversation;
pub use event_call::EventCall;
pub use ids::{name_uuid, random_uuid};
pub use schema::{
    EVENT_SCHEMA, REPLY_SCHEMA, REQUEST_SCHEMA, Schema, Violation, assert_valid_event, assert_valid_reply,
    assert_valid_request,
};
pub use transcript::{Painter, Part, transcript, transcript_styled};

//! # moveo-dialog
//!
//! The server side of [Moveo.AI](https://moveo.ai) integrations, in Rust:
//!
//! 1. **Dialog webhooks.** Moveo POSTs a signed JSON payload when a dialog node's webhook
//!    action fires. [`DialogRequest`] types it; [`Reply`] answers it through builders that make
//!    a reply breaking Moveo's documented limits impossible to send.
//! 2. **Custom-integration events.** Moveo delivers the agent's replies and conversation events
//!    to your webhook; [`events::Event`] types them, [`verify`] checks their signatures.
//!
//! ```
//! use moveo_dialog::{DialogRequest, Reply};
//! use moveo_dialog::reply::Text;
//!
//! let request: DialogRequest = serde_json::from_str(r#"{
//!     "context": {"destination": "England"},
//!     "debug": {"dialog_stack": [{"node_id": "a85b10e8-e7f3-40df-9715-196c4eae5f14", "name": "plan_erasmus"}]}
//! }"#)?;
//! assert_eq!(request.node_name(), Some("plan_erasmus"));
//!
//! let destination: String = request.context_value("destination")?.unwrap_or_default();
//! let reply = Reply::builder()
//!     .text(Text::new(format!("Erasmus in {destination}: how many months?"))
//!         .option("3 months", "3")
//!         .option("6 months", "6"))
//!     .context("erasmus_planned", true)
//!     .build()?;
//! assert_eq!(
//!     serde_json::to_value(&reply)?,
//!     serde_json::json!({
//!         "context": {"erasmus_planned": true},
//!         "responses": [{"type": "text", "texts": ["Erasmus in England: how many months?"],
//!                        "options": [{"text": "3", "label": "3 months"}, {"text": "6", "label": "6 months"}]}]
//!     })
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A server with handlers, written without macros:
//!
//! ```
//! # #[cfg(feature = "server")] {
//! use moveo_dialog::extract::Context;
//! use moveo_dialog::{Reply, Router};
//!
//! #[derive(serde::Deserialize)]
//! struct Trip { destination: String }
//!
//! async fn plan(Context(trip): Context<Trip>) -> Reply {
//!     Reply::text(format!("{}: how many months?", trip.destination))
//! }
//!
//! let router = Router::new().verify_token("my-verify-token").node("plan_erasmus", plan);
//! // moveo_dialog::Server::new(router).serve(listener).await?;
//! # let _ = router; }
//! ```
//!
//! and with them (`#[node]`, `#[intent]` carry the route; `Router::handler` registers it):
//!
//! ```
//! # #[cfg(all(feature = "server", feature = "macros"))] {
//! use moveo_dialog::extract::Context;
//! use moveo_dialog::{Reply, Router, intent, node};
//!
//! #[derive(serde::Deserialize)]
//! struct Trip { destination: String }
//!
//! #[node("plan_erasmus")]
//! async fn plan(Context(trip): Context<Trip>) -> Reply {
//!     Reply::text(format!("{}: how many months?", trip.destination))
//! }
//!
//! #[intent("erasmus", min_confidence = 0.8)]
//! async fn erasmus() -> Reply {
//!     Reply::text("Where would you like to go?")
//! }
//!
//! let router = Router::new().verify_token("my-verify-token").handler(plan).handler(erasmus);
//! assert_eq!(router.routes().len(), 2);
//! # }
//! ```
//!
//! A handler says what it means: a [`Rejection`] keeps its status, a fallible extractor taken as
//! a `Result` reaches the handler, and `#[derive(DialogContext)]` writes exactly the keys serde
//! does:
//!
//! ```
//! # #[cfg(all(feature = "server", feature = "macros"))] {
//! use http::StatusCode;
//! use moveo_dialog::extract::{Context, ContextRejection};
//! use moveo_dialog::{DialogContext, Rejection, Reply, Router};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, DialogContext)]
//! #[serde(rename_all = "camelCase")]
//! struct Order {
//!     order_id: String,
//!     items_left: u32,
//! }
//!
//! async fn cancel(order: Result<Context<Order>, ContextRejection>) -> Result<Reply, Rejection> {
//!     let Ok(Context(order)) = order else {
//!         return Ok(Reply::text("Which order would you like to cancel?"));
//!     };
//!     if order.items_left == 0 {
//!         return Err(Rejection::new(StatusCode::CONFLICT, "already_shipped", "the order has shipped"));
//!     }
//!     Reply::builder()
//!         .text(moveo_dialog::reply::Text::new(format!("Order {} is cancelled.", order.order_id)))
//!         .context_update(&Order { items_left: 0, ..order }) // writes orderId and itemsLeft
//!         .build()
//!         .map_err(|_| Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, "reply", "reply too long"))
//! }
//!
//! let router = Router::new().verify_token("my-verify-token").node("cancel_order", cancel);
//! # let _ = router; }
//! ```
//!
//! ## Features
//!
//! | feature | default | what it gives | what it pulls in |
//! |---|---|---|---|
//! | `server` | yes | the router, extractors, the hyper 1 server and the tower `Service` | hyper, hyper-util, tokio, tower, tracing |
//! | `macros` | yes | `#[node]`, `#[intent]`, `#[derive(DialogContext)]` | `moveo-dialog-macros` (syn, quote) |
//! | `metrics` | no | `GET /metrics` in Prometheus text format (`Router::metrics`) | prometheus-client |
//! | `redis` | no | `events::RedisStore`: de-duplication shared by several receiver instances | redis (tokio, no TLS) |
//! | `validate` | no | `extract::Valid`: what the user typed, checked with `validator` | validator |
//! | `client` | no | `client::Client`: the custom-integration REST API | reqwest (rustls with ring, no OpenSSL) |
//! | `tls` | no | `Server::tls`: HTTPS served directly, certificate reload on SIGHUP | rustls (ring), tokio-rustls |
//! | `testing` | no | `testing`: `TestClient`, `DialogCall`, `EventCall`, `Conversation`, transcripts, schema assertions; implies `server` | jsonschema (no network, no TLS), uuid |
//!
//! The request and reply types, the event model and signature checks need no feature.
//! ## The crate's map
//!
//! One concept per module; the folders show the architecture, and dependencies point one way:
//! `dialog/` and `events/` are layers over `serve/`, and neither imports the other.
//!
//! - [`serve`]: the one pipeline every endpoint runs on. [`Server`] accepts connections and
//!   serves any `tower::Service` with a header timeout, an in-flight cap, `/healthz` and
//!   graceful shutdown; the pipeline takes each call through the head checks, the address
//!   allowlist, the body under its limits, verification and decoding; the guard runs the
//!   handler with its panic caught and its deadline enforced; [`Rejection`] is every failure.
//! - [`dialog`]: dialog webhooks. [`Router`] routes by path, node, intent or fallback, hosts
//!   other routers under a prefix ([`Router::nest`]) and is a `tower::Service`; handlers and
//!   their [`extract`]ors (`Context<T>`, `Query<T>`, `Uri`, `State<T>`...).
//! - [`events`]: custom-integration events. The typed model (one file per payload family),
//!   the [`EventsReceiver`](events::EventsReceiver) that dispatches them by type, and the
//!   de-duplication store (in memory, or Redis).
//! - [`reply`]: the reply builders and every documented limit ([`reply::limits`]).
//! - [`loose`]: serde helpers for Moveo's loosely typed context (a number sent as a string).
//! - [`verify`]: framework-agnostic signature checks: headers and raw bytes in, a verdict out
//!   ([`verify::Verifier`]), with several secrets for rotation.
//! - `client` (feature `client`): the custom-integration REST client; needs no server.
//! - `testing` (feature `testing`): the test kit. `TestClient` calls a router or an events
//!   receiver in-process, `DialogCall` / `EventCall` build realistic calls, `Conversation`
//!   carries a session's context, transcripts for snapshots, schema assertions.
//!
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod borrowed;
#[cfg(feature = "client")]
pub mod client;
mod context;
pub mod events;
pub mod loose;
pub mod reply;
mod request;
#[cfg(feature = "testing")]
pub mod testing;
pub mod verify;

pub use reply::{Reply, ReplyBuilder, ReplyError};
pub use request::{ContextValueError, DialogDebug, DialogNode, DialogRequest, Entity, Input, Intent};

#[cfg(feature = "server")]
pub mod dialog;
#[cfg(feature = "server")]
pub mod serve;

pub use context::DialogContext;
#[cfg(feature = "server")]
pub use dialog::extract;
#[cfg(feature = "server")]
pub use dialog::{Handler, IntoReply, Route, RoutedHandler, Router};
#[cfg(feature = "macros")]
pub use moveo_dialog_macros::{DialogContext, intent, node};
#[cfg(feature = "server")]
pub use serve::{HandlerError, IntoRejection, Rejection, RemoteAddr, ServeError, Server, shutdown_signal};

/// The endpoints of this crate whose start-up checks [`Server`] runs when it serves one
/// directly (kept here, so `serve/` knows neither the router nor the receiver).
#[cfg(feature = "server")]
type Inspect = for<'a> fn(&'a dyn std::any::Any) -> Option<&'a dyn serve::Startup>;

#[cfg(feature = "server")]
pub(crate) static STARTUP_CHECKS: [Inspect; 2] = [
    |service| service.downcast_ref::<Router>().map(|router| router as &dyn serve::Startup),
    |service| service.downcast_ref::<events::EventsReceiver>().map(|receiver| receiver as &dyn serve::Startup),
];

/// The README's examples, compiled and run as doc tests.
#[cfg(all(
    doctest,
    feature = "server",
    feature = "macros",
    feature = "validate",
    feature = "client",
    feature = "testing"
))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

//! The one serving pipeline every endpoint runs on.
//!
//! - [`Server`] accepts connections and serves any `tower::Service` (header timeout, in-flight
//!   cap, `/healthz`, graceful shutdown);
//! - the pipeline (crate-internal) takes a call through the request-head checks, the address
//!   allowlist, the body under its limits, verification of the raw bytes
//!   ([`crate::verify::Verifier`]) and decoding, in that order, before the endpoint's layer
//!   (the dialog router, the events receiver) routes it;
//! - the guard runs each handler with its panic caught and its deadline enforced;
//! - [`Rejection`] is every failure, with its status and `{"error", "message"}` body.

mod address;
pub(crate) mod answer;
pub(crate) mod body;
mod connections;
mod deadline;
pub(crate) mod guard;
pub(crate) mod pipeline;
mod protocol;
mod quota;
mod rejection;
mod server;
#[cfg(feature = "tls")]
mod tls;

pub use address::{IpNet, RemoteAddr};
pub(crate) use answer::Answer;
pub use guard::{BoxFuture, HandlerError};
pub use pipeline::{DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT};
pub use rejection::{IntoRejection, Rejection, ResponseBody};
pub(crate) use server::Startup;
pub use server::{
    DEFAULT_BODY_BUDGET, DEFAULT_GRACE_PERIOD, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_IN_FLIGHT, HttpService,
    ServeError, Server, shutdown_signal,
};
#[cfg(feature = "tls")]
pub use tls::{Tls, TlsError};

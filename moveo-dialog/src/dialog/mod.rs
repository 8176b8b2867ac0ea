//! The dialog webhook layer over [`serve`](crate::serve): the [`Router`] picks
//! a handler by path, node, intent or fallback; handlers are `async fn`s whose arguments are
//! [extractors](extract) and whose result is [`IntoReply`].

mod endpoint;
pub mod extract;
mod handler;
#[cfg(feature = "metrics")]
mod metrics;
mod names;
mod rejections;
mod router;
#[cfg(feature = "validate")]
mod valid;
mod view;

pub use handler::{Handler, HandlerFuture, IntoReply};
#[cfg(feature = "metrics")]
pub use metrics::Metrics;
pub use router::{DEFAULT_DEADLINE, DEFAULT_MIN_CONFIDENCE, Route, RoutedHandler, Router};

//! A future run to a deadline without a timer when it is ready at once. Most bodies are already
//! in the connection's buffer and most handlers do not wait: a timer entry per call (and a clock
//! read, for a deadline counted from now) would be spent on nothing.

use std::future::Future;
use std::task::Poll;

use tokio::time::Instant;

/// Polls `future` once and, only when it is not ready, runs it until the instant `deadline`
/// gives (asked for then, not before). `None` when the deadline passed first.
pub(crate) async fn ready_or_by<F: Future>(future: F, deadline: impl FnOnce() -> Instant) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    match std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
        Poll::Ready(output) => Some(output),
        Poll::Pending => tokio::time::timeout_at(deadline(), future).await.ok(),
    }
}

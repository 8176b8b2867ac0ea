//! The guard around every handler: a panic is caught and a deadline enforced, so a handler can
//! neither take the connection down nor hold it forever.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::deadline::ready_or_by;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A handler failure: logged, answered 500 `handler_error` (the caller never sees it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    message: String,
}

impl HandlerError {
    /// A failure with the message to log.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// The message that is logged.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HandlerError {}

/// How a guarded handler run ended.
pub(crate) enum Outcome<T, E> {
    /// The handler finished with this value.
    Done(T),
    /// The handler refused to start (an extractor's rejection, say).
    Refused(E),
    /// The handler panicked, with this message.
    Panicked(String),
    /// The deadline passed first.
    Late,
}

/// Starts a handler with `start` and runs it to its end or to `deadline`, catching a panic in
/// either the start or the future.
pub(crate) async fn guarded<T, E>(
    deadline: Duration,
    start: impl FnOnce() -> Result<BoxFuture<'static, T>, E>,
) -> Outcome<T, E> {
    let future = match catch_unwind(AssertUnwindSafe(start)) {
        Ok(Ok(future)) => future,
        Ok(Err(refused)) => return Outcome::Refused(refused),
        Err(payload) => return Outcome::Panicked(panic_message(&*payload).to_owned()),
    };
    // Most handlers finish on their first poll: the deadline's timer is set up only for one
    // that has to wait, and counts from the handler's start, first poll included.
    let by = tokio::time::Instant::now() + deadline;
    let Some(ended) = ready_or_by(CatchUnwind(future), || by).await else {
        return Outcome::Late;
    };
    match ended {
        Ok(value) => Outcome::Done(value),
        Err(payload) => Outcome::Panicked(panic_message(&*payload).to_owned()),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}

/// Polls a future, turning a panic into an error value.
struct CatchUnwind<T>(BoxFuture<'static, T>);

impl<T> Future for CatchUnwind<T> {
    type Output = Result<T, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    #[tokio::test]
    async fn each_ending_is_told_apart() {
        let done = guarded(Duration::from_secs(1), || Ok::<_, Infallible>(Box::pin(async { 7 }) as BoxFuture<'_, _>));
        assert!(matches!(done.await, Outcome::Done(7)));
        let refused = guarded::<(), _>(Duration::from_secs(1), || Err("no"));
        assert!(matches!(refused.await, Outcome::Refused("no")));
        let start_panics = guarded::<(), Infallible>(Duration::from_secs(1), || panic!("at start"));
        assert!(matches!(start_panics.await, Outcome::Panicked(message) if message == "at start"));
        let future_panics = guarded::<(), Infallible>(Duration::from_secs(1), || {
            Ok(Box::pin(async { panic!("{}", String::from("in the future")) }))
        });
        assert!(matches!(future_panics.await, Outcome::Panicked(message) if message == "in the future"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_handler_that_waits_is_still_guarded() {
        let waits_then_answers = guarded::<_, Infallible>(Duration::from_secs(1), || {
            Ok(Box::pin(async {
                tokio::time::sleep(Duration::from_millis(999)).await;
                7
            }))
        });
        assert!(matches!(waits_then_answers.await, Outcome::Done(7)));
        let waits_then_panics = guarded::<(), Infallible>(Duration::from_secs(1), || {
            Ok(Box::pin(async {
                tokio::task::yield_now().await;
                panic!("after a wait")
            }))
        });
        assert!(matches!(waits_then_panics.await, Outcome::Panicked(message) if message == "after a wait"));
        let started = tokio::time::Instant::now();
        let works_then_waits = guarded::<(), Infallible>(Duration::from_secs(1), || {
            Ok(Box::pin(async {
                // Work on the first poll (the paused clock moves as if it took 400 ms), then wait.
                tokio::time::advance(Duration::from_millis(400)).await;
                std::future::pending::<()>().await;
            }))
        });
        assert!(matches!(works_then_waits.await, Outcome::Late));
        assert_eq!(started.elapsed(), Duration::from_secs(1), "the deadline counts from the handler's start");
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_ends_a_slow_handler() {
        let late = guarded::<(), Infallible>(Duration::from_millis(10), || Ok(Box::pin(std::future::pending())));
        assert!(matches!(late.await, Outcome::Late));
    }
}

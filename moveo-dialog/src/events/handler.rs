//! Event handlers: `async fn(Event)` returning `()` or a `Result`.

use std::fmt;
use std::future::Future;

use super::event::Event;
use crate::serve::{BoxFuture, HandlerError};

/// What an event handler returns: `()`, or a `Result` whose error is logged and answered 500
/// so that Moveo delivers the event again.
pub trait EventOutcome {
    /// Turns the handler's result into success or a failure to log.
    ///
    /// # Errors
    ///
    /// The failure, with the message to log.
    fn into_outcome(self) -> Result<(), HandlerError>;
}

impl EventOutcome for () {
    fn into_outcome(self) -> Result<(), HandlerError> {
        Ok(())
    }
}

impl<E> EventOutcome for Result<(), E>
where
    E: fmt::Display,
{
    fn into_outcome(self) -> Result<(), HandlerError> {
        self.map_err(|err| HandlerError::new(err.to_string()))
    }
}

/// An event handler: any `Fn(Event) -> impl Future<Output = impl EventOutcome>`. Capture
/// shared state (a database pool, a channel) in the closure.
pub trait EventHandler: Send + Sync + 'static {
    /// Starts handling one event.
    fn call(&self, event: Event) -> BoxFuture<'static, Result<(), HandlerError>>;
}

impl<F, Fut, R> EventHandler for F
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: EventOutcome,
{
    fn call(&self, event: Event) -> BoxFuture<'static, Result<(), HandlerError>> {
        let future = self(event);
        Box::pin(async move { future.await.into_outcome() })
    }
}

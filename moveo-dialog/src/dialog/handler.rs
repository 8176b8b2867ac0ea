//! Handlers: plain `async fn`s whose arguments are extractors and whose result is
//! [`IntoReply`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::extract::{Call, FromCall};
use crate::reply::{Reply, ReplyBuilder};
use crate::serve::{BoxFuture, HandlerError, Rejection};

/// What a handler returns: anything that becomes a [`Reply`], or a failure that becomes a 500
/// `handler_error` and a log line (the caller never sees the details).
///
/// Implemented for [`Reply`], [`ReplyBuilder`] (built, so a broken limit is a handler error),
/// and `Result<T, E>` for any `T: IntoReply` and displayable `E`.
pub trait IntoReply {
    /// Turns the handler's result into a reply.
    ///
    /// # Errors
    ///
    /// A [`HandlerError`] carrying the message to log.
    fn into_reply(self) -> Result<Reply, HandlerError>;
}

impl IntoReply for Reply {
    fn into_reply(self) -> Result<Reply, HandlerError> {
        Ok(self)
    }
}

impl IntoReply for ReplyBuilder {
    fn into_reply(self) -> Result<Reply, HandlerError> {
        self.build().map_err(|err| HandlerError::new(format!("the handler built a reply that breaks a limit: {err}")))
    }
}

impl<T, E> IntoReply for Result<T, E>
where
    T: IntoReply,
    E: fmt::Display,
{
    fn into_reply(self) -> Result<Reply, HandlerError> {
        match self {
            Ok(reply) => reply.into_reply(),
            Err(err) => Err(HandlerError::new(err.to_string())),
        }
    }
}

/// An async function usable as a handler: `Args` is the tuple of its argument types, each
/// [`FromCall`]. Implemented for functions of up to eight arguments.
pub trait Handler<Args>: Clone + Send + Sync + 'static {
    /// Runs the extractors, then starts the handler.
    ///
    /// # Errors
    ///
    /// The first extractor's rejection.
    fn call(&self, call: &Call) -> Result<BoxFuture<'static, Result<Reply, HandlerError>>, Rejection>;
}

macro_rules! impl_handler {
    ($($arg:ident),*) => {
        impl<F, Fut, R, $($arg,)*> Handler<($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoReply,
            $($arg: FromCall + Send,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(&self, call: &Call) -> Result<BoxFuture<'static, Result<Reply, HandlerError>>, Rejection> {
                $(let $arg = $arg::from_call(call)?;)*
                let future = (self)($($arg),*);
                Ok(Box::pin(async move { future.await.into_reply() }))
            }
        }
    };
}

impl_handler!();
impl_handler!(A1);
impl_handler!(A1, A2);
impl_handler!(A1, A2, A3);
impl_handler!(A1, A2, A3, A4);
impl_handler!(A1, A2, A3, A4, A5);
impl_handler!(A1, A2, A3, A4, A5, A6);
impl_handler!(A1, A2, A3, A4, A5, A6, A7);
impl_handler!(A1, A2, A3, A4, A5, A6, A7, A8);

/// A handler with its argument types erased.
pub(crate) type ErasedHandler =
    Arc<dyn Fn(&Call) -> Result<BoxFuture<'static, Result<Reply, HandlerError>>, Rejection> + Send + Sync>;

pub(crate) fn erase<H, Args>(handler: H) -> ErasedHandler
where
    H: Handler<Args>,
    Args: 'static,
{
    Arc::new(move |call: &Call| handler.call(call))
}

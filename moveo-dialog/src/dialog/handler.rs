//! Handlers: plain `async fn`s whose arguments are extractors and whose result is
//! [`IntoReply`].

use std::future::Future;
use std::sync::Arc;

use super::extract::{Call, ContextType, FromCall, StateRequirement};
use crate::reply::{Reply, ReplyBuilder};
use crate::serve::{BoxFuture, IntoRejection, Rejection};

/// What a handler returns, like axum's `IntoResponse`: a reply (200), or a [`Rejection`] that
/// answers with its own status.
///
/// Implemented for [`Reply`]; [`ReplyBuilder`] (built; a broken limit is logged and answered
/// 500 `handler_error`); `String` and `&'static str` (a text reply); [`Rejection`]; and
/// `Result<T, E>` for any `T: IntoReply` and any `E:` [`IntoRejection`]: a `Rejection` keeps
/// its status, an opaque error (`Box<dyn Error + Send + Sync>`, `anyhow::Error`, any
/// `std::error::Error + Send + Sync`) is
/// answered 500 `handler_error` with its whole chain in the log, never in the body.
///
/// ```
/// use http::StatusCode;
/// use moveo_dialog::extract::Context;
/// use moveo_dialog::{Rejection, Reply};
///
/// #[derive(serde::Deserialize)]
/// struct Order { order_id: Option<String> }
///
/// async fn track(Context(order): Context<Order>) -> Result<Reply, Rejection> {
///     let Some(id) = order.order_id else {
///         return Err(Rejection::new(StatusCode::BAD_REQUEST, "missing_order", "context.order_id is missing"));
///     };
///     Ok(Reply::text(format!("Order {id} is on its way.")))
/// }
/// # let _ = moveo_dialog::Router::new().node("track", track);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler result",
    label = "a handler must return a reply",
    note = "a handler returns `Reply`, `ReplyBuilder`, `String`, `&'static str`, `Rejection`, or `Result<T, E>` with T one of those and E a `Rejection`, `Box<dyn Error + Send + Sync>`, `anyhow::Error` or any `std::error::Error + Send + Sync`"
)]
pub trait IntoReply {
    /// Turns the handler's result into a reply, or the rejection that answers instead.
    ///
    /// # Errors
    ///
    /// The [`Rejection`] to answer with.
    fn into_reply(self) -> Result<Reply, Rejection>;
}

impl IntoReply for Reply {
    fn into_reply(self) -> Result<Reply, Rejection> {
        Ok(self)
    }
}

impl IntoReply for ReplyBuilder {
    fn into_reply(self) -> Result<Reply, Rejection> {
        self.build().map_err(|err| {
            tracing::error!(error = %err, "the handler built a reply that breaks a limit");
            Rejection::handler_error()
        })
    }
}

impl IntoReply for String {
    fn into_reply(self) -> Result<Reply, Rejection> {
        Ok(Reply::text(self))
    }
}

impl IntoReply for &'static str {
    fn into_reply(self) -> Result<Reply, Rejection> {
        Ok(Reply::text(self))
    }
}

impl IntoReply for Rejection {
    fn into_reply(self) -> Result<Reply, Rejection> {
        Err(self)
    }
}

impl<T, E> IntoReply for Result<T, E>
where
    T: IntoReply,
    E: IntoRejection,
{
    fn into_reply(self) -> Result<Reply, Rejection> {
        self.map_err(IntoRejection::into_rejection)?.into_reply()
    }
}

/// What a started handler resolves to.
pub type HandlerFuture = BoxFuture<'static, Result<Reply, Rejection>>;

/// An async function usable as a handler: `Args` is the tuple of its argument types, each
/// [`FromCall`], and its result is [`IntoReply`]. Implemented for functions of up to eight
/// arguments.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a dialog handler",
    label = "not a handler",
    note = "a handler is an `async fn` (or closure returning a future) whose arguments are extractors (`DialogRequest`, `Context<T>`, `Query<T>`, `Uri`, `HeaderMap`, `InputText`, `Intents`, `Entities`, `MoveoHeaders`, `State<T>`, `RawBody`, `Valid<T>`, or an `Option` / `Result` of one), at most eight, and whose result is `IntoReply`",
    note = "put `#[node(\"...\")]` or `#[intent(\"...\")]` on an `async fn` to have the argument or return type at fault named"
)]
pub trait Handler<Args>: Clone + Send + Sync + 'static {
    /// Runs the extractors, then starts the handler.
    ///
    /// # Errors
    ///
    /// The first extractor's rejection.
    fn call(&self, call: &Call<'_>) -> Result<HandlerFuture, Rejection>;

    /// The shared state the handler's extractors need, checked when the server starts.
    fn required_state(&self) -> Vec<StateRequirement> {
        Vec::new()
    }

    /// The types the handler's extractors decode the context into
    /// ([`FromCall::context_type`]), so that the router can decode it in its own pass.
    fn context_types(&self) -> Vec<ContextType> {
        Vec::new()
    }
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
            fn call(&self, call: &Call<'_>) -> Result<HandlerFuture, Rejection> {
                $(let $arg = $arg::from_call(call).map_err(IntoRejection::into_rejection)?;)*
                let future = (self)($($arg),*);
                Ok(Box::pin(async move { future.await.into_reply() }))
            }

            #[allow(unused_mut)]
            fn required_state(&self) -> Vec<StateRequirement> {
                let mut needs = Vec::new();
                $($arg::required_state(&mut needs);)*
                needs
            }

            #[allow(unused_mut)]
            fn context_types(&self) -> Vec<ContextType> {
                let mut types = Vec::new();
                $(types.extend($arg::context_type());)*
                types
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
pub(crate) type ErasedHandler = Arc<dyn Fn(&Call<'_>) -> Result<HandlerFuture, Rejection> + Send + Sync>;

pub(crate) fn erase<H, Args>(handler: H) -> ErasedHandler
where
    H: Handler<Args>,
    Args: 'static,
{
    Arc::new(move |call: &Call<'_>| handler.call(call))
}

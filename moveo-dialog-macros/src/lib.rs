//! Procedural macros for `moveo-dialog`. Use them through `moveo_dialog`, which re-exports them:
//! `#[node]`, `#[intent]` and `#[derive(DialogContext)]`.

use proc_macro::TokenStream;

mod context;
mod route;

/// Registers an async handler for the dialog node `NAME` (the last node of the dialog stack):
///
/// ```ignore
/// #[moveo_dialog::node("check_otp")]
/// async fn check_otp(Context(otp): Context<Otp>) -> Reply { ... }
///
/// let router = Router::new().handler(check_otp);
/// ```
///
/// The function becomes a unit struct of the same name that the router takes with
/// `Router::handler`; its body stays callable as `check_otp::handle(...)`.
#[proc_macro_attribute]
pub fn node(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(route::Kind::Node, attr.into(), item.into()).into()
}

/// Registers an async handler for the intent `NAME`, at `min_confidence` (0 to 1; default
/// 0.7):
///
/// ```ignore
/// #[moveo_dialog::intent("erasmus", min_confidence = 0.8)]
/// async fn erasmus(request: DialogRequest) -> Reply { ... }
/// ```
#[proc_macro_attribute]
pub fn intent(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(route::Kind::Intent, attr.into(), item.into()).into()
}

/// Derives `moveo_dialog::DialogContext` for a struct with named fields: a typed read of the
/// request context (with serde's `Deserialize`) and a typed context update for a reply (with
/// serde's `Serialize`), honouring `#[serde(rename = "...")]`.
///
/// A field that would write Moveo's reserved keys `global` or `channels` is a compile error
/// unless it is marked `#[context(read_only)]`; read-only fields are read, never written.
#[proc_macro_derive(DialogContext, attributes(context))]
pub fn derive_dialog_context(input: TokenStream) -> TokenStream {
    context::expand(input.into()).into()
}

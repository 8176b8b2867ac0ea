//! Typed context: a struct that reads the request context and writes a reply's context update,
//! never touching Moveo's reserved keys.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::reply::ReplyBuilder;

/// A typed view of the dialog context; derive it with `#[derive(DialogContext)]` beside
/// serde's `Serialize` and `Deserialize`.
///
/// Read it with the [`Context<T>`](crate::extract::Context) extractor; write it with
/// [`ReplyBuilder::context_update`], which writes only [`WRITABLE_KEYS`](Self::WRITABLE_KEYS).
/// The derive refuses, at compile time, a writable field that would write `global` or
/// `channels`; `#[context(read_only)]` fields are read and never written.
///
/// ```
/// # #[cfg(feature = "macros")] {
/// use moveo_dialog::{DialogContext, Reply};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, DialogContext)]
/// struct Booking {
///     #[serde(rename = "selected_product")]
///     product: String,
///     amount: u32,
///     #[context(read_only)]
///     #[serde(default)]
///     global: serde_json::Value,
/// }
///
/// let booking = Booking { product: "apples".into(), amount: 6, global: serde_json::json!({"a": 1}) };
/// let reply = Reply::builder().context_update(&booking).build().unwrap();
/// assert_eq!(
///     serde_json::to_value(&reply).unwrap(),
///     serde_json::json!({"context": {"selected_product": "apples", "amount": 6}})
/// );
/// # }
/// ```
pub trait DialogContext: Serialize + DeserializeOwned {
    /// The context keys a reply writes from this type.
    const WRITABLE_KEYS: &'static [&'static str];
    /// The context keys this type only reads.
    const READ_ONLY_KEYS: &'static [&'static str];
}

impl ReplyBuilder {
    /// Writes the writable fields of `update` as context variables; read-only fields are left
    /// out.
    pub fn context_update<T>(self, update: &T) -> Self
    where
        T: DialogContext,
    {
        self.context_object_filtered(update, |key| T::WRITABLE_KEYS.contains(&key))
    }
}

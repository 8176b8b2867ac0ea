//! serde helpers for Moveo's loosely typed context: a value a user typed, or a bot designer
//! stored, often arrives as a string (`"price": "100000"`, `"vip": "true"`). Use them with
//! `#[serde(deserialize_with = "...")]` on the fields of a `Context<T>`:
//!
//! ```
//! use moveo_dialog::loose;
//!
//! #[derive(serde::Deserialize)]
//! struct Purchase {
//!     #[serde(deserialize_with = "loose::number")]
//!     price: u64,
//!     #[serde(default, deserialize_with = "loose::option_number")]
//!     quantity: Option<u32>,
//!     #[serde(default, deserialize_with = "loose::boolean")]
//!     gift: bool,
//! }
//!
//! let purchase: Purchase = serde_json::from_value(serde_json::json!(
//!     {"price": "100000", "quantity": "", "gift": "true"}
//! ))?;
//! assert_eq!((purchase.price, purchase.quantity, purchase.gift), (100_000, None, true));
//!
//! let purchase: Purchase = serde_json::from_value(serde_json::json!({"price": 5, "quantity": 2}))?;
//! assert_eq!((purchase.price, purchase.quantity, purchase.gift), (5, Some(2), false));
//!
//! assert!(serde_json::from_value::<Purchase>(serde_json::json!({"price": "lots"})).is_err());
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! A value that fits neither form is still an error, with serde's message.

use std::fmt::Display;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{Deserializer, Error};

/// A number, or a string holding one (blanks around it allowed).
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText<T> {
    Number(T),
    Text(String),
}

/// A number that may come as a JSON number or as a string holding one.
///
/// # Errors
///
/// When the value is neither a number of type `T` nor a string that parses as one.
pub fn number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + FromStr,
    T::Err: Display,
{
    match NumberOrText::<T>::deserialize(deserializer)? {
        NumberOrText::Number(number) => Ok(number),
        NumberOrText::Text(text) => {
            text.trim().parse().map_err(|err| D::Error::custom(format!("{text:?} is not a number: {err}")))
        }
    }
}

/// [`number`] for an optional field: `null` and an empty (or blank) string are `None`. Pair it
/// with `#[serde(default)]` so that a missing key is `None` too.
///
/// # Errors
///
/// When the value is neither `null`, a number of type `T`, nor a string that is blank or
/// parses as one.
pub fn option_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + FromStr,
    T::Err: Display,
{
    match Option::<NumberOrText<T>>::deserialize(deserializer)? {
        None => Ok(None),
        Some(NumberOrText::Number(number)) => Ok(Some(number)),
        Some(NumberOrText::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(NumberOrText::Text(text)) => {
            text.trim().parse().map(Some).map_err(|err| D::Error::custom(format!("{text:?} is not a number: {err}")))
        }
    }
}

/// A boolean that may come as `true` / `false` or as the strings `"true"` / `"false"`
/// (any case, blanks around allowed).
///
/// # Errors
///
/// When the value is neither a boolean nor such a string.
pub fn boolean<'de, D>(deserializer: D) -> Result<bool, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrText {
        Bool(bool),
        Text(String),
    }
    match BoolOrText::deserialize(deserializer)? {
        BoolOrText::Bool(value) => Ok(value),
        BoolOrText::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(D::Error::custom(format!("{text:?} is not true or false"))),
        },
    }
}

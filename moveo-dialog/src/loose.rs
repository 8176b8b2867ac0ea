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
//! A value that fits neither form is still an error, with serde's message; [`number_or_none`]
//! and [`text_or_none`] make it `None` instead, for a field a handler asks for again.

use std::fmt::{self, Display};
use std::marker::PhantomData;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, IntoDeserializer, Visitor};

/// A number of type `T`, from a JSON number or from a string holding one. A visitor rather
/// than an untagged enum: serde's untagged enums buffer the value (and copy a string) to try
/// each form in turn; this reads it once, where it is, and borrows a string.
struct NumberVisitor<T>(PhantomData<T>);

impl<'de, T> Visitor<'de> for NumberVisitor<T>
where
    T: Deserialize<'de> + FromStr,
    T::Err: Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, or a string holding one")
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<T, E> {
        T::deserialize(number.into_deserializer())
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<T, E> {
        T::deserialize(number.into_deserializer())
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<T, E> {
        T::deserialize(number.into_deserializer())
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.trim().parse().map_err(|err| E::custom(format!("{text:?} is not a number: {err}")))
    }
}

/// [`NumberVisitor`], where `null` and a blank string are `None`.
struct OptionNumberVisitor<T>(PhantomData<T>);

impl<'de, T> Visitor<'de> for OptionNumberVisitor<T>
where
    T: Deserialize<'de> + FromStr,
    T::Err: Display,
{
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null, a number, or a string holding one")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Option<T>, E> {
        NumberVisitor(PhantomData).visit_u64(number).map(Some)
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Option<T>, E> {
        NumberVisitor(PhantomData).visit_i64(number).map(Some)
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Option<T>, E> {
        NumberVisitor(PhantomData).visit_f64(number).map(Some)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Option<T>, E> {
        if text.trim().is_empty() { Ok(None) } else { NumberVisitor(PhantomData).visit_str(text).map(Some) }
    }
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
    deserializer.deserialize_any(NumberVisitor(PhantomData))
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
    deserializer.deserialize_option(OptionNumberVisitor(PhantomData))
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
    struct BooleanVisitor;

    impl Visitor<'_> for BooleanVisitor {
        type Value = bool;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean, or the string \"true\" or \"false\"")
        }

        fn visit_bool<E: de::Error>(self, value: bool) -> Result<bool, E> {
            Ok(value)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<bool, E> {
            match text.trim() {
                word if word.eq_ignore_ascii_case("true") => Ok(true),
                word if word.eq_ignore_ascii_case("false") => Ok(false),
                _ => Err(E::custom(format!("{text:?} is not true or false"))),
            }
        }
    }

    deserializer.deserialize_any(BooleanVisitor)
}

/// A value that does not fit a `*_or_none` helper: `None`, the value skipped where it is (a
/// list or an object is read through, not built); `Some(value)` is the value itself.
macro_rules! misfits_are_none {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }
    };
}

/// [`NumberVisitor`] that never fails: what it refuses, and a value of any other shape, is
/// `None`.
struct NumberOrNoneVisitor<T>(PhantomData<T>);

impl<'de, T> Visitor<'de> for NumberOrNoneVisitor<T>
where
    T: Deserialize<'de> + FromStr,
    T::Err: Display,
{
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    misfits_are_none!();

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Option<T>, E> {
        Ok(NumberVisitor(PhantomData).visit_u64::<E>(number).ok())
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Option<T>, E> {
        Ok(NumberVisitor(PhantomData).visit_i64::<E>(number).ok())
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Option<T>, E> {
        Ok(NumberVisitor(PhantomData).visit_f64::<E>(number).ok())
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Option<T>, E> {
        Ok(NumberVisitor(PhantomData).visit_str::<E>(text).ok())
    }
}

/// [`text_or_none`]'s visitor.
struct TextOrNoneVisitor;

impl<'de> Visitor<'de> for TextOrNoneVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    misfits_are_none!();

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Option<String>, E> {
        let text = text.trim();
        Ok((!text.is_empty()).then(|| text.to_owned()))
    }
}

/// A number as [`option_number`] reads it, or `None` for a value that does not fit: a
/// boolean, a list, an object, a string that is not a number, a number out of `T`'s range.
/// For a field a handler asks for again rather than fail the call on (pair it with
/// `#[serde(default)]`):
///
/// ```
/// use moveo_dialog::loose;
///
/// #[derive(serde::Deserialize)]
/// struct Trip {
///     #[serde(default, deserialize_with = "loose::number_or_none")]
///     total_months: Option<u8>,
///     #[serde(default, deserialize_with = "loose::text_or_none")]
///     destination: Option<String>,
/// }
///
/// let trip: Trip = serde_json::from_str(r#"{"total_months": " 6 ", "destination": " Spain "}"#)?;
/// assert_eq!((trip.total_months, trip.destination.as_deref()), (Some(6), Some("Spain")));
///
/// let trip: Trip = serde_json::from_str(r#"{"total_months": {"not": "a number"}, "destination": 42}"#)?;
/// assert_eq!((trip.total_months, trip.destination), (None, None));
///
/// let trip: Trip = serde_json::from_str(r#"{"total_months": 300, "destination": "  "}"#)?;
/// assert_eq!((trip.total_months, trip.destination), (None, None));
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// # Errors
///
/// Only when the input is not JSON at all (the deserializer's own error).
pub fn number_or_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + FromStr,
    T::Err: Display,
{
    deserializer.deserialize_any(NumberOrNoneVisitor(PhantomData))
}

/// A string, its blanks trimmed, or `None` when it is blank or not a string (a number, a
/// boolean, a list, an object). See [`number_or_none`].
///
/// # Errors
///
/// Only when the input is not JSON at all (the deserializer's own error).
pub fn text_or_none<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_any(TextOrNoneVisitor)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Loose {
        #[serde(default, deserialize_with = "super::option_number")]
        quantity: Option<u8>,
        #[serde(default, deserialize_with = "super::boolean")]
        gift: bool,
    }

    #[derive(Debug, Deserialize)]
    struct Price {
        #[serde(deserialize_with = "super::number")]
        price: f64,
    }

    fn loose(body: &str) -> Result<(Option<u8>, bool), String> {
        serde_json::from_str::<Loose>(body).map(|loose| (loose.quantity, loose.gift)).map_err(|err| err.to_string())
    }

    /// From the body's bytes, each form is read where it is, and every other one is refused
    /// with what it was and what was expected.
    #[test]
    fn each_form_is_read_from_the_bytes_and_others_are_named() {
        assert_eq!(loose(r#"{"quantity": 7, "gift": true}"#), Ok((Some(7), true)));
        assert_eq!(loose(r#"{"quantity": " 7 ", "gift": " FALSE "}"#), Ok((Some(7), false)));
        assert_eq!(loose(r#"{"quantity": null}"#), Ok((None, false)));
        assert_eq!(loose(r#"{"quantity": "  "}"#), Ok((None, false)));
        // An escaped string is decoded before it is parsed.
        assert_eq!(loose(r#"{"quantity": "\u0037", "gift": "tru\u0065"}"#), Ok((Some(7), true)));
        let refused = |body: &str| loose(body).unwrap_err();
        assert!(refused(r#"{"quantity": 300}"#).contains("invalid value: integer `300`, expected u8"));
        assert!(refused(r#"{"quantity": -1}"#).contains("expected u8"));
        assert!(refused(r#"{"quantity": 1.5}"#).contains("invalid type: floating point `1.5`, expected u8"));
        assert!(refused(r#"{"quantity": "lots"}"#).starts_with(r#""lots" is not a number: invalid digit"#));
        assert!(refused(r#"{"quantity": [7]}"#).contains("expected null, a number, or a string holding one"));
        assert!(refused(r#"{"gift": "yes"}"#).starts_with(r#""yes" is not true or false"#));
        assert!(refused(r#"{"gift": 1}"#).contains("expected a boolean"));

        let price =
            |body: &str| serde_json::from_str::<Price>(body).map(|price| price.price).map_err(|e| e.to_string());
        assert_eq!(price(r#"{"price": 3}"#), Ok(3.0));
        assert_eq!(price(r#"{"price": -2.5}"#), Ok(-2.5));
        assert_eq!(price(r#"{"price": "1e3"}"#), Ok(1000.0));
        assert!(price(r#"{"price": null}"#).unwrap_err().contains("expected a number, or a string holding one"));
        assert!(price(r#"{"price": {"amount": 3}}"#).is_err());
    }

    /// The same forms from a `serde_json::Value` (as `DialogRequest::context_value` reads them).
    #[test]
    fn each_form_is_read_from_a_value_too() {
        let from = |value| serde_json::from_value::<Loose>(value).map(|loose| (loose.quantity, loose.gift)).ok();
        assert_eq!(from(json!({"quantity": "9", "gift": "True"})), Some((Some(9), true)));
        assert_eq!(from(json!({"quantity": 9, "gift": false})), Some((Some(9), false)));
        assert_eq!(from(json!({"quantity": null})), Some((None, false)));
        assert_eq!(from(json!({"quantity": 256})), None);
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Lenient {
        #[serde(default, deserialize_with = "super::number_or_none")]
        months: Option<u8>,
        #[serde(default, deserialize_with = "super::text_or_none")]
        destination: Option<String>,
        #[serde(default)]
        after: Option<u8>,
    }

    fn lenient(months: Option<u8>, destination: Option<&str>) -> Lenient {
        Lenient { months, destination: destination.map(str::to_owned), after: Some(1) }
    }

    /// Every shape that does not fit is `None`, and is read through so that the next field
    /// still decodes; the shapes that fit are read as `option_number` reads them.
    #[test]
    fn or_none_makes_a_misfit_none_and_reads_on() {
        let read = |months: &str, destination: &str| {
            let body = format!(r#"{{"months": {months}, "destination": {destination}, "after": 1}}"#);
            serde_json::from_str::<Lenient>(&body).unwrap_or_else(|err| panic!("{body}: {err}"))
        };
        assert_eq!(read("6", r#""Spain""#), lenient(Some(6), Some("Spain")));
        assert_eq!(read(r#"" 12 ""#, r#"" Spain\t""#), lenient(Some(12), Some("Spain")));
        assert_eq!(read(r#""\u0037""#, r#""\u0053pain""#), lenient(Some(7), Some("Spain")));
        for misfit in
            ["null", "true", "300", "-1", "1.5", r#""lots""#, r#""  ""#, "[1, [2], {}]", r#"{"not": {"a": [3]}}"#]
        {
            assert_eq!(read(misfit, misfit).months, None, "{misfit}");
        }
        for misfit in ["null", "false", "3", "-2", "0.5", r#""""#, r#"" ""#, r#"["Spain"]"#, r#"{"name": "Spain"}"#] {
            assert_eq!(read("1", misfit), lenient(Some(1), None), "{misfit}");
        }
        assert_eq!(
            serde_json::from_str::<Lenient>("{}").unwrap(),
            Lenient { months: None, destination: None, after: None }
        );
        // Not JSON is still an error.
        assert!(serde_json::from_str::<Lenient>(r#"{"months": [1, }"#).is_err());
    }

    #[test]
    fn or_none_reads_a_value_too() {
        let from = |value| serde_json::from_value::<Lenient>(value).unwrap();
        assert_eq!(from(json!({"months": "9", "destination": "Italy", "after": 1})), lenient(Some(9), Some("Italy")));
        assert_eq!(from(json!({"months": {"x": 1}, "destination": [1], "after": 1})), lenient(None, None));
        assert_eq!(from(json!({"months": 256, "destination": 2, "after": 1})), lenient(None, None));
    }
}

//! The reply's JSON writer: serde_json's bytes, exactly, for the shapes a reply is made of,
//! with every string that needs no escaping (nearly all of them) copied whole.
//!
//! serde_json looks up each byte of each string (keys too) in its escape table before it
//! writes it; that loop was a third of the instructions of building and serialising the spec's
//! full reply (~6.9k of 20.2k). Here a string is checked for the bytes JSON escapes (`"`, `\`
//! and the control characters) a word at a time, short strings in one word, and then copied
//! whole; one that has any is written by serde_json itself. Numbers are written by serde_json
//! too, so floats and integers come out as serde_json writes them.
//!
//! The writer takes every shape of serde's data model except map keys that are not strings
//! (serde_json quotes numbers and booleans there) and serde_json's own tokens (`RawValue`):
//! on those, and on any error, [`to_writer`] starts again with serde_json. The derived
//! `Serialize` impls stay the one description of the reply's JSON.

use std::fmt;

use serde::Serialize;
use serde::ser;

/// Appends `value`'s JSON to `out`: the bytes `serde_json::to_writer` gives, written by this
/// writer, or by serde_json itself for a shape this writer leaves to it.
///
/// # Errors
///
/// serde_json's, when `value`'s `Serialize` impl fails.
pub(crate) fn to_writer<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), serde_json::Error> {
    let start = out.len();
    if write(out, value).is_ok() {
        return Ok(());
    }
    out.truncate(start);
    serde_json::to_writer(out, value)
}

/// Writes `value` as JSON at the end of `out`, or returns `Err` (with `out` partly written)
/// for a shape this writer leaves to serde_json.
fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Unsupported> {
    value.serialize(&mut Writer { out })
}

/// A shape left to serde_json, or a `Serialize` impl that failed.
#[derive(Debug)]
pub(crate) struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to serde_json")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Self
    }
}

/// Whether JSON must escape a byte of `bytes` (a quote, a backslash or a control character:
/// serde_json escapes nothing else), looked at eight bytes at a time with the word tricks of
/// "Bit Twiddling Hacks" (a byte below `n`, a byte equal to `b`), which are exact. A string
/// shorter than a word is packed into one: its two halves overlapping from 4 bytes, its first,
/// middle and last byte under 4 (with `a`s, which need no escaping, for the rest).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES * 0x80;
    fn escapes(word: u64) -> bool {
        let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word;
        let control = word.wrapping_sub(ONES * 0x20) & !word;
        (control | zero_byte(word ^ (ONES * u64::from(b'"'))) | zero_byte(word ^ (ONES * u64::from(b'\\')))) & HIGH != 0
    }
    fn word_at(bytes: &[u8], at: usize) -> u64 {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    }
    fn half_at(bytes: &[u8], at: usize) -> u64 {
        let mut half = [0; 4];
        half.copy_from_slice(&bytes[at..at + 4]);
        u64::from(u32::from_le_bytes(half))
    }
    match bytes.len() {
        0 => false,
        len @ 1..4 => {
            let (first, middle, last) = (bytes[0], bytes[len / 2], bytes[len - 1]);
            escapes(u64::from_le_bytes([first, middle, last, b'a', b'a', b'a', b'a', b'a']))
        }
        len @ 4..8 => escapes(half_at(bytes, 0) | (half_at(bytes, len - 4) << 32)),
        len => {
            let last = len - 8;
            (0..last).step_by(8).any(|at| escapes(word_at(bytes, at))) || escapes(word_at(bytes, last))
        }
    }
}

fn write_str(out: &mut Vec<u8>, value: &str) -> Result<(), Unsupported> {
    if needs_escape(value.as_bytes()) {
        return serde_json::to_writer(out, value).map_err(|_| Unsupported);
    }
    out.reserve(value.len() + 2);
    out.push(b'"');
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
    Ok(())
}

/// A number, as serde_json writes it (a float that is not finite is `null`).
fn write_number<N: Serialize>(out: &mut Vec<u8>, number: N) -> Result<(), Unsupported> {
    serde_json::to_writer(out, &number).map_err(|_| Unsupported)
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// An array or object being written: whether the next item is its first.
struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    /// `}` after the closing `]` or `}`: the outer object of an enum variant.
    variant: bool,
}

impl<'w, 'a> Compound<'w, 'a> {
    fn open(writer: &'w mut Writer<'a>, bracket: u8, variant: Option<&str>) -> Result<Self, Unsupported> {
        if let Some(variant) = variant {
            writer.out.push(b'{');
            write_str(writer.out, variant)?;
            writer.out.push(b':');
        }
        writer.out.push(bracket);
        Ok(Self { writer, first: true, variant: variant.is_some() })
    }

    fn separate(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.writer.out.push(b',');
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.separate();
        value.serialize(&mut *self.writer)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Unsupported> {
        self.separate();
        write_str(self.writer.out, key)?;
        self.writer.out.push(b':');
        value.serialize(&mut *self.writer)
    }

    fn close(self, bracket: u8) -> Result<(), Unsupported> {
        self.writer.out.push(bracket);
        if self.variant {
            self.writer.out.push(b'}');
        }
        Ok(())
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, value: bool) -> Result<(), Unsupported> {
        self.out.extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, value: i8) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_i16(self, value: i16) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_i32(self, value: i32) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_i64(self, value: i64) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_i128(self, value: i128) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_u8(self, value: u8) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_u16(self, value: u16) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_u32(self, value: u32) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_u64(self, value: u64) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_u128(self, value: u128) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_f32(self, value: f32) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_f64(self, value: f64) -> Result<(), Unsupported> {
        write_number(self.out, value)
    }

    fn serialize_char(self, value: char) -> Result<(), Unsupported> {
        write_str(self.out, value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Unsupported> {
        write_str(self.out, value)
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<(), Unsupported> {
        serde_json::to_writer(&mut *self.out, &value).map_err(|_| Unsupported)
    }

    fn serialize_none(self) -> Result<(), Unsupported> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        write_str(self.out, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        let mut object = Compound::open(self, b'{', None)?;
        object.field(variant, value)?;
        object.close(b'}')
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, Unsupported> {
        Compound::open(self, b'[', None)
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'w, 'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, Unsupported> {
        Compound::open(self, b'[', Some(variant))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, Unsupported> {
        Compound::open(self, b'{', None)
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Compound<'w, 'a>, Unsupported> {
        // serde_json's own tokens (`RawValue`, `Number` under `arbitrary_precision`) are written
        // by serde_json.
        if name.starts_with("$serde_json::") {
            return Err(Unsupported);
        }
        Compound::open(self, b'{', None)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, Unsupported> {
        Compound::open(self, b'{', Some(variant))
    }
}

/// The array-like compounds: each item in turn, then `]`.
macro_rules! array_like {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Unsupported;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
                self.item(value)
            }

            fn end(self) -> Result<(), Unsupported> {
                self.close(b']')
            }
        }
    )*};
}

array_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        self.separate();
        let at = self.writer.out.len();
        key.serialize(&mut *self.writer)?;
        // serde_json takes a key that serialises as a string as it is (a `str`, a `char`, a
        // unit variant, a newtype or `Some` around one), and has rules of its own for the rest
        // (numbers and booleans quoted, every other key refused): those are left to it.
        if self.writer.out.get(at) != Some(&b'"') {
            return Err(Unsupported);
        }
        self.writer.out.push(b':');
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Unsupported> {
        self.close(b'}')
    }
}

/// The struct-like compounds: each field by its name, then `}`.
macro_rules! struct_like {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Unsupported;

            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Unsupported> {
                self.field(key, value)
            }

            fn end(self) -> Result<(), Unsupported> {
                self.close(b'}')
            }
        }
    )*};
}

struct_like!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    fn written<T: Serialize + ?Sized>(value: &T) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        write(&mut out, value).ok().map(|()| out)
    }

    fn same_as_serde_json<T: Serialize + ?Sized>(value: &T) {
        let expected = serde_json::to_vec(value).unwrap();
        let written = written(value).unwrap();
        assert_eq!(String::from_utf8_lossy(&written), String::from_utf8_lossy(&expected));
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: Option<f64>, b: char },
    }

    #[derive(Serialize)]
    struct Everything<'a> {
        unit: (),
        unit_struct: Unit,
        newtype: Newtype,
        tuple: (u8, i16, u32, i64, u128, i128),
        floats: [f64; 6],
        single: f32,
        text: &'a str,
        #[serde(with = "bytes")]
        bytes: &'a [u8],
        shapes: Vec<Shape>,
        keys: BTreeMap<char, bool>,
        none: Option<u8>,
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    struct Newtype(&'static str);

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Side {
        Left,
    }

    mod bytes {
        pub(super) fn serialize<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(bytes)
        }
    }

    #[test]
    fn every_shape_is_written_as_serde_json_writes_it() {
        same_as_serde_json(&Everything {
            unit: (),
            unit_struct: Unit,
            newtype: Newtype("n"),
            tuple: (u8::MAX, i16::MIN, 7, -1, u128::MAX, i128::MIN),
            floats: [0.1, -0.0, 1e21, 1.5e-7, f64::NAN, f64::INFINITY],
            single: 0.3,
            text: "plain",
            bytes: &[0, 1, 255],
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(3),
                Shape::Tuple(-4, "t".into()),
                Shape::Struct { a: Some(2.5), b: 'é' },
                Shape::Struct { a: None, b: '"' },
            ],
            keys: BTreeMap::from([('k', true), ('\n', false)]),
            none: None,
        });
        same_as_serde_json(&json!({"a": [1, -2, 3.25, null, true, {"b": {}}], "": [], "c": "d"}));
    }

    #[test]
    fn strings_that_need_escaping_are_escaped_as_serde_json_does() {
        for text in [
            "",
            "\"",
            "\\",
            "a\"b\\c",
            "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}",
            " \u{7f}/é😀",
            "line\nbreak",
            "</script>",
        ] {
            same_as_serde_json(text);
            same_as_serde_json(&json!({ text: text }));
        }
    }

    #[test]
    fn every_byte_json_escapes_is_found_wherever_it_is() {
        let escaped = |byte: u8| byte < 0x20 || byte == b'"' || byte == b'\\';
        for len in 1..=17 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    // Beside bytes that borrow in the word arithmetic (0x00, 0x21, 0x80, 0xff).
                    for filler in [b'a', 0x21, 0x23, 0x5d, 0x80, 0xff] {
                        let mut bytes = vec![filler; len];
                        bytes[at] = byte;
                        let expected = escaped(byte) || escaped(filler);
                        assert_eq!(needs_escape(&bytes), expected, "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn keys_that_are_not_strings_are_left_to_serde_json() {
        assert!(written(&BTreeMap::from([(1, "one")])).is_none());
        assert!(written(&BTreeMap::from([(true, "yes")])).is_none());
        assert!(written(&BTreeMap::from([((), "unit")])).is_none());
        assert!(written(&BTreeMap::from([(None::<&str>, "none")])).is_none());
        assert_eq!(written(&BTreeMap::from([(Newtype("k"), 1)])).as_deref(), Some(&br#"{"k":1}"#[..]));
        same_as_serde_json(&BTreeMap::from([(Some("some"), 1)]));
        same_as_serde_json(&BTreeMap::from([(Side::Left, 1)]));
    }

    #[test]
    fn serde_json_tokens_are_left_to_serde_json() {
        let raw = serde_json::value::RawValue::from_string("{ \"a\" : 1 }".to_owned()).unwrap();
        assert!(written(&raw).is_none());
        assert!(written(&json!({"raw": raw})).is_some(), "a Value holds no raw value");
    }

    #[test]
    fn what_the_writer_leaves_is_written_by_serde_json() {
        let mut out = b"[".to_vec();
        let keys = BTreeMap::from([(1, "one"), (2, "two")]);
        to_writer(&mut out, &keys).unwrap();
        assert_eq!(out, br#"[{"1":"one","2":"two"}"#);
    }

    #[test]
    fn a_failing_serialize_impl_is_an_error() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(ser::Error::custom("no"))
            }
        }
        assert!(written(&[Fails]).is_none());
    }
}

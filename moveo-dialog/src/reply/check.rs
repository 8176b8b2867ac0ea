//! The checks every builder shares, and the JSON path they report.

use std::fmt::{self, Write as _};

use super::error::{ReplyError, ReplyErrorKind};

/// A JSON path, kept as a chain on the stack and rendered only when a check fails, so that a
/// valid reply costs no string formatting.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'static str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub(crate) fn field(&'a self, name: &'static str) -> Self {
        Path::Field(self, name)
    }

    pub(crate) fn key(&'a self, name: &'a str) -> Self {
        Path::Key(self, name)
    }

    pub(crate) fn index(&'a self, index: usize) -> Self {
        Path::Index(self, index)
    }

    /// The error at this path: only on the way out of a failed check, so kept out of line.
    #[cold]
    #[inline(never)]
    pub(crate) fn error(&self, kind: ReplyErrorKind) -> ReplyError {
        ReplyError::new(self.to_string(), kind)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(parent, name) | Path::Key(parent, name) => {
                parent.fmt(f)?;
                if !matches!(parent, Path::Root) {
                    f.write_char('.')?;
                }
                f.write_str(name)
            }
            Path::Index(parent, index) => {
                parent.fmt(f)?;
                write!(f, "[{index}]")
            }
        }
    }
}

/// Checks that `value` has between `min` and `max` characters (Unicode scalar values).
pub(crate) fn chars(path: Path<'_>, value: &str, min: usize, max: Option<usize>) -> Result<(), ReplyError> {
    // The byte count bounds the char count from above, and a non-empty string has at least one
    // char, so the common case decides without walking the string.
    let bytes = value.len();
    let under_max = max.is_none_or(|max| bytes <= max);
    let over_min = min == 0 || (min == 1 && bytes > 0);
    if under_max && over_min {
        return Ok(());
    }
    counted(path, value, min, max)
}

/// [`chars`] when the byte count does not decide: out of line, so that every check inlined in
/// a builder keeps only the byte comparisons.
#[cold]
#[inline(never)]
fn counted(path: Path<'_>, value: &str, min: usize, max: Option<usize>) -> Result<(), ReplyError> {
    let count = value.chars().count();
    if count < min {
        return Err(path.error(ReplyErrorKind::TooShort { chars: count, min }));
    }
    match max {
        Some(max) if count > max => Err(path.error(ReplyErrorKind::TooLong { chars: count, max })),
        _ => Ok(()),
    }
}

/// Checks that a list has between `min` and `max` items.
pub(crate) fn count(
    path: Path<'_>,
    items: &'static str,
    count: usize,
    min: usize,
    max: usize,
) -> Result<(), ReplyError> {
    if count < min {
        return Err(path.error(ReplyErrorKind::TooFew { items, count, min }));
    }
    if count > max {
        return Err(path.error(ReplyErrorKind::TooMany { items, count, max }));
    }
    Ok(())
}

/// Checks that `value` is an absolute URI per RFC 3986: the rule of JSON Schema's
/// `format: uri`, decided by the same parser the schema validator uses.
pub(crate) fn uri(path: Path<'_>, value: &str) -> Result<(), ReplyError> {
    if is_absolute_uri(value) {
        Ok(())
    } else {
        Err(path.error(ReplyErrorKind::InvalidUri { value: value.to_owned() }))
    }
}

/// Whether `value` is an absolute URI per RFC 3986 (a scheme, then the rest).
#[must_use]
pub fn is_absolute_uri(value: &str) -> bool {
    fluent_uri::Uri::parse(value).is_ok()
}

/// The pattern of a hyphenated UUID, as `schemas/reply.schema.json` states it.
pub const UUID_PATTERN: &str = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// Whether `value` is a hyphenated `8-4-4-4-12` hex UUID, in either case ([`UUID_PATTERN`]).
/// Braced, `urn:uuid:` and 32-digit forms are refused.
#[must_use]
pub fn is_hyphenated_uuid(value: &str) -> bool {
    value.len() == 36
        && value.bytes().enumerate().all(|(i, byte)| match i {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

/// Checks that `value` is a hyphenated UUID.
pub(crate) fn uuid(path: Path<'_>, value: &str) -> Result<(), ReplyError> {
    if is_hyphenated_uuid(value) {
        Ok(())
    } else {
        Err(path.error(ReplyErrorKind::InvalidUuid { value: value.to_owned() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_as_json_paths() {
        let root = Path::Root;
        let responses = root.field("responses");
        let first = responses.index(1);
        let cards = first.field("cards");
        let card = cards.index(3);
        assert_eq!(card.field("title").to_string(), "responses[1].cards[3].title");
        assert_eq!(root.field("context").key("global").to_string(), "context.global");
    }

    #[test]
    fn chars_counts_scalar_values_not_bytes() {
        let root = Path::Root;
        // 64 two-byte characters: 128 bytes, 64 chars.
        assert!(chars(root, &"é".repeat(64), 1, Some(64)).is_ok());
        let err = chars(root, &"é".repeat(65), 1, Some(64)).unwrap_err();
        assert_eq!(err.to_string(), "reply: 65 characters, at most 64");
        assert!(chars(root, "", 1, Some(64)).is_err());
        assert!(chars(root, "", 0, Some(100)).is_ok());
        // A combining sequence is two scalar values.
        assert!(chars(root, "e\u{301}", 2, Some(2)).is_ok());
    }

    #[test]
    fn uuids_must_be_hyphenated() {
        assert!(is_hyphenated_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_hyphenated_uuid("123E4567-E89B-12D3-A456-426614174000"));
        for bad in [
            "{123e4567-e89b-12d3-a456-426614174000}",
            "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
            "123e4567e89b12d3a456426614174000",
            "123e4567-e89b-12d3-a456-42661417400",
            "123e4567-e89b-12d3-a456-4266141740000",
            "123e4567-e89b-12d3-a456-42661417400g",
            "123e4567-e89b-12d3-a4564-26614174000",
            "123e4567-e89b-12d3-a456-42661417400\u{e9}",
            "",
        ] {
            assert!(!is_hyphenated_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn uris_must_be_absolute() {
        assert!(is_absolute_uri("https://example.com/image.jpg"));
        assert!(is_absolute_uri("mailto:a@b.c"));
        assert!(!is_absolute_uri("/relative/path"));
        assert!(!is_absolute_uri("example.com"));
        assert!(!is_absolute_uri(""));
        assert!(!is_absolute_uri("https://example.com/a b"));
    }
}

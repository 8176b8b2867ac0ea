//! The text response: one or more texts, with optional quick-reply options.

use std::borrow::Cow;

use serde::Serialize;
use smallvec::SmallVec;

use super::check::{self, Path};
use super::error::ReplyError;
use super::limits::{MAX_OPTION_LABEL_CHARS, MAX_OPTIONS, MIN_OPTION_LABEL_CHARS, MIN_OPTION_TEXT_CHARS, MIN_OPTIONS};

/// A text response: `{"type": "text", "texts": [...], "options": [...]}`.
///
/// ```
/// use moveo_dialog::reply::Text;
///
/// let text = Text::new("Where would you like to go?")
///     .option("England", "I want to go to England")
///     .option("Spain", "I want to go to Spain");
/// # let _ = text;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use = "a text does nothing until it is added to a reply"]
pub struct Text {
    /// One text inline (most texts have one): no allocation for the list.
    texts: SmallVec<[Cow<'static, str>; 1]>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    options: Vec<TextOption>,
}

/// A quick-reply option of a [`Text`]: `label` is shown, `text` is sent back when chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextOption {
    /// The text sent back as the user's message when the option is chosen (at least 1 character).
    pub text: Cow<'static, str>,
    /// The label shown to the user (1 to 64 characters).
    pub label: Cow<'static, str>,
}

impl Text {
    /// A text response with one text.
    pub fn new(text: impl Into<Cow<'static, str>>) -> Self {
        Self { texts: smallvec::smallvec![text.into()], options: Vec::new() }
    }

    /// A text response with several texts, sent in order.
    pub fn from_texts<I>(texts: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Cow<'static, str>>,
    {
        Self { texts: texts.into_iter().map(Into::into).collect(), options: Vec::new() }
    }

    /// Adds another text after the ones already there.
    pub fn text(mut self, text: impl Into<Cow<'static, str>>) -> Self {
        self.texts.push(text.into());
        self
    }

    /// Adds a quick-reply option: `label` is shown on the button, `text` is sent back as the
    /// user's message when it is chosen. At most 10 options.
    pub fn option(mut self, label: impl Into<Cow<'static, str>>, text: impl Into<Cow<'static, str>>) -> Self {
        self.options.push(TextOption { text: text.into(), label: label.into() });
        self
    }

    /// The texts, in order.
    #[must_use]
    pub fn texts(&self) -> &[Cow<'static, str>] {
        &self.texts
    }

    /// The quick-reply options, in order.
    #[must_use]
    pub fn options(&self) -> &[TextOption] {
        &self.options
    }

    pub(crate) fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        if self.options.is_empty() {
            return Ok(());
        }
        let options = path.field("options");
        check::count(options, "options", self.options.len(), MIN_OPTIONS, MAX_OPTIONS)?;
        for (i, option) in self.options.iter().enumerate() {
            let at = options.index(i);
            check::chars(at.field("text"), &option.text, MIN_OPTION_TEXT_CHARS, None)?;
            check::chars(at.field("label"), &option.label, MIN_OPTION_LABEL_CHARS, Some(MAX_OPTION_LABEL_CHARS))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::Text;
    use crate::Reply;

    #[test]
    fn a_literal_is_kept_and_a_string_is_moved_in_neither_copied() {
        let sent = String::from("I want to go to England");
        let sent_at = sent.as_ptr();
        let text = Text::new("Where to?").option("England", sent);
        assert!(matches!(text.texts()[0], Cow::Borrowed("Where to?")));
        let option = &text.options()[0];
        assert!(matches!(option.label, Cow::Borrowed("England")));
        assert!(matches!(option.text, Cow::Owned(_)));
        assert_eq!(option.text.as_ptr(), sent_at, "the String given is the one kept");

        let name: &'static str = "destination";
        let reply = Reply::builder().context(name, "England").text(text).build().expect("valid");
        let (key, _) = reply.context().iter().next().expect("one key");
        assert_eq!((key, key.as_ptr()), (name, name.as_ptr()), "the literal is kept, not copied");
        assert_eq!(reply.to_json_bytes(), br#"{"context":{"destination":"England"},"responses":[{"type":"text","texts":["Where to?"],"options":[{"text":"I want to go to England","label":"England"}]}]}"#);
    }
}

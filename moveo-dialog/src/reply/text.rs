//! The text response: one or more texts, with optional quick-reply options.

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
    texts: SmallVec<[String; 1]>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    options: Vec<TextOption>,
}

/// A quick-reply option of a [`Text`]: `label` is shown, `text` is sent back when chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextOption {
    /// The text sent back as the user's message when the option is chosen (at least 1 character).
    pub text: String,
    /// The label shown to the user (1 to 64 characters).
    pub label: String,
}

impl Text {
    /// A text response with one text.
    pub fn new(text: impl Into<String>) -> Self {
        Self { texts: smallvec::smallvec![text.into()], options: Vec::new() }
    }

    /// A text response with several texts, sent in order.
    pub fn from_texts<I>(texts: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self { texts: texts.into_iter().map(Into::into).collect(), options: Vec::new() }
    }

    /// Adds another text after the ones already there.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.texts.push(text.into());
        self
    }

    /// Adds a quick-reply option: `label` is shown on the button, `text` is sent back as the
    /// user's message when it is chosen. At most 10 options.
    pub fn option(mut self, label: impl Into<String>, text: impl Into<String>) -> Self {
        self.options.push(TextOption { text: text.into(), label: label.into() });
        self
    }

    /// The texts, in order.
    #[must_use]
    pub fn texts(&self) -> &[String] {
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

//! The media responses: image, video, audio and file.

use std::borrow::Cow;

use serde::Serialize;

use super::check::{self, Path};
use super::error::ReplyError;

/// Which kind of media a [`Media`] response sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `"type": "image"`.
    Image,
    /// `"type": "video"`.
    Video,
    /// `"type": "audio"`.
    Audio,
    /// `"type": "file"`.
    File,
}

/// A media response: `{"type": "image" | "video" | "audio" | "file", "url", "name"?, "size"?}`.
///
/// ```
/// use moveo_dialog::reply::Media;
///
/// let invoice = Media::file("https://example.com/invoice.pdf")
///     .name("Invoice.pdf")
///     .size(102_400);
/// # let _ = invoice;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use = "a media response does nothing until it is added to a reply"]
pub struct Media {
    #[serde(skip)]
    kind: MediaKind,
    url: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
}

impl Media {
    /// A media response of the given kind; `url` must be an absolute URI.
    pub fn new(kind: MediaKind, url: impl Into<Cow<'static, str>>) -> Self {
        Self { kind, url: url.into(), name: None, size: None }
    }

    /// An image.
    pub fn image(url: impl Into<Cow<'static, str>>) -> Self {
        Self::new(MediaKind::Image, url)
    }

    /// A video.
    pub fn video(url: impl Into<Cow<'static, str>>) -> Self {
        Self::new(MediaKind::Video, url)
    }

    /// An audio clip.
    pub fn audio(url: impl Into<Cow<'static, str>>) -> Self {
        Self::new(MediaKind::Audio, url)
    }

    /// A file.
    pub fn file(url: impl Into<Cow<'static, str>>) -> Self {
        Self::new(MediaKind::File, url)
    }

    /// The file's name, shown to the user.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The file's size in bytes.
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = Some(bytes);
        self
    }

    /// Which kind of media this is.
    #[must_use]
    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// The media's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        check::uri(path.field("url"), &self.url)
    }
}

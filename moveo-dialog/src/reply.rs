//! The reply to a dialog webhook: context updates and responses, built through typed builders
//! that check every limit Moveo documents.
//!
//! A [`Reply`] can only be made by [`ReplyBuilder::build`], which checks the whole reply and
//! names the JSON path of the first value that breaks a limit:
//!
//! ```
//! use moveo_dialog::Reply;
//! use moveo_dialog::reply::{Card, CardMedia, Carousel, Text};
//!
//! let reply = Reply::builder()
//!     .context("selected_product", "apples")
//!     .text(Text::new("Welcome back!").option("Products", "View Products"))
//!     .build()?;
//! assert_eq!(reply.responses().len(), 1);
//!
//! let too_long = "x".repeat(71);
//! let err = Reply::builder()
//!     .carousel(Carousel::new().card(Card::new(too_long, CardMedia::image("https://example.com/a.jpg"))))
//!     .build()
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "responses[0].cards[0].title: 71 characters, at most 64");
//! # Ok::<(), moveo_dialog::ReplyError>(())
//! ```
//!
//! Every string a builder takes is an `impl Into<Cow<'static, str>>`: a literal is kept as it
//! is and a `String` is moved in, so neither is copied. A borrowed `&str` that does not live
//! for `'static` (a field of a handler's context, say) is passed as `.to_owned()`:
//!
//! ```
//! use moveo_dialog::Reply;
//! use moveo_dialog::reply::Text;
//!
//! fn greet(name: &str) -> Reply {
//!     Reply::builder()
//!         // A context value is anything `Serialize`, borrowed or not.
//!         .context("greeted", name)
//!         .text(Text::new(format!("Hello, {name}!")).option(name.to_owned(), "That's me"))
//!         .build()
//!         .expect("a short text keeps every limit")
//! }
//! let reply = greet("George");
//! assert_eq!(reply.context()["greeted"], "George");
//! let moveo_dialog::reply::ResponseItem::Text(text) = &reply.responses()[0] else { unreachable!() };
//! assert_eq!(text.options()[0].label, "George");
//! ```

mod carousel;
pub(crate) mod check;
mod context;
mod error;
mod event;
mod json;
pub mod limits;
mod media;
mod text;
mod url;
mod webview;

use serde::Serialize;
use std::borrow::Cow;

use serde_json::Value;

pub use carousel::{Button, Card, CardMedia, CardMediaKind, Carousel, DefaultAction, WebviewButton};
pub use check::{UUID_PATTERN, is_absolute_uri, is_hyphenated_uuid};
pub use context::{ContextIter, ContextUpdates};
pub use error::{ReplyError, ReplyErrorKind};
pub use event::TriggerNode;
pub use media::{Media, MediaKind};
pub use text::{Text, TextOption};
pub use url::{InvalidIri, Url};
pub use webview::{Webview, WebviewHeight};

use check::Path;
use limits::RESERVED_CONTEXT_KEYS;

/// One element of a reply's `responses` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ResponseItem {
    /// A text, with optional quick-reply options.
    Text(Text),
    /// An image.
    Image(Media),
    /// A video.
    Video(Media),
    /// An audio clip.
    Audio(Media),
    /// A file.
    File(Media),
    /// Triggers a dialog node.
    Event(TriggerNode),
    /// A carousel of cards.
    Carousel(Carousel),
    /// A webview.
    Webview(Webview),
    /// Resets the conversation.
    Reset,
}

impl ResponseItem {
    fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        match self {
            Self::Text(text) => text.check(path),
            Self::Image(media) | Self::Video(media) | Self::Audio(media) | Self::File(media) => media.check(path),
            Self::Event(event) => event.check(path),
            Self::Carousel(carousel) => carousel.check(path),
            Self::Webview(webview) => webview.check(path),
            Self::Reset => Ok(()),
        }
    }
}

/// A dialog webhook reply that keeps every limit Moveo documents.
///
/// Made only by [`Reply::builder`]; serialises to `{"context"?: {...}, "responses"?: [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[must_use = "a reply does nothing until it is returned to Moveo"]
pub struct Reply {
    #[serde(skip_serializing_if = "ContextUpdates::is_empty")]
    context: ContextUpdates,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    responses: Vec<ResponseItem>,
}

impl Reply {
    /// Starts a reply.
    pub fn builder() -> ReplyBuilder {
        ReplyBuilder::default()
    }

    /// A reply with one text: the shortest way to answer.
    ///
    /// ```
    /// let reply = moveo_dialog::Reply::text("Your code is on its way.");
    /// assert_eq!(reply.responses().len(), 1);
    /// ```
    pub fn text(text: impl Into<Cow<'static, str>>) -> Self {
        Self { context: ContextUpdates::default(), responses: vec![ResponseItem::Text(Text::new(text))] }
    }

    /// The context updates, in name order.
    #[must_use]
    pub fn context(&self) -> &ContextUpdates {
        &self.context
    }

    /// The responses, in order.
    #[must_use]
    pub fn responses(&self) -> &[ResponseItem] {
        &self.responses
    }

    /// The reply as JSON bytes, ready to send.
    #[must_use]
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // One buffer, sized from the last reply so that it rarely grows.
        let mut buffer =
            Vec::with_capacity(LAST_REPLY_LEN.load(std::sync::atomic::Ordering::Relaxed).clamp(128, 64 * 1024));
        // serde_json's bytes (`json` writes them without serde_json's byte-by-byte escape
        // loop). A Reply holds only strings, numbers and JSON values with string keys, which
        // always serialise.
        if json::to_writer(&mut buffer, self).is_err() {
            return b"{}".to_vec();
        }
        LAST_REPLY_LEN.store(buffer.len() + buffer.len() / 8, std::sync::atomic::Ordering::Relaxed);
        buffer
    }
}

/// The length of the last reply serialised, and an eighth: the next one's buffer.
static LAST_REPLY_LEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(256);

/// Builds a [`Reply`]; [`build`](Self::build) checks it.
#[derive(Debug, Default, Clone)]
#[must_use = "a reply builder does nothing until `build` is called"]
pub struct ReplyBuilder {
    context: ContextUpdates,
    responses: Vec<ResponseItem>,
    deferred: Option<ReplyError>,
}

impl ReplyBuilder {
    /// Sets the context variable `key` to `value`. The keys `global` and `channels` are
    /// reserved by Moveo and refused by [`build`](Self::build).
    pub fn context(mut self, key: impl Into<Cow<'static, str>>, value: impl Serialize) -> Self {
        let key = key.into();
        match serde_json::to_value(value) {
            Ok(value) => {
                self.context.insert(key, value);
            }
            Err(err) => self.defer(&key, ReplyErrorKind::NotSerializable { message: err.to_string() }),
        }
        self
    }

    /// Sets every field of `update` (a struct or map that serialises to a JSON object) as a
    /// context variable.
    pub fn context_object(self, update: impl Serialize) -> Self {
        self.context_object_filtered(update, |_| true)
    }

    pub(crate) fn context_object_filtered(mut self, update: impl Serialize, keep: impl Fn(&str) -> bool) -> Self {
        match serde_json::to_value(update) {
            Ok(Value::Object(fields)) => {
                for (key, value) in fields.into_iter().filter(|(key, _)| keep(key)) {
                    self.context.insert(Cow::Owned(key), value);
                }
            }
            Ok(_) => self.defer_root(ReplyErrorKind::NotAnObject),
            Err(err) => self.defer_root(ReplyErrorKind::NotSerializable { message: err.to_string() }),
        }
        self
    }

    /// Adds a text response.
    pub fn text(self, text: Text) -> Self {
        self.response(ResponseItem::Text(text))
    }

    /// Adds a media response (image, video, audio or file).
    pub fn media(self, media: Media) -> Self {
        let response = match media.kind() {
            MediaKind::Image => ResponseItem::Image(media),
            MediaKind::Video => ResponseItem::Video(media),
            MediaKind::Audio => ResponseItem::Audio(media),
            MediaKind::File => ResponseItem::File(media),
        };
        self.response(response)
    }

    /// Adds an event response that triggers the node `trigger_node_id` (a hyphenated UUID).
    pub fn event(self, trigger_node_id: impl Into<Cow<'static, str>>) -> Self {
        self.response(ResponseItem::Event(TriggerNode::new(trigger_node_id)))
    }

    /// Adds a carousel.
    pub fn carousel(self, carousel: Carousel) -> Self {
        self.response(ResponseItem::Carousel(carousel))
    }

    /// Adds a webview.
    pub fn webview(self, webview: Webview) -> Self {
        self.response(ResponseItem::Webview(webview))
    }

    /// Adds a reset response.
    pub fn reset(self) -> Self {
        self.response(ResponseItem::Reset)
    }

    /// Adds any response.
    pub fn response(mut self, response: ResponseItem) -> Self {
        self.responses.push(response);
        self
    }

    /// Checks every limit and makes the reply.
    ///
    /// # Errors
    ///
    /// The first value that breaks a limit, with its JSON path; or
    /// [`ReplyErrorKind::Empty`] when there is neither context nor a response.
    pub fn build(mut self) -> Result<Reply, ReplyError> {
        if let Some(err) = self.deferred {
            return Err(err);
        }
        let root = Path::Root;
        let context = root.field("context");
        for key in RESERVED_CONTEXT_KEYS {
            if self.context.contains_key(key) {
                return Err(context.key(key).error(ReplyErrorKind::ReservedContextKey));
            }
        }
        let responses = root.field("responses");
        for (i, response) in self.responses.iter().enumerate() {
            response.check(responses.index(i))?;
        }
        if self.context.is_empty() && self.responses.is_empty() {
            return Err(root.error(ReplyErrorKind::Empty));
        }
        for response in &mut self.responses {
            if let ResponseItem::Carousel(carousel) = response {
                carousel.ensure_action_id();
            }
        }
        Ok(Reply { context: self.context, responses: self.responses })
    }

    fn defer(&mut self, key: &str, kind: ReplyErrorKind) {
        if self.deferred.is_none() {
            let root = Path::Root;
            self.deferred = Some(root.field("context").key(key).error(kind));
        }
    }

    fn defer_root(&mut self, kind: ReplyErrorKind) {
        if self.deferred.is_none() {
            self.deferred = Some(Path::Root.field("context").error(kind));
        }
    }
}

impl TryFrom<ReplyBuilder> for Reply {
    type Error = ReplyError;

    fn try_from(builder: ReplyBuilder) -> Result<Self, Self::Error> {
        builder.build()
    }
}

//! The responses inside a `message:brain_send` event's `output.responses`.
//!
//! These are the agent's replies as Moveo delivers them to a custom integration, not the
//! dialog-webhook reply types: a text has `text` (not `texts`), a webview may open in a
//! `new_window`, a card's media is optional, a carousel has no `action_id`.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::borrowed::Text;

/// One response of a `message:brain_send` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum OutputResponse {
    /// `"type": "text"`.
    Text(OutputText),
    /// `"type": "image"`.
    Image(OutputMedia),
    /// `"type": "video"`.
    Video(OutputMedia),
    /// `"type": "audio"`.
    Audio(OutputMedia),
    /// `"type": "file"`.
    File(OutputMedia),
    /// `"type": "carousel"`.
    Carousel(OutputCarousel),
    /// `"type": "webview"`.
    Webview(OutputWebview),
    /// `"type": "handover"`: the conversation goes to a human agent.
    Handover(Handover),
    /// `"type": "pause"`: a typing delay; its fields are not documented and kept as they came.
    Pause(Map<String, Value>),
    /// A response type this version does not know, kept as it came.
    Unknown(Value),
}

impl OutputResponse {
    /// The response's `type`.
    #[must_use]
    pub fn kind(&self) -> &str {
        match self {
            Self::Text(_) => "text",
            Self::Image(_) => "image",
            Self::Video(_) => "video",
            Self::Audio(_) => "audio",
            Self::File(_) => "file",
            Self::Carousel(_) => "carousel",
            Self::Webview(_) => "webview",
            Self::Handover(_) => "handover",
            Self::Pause(_) => "pause",
            Self::Unknown(value) => value.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// A text response with optional quick-reply options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputText {
    /// `"text"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The message text.
    pub text: String,
    /// Quick-reply options; a chosen option's `text` is sent back as a user message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OutputOption>,
}

/// A quick-reply option of an [`OutputText`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputOption {
    /// Shown to the user.
    pub label: String,
    /// To send back as the user's message when chosen.
    pub text: String,
}

/// An image, video, audio or file response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputMedia {
    /// `"image"`, `"video"`, `"audio"` or `"file"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The media's URL.
    pub url: String,
    /// Its name or caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A carousel response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputCarousel {
    /// `"carousel"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The cards.
    pub cards: Vec<OutputCard>,
}

/// A card of an [`OutputCarousel`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputCard {
    /// The card's title.
    pub title: String,
    /// The card's subtitle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// The card's image or video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<OutputCardMedia>,
    /// The card's buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<OutputButton>,
}

/// A card's media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputCardMedia {
    /// `"image"` or `"video"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The media's URL.
    pub url: String,
}

/// A card's button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputButton {
    /// `"postback"`, `"url"` or `"webview"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The button's text.
    pub label: String,
    /// The value of a postback button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The URL of a url or webview button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

super::wire_enum::wire_enum! {
    /// How a webview opens.
    pub enum OutputWebviewHeight {
        /// `"full"`.
        Full = "full",
        /// `"tall"`.
        Tall = "tall",
        /// `"compact"`.
        Compact = "compact",
        /// `"new_window"`.
        NewWindow = "new_window",
    }
}

/// A webview response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputWebview {
    /// `"webview"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The webview's URL.
    pub url: String,
    /// The button label.
    pub label: String,
    /// How it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<OutputWebviewHeight>,
}

/// A handover response: the conversation goes to a human agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Handover {
    /// `"handover"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Shown during the transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The target desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk_id: Option<String>,
    /// The target department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<String>,
}

impl OutputResponse {
    /// A response decoded straight from its raw JSON, as [`Deserialize`] decodes it through a
    /// [`Value`]: its `type` read first, then the response of that type from the same text
    /// (an unknown type, or none, kept as its `Value`). `None` where that decode would fail or
    /// where this one does not decide (a key given twice, a `type` that is not a string).
    pub(crate) fn from_raw(raw: &RawValue) -> Option<Self> {
        #[derive(Deserialize)]
        struct Tag<'a> {
            #[serde(borrow, default, rename = "type")]
            kind: Option<Text<'a>>,
        }
        // Only an object is a response (a derived struct would also take an array).
        if !raw.get().starts_with('{') {
            return None;
        }
        let Tag { kind } = Tag::deserialize(raw).ok()?;
        match kind.and_then(|kind| Self::known(&kind.0)) {
            Some(kind) => Self::of_kind(kind, raw).ok(),
            None => Value::deserialize(raw).ok().map(Self::Unknown),
        }
    }

    /// The `type`s this version decodes, as `&'static str`; `None` for any other.
    fn known(kind: &str) -> Option<&'static str> {
        ["text", "image", "video", "audio", "file", "carousel", "webview", "handover", "pause"]
            .into_iter()
            .find(|known| *known == kind)
    }

    /// The response of the [`known`](Self::known) type `kind`, decoded from `data` (its
    /// `Value`, or its raw JSON): one list of types for both decodes.
    fn of_kind<'de, D: Deserializer<'de>>(kind: &'static str, data: D) -> Result<Self, D::Error> {
        match kind {
            "text" => OutputText::deserialize(data).map(Self::Text),
            "image" => OutputMedia::deserialize(data).map(Self::Image),
            "video" => OutputMedia::deserialize(data).map(Self::Video),
            "audio" => OutputMedia::deserialize(data).map(Self::Audio),
            "file" => OutputMedia::deserialize(data).map(Self::File),
            "carousel" => OutputCarousel::deserialize(data).map(Self::Carousel),
            "webview" => OutputWebview::deserialize(data).map(Self::Webview),
            "handover" => Handover::deserialize(data).map(Self::Handover),
            // "pause", the last of the known types.
            _ => Map::deserialize(data).map(Self::Pause),
        }
    }
}

impl<'de> Deserialize<'de> for OutputResponse {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        let Some(kind) = value.get("type").and_then(Value::as_str) else {
            if value.is_object() {
                return Ok(Self::Unknown(value));
            }
            return Err(D::Error::custom("a response must be a JSON object"));
        };
        let Some(kind) = Self::known(kind) else {
            return Ok(Self::Unknown(value));
        };
        // Decoded from the value itself, not a reference to it: its strings are moved into the
        // response rather than copied.
        let decoded = Self::of_kind(kind, value);
        decoded.map_err(|err| D::Error::custom(format_args!("{kind} response: {err}")))
    }
}

//! The carousel response: cards with media, titles, buttons and a default action.

use std::borrow::Cow;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::check::{self, Path};
use super::error::ReplyError;
use super::limits::{
    MAX_BUTTONS, MAX_CARD_SUBTITLE_CHARS, MAX_CARD_TITLE_CHARS, MAX_CARDS, MIN_BUTTONS, MIN_CARD_TITLE_CHARS, MIN_CARDS,
};
use super::webview::{WebviewHeight, check_target};

/// A carousel response: `{"type": "carousel", "cards": [...], "action_id": UUID}`.
///
/// Without [`Carousel::action_id`], the reply derives one from the cards' content, so the same
/// carousel always gets the same id (replies stay reproducible in snapshot tests).
///
/// ```
/// use moveo_dialog::reply::{Button, Card, CardMedia, Carousel, DefaultAction};
///
/// let carousel = Carousel::new().card(
///     Card::new("Product 1", CardMedia::image("https://example.com/product1.jpg"))
///         .subtitle("Description of product 1")
///         .button(Button::postback("Buy Now", "buy_product_1"))
///         .button(Button::url("Learn More", "https://example.com/product1"))
///         .default_action(DefaultAction::url("https://example.com/product1")),
/// );
/// # let _ = carousel;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[must_use = "a carousel does nothing until it is added to a reply"]
pub struct Carousel {
    cards: Vec<Card>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_id: Option<Cow<'static, str>>,
}

impl Carousel {
    /// An empty carousel; add 1 to 6 cards.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a card. At most 6.
    pub fn card(mut self, card: Card) -> Self {
        self.cards.push(card);
        self
    }

    /// Sets the action id (a hyphenated UUID) instead of the derived one.
    pub fn action_id(mut self, action_id: impl Into<Cow<'static, str>>) -> Self {
        self.action_id = Some(action_id.into());
        self
    }

    /// The cards, in order.
    pub fn cards(&self) -> &[Card] {
        &self.cards
    }

    pub(crate) fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        let cards = path.field("cards");
        check::count(cards, "cards", self.cards.len(), MIN_CARDS, MAX_CARDS)?;
        for (i, card) in self.cards.iter().enumerate() {
            card.check(cards.index(i))?;
        }
        if let Some(id) = &self.action_id {
            check::uuid(path.field("action_id"), id)?;
        }
        Ok(())
    }

    /// Fills in a content-derived action id when none was given. Called once the carousel is
    /// known to be valid.
    pub(crate) fn ensure_action_id(&mut self) {
        if self.action_id.is_none() {
            self.action_id = Some(derived_action_id(&self.cards).into());
        }
    }
}

/// A UUID (version 8, RFC 9562's custom layout) from the SHA-256 of the cards as they are
/// sent (their JSON: every field, titles, subtitles, media, buttons with their values and
/// URLs, default actions): the same cards give the same id, and cards that differ in anything
/// give different ids.
fn derived_action_id(cards: &[Card]) -> String {
    // The cards' JSON as the reply sends it (serde_json's bytes); cards hold only strings and
    // enums, which always serialise.
    let mut json = Vec::with_capacity(256);
    let _ = super::json::to_writer(&mut json, cards);
    let digest = Sha256::digest(&json);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The kind of media on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CardMediaKind {
    /// `"image"`.
    Image,
    /// `"video"`.
    Video,
}

/// A card's media: `{"url", "type": "image" | "video"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardMedia {
    /// An absolute URI.
    pub url: Cow<'static, str>,
    /// Image or video.
    #[serde(rename = "type")]
    pub kind: CardMediaKind,
}

impl CardMedia {
    /// An image card media.
    #[must_use]
    pub fn image(url: impl Into<Cow<'static, str>>) -> Self {
        Self { url: url.into(), kind: CardMediaKind::Image }
    }

    /// A video card media.
    #[must_use]
    pub fn video(url: impl Into<Cow<'static, str>>) -> Self {
        Self { url: url.into(), kind: CardMediaKind::Video }
    }
}

/// A carousel card: media and a title, with an optional subtitle, buttons and default action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use = "a card does nothing until it is added to a carousel"]
pub struct Card {
    media: CardMedia,
    title: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subtitle: Option<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    buttons: Vec<Button>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_action: Option<DefaultAction>,
}

impl Card {
    /// A card with its title (1 to 64 characters) and media.
    pub fn new(title: impl Into<Cow<'static, str>>, media: CardMedia) -> Self {
        Self { media, title: title.into(), subtitle: None, buttons: Vec::new(), default_action: None }
    }

    /// The subtitle, at most 100 characters.
    pub fn subtitle(mut self, subtitle: impl Into<Cow<'static, str>>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }

    /// Adds a button. At most 3.
    pub fn button(mut self, button: impl Into<Button>) -> Self {
        self.buttons.push(button.into());
        self
    }

    /// What tapping the card does.
    pub fn default_action(mut self, action: impl Into<DefaultAction>) -> Self {
        self.default_action = Some(action.into());
        self
    }

    /// The card's title.
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The card's buttons.
    #[must_use]
    pub fn buttons(&self) -> &[Button] {
        &self.buttons
    }

    fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        check::uri(path.field("media").field("url"), &self.media.url)?;
        check::chars(path.field("title"), &self.title, MIN_CARD_TITLE_CHARS, Some(MAX_CARD_TITLE_CHARS))?;
        if let Some(subtitle) = &self.subtitle {
            check::chars(path.field("subtitle"), subtitle, 0, Some(MAX_CARD_SUBTITLE_CHARS))?;
        }
        if !self.buttons.is_empty() {
            let buttons = path.field("buttons");
            check::count(buttons, "buttons", self.buttons.len(), MIN_BUTTONS, MAX_BUTTONS)?;
            for (i, button) in self.buttons.iter().enumerate() {
                button.check(buttons.index(i))?;
            }
        }
        if let Some(action) = &self.default_action {
            action.check(path.field("default_action"))?;
        }
        Ok(())
    }
}

/// A card button. No length limit is documented for labels or postback values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Button {
    /// `{"type": "postback", "label", "value"}`: sends `value` back when pressed.
    Postback {
        /// Shown on the button.
        label: Cow<'static, str>,
        /// Sent back when the button is pressed.
        value: Cow<'static, str>,
    },
    /// `{"type": "url", "label", "url"}`: opens `url`.
    Url {
        /// Shown on the button.
        label: Cow<'static, str>,
        /// An absolute URI.
        url: Cow<'static, str>,
    },
    /// `{"type": "webview", "label", "url", "height"?, "trigger_node_id"?}`.
    Webview(WebviewButton),
}

impl Button {
    /// A postback button.
    #[must_use]
    pub fn postback(label: impl Into<Cow<'static, str>>, value: impl Into<Cow<'static, str>>) -> Self {
        Self::Postback { label: label.into(), value: value.into() }
    }

    /// A button that opens a URL.
    #[must_use]
    pub fn url(label: impl Into<Cow<'static, str>>, url: impl Into<Cow<'static, str>>) -> Self {
        Self::Url { label: label.into(), url: url.into() }
    }

    /// A button that opens a webview; set its height and trigger node on the returned value.
    pub fn webview(label: impl Into<Cow<'static, str>>, url: impl Into<Cow<'static, str>>) -> WebviewButton {
        WebviewButton { label: label.into(), url: url.into(), height: None, trigger_node_id: None }
    }

    /// The button's label.
    #[must_use]
    pub fn label(&self) -> &str {
        match self {
            Self::Postback { label, .. } | Self::Url { label, .. } => label,
            Self::Webview(webview) => &webview.label,
        }
    }

    fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        match self {
            Self::Postback { .. } => Ok(()),
            Self::Url { url, .. } => check::uri(path.field("url"), url),
            Self::Webview(webview) => webview.check(path),
        }
    }
}

/// A webview button or default action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use = "a button does nothing until it is added to a card"]
pub struct WebviewButton {
    label: Cow<'static, str>,
    url: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<WebviewHeight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger_node_id: Option<Cow<'static, str>>,
}

impl WebviewButton {
    /// How tall the webview opens.
    pub fn height(mut self, height: WebviewHeight) -> Self {
        self.height = Some(height);
        self
    }

    /// The node (a hyphenated UUID) to trigger upon webview events.
    pub fn trigger_node_id(mut self, node_id: impl Into<Cow<'static, str>>) -> Self {
        self.trigger_node_id = Some(node_id.into());
        self
    }

    fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        check_target(path, &self.url, self.trigger_node_id.as_deref())
    }
}

impl From<WebviewButton> for Button {
    fn from(webview: WebviewButton) -> Self {
        Self::Webview(webview)
    }
}

/// What tapping a card does: a button without a label for postback and url, a webview button
/// with its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DefaultAction {
    /// `{"type": "postback", "value"}`.
    Postback {
        /// Sent back when the card is tapped.
        value: Cow<'static, str>,
    },
    /// `{"type": "url", "url"}`.
    Url {
        /// An absolute URI.
        url: Cow<'static, str>,
    },
    /// `{"type": "webview", "label", "url", "height"?, "trigger_node_id"?}`.
    Webview(WebviewButton),
}

impl DefaultAction {
    /// Sends `value` back when the card is tapped.
    #[must_use]
    pub fn postback(value: impl Into<Cow<'static, str>>) -> Self {
        Self::Postback { value: value.into() }
    }

    /// Opens `url` when the card is tapped.
    #[must_use]
    pub fn url(url: impl Into<Cow<'static, str>>) -> Self {
        Self::Url { url: url.into() }
    }

    fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        match self {
            Self::Postback { .. } => Ok(()),
            Self::Url { url } => check::uri(path.field("url"), url),
            Self::Webview(webview) => webview.check(path),
        }
    }
}

impl From<WebviewButton> for DefaultAction {
    fn from(webview: WebviewButton) -> Self {
        Self::Webview(webview)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derived_id_of_a_carousel_does_not_change_between_versions() {
        // Pinned at 0.2: replies in users' snapshot tests must keep their ids.
        let card = Card::new("Product \"1\"", CardMedia::video("https://example.com/p.mp4")).subtitle("é\n");
        assert_eq!(derived_action_id(&[card]), "48a59854-49de-8590-8471-ab7aa9f3215d");
    }
}

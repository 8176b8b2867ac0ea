//! The webview response, and the height shared with webview buttons.

use std::borrow::Cow;

use serde::Serialize;

use super::check::{self, Path};
use super::error::ReplyError;

/// How tall a webview opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebviewHeight {
    /// `"tall"`.
    Tall,
    /// `"compact"`.
    Compact,
    /// `"full"`.
    Full,
}

/// A webview response: `{"type": "webview", "name", "label", "url", "height"?, "trigger_node_id"?}`.
///
/// ```
/// use moveo_dialog::reply::{Webview, WebviewHeight};
///
/// let survey = Webview::new("Survey", "Visit our website", "https://example.com/")
///     .height(WebviewHeight::Full)
///     .trigger_node_id("123e4567-e89b-12d3-a456-426614174000");
/// # let _ = survey;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use = "a webview does nothing until it is added to a reply"]
pub struct Webview {
    name: Cow<'static, str>,
    label: Cow<'static, str>,
    url: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<WebviewHeight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger_node_id: Option<Cow<'static, str>>,
}

impl Webview {
    /// A webview with its name, the label shown to the user, and the URL it loads.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        label: impl Into<Cow<'static, str>>,
        url: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self { name: name.into(), label: label.into(), url: url.into(), height: None, trigger_node_id: None }
    }

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

    /// The URL the webview loads.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        check_target(path, &self.url, self.trigger_node_id.as_deref())
    }
}

/// The URL and optional trigger node of a webview response, button or default action.
pub(crate) fn check_target(path: Path<'_>, url: &str, trigger_node_id: Option<&str>) -> Result<(), ReplyError> {
    check::uri(path.field("url"), url)?;
    if let Some(node) = trigger_node_id {
        check::uuid(path.field("trigger_node_id"), node)?;
    }
    Ok(())
}

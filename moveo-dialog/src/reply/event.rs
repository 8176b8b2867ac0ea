//! The event response, which triggers a dialog node.

use std::borrow::Cow;

use serde::Serialize;

use super::check::{self, Path};
use super::error::ReplyError;

/// An event response: `{"type": "event", "trigger_node_id": UUID}`: Moveo jumps to that node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use = "an event does nothing until it is added to a reply"]
pub struct TriggerNode {
    trigger_node_id: Cow<'static, str>,
}

impl TriggerNode {
    /// Triggers the node with this id, a hyphenated UUID.
    pub fn new(trigger_node_id: impl Into<Cow<'static, str>>) -> Self {
        Self { trigger_node_id: trigger_node_id.into() }
    }

    /// The node that will be triggered.
    #[must_use]
    pub fn trigger_node_id(&self) -> &str {
        &self.trigger_node_id
    }

    pub(crate) fn check(&self, path: Path<'_>) -> Result<(), ReplyError> {
        check::uuid(path.field("trigger_node_id"), &self.trigger_node_id)
    }
}

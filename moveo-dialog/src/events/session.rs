//! The `session:*` event payloads.

use serde::{Deserialize, Serialize};

/// `session:closed`: the session was closed explicitly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionClosed {
    /// `"closed"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

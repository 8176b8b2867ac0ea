//! Schema assertions: check a reply, request or event against the JSON Schemas this crate
//! publishes in `schemas/` (draft 2020-12, with `format` checked).
//!
//! ```
//! use moveo_dialog::testing::{assert_valid_reply, Schema};
//! use moveo_dialog::Reply;
//!
//! let reply = Reply::text("Hello!");
//! assert_valid_reply(&serde_json::to_value(&reply).unwrap());
//!
//! let broken = serde_json::json!({"responses": [{"type": "text"}]});
//! let violations = Schema::Reply.validate(&broken).unwrap_err();
//! assert_eq!(violations[0].pointer, "/responses/0");
//! ```

use std::fmt;
use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

/// `schemas/reply.schema.json`: the dialog webhook reply, with every documented limit.
pub const REPLY_SCHEMA: &str = include_str!("../../schemas/reply.schema.json");
/// `schemas/request.schema.json`: the incoming dialog webhook request.
pub const REQUEST_SCHEMA: &str = include_str!("../../schemas/request.schema.json");
/// `schemas/event.schema.json`: the custom-integration webhook events.
pub const EVENT_SCHEMA: &str = include_str!("../../schemas/event.schema.json");

/// One of the bundled schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    /// The dialog webhook reply.
    Reply,
    /// The dialog webhook request.
    Request,
    /// A custom-integration event.
    Event,
}

/// One place where a document breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The JSON pointer of the offending value (`""` for the whole document).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{pointer}: {}", self.message)
    }
}

fn compile(source: &str, name: &str) -> Validator {
    #[allow(clippy::expect_used)]
    let schema: Value = serde_json::from_str(source).expect("a bundled schema is JSON");
    #[allow(clippy::expect_used)]
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|err| panic!("the bundled {name} schema compiles: {err}"))
}

static REPLY: LazyLock<Validator> = LazyLock::new(|| compile(REPLY_SCHEMA, "reply"));
static REQUEST: LazyLock<Validator> = LazyLock::new(|| compile(REQUEST_SCHEMA, "request"));
static EVENT: LazyLock<Validator> = LazyLock::new(|| compile(EVENT_SCHEMA, "event"));

impl Schema {
    /// The schema's text.
    #[must_use]
    pub fn source(self) -> &'static str {
        match self {
            Self::Reply => REPLY_SCHEMA,
            Self::Request => REQUEST_SCHEMA,
            Self::Event => EVENT_SCHEMA,
        }
    }

    fn validator(self) -> &'static Validator {
        match self {
            Self::Reply => &REPLY,
            Self::Request => &REQUEST,
            Self::Event => &EVENT,
        }
    }

    /// Whether `document` is valid.
    #[must_use]
    pub fn is_valid(self, document: &Value) -> bool {
        self.validator().is_valid(document)
    }

    /// Checks `document`.
    ///
    /// # Errors
    ///
    /// Every violation, each with its JSON pointer.
    pub fn validate(self, document: &Value) -> Result<(), Vec<Violation>> {
        let violations: Vec<Violation> = self
            .validator()
            .iter_errors(document)
            .map(|err| Violation { pointer: err.instance_path().to_string(), message: err.to_string() })
            .collect();
        if violations.is_empty() { Ok(()) } else { Err(violations) }
    }

    /// What is valid but almost certainly a mistake: for a reply, Moveo's legacy top-level
    /// `output` key, which Moveo's own samples send but which sets no context under the
    /// documented format (`context` does). The CLI's `validate` prints these as warnings, and
    /// as errors with `--strict`; the `assert_valid_*` functions fail on them.
    #[must_use]
    pub fn warnings(self, document: &Value) -> Vec<Violation> {
        match self {
            Self::Reply if document.get("output").is_some() => vec![Violation {
                pointer: "/output".to_owned(),
                message: "legacy key: Moveo documents `context` for the context a reply sets".to_owned(),
            }],
            _ => Vec::new(),
        }
    }

    #[track_caller]
    fn assert_valid(self, what: &str, document: &Value) {
        let warnings = self.warnings(document);
        if !warnings.is_empty() {
            let lines: Vec<String> = warnings.iter().map(|v| format!("  {v}")).collect();
            panic!("{what} has a mistake its schema allows:\n{}\n{document:#}", lines.join("\n"));
        }
        if let Err(violations) = self.validate(document) {
            let lines: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
            panic!("{what} does not match its schema:\n{}\n{document:#}", lines.join("\n"));
        }
    }
}

/// Panics, listing every violation with its JSON pointer, unless `reply` is a valid dialog
/// webhook reply; a legacy top-level `output` key fails too ([`Schema::warnings`]).
#[track_caller]
pub fn assert_valid_reply(reply: &Value) {
    Schema::Reply.assert_valid("the reply", reply);
}

/// Panics, listing every violation, unless `request` is a valid dialog webhook request.
#[track_caller]
pub fn assert_valid_request(request: &Value) {
    Schema::Request.assert_valid("the request", request);
}

/// Panics, listing every violation, unless `event` is a valid custom-integration event.
#[track_caller]
pub fn assert_valid_event(event: &Value) {
    Schema::Event.assert_valid("the event", event);
}

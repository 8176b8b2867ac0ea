//! `Valid<T>`: what the user typed, decoded and checked with the `validator` crate. A failure is
//! not a 4xx (Moveo would show its generic fallback text); the handler gets it and chooses the
//! reply, such as asking again.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use validator::{Validate, ValidationErrors};

use super::extract::{Call, FromCall};

/// The context and the entities (an entity wins over a context key of the same name: it is what
/// the user just typed), decoded into `T` and validated. Holds `Err` when a field is missing,
/// has the wrong type, or breaks a rule.
///
/// ```
/// use moveo_dialog::extract::Valid;
/// use moveo_dialog::reply::Text;
/// use moveo_dialog::Reply;
/// use serde::Deserialize;
/// use validator::Validate;
///
/// #[derive(Deserialize, Validate)]
/// struct Code {
///     #[validate(length(equal = 6))]
///     otp_code: String,
/// }
///
/// async fn verify(Valid(code): Valid<Code>) -> Result<Reply, moveo_dialog::ReplyError> {
///     match code {
///         Ok(code) => Ok(Reply::text(format!("Checking {}...", code.otp_code))),
///         Err(invalid) => Reply::builder()
///             .text(Text::new("The code has 6 digits. Please type it again."))
///             .context("validation_error", invalid.fields())
///             .build(),
///     }
/// }
/// # let _ = moveo_dialog::Router::new().node("verify_otp", verify);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Valid<T>(pub Result<T, InvalidInput>);

/// Why the input is not valid: the fields at fault, each with a code such as `length`,
/// `missing` or `invalid_type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    errors: Vec<FieldError>,
}

/// One field at fault.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field (context key or entity name).
    pub field: String,
    /// The rule it broke: a `validator` code (`length`, `email`, `regex`, ...), or `missing` /
    /// `invalid_type` when it could not be decoded.
    pub code: String,
    /// The rule's message, when it has one.
    pub message: Option<String>,
}

impl InvalidInput {
    /// The fields at fault.
    #[must_use]
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The names of the fields at fault, for a context flag such as `validation_error`.
    #[must_use]
    pub fn fields(&self) -> Vec<&str> {
        self.errors.iter().map(|error| error.field.as_str()).collect()
    }

    /// Whether `field` is at fault.
    #[must_use]
    pub fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|error| error.field == field)
    }

    fn from_validation(errors: &ValidationErrors) -> Self {
        let mut fields: Vec<FieldError> = errors
            .field_errors()
            .into_iter()
            .flat_map(|(field, errors)| {
                errors.iter().map(move |error| FieldError {
                    field: field.to_string(),
                    code: error.code.to_string(),
                    message: error.message.as_ref().map(ToString::to_string),
                })
            })
            .collect();
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        Self { errors: fields }
    }

    fn from_decoding(err: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let message = err.inner().to_string();
        let (field, code) = match message.strip_prefix("missing field `") {
            Some(rest) => (rest.split('`').next().unwrap_or_default().to_owned(), "missing"),
            None => (err.path().to_string(), "invalid_type"),
        };
        Self { errors: vec![FieldError { field, code: code.to_owned(), message: Some(message) }] }
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.errors.iter().map(|e| format!("{}: {}", e.field, e.code)).collect();
        write!(f, "invalid input ({})", parts.join(", "))
    }
}

impl std::error::Error for InvalidInput {}

impl<T> FromCall for Valid<T>
where
    T: DeserializeOwned + Validate,
{
    type Rejection = super::rejections::RequestRejection;

    fn from_call(call: &Call<'_>) -> Result<Self, Self::Rejection> {
        let request = call.try_request()?;
        let mut input: Map<String, Value> = request.context.clone();
        for entity in &request.entities {
            input.insert(entity.entity.clone(), Value::String(entity.value.clone()));
        }
        // Path tracking allocates for every key it passes: only to describe what did not fit.
        let decoded = T::deserialize(&input).or_else(|_| serde_path_to_error::deserialize::<_, T>(&input));
        Ok(Self(match decoded {
            Err(err) => Err(InvalidInput::from_decoding(&err)),
            Ok(value) => match value.validate() {
                Ok(()) => Ok(value),
                Err(errors) => Err(InvalidInput::from_validation(&errors)),
            },
        }))
    }
}

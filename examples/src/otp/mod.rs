//! One-time-password verification, as a service you could deploy: node `send_otp` texts a
//! code to the phone number in the context key `phone` (E.164), node `verify_otp` checks the
//! code in the context key `otp_code`.
//!
//! - A code is bound to the session that asked for it and the phone it went to: another session
//!   cannot verify it.
//! - Per phone and per session, at most 3 codes in any 10 minutes and 30 s between two
//!   (SMS bombing and SMS pumping); the reply says when to try again.
//! - At most 5 wrong codes per phone in 10 minutes, counted across re-sends; then the phone is
//!   locked until the window ends.
//! - Codes come from the OS CSPRNG, are kept only as salted SHA-256 hashes, expire after 5
//!   minutes and are compared in constant time.
//! - State lives in an [`OtpStore`]: [`MemoryStore`] (one process; swept, capped) or
//!   [`RedisStore`] (several processes, `OTP_REDIS_URL`). Codes go out through a [`Sender`]:
//!   [`LogSender`] or [`HttpSender`] (`OTP_SMS_URL`, `OTP_SMS_API_KEY`).
//!
//! Every outcome a user can cause (a malformed number, a wrong code, a limit) is a 200 reply
//! that says what to do; [`Limits`] has the numbers.

mod code;
mod limits;
mod redis_store;
mod sender;
mod store;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use moveo_dialog::extract::{Call, FromCall, MoveoHeaders, RequestRejection, State, Valid};
use moveo_dialog::reply::Text;
use moveo_dialog::{Reply, ReplyError, Router, node};
use regex::Regex;
use serde::Deserialize;
use validator::Validate;

pub use code::{SealedCode, new_code};
pub use limits::Limits;
pub use redis_store::RedisStore;
pub use sender::{GATEWAY_TIMEOUT, HttpSender, LogSender, SendError, Sender};
pub use store::{Admission, Attempt, CodeFor, MemoryStore, OtpStore, StoreError};

#[allow(clippy::expect_used)]
static E164: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\+[1-9][0-9]{6,14}$").expect("valid regex"));
#[allow(clippy::expect_used)]
static SIX_DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{6}$").expect("valid regex"));

/// What asking for a code came to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Issued {
    /// The code is on its way.
    Sent,
    /// Too soon or too many codes for this phone or session.
    Wait {
        /// When to ask again.
        retry_after: Duration,
    },
    /// Too many wrong codes for this phone.
    Locked {
        /// When the lock ends.
        retry_after: Duration,
    },
    /// Too many codes are pending in the store.
    Full,
    /// The sender failed (the error is logged); the send still counts against the limits.
    NotDelivered(SendError),
}

/// What checking a code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// The code is right; it is now used up.
    Verified,
    /// The code is wrong; this many wrong codes remain before the phone is locked.
    Wrong {
        /// Wrong codes left in the window.
        attempts_left: u32,
    },
    /// Too many wrong codes for this phone: nothing is checked until the window ends.
    Locked {
        /// When the lock ends.
        retry_after: Duration,
    },
    /// No code waits for this session and phone (never sent, sent for another session,
    /// expired, or used).
    NoCode,
}

/// The service's failures that are not the user's doing: the store or the randomness.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtpError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The operating system gave no randomness.
    #[error("no randomness for a code: {0}")]
    Randomness(getrandom::Error),
}

/// The OTP service: a store, a sender and the limits.
pub struct Otp {
    store: Box<dyn OtpStore>,
    sender: Box<dyn Sender>,
    limits: Limits,
}

impl std::fmt::Debug for Otp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Otp").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Otp {
    /// The service over `store`, sending with `sender`, enforcing `limits`.
    pub fn new(store: impl OtpStore, sender: impl Sender, limits: Limits) -> Self {
        Self { store: Box::new(store), sender: Box::new(sender), limits }
    }

    /// The service for one process: a [`MemoryStore`] and the default [`Limits`].
    pub fn in_memory(sender: impl Sender) -> Self {
        Self::new(MemoryStore::new(), sender, Limits::default())
    }

    /// The limits it enforces.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Makes a new code for `to` and sends it, if the limits allow.
    ///
    /// # Errors
    ///
    /// When the store or the CSPRNG fails.
    pub async fn issue(&self, to: CodeFor<'_>) -> Result<Issued, OtpError> {
        let code = new_code().map_err(OtpError::Randomness)?;
        let sealed = SealedCode::seal(&code).map_err(OtpError::Randomness)?;
        match self.store.admit(to, &sealed, &self.limits).await? {
            Admission::Admitted => {}
            Admission::Wait { retry_after } => return Ok(Issued::Wait { retry_after }),
            Admission::Locked { retry_after } => return Ok(Issued::Locked { retry_after }),
            Admission::Full => {
                tracing::warn!(max_pending = self.limits.max_pending, "OTP store is full: a send was refused");
                return Ok(Issued::Full);
            }
        }
        match self.sender.send(to.phone, &code).await {
            Ok(()) => Ok(Issued::Sent),
            Err(err) => {
                tracing::error!(phone = to.phone, "OTP code not delivered: {err}");
                Ok(Issued::NotDelivered(err))
            }
        }
    }

    /// Checks `code` for `to`, in constant time; a wrong code counts against the phone.
    ///
    /// # Errors
    ///
    /// When the store fails.
    pub async fn check(&self, to: CodeFor<'_>, code: &str) -> Result<Check, OtpError> {
        match self.store.attempt(to, &self.limits).await? {
            Attempt::NoCode => Ok(Check::NoCode),
            Attempt::Locked { retry_after } => Ok(Check::Locked { retry_after }),
            Attempt::Candidate { sealed, wrong, window_left } => {
                if sealed.matches(code) {
                    let used = self.store.confirm(to, &sealed).await?;
                    return Ok(if used { Check::Verified } else { Check::NoCode });
                }
                if wrong >= self.limits.max_wrong {
                    return Ok(Check::Locked { retry_after: window_left });
                }
                Ok(Check::Wrong { attempts_left: self.limits.max_wrong - wrong })
            }
        }
    }
}

/// What `send_otp` needs from the context.
#[derive(Debug, Deserialize, Validate)]
pub struct PhoneInput {
    /// The user's phone number, E.164 (`+306912345678`).
    #[validate(regex(path = *E164, code = "e164"))]
    pub phone: String,
}

/// What `verify_otp` needs from the context.
#[derive(Debug, Deserialize, Validate)]
pub struct CodeInput {
    /// The phone number the code was sent to.
    #[validate(regex(path = *E164, code = "e164"))]
    pub phone: String,
    /// The code the user typed.
    #[validate(regex(path = *SIX_DIGITS, code = "six_digits"))]
    pub otp_code: String,
}

/// "30 seconds", "2 minutes": rounded up, so the user never comes back too early.
fn wait_phrase(wait: Duration) -> String {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    if seconds < 120 {
        return format!("{seconds} second{}", if seconds == 1 { "" } else { "s" });
    }
    format!("{} minutes", seconds.div_ceil(60))
}

fn retry_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The session a call belongs to: the body's `session_id`, else `X-Moveo-Session-Id`; `None`
/// when the call names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session(pub Option<String>);

impl FromCall for Session {
    type Rejection = RequestRejection;

    fn from_call(call: &Call<'_>) -> Result<Self, RequestRejection> {
        let session = call.try_request()?.session_id.clone();
        let session = session.or_else(|| MoveoHeaders::from_headers(call.headers()).session_id);
        Ok(Self(session.filter(|session| !session.is_empty())))
    }
}

fn no_session() -> Result<Reply, ReplyError> {
    Reply::builder()
        .text(Text::new("We cannot send or check a code outside a conversation. Please start again."))
        .context("otp_sent", false)
        .context("otp_verified", false)
        .build()
}

fn unavailable(err: &OtpError) -> Result<Reply, ReplyError> {
    tracing::error!("OTP service unavailable: {err}");
    Reply::builder()
        .text(Text::new("We cannot send or check codes right now. Please try again in a few minutes."))
        .context("otp_sent", false)
        .context("otp_verified", false)
        .build()
}

/// Sends a code to the phone in the context key `phone`.
#[node("send_otp")]
pub async fn send_otp(
    Valid(input): Valid<PhoneInput>,
    Session(session): Session,
    State(otp): State<Arc<Otp>>,
) -> Result<Reply, ReplyError> {
    let input = match input {
        Ok(input) => input,
        Err(invalid) => {
            return Reply::builder()
                .text(Text::new(
                    "Please give your phone number in international format, starting with + and the country code \
                     (for example +306912345678).",
                ))
                .context("validation_error", invalid.fields())
                .build();
        }
    };
    let Some(session) = session else { return no_session() };
    let to = CodeFor { session: &session, phone: &input.phone };
    let issued = match otp.issue(to).await {
        Ok(issued) => issued,
        Err(err) => return unavailable(&err),
    };
    let reply = Reply::builder().context("validation_error", serde_json::Value::Null);
    match issued {
        Issued::Sent => reply
            .text(Text::new(format!("We sent a 6-digit code to {}. Please type it here.", input.phone)))
            .context("otp_sent", true),
        Issued::Wait { retry_after } => reply
            .text(Text::new(format!(
                "We cannot send another code yet. Please try again in {}.",
                wait_phrase(retry_after)
            )))
            .context("otp_sent", false)
            .context("otp_retry_after", retry_seconds(retry_after)),
        Issued::Locked { retry_after } => reply
            .text(Text::new(format!(
                "Too many wrong codes for this number. Please try again in {}.",
                wait_phrase(retry_after)
            )))
            .context("otp_sent", false)
            .context("otp_locked", true)
            .context("otp_retry_after", retry_seconds(retry_after)),
        Issued::Full => reply
            .text(Text::new("We cannot send codes right now. Please try again in a few minutes."))
            .context("otp_sent", false),
        Issued::NotDelivered(_) => reply
            .text(Text::new(format!(
                "We could not send a code to {} just now. Please try again in a few minutes.",
                input.phone
            )))
            .context("otp_sent", false)
            .context("otp_delivery_failed", true),
    }
    .build()
}

/// Checks the code in the context key `otp_code` against the one sent to `phone` for this
/// session.
#[node("verify_otp")]
pub async fn verify_otp(
    Valid(input): Valid<CodeInput>,
    Session(session): Session,
    State(otp): State<Arc<Otp>>,
) -> Result<Reply, ReplyError> {
    let input = match input {
        Ok(input) => input,
        Err(invalid) => {
            return Reply::builder()
                .text(Text::new("The code has 6 digits. Please type it again."))
                .context("validation_error", invalid.fields())
                .context("otp_verified", false)
                .build();
        }
    };
    let Some(session) = session else { return no_session() };
    let to = CodeFor { session: &session, phone: &input.phone };
    let check = match otp.check(to, &input.otp_code).await {
        Ok(check) => check,
        Err(err) => return unavailable(&err),
    };
    match check {
        Check::Verified => Reply::builder()
            .text(Text::new("Thank you, your phone number is verified."))
            .context("otp_verified", true)
            .build(),
        Check::Wrong { attempts_left } => Reply::builder()
            .text(Text::new(format!(
                "That code is not right. Please try again ({attempts_left} attempt{} left).",
                if attempts_left == 1 { "" } else { "s" }
            )))
            .context("otp_verified", false)
            .context("otp_attempts_left", attempts_left)
            .build(),
        Check::Locked { retry_after } => Reply::builder()
            .text(Text::new(format!(
                "Too many wrong codes for this number. Please try again in {}.",
                wait_phrase(retry_after)
            )))
            .context("otp_verified", false)
            .context("otp_locked", true)
            .context("otp_attempts_left", 0)
            .context("otp_retry_after", retry_seconds(retry_after))
            .build(),
        Check::NoCode => Reply::builder()
            .text(Text::new("That code is no longer valid.").option("Send a new code", "Send me a new code"))
            .context("otp_verified", false)
            .context("otp_sent", false)
            .build(),
    }
}

/// The OTP app over `otp`.
pub fn router(verify_token: impl Into<String>, otp: Otp) -> Router {
    Router::new().verify_token(verify_token.into()).handler(send_otp).handler(verify_otp).state(Arc::new(otp))
}

/// The service as the environment configures it, each choice logged once:
/// - `OTP_REDIS_URL` set: a [`RedisStore`] there (checked at start); unset: a [`MemoryStore`].
/// - `OTP_SMS_URL` and `OTP_SMS_API_KEY` set: an [`HttpSender`]; neither: [`LogSender`].
///
/// The limits are the defaults.
///
/// # Errors
///
/// The sentence to print when Redis cannot be reached or the gateway settings are incomplete.
pub async fn from_env() -> Result<Otp, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
    let sender: Box<dyn Sender> = match (var("OTP_SMS_URL"), var("OTP_SMS_API_KEY")) {
        (Some(url), Some(key)) => {
            let sender = HttpSender::new(&url, key)?;
            tracing::info!("OTP codes are sent through the SMS gateway at OTP_SMS_URL");
            Box::new(sender)
        }
        (None, None) => {
            tracing::warn!("OTP_SMS_URL is not set: codes are written to the log (LogSender, development only)");
            Box::new(LogSender)
        }
        (Some(_), None) => return Err("OTP_SMS_URL is set but OTP_SMS_API_KEY is missing: set both".to_owned()),
        (None, Some(_)) => return Err("OTP_SMS_API_KEY is set but OTP_SMS_URL is missing: set both".to_owned()),
    };
    let limits = Limits::default();
    let store: Box<dyn OtpStore> = match var("OTP_REDIS_URL") {
        Some(url) => {
            let store = RedisStore::connect(&url).await.map_err(|err| format!("OTP_REDIS_URL: {err}"))?;
            tracing::info!("OTP codes are kept in Redis (OTP_REDIS_URL): every process pointed at it shares them");
            Box::new(store)
        }
        None => {
            tracing::info!(
                "OTP_REDIS_URL is not set: codes are kept in this process's memory (one process; a restart loses them)"
            );
            Box::new(MemoryStore::new())
        }
    };
    Ok(Otp { store, sender, limits })
}

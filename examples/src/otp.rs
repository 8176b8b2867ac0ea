//! One-time-password verification: node `send_otp` texts a code to the phone number in the
//! context key `phone` (E.164), node `verify_otp` checks the code in the context key
//! `otp_code`. Codes come from the operating system's CSPRNG, are stored only as salted
//! SHA-256 hashes, expire, allow a limited number of attempts, and are compared in constant
//! time. A badly formed phone number or code, or a wrong code, gets a 200 reply that asks again.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use moveo_dialog::extract::{State, Valid};
use moveo_dialog::reply::Text;
use moveo_dialog::serve::BoxFuture;
use moveo_dialog::{Reply, ReplyError, Router, node};
use regex::Regex;

use crate::BoxError;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use validator::Validate;

/// How long a code is valid.
pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);
/// Wrong codes allowed before the code is void.
pub const MAX_ATTEMPTS: u32 = 3;

#[allow(clippy::expect_used)]
static E164: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\+[1-9][0-9]{6,14}$").expect("valid regex"));
#[allow(clippy::expect_used)]
static SIX_DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{6}$").expect("valid regex"));

/// Delivers a code to a phone (an SMS gateway in production).
pub trait Sender: Send + Sync + 'static {
    /// Sends `code` to `phone`.
    fn send<'a>(&'a self, phone: &'a str, code: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

/// The default sender: writes the code to the log, for local development only.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSender;

impl Sender for LogSender {
    fn send<'a>(&'a self, phone: &'a str, code: &'a str) -> BoxFuture<'a, Result<(), String>> {
        tracing::info!(phone, "OTP code {code} (LogSender: development only; plug in an SMS gateway)");
        Box::pin(async { Ok(()) })
    }
}

struct Pending {
    salt: [u8; 16],
    hash: [u8; 32],
    expires: Instant,
    attempts_left: u32,
}

/// What checking a code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The code is right; it is now used up.
    Verified,
    /// The code is wrong; this many attempts remain.
    Wrong {
        /// Attempts left.
        attempts_left: u32,
    },
    /// No code is waiting for this phone (never sent, expired, used, or out of attempts).
    NoCode,
}

/// The codes waiting to be checked, by phone number.
pub struct Otp {
    pending: Mutex<HashMap<String, Pending>>,
    sender: Box<dyn Sender>,
    ttl: Duration,
}

fn hash(salt: &[u8; 16], code: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(code.as_bytes());
    hasher.finalize().into()
}

/// A uniformly random 6-digit code from the OS CSPRNG.
fn new_code() -> Result<String, getrandom::Error> {
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes)?;
        let value = u32::from_le_bytes(bytes);
        // Reject the top sliver so that every code is equally likely.
        if value < 4_294_000_000 {
            return Ok(format!("{:06}", value % 1_000_000));
        }
    }
}

impl Otp {
    /// Codes delivered by `sender`, valid for `ttl`.
    pub fn new(sender: impl Sender, ttl: Duration) -> Self {
        Self { pending: Mutex::new(HashMap::new()), sender: Box::new(sender), ttl }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes a new code for `phone` (replacing any earlier one) and sends it.
    ///
    /// # Errors
    ///
    /// When the CSPRNG or the sender fails.
    pub async fn issue(&self, phone: &str) -> Result<(), String> {
        let code = new_code().map_err(|err| format!("no randomness: {err}"))?;
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|err| format!("no randomness: {err}"))?;
        let pending =
            Pending { salt, hash: hash(&salt, &code), expires: Instant::now() + self.ttl, attempts_left: MAX_ATTEMPTS };
        self.lock().insert(phone.to_owned(), pending);
        self.sender.send(phone, &code).await
    }

    /// Checks `code` for `phone`, in constant time.
    pub fn check(&self, phone: &str, code: &str) -> Check {
        let mut pending = self.lock();
        let Some(entry) = pending.get_mut(phone) else { return Check::NoCode };
        if entry.expires <= Instant::now() || entry.attempts_left == 0 {
            pending.remove(phone);
            return Check::NoCode;
        }
        if bool::from(hash(&entry.salt, code).ct_eq(&entry.hash)) {
            pending.remove(phone);
            return Check::Verified;
        }
        entry.attempts_left -= 1;
        let attempts_left = entry.attempts_left;
        if attempts_left == 0 {
            pending.remove(phone);
        }
        Check::Wrong { attempts_left }
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

/// Sends a code to the phone in the context key `phone`.
#[node("send_otp")]
pub async fn send_otp(Valid(input): Valid<PhoneInput>, State(otp): State<Arc<Otp>>) -> Result<Reply, BoxError> {
    let input = match input {
        Ok(input) => input,
        Err(invalid) => {
            return Ok(Reply::builder()
                .text(Text::new(
                    "Please give your phone number in international format, starting with + and the country code \
                     (for example +306912345678).",
                ))
                .context("validation_error", invalid.fields())
                .build()?);
        }
    };
    otp.issue(&input.phone).await?;
    Ok(Reply::builder()
        .text(Text::new(format!("We sent a 6-digit code to {}. Please type it here.", input.phone)))
        .context("otp_sent", true)
        .context("validation_error", serde_json::Value::Null)
        .build()?)
}

/// Checks the code in the context key `otp_code` against the one sent to `phone`.
#[node("verify_otp")]
pub async fn verify_otp(Valid(input): Valid<CodeInput>, State(otp): State<Arc<Otp>>) -> Result<Reply, ReplyError> {
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
    match otp.check(&input.phone, &input.otp_code) {
        Check::Verified => Reply::builder()
            .text(Text::new("Thank you, your phone number is verified."))
            .context("otp_verified", true)
            .build(),
        Check::Wrong { attempts_left } if attempts_left > 0 => Reply::builder()
            .text(Text::new(format!(
                "That code is not right. Please try again ({attempts_left} attempt{} left).",
                if attempts_left == 1 { "" } else { "s" }
            )))
            .context("otp_verified", false)
            .context("otp_attempts_left", attempts_left)
            .build(),
        Check::Wrong { .. } | Check::NoCode => Reply::builder()
            .text(Text::new("That code is no longer valid.").option("Send a new code", "Send me a new code"))
            .context("otp_verified", false)
            .context("otp_sent", false)
            .build(),
    }
}

/// The OTP app: codes delivered by `sender`.
pub fn router(verify_token: impl Into<String>, sender: impl Sender) -> Router {
    Router::new()
        .verify_token(verify_token.into())
        .handler(send_otp)
        .handler(verify_otp)
        .state(Arc::new(Otp::new(sender, CODE_TTL)))
}

//! The abuse limits of the OTP service, and their defaults.

use std::time::Duration;

/// Every limit the OTP service enforces. The defaults are what a deployment should start from;
/// both stores enforce the same limits.
///
/// ```
/// use std::time::Duration;
/// use moveo_dialog_examples::otp::Limits;
///
/// let limits = Limits { max_pending: 10_000, ..Limits::default() };
/// assert_eq!(limits.sends_per_window, 3);
/// assert_eq!(limits.resend_interval, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a code can be checked after it was sent (default 5 minutes).
    pub code_ttl: Duration,
    /// Codes sent to one phone number, and codes one session asks for, within any
    /// [`send_window`](Self::send_window) (default 3).
    pub sends_per_window: u32,
    /// The sliding window of [`sends_per_window`](Self::sends_per_window) (default 10 minutes).
    pub send_window: Duration,
    /// The least time between two codes to one phone, or for one session (default 30 s).
    pub resend_interval: Duration,
    /// Wrong codes one phone number may receive, across every code sent to it, before checks
    /// for it are locked (default 5).
    pub max_wrong: u32,
    /// The window of [`max_wrong`](Self::max_wrong), from the first wrong code; the lock lasts
    /// until it ends (default 10 minutes).
    pub wrong_window: Duration,
    /// Codes waiting to be checked, at most: beyond it, new sends are refused with a polite
    /// reply until codes are used or expire (default 100,000).
    pub max_pending: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            code_ttl: Duration::from_secs(5 * 60),
            sends_per_window: 3,
            send_window: Duration::from_secs(10 * 60),
            resend_interval: Duration::from_secs(30),
            max_wrong: 5,
            wrong_window: Duration::from_secs(10 * 60),
            max_pending: 100_000,
        }
    }
}

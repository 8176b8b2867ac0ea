//! Where pending codes and the abuse counters live: the [`OtpStore`] trait and the in-memory
//! store for one process. Each operation is atomic, so concurrent calls (and, with a shared
//! store, several processes) cannot slip past a limit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use moveo_dialog::serve::BoxFuture;
use tokio::time::Instant;

use super::code::SealedCode;
use super::limits::Limits;

/// The store failed (Redis unreachable, a script error): the message says how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OTP store: {0}")]
pub struct StoreError(pub String);

/// Whom a code is for: the session that asked for it and the phone it was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeFor<'a> {
    /// The Moveo session id.
    pub session: &'a str,
    /// The phone number, E.164.
    pub phone: &'a str,
}

/// What the store decided about a new code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// The code is stored (replacing an earlier one for the same session and phone) and the
    /// send is counted against the phone and the session: send it now.
    Admitted,
    /// Too soon, or too many codes, for this phone or this session.
    Wait {
        /// When the next send would be admitted.
        retry_after: Duration,
    },
    /// Too many wrong codes for this phone: checks and sends are locked.
    Locked {
        /// When the lock ends.
        retry_after: Duration,
    },
    /// [`Limits::max_pending`] codes are waiting: nothing new is stored.
    Full,
}

/// What the store found for a check. A [`Candidate`](Attempt::Candidate) has already been
/// counted as a wrong code against the phone; [`OtpStore::confirm`] takes it back when the
/// code matches. Counting first is what keeps concurrent guesses within the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attempt {
    /// No code waits for this session and phone.
    NoCode,
    /// Too many wrong codes for this phone.
    Locked {
        /// When the lock ends.
        retry_after: Duration,
    },
    /// The pending code, to compare.
    Candidate {
        /// The code as stored.
        sealed: SealedCode,
        /// Wrong codes counted against the phone in this window, this attempt included.
        wrong: u32,
        /// When the window of wrong codes ends.
        window_left: Duration,
    },
}

/// The state of the OTP service. Implement it for another database; every method is one
/// atomic step.
pub trait OtpStore: Send + Sync + 'static {
    /// Admits a new code for `to` (see [`Admission`]).
    fn admit<'a>(
        &'a self,
        to: CodeFor<'a>,
        code: &'a SealedCode,
        limits: &'a Limits,
    ) -> BoxFuture<'a, Result<Admission, StoreError>>;

    /// Starts a check of a code for `to`: counts it against the phone and returns the pending
    /// code (see [`Attempt`]).
    fn attempt<'a>(&'a self, to: CodeFor<'a>, limits: &'a Limits) -> BoxFuture<'a, Result<Attempt, StoreError>>;

    /// The code `code` matched: deletes it, if it is still the pending one, and takes back the
    /// wrong code [`attempt`](Self::attempt) counted. `false` when another check used it first.
    fn confirm<'a>(&'a self, to: CodeFor<'a>, code: &'a SealedCode) -> BoxFuture<'a, Result<bool, StoreError>>;
}

struct Pending {
    code: SealedCode,
    expires: Instant,
}

struct Wrong {
    count: u32,
    window_ends: Instant,
}

#[derive(Default)]
struct State {
    /// By (phone, session).
    codes: HashMap<(String, String), Pending>,
    /// Send times, oldest first, by phone and by session.
    sends_by_phone: HashMap<String, VecDeque<Instant>>,
    sends_by_session: HashMap<String, VecDeque<Instant>>,
    wrong: HashMap<String, Wrong>,
    next_sweep: Option<Instant>,
}

/// How often expired entries are swept at most (and whenever the store is full).
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// The store for one process: everything in a `Mutex`, expired entries swept every 30 s and
/// whenever [`Limits::max_pending`] is reached. A restart loses every pending code, and two
/// processes do not see each other's codes: use [`RedisStore`](super::RedisStore) for that.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("entries", &self.entries()).finish()
    }
}

fn wait_for(sends: &VecDeque<Instant>, now: Instant, limits: &Limits) -> Duration {
    let mut until = now;
    if let Some(&last) = sends.back() {
        until = until.max(last + limits.resend_interval);
    }
    let in_window = sends.iter().filter(|&&sent| sent + limits.send_window > now).count();
    if in_window >= limits.sends_per_window as usize {
        // The oldest send still in the window must leave it first.
        let oldest_needed = in_window - limits.sends_per_window as usize;
        if let Some(&sent) = sends.iter().filter(|&&sent| sent + limits.send_window > now).nth(oldest_needed) {
            until = until.max(sent + limits.send_window);
        }
    }
    until - now
}

fn record(sends: &mut VecDeque<Instant>, now: Instant, limits: &Limits) {
    while sends.front().is_some_and(|&sent| sent + limits.send_window <= now) {
        sends.pop_front();
    }
    sends.push_back(now);
}

impl State {
    fn sweep(&mut self, now: Instant, limits: &Limits) {
        self.codes.retain(|_, pending| pending.expires > now);
        let live = |sends: &mut VecDeque<Instant>| {
            sends.back().is_some_and(|&last| last + limits.send_window.max(limits.resend_interval) > now)
        };
        self.sends_by_phone.retain(|_, sends| live(sends));
        self.sends_by_session.retain(|_, sends| live(sends));
        self.wrong.retain(|_, wrong| wrong.window_ends > now);
        self.next_sweep = Some(now + SWEEP_EVERY);
    }

    fn lock_left(&self, phone: &str, now: Instant, limits: &Limits) -> Option<Duration> {
        let wrong = self.wrong.get(phone)?;
        (wrong.window_ends > now && wrong.count >= limits.max_wrong).then(|| wrong.window_ends - now)
    }
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every entry the store holds (pending codes, send logs, wrong-code counters), expired or
    /// not: what its memory grows with.
    #[must_use]
    pub fn entries(&self) -> usize {
        let state = self.lock();
        state.codes.len() + state.sends_by_phone.len() + state.sends_by_session.len() + state.wrong.len()
    }

    fn admit_now(&self, to: CodeFor<'_>, code: &SealedCode, limits: &Limits) -> Admission {
        let now = Instant::now();
        let mut state = self.lock();
        if state.next_sweep.is_none_or(|at| at <= now) {
            state.sweep(now, limits);
        }
        if let Some(retry_after) = state.lock_left(to.phone, now, limits) {
            return Admission::Locked { retry_after };
        }
        let empty = VecDeque::new();
        let by_phone = state.sends_by_phone.get(to.phone).unwrap_or(&empty);
        let by_session = state.sends_by_session.get(to.session).unwrap_or(&empty);
        let retry_after = wait_for(by_phone, now, limits).max(wait_for(by_session, now, limits));
        if !retry_after.is_zero() {
            return Admission::Wait { retry_after };
        }
        let key = (to.phone.to_owned(), to.session.to_owned());
        if !state.codes.contains_key(&key) && state.codes.len() >= limits.max_pending {
            state.sweep(now, limits);
            if state.codes.len() >= limits.max_pending {
                return Admission::Full;
            }
        }
        state.codes.insert(key, Pending { code: code.clone(), expires: now + limits.code_ttl });
        record(state.sends_by_phone.entry(to.phone.to_owned()).or_default(), now, limits);
        record(state.sends_by_session.entry(to.session.to_owned()).or_default(), now, limits);
        Admission::Admitted
    }

    fn attempt_now(&self, to: CodeFor<'_>, limits: &Limits) -> Attempt {
        let now = Instant::now();
        let mut state = self.lock();
        if let Some(retry_after) = state.lock_left(to.phone, now, limits) {
            return Attempt::Locked { retry_after };
        }
        let key = (to.phone.to_owned(), to.session.to_owned());
        let sealed = match state.codes.get(&key) {
            Some(pending) if pending.expires > now => pending.code.clone(),
            Some(_) => {
                state.codes.remove(&key);
                return Attempt::NoCode;
            }
            None => return Attempt::NoCode,
        };
        let wrong = state.wrong.entry(to.phone.to_owned()).or_insert(Wrong { count: 0, window_ends: now });
        if wrong.window_ends <= now {
            *wrong = Wrong { count: 0, window_ends: now + limits.wrong_window };
        }
        wrong.count += 1;
        Attempt::Candidate { sealed, wrong: wrong.count, window_left: wrong.window_ends - now }
    }

    fn confirm_now(&self, to: CodeFor<'_>, code: &SealedCode) -> bool {
        let mut state = self.lock();
        let key = (to.phone.to_owned(), to.session.to_owned());
        if state.codes.get(&key).is_none_or(|pending| pending.code != *code) {
            return false;
        }
        state.codes.remove(&key);
        if let Some(wrong) = state.wrong.get_mut(to.phone) {
            wrong.count = wrong.count.saturating_sub(1);
        }
        true
    }
}

impl OtpStore for MemoryStore {
    fn admit<'a>(
        &'a self,
        to: CodeFor<'a>,
        code: &'a SealedCode,
        limits: &'a Limits,
    ) -> BoxFuture<'a, Result<Admission, StoreError>> {
        let admission = self.admit_now(to, code, limits);
        Box::pin(async move { Ok(admission) })
    }

    fn attempt<'a>(&'a self, to: CodeFor<'a>, limits: &'a Limits) -> BoxFuture<'a, Result<Attempt, StoreError>> {
        let attempt = self.attempt_now(to, limits);
        Box::pin(async move { Ok(attempt) })
    }

    fn confirm<'a>(&'a self, to: CodeFor<'a>, code: &'a SealedCode) -> BoxFuture<'a, Result<bool, StoreError>> {
        let confirmed = self.confirm_now(to, code);
        Box::pin(async move { Ok(confirmed) })
    }
}

/// A shared store: keep an `Arc` to look at it (as the tests do with [`MemoryStore::entries`]).
impl<T: OtpStore> OtpStore for std::sync::Arc<T> {
    fn admit<'a>(
        &'a self,
        to: CodeFor<'a>,
        code: &'a SealedCode,
        limits: &'a Limits,
    ) -> BoxFuture<'a, Result<Admission, StoreError>> {
        (**self).admit(to, code, limits)
    }

    fn attempt<'a>(&'a self, to: CodeFor<'a>, limits: &'a Limits) -> BoxFuture<'a, Result<Attempt, StoreError>> {
        (**self).attempt(to, limits)
    }

    fn confirm<'a>(&'a self, to: CodeFor<'a>, code: &'a SealedCode) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).confirm(to, code)
    }
}

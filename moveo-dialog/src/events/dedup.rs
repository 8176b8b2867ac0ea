//! De-duplication of event deliveries by (`event_type`, `request_id`): claim, handle, commit;
//! release on failure so a redelivery runs the handler again.
//!
//! **Assumption**: Moveo's documentation does not say that a retried delivery keeps its
//! `request_id`. This module assumes it does (it is the only id an event carries); if it did
//! not, a retry would be handled again, which at-least-once delivery allows.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::serve::BoxFuture;

/// How long a handled event is remembered by default: longer than the timestamp tolerance
/// plus the allowed clock skew, after which a redelivery is refused as stale anyway.
pub const DEFAULT_DONE_TTL: Duration = Duration::from_secs(10 * 60);

/// The identity of one event across its deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupKey {
    /// The event's `event_type`.
    pub event_type: String,
    /// The event's `request_id`.
    pub request_id: String,
}

impl fmt::Display for DedupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.event_type, self.request_id)
    }
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller now holds the event and must commit or release it. The token identifies
    /// this claim, so a release never removes somebody else's.
    Acquired(ClaimToken),
    /// The event was handled already.
    Done,
    /// Another delivery holds the event right now.
    InProgress,
}

/// Identifies one claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(pub String);

/// A store of claimed and handled events shared by every delivery, and by every instance when
/// the store is shared (see `RedisStore` behind the `redis` feature).
pub trait DedupStore: Send + Sync + 'static {
    /// Claims `key` for `lease` (after which an unfinished claim lapses, so a crashed holder
    /// does not block the event forever).
    fn claim<'a>(&'a self, key: &'a DedupKey, lease: Duration) -> BoxFuture<'a, Result<Claim, StoreError>>;
    /// Marks `key` handled, remembered for the store's TTL.
    fn commit<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Gives the claim up, so a redelivery runs the handler again.
    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// The store failed (for example, Redis is unreachable). The delivery is answered 503, so
/// Moveo retries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the de-duplication store failed: {0}")]
pub struct StoreError(pub String);

enum State {
    Claimed { token: u64, until: Instant },
    Done { until: Instant },
}

/// The default store: in this process's memory, each handled event remembered for a TTL
/// (default 10 minutes). Expired entries are swept as new ones arrive, whenever the store has
/// doubled since the last sweep, so memory stays within twice the event rate times the TTL and
/// a sweep costs, spread over the events that filled it, a constant per event.
pub struct MemoryStore {
    entries: Mutex<Entries>,
    done_ttl: Duration,
    next_token: AtomicU64,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").field("done_ttl", &self.done_ttl).finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(DEFAULT_DONE_TTL)
    }
}

/// The events held, and the size at which expired ones are next swept.
struct Entries {
    map: HashMap<DedupKey, State>,
    sweep_at: usize,
}

/// The smallest size at which a sweep runs.
const MIN_SWEEP_AT: usize = 1024;

impl MemoryStore {
    /// A store that remembers handled events for `done_ttl`.
    #[must_use]
    pub fn new(done_ttl: Duration) -> Self {
        let entries = Entries { map: HashMap::new(), sweep_at: MIN_SWEEP_AT };
        Self { entries: Mutex::new(entries), done_ttl, next_token: AtomicU64::new(1) }
    }

    /// How many events it holds (claimed or handled, not yet swept).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether it holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding this lock cannot leave the map half-written: recover it.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn claim_now(&self, key: &DedupKey, lease: Duration) -> Claim {
        let now = Instant::now();
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.lock();
        if entries.map.len() >= entries.sweep_at {
            // A sweep every 1,024 claims scanned all 100,000 entries of a busy store a hundred
            // times over; sweeping when the store has doubled costs at most two visits a claim.
            entries.map.retain(|_, state| match state {
                State::Claimed { until, .. } | State::Done { until } => *until > now,
            });
            entries.sweep_at = (2 * entries.map.len()).max(MIN_SWEEP_AT);
        }
        match entries.map.get(key) {
            Some(State::Done { until }) if *until > now => Claim::Done,
            Some(State::Claimed { until, .. }) if *until > now => Claim::InProgress,
            _ => {
                entries.map.insert(key.clone(), State::Claimed { token, until: now + lease });
                Claim::Acquired(ClaimToken(token.to_string()))
            }
        }
    }
}

fn holds(state: Option<&State>, token: &ClaimToken) -> bool {
    matches!(state, Some(State::Claimed { token: held, .. }) if held.to_string() == token.0)
}

impl DedupStore for MemoryStore {
    fn claim<'a>(&'a self, key: &'a DedupKey, lease: Duration) -> BoxFuture<'a, Result<Claim, StoreError>> {
        let claim = self.claim_now(key, lease);
        Box::pin(async move { Ok(claim) })
    }

    fn commit<'a>(&'a self, key: &'a DedupKey, _token: &'a ClaimToken) -> BoxFuture<'a, Result<(), StoreError>> {
        let until = Instant::now() + self.done_ttl;
        let mut entries = self.lock();
        // The claim left the key in the map: update it in place rather than clone the key.
        match entries.map.get_mut(key) {
            Some(state) => *state = State::Done { until },
            None => drop(entries.map.insert(key.clone(), State::Done { until })),
        }
        drop(entries);
        Box::pin(async { Ok(()) })
    }

    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut entries = self.lock();
        if holds(entries.map.get(key), token) {
            entries.map.remove(key);
        }
        drop(entries);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> DedupKey {
        DedupKey { event_type: "message:brain_send".into(), request_id: id.into() }
    }

    #[tokio::test]
    async fn claim_commit_release() {
        let store = MemoryStore::default();
        let lease = Duration::from_secs(30);
        let Claim::Acquired(token) = store.claim(&key("a"), lease).await.unwrap() else { panic!() };
        assert_eq!(store.claim(&key("a"), lease).await.unwrap(), Claim::InProgress);
        store.release(&key("a"), &token).await.unwrap();
        let Claim::Acquired(token) = store.claim(&key("a"), lease).await.unwrap() else { panic!() };
        store.commit(&key("a"), &token).await.unwrap();
        assert_eq!(store.claim(&key("a"), lease).await.unwrap(), Claim::Done);
        // Another event type with the same request id is another event.
        let other = DedupKey { event_type: "message:send".into(), request_id: "a".into() };
        assert!(matches!(store.claim(&other, lease).await.unwrap(), Claim::Acquired(_)));
    }

    #[tokio::test]
    async fn a_stale_release_does_not_drop_a_newer_claim() {
        let store = MemoryStore::default();
        let Claim::Acquired(old) = store.claim(&key("b"), Duration::ZERO).await.unwrap() else { panic!() };
        // The lease lapsed: another delivery takes the event over.
        let Claim::Acquired(_new) = store.claim(&key("b"), Duration::from_secs(30)).await.unwrap() else { panic!() };
        store.release(&key("b"), &old).await.unwrap();
        assert_eq!(store.claim(&key("b"), Duration::from_secs(30)).await.unwrap(), Claim::InProgress);
    }

    /// A sweep runs when the store has doubled since the last one: the store stays within
    /// twice what is live, and a busy store is not scanned every few claims.
    #[tokio::test]
    async fn the_store_stays_within_twice_what_is_live() {
        let store = MemoryStore::default();
        for i in 0..1500 {
            let Claim::Acquired(_) = store.claim(&key(&format!("live-{i}")), Duration::from_secs(3600)).await.unwrap()
            else {
                panic!()
            };
        }
        let mut most = 0;
        for i in 0..10_000 {
            let Claim::Acquired(_) = store.claim(&key(&format!("lapsed-{i}")), Duration::ZERO).await.unwrap() else {
                panic!()
            };
            most = most.max(store.len());
        }
        assert!(most <= 3000, "{most}");
        assert_eq!(store.lock().sweep_at, 3000, "the next sweep waits for the store to double again");
        for i in 0..1500 {
            assert_eq!(
                store.claim(&key(&format!("live-{i}")), Duration::from_secs(1)).await.unwrap(),
                Claim::InProgress
            );
        }
    }

    #[tokio::test]
    async fn handled_events_expire_after_the_ttl_and_are_swept() {
        let store = MemoryStore::new(Duration::ZERO);
        for i in 0..(2 * MIN_SWEEP_AT) {
            let k = key(&i.to_string());
            let Claim::Acquired(token) = store.claim(&k, Duration::from_secs(30)).await.unwrap() else { panic!() };
            store.commit(&k, &token).await.unwrap();
        }
        assert!(store.len() < MIN_SWEEP_AT + 1, "{}", store.len());
    }
}

//! A de-duplication store in Redis, shared by every receiver instance behind one load balancer.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;

use super::dedup::{Claim, ClaimToken, DEFAULT_DONE_TTL, DedupKey, DedupStore, StoreError};
use crate::serve::BoxFuture;

const DONE: &str = "done";

/// Deletes the key only while it holds this claim's token.
const RELEASE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// De-duplication in Redis: a claim is `SET key token NX PX lease`, a commit `SET key done PX
/// ttl`, a release deletes the key only if it still holds the claim's token. Reconnects on its
/// own; while Redis is unreachable, deliveries are answered 503 so Moveo retries them.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use moveo_dialog::events::{EventsReceiver, RedisStore};
///
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let receiver = EventsReceiver::new().webhook_secret("secret").dedup_store(store);
/// # let _ = receiver; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    done_ttl: Duration,
    release: redis::Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("done_ttl", &self.done_ttl)
            .finish_non_exhaustive()
    }
}

fn failed(err: redis::RedisError) -> StoreError {
    StoreError(err.to_string())
}

static CLAIMS: AtomicU64 = AtomicU64::new(0);

/// A token unique across processes and hosts for all practical purposes.
fn new_token() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("claimed:{}:{nanos}:{}", std::process::id(), CLAIMS.fetch_add(1, Ordering::Relaxed))
}

impl RedisStore {
    /// Connects to Redis at `url` (`redis://host:port/db`).
    ///
    /// # Errors
    ///
    /// When the URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(failed)?;
        let connection = client.get_connection_manager().await.map_err(failed)?;
        Ok(Self {
            connection,
            prefix: "moveo-dialog:event:".to_owned(),
            done_ttl: DEFAULT_DONE_TTL,
            release: redis::Script::new(RELEASE),
        })
    }

    /// The prefix of every key (default `moveo-dialog:event:`).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a handled event is remembered (default 10 minutes).
    #[must_use]
    pub fn done_ttl(mut self, ttl: Duration) -> Self {
        self.done_ttl = ttl;
        self
    }

    fn key(&self, key: &DedupKey) -> String {
        format!("{}{}:{}", self.prefix, key.event_type, key.request_id)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl DedupStore for RedisStore {
    fn claim<'a>(&'a self, key: &'a DedupKey, lease: Duration) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let key = self.key(key);
            // A key that expires between SET and GET is simply claimed on the next turn.
            for _ in 0..3 {
                let token = new_token();
                let set: Option<String> = redis::cmd("SET")
                    .arg(&key)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(lease))
                    .query_async(&mut connection)
                    .await
                    .map_err(failed)?;
                if set.is_some() {
                    return Ok(Claim::Acquired(ClaimToken(token)));
                }
                let held: Option<String> =
                    redis::cmd("GET").arg(&key).query_async(&mut connection).await.map_err(failed)?;
                match held.as_deref() {
                    Some(DONE) => return Ok(Claim::Done),
                    Some(_) => return Ok(Claim::InProgress),
                    None => {}
                }
            }
            Ok(Claim::InProgress)
        })
    }

    fn commit<'a>(&'a self, key: &'a DedupKey, _token: &'a ClaimToken) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            redis::cmd("SET")
                .arg(self.key(key))
                .arg(DONE)
                .arg("PX")
                .arg(millis(self.done_ttl))
                .query_async::<()>(&mut connection)
                .await
                .map_err(failed)
        })
    }

    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            self.release
                .key(self.key(key))
                .arg(&token.0)
                .invoke_async::<i64>(&mut connection)
                .await
                .map(|_| ())
                .map_err(failed)
        })
    }
}

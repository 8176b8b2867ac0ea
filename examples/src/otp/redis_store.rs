//! The store shared by several OTP processes: Redis, one Lua script per operation (atomic
//! across every process), Redis's own clock, every key with a TTL.

use std::time::Duration;

use moveo_dialog::serve::BoxFuture;
use redis::aio::ConnectionManager;

use super::code::SealedCode;
use super::limits::Limits;
use super::store::{Admission, Attempt, CodeFor, OtpStore, StoreError};

/// `KEYS`: code, sends by phone, sends by session, wrong codes by phone, pending index.
/// `ARGV`: salt, hash, code TTL, send window, sends per window, resend interval, max wrong,
/// max pending (milliseconds and counts). Returns `{verdict, milliseconds}`.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local code_ttl, window, per_window = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local interval, max_wrong, max_pending = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local wrong = tonumber(redis.call('GET', KEYS[4]) or '0')
if wrong >= max_wrong then return {'locked', redis.call('PTTL', KEYS[4])} end
local wait = 0
for i = 2, 3 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local n = redis.call('ZCARD', KEYS[i])
  if n >= per_window then
    local oldest = redis.call('ZRANGE', KEYS[i], n - per_window, n - per_window, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
  if n > 0 then
    local last = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
    wait = math.max(wait, tonumber(last[2]) + interval - now)
  end
end
if wait > 0 then return {'wait', wait} end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
if not redis.call('ZSCORE', KEYS[5], KEYS[1]) and redis.call('ZCARD', KEYS[5]) >= max_pending then
  return {'full', 0}
end
redis.call('HSET', KEYS[1], 'salt', ARGV[1], 'hash', ARGV[2])
redis.call('PEXPIRE', KEYS[1], code_ttl)
redis.call('ZADD', KEYS[5], now + code_ttl, KEYS[1])
redis.call('PEXPIRE', KEYS[5], code_ttl)
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], now, now .. ':' .. ARGV[1])
  redis.call('PEXPIRE', KEYS[i], math.max(window, interval))
end
return {'admitted', 0}
";

/// `KEYS`: code, wrong codes by phone. `ARGV`: max wrong, wrong window (ms).
/// Returns `{'none'}`, `{'locked', ms}` or `{'candidate', wrong, window ms, salt, hash}`.
const ATTEMPT: &str = r"
local wrong = tonumber(redis.call('GET', KEYS[2]) or '0')
if wrong >= tonumber(ARGV[1]) then return {'locked', redis.call('PTTL', KEYS[2])} end
local code = redis.call('HMGET', KEYS[1], 'salt', 'hash')
if not code[1] or not code[2] then return {'none'} end
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return {'candidate', n, redis.call('PTTL', KEYS[2]), code[1], code[2]}
";

/// `KEYS`: code, wrong codes by phone, pending index. `ARGV`: hash. 1 when it used the code.
const CONFIRM: &str = r"
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1
";

/// Pending codes and counters in Redis, shared by every OTP process that points at it
/// (`OTP_REDIS_URL`). Each operation is one Lua script, so the limits hold across processes;
/// time is Redis's, so the processes' clocks do not matter; every key expires on its own.
/// Keys are `otp:code:PHONE:SESSION`, `otp:sends:phone:PHONE`, `otp:sends:session:SESSION`,
/// `otp:wrong:PHONE` and the index `otp:pending` (the prefix is [`prefix`](Self::prefix)).
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    admit: redis::Script,
    attempt: redis::Script,
    confirm: redis::Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn failed(err: redis::RedisError) -> StoreError {
    StoreError(err.to_string())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn from_millis(value: i64) -> Duration {
    Duration::from_millis(u64::try_from(value).unwrap_or(0))
}

impl RedisStore {
    /// Connects to Redis at `url` (`redis://host:port/db`, `rediss://` for TLS).
    ///
    /// # Errors
    ///
    /// When the URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(failed)?;
        // A wrong URL fails in about a second, not after the default retries (~9 s); the same
        // retries reconnect after a Redis restart.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_connection_timeout(Some(Duration::from_secs(2)));
        let connection = client.get_connection_manager_with_config(config).await.map_err(failed)?;
        Ok(Self {
            connection,
            prefix: "otp:".to_owned(),
            admit: redis::Script::new(ADMIT),
            attempt: redis::Script::new(ATTEMPT),
            confirm: redis::Script::new(CONFIRM),
        })
    }

    /// The prefix of every key (default `otp:`).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn code_key(&self, to: CodeFor<'_>) -> String {
        // A phone number has no `:`, so the key is unambiguous whatever the session id holds.
        format!("{}code:{}:{}", self.prefix, to.phone, to.session)
    }

    fn wrong_key(&self, to: CodeFor<'_>) -> String {
        format!("{}wrong:{}", self.prefix, to.phone)
    }

    fn pending_key(&self) -> String {
        format!("{}pending", self.prefix)
    }
}

impl OtpStore for RedisStore {
    fn admit<'a>(
        &'a self,
        to: CodeFor<'a>,
        code: &'a SealedCode,
        limits: &'a Limits,
    ) -> BoxFuture<'a, Result<Admission, StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let (verdict, ms): (String, i64) = self
                .admit
                .key(self.code_key(to))
                .key(format!("{}sends:phone:{}", self.prefix, to.phone))
                .key(format!("{}sends:session:{}", self.prefix, to.session))
                .key(self.wrong_key(to))
                .key(self.pending_key())
                .arg(hex::encode(code.salt))
                .arg(hex::encode(code.hash))
                .arg(millis(limits.code_ttl))
                .arg(millis(limits.send_window))
                .arg(limits.sends_per_window)
                .arg(u64::try_from(limits.resend_interval.as_millis()).unwrap_or(u64::MAX))
                .arg(limits.max_wrong)
                .arg(limits.max_pending)
                .invoke_async(&mut connection)
                .await
                .map_err(failed)?;
            match verdict.as_str() {
                "admitted" => Ok(Admission::Admitted),
                "wait" => Ok(Admission::Wait { retry_after: from_millis(ms) }),
                "locked" => Ok(Admission::Locked { retry_after: from_millis(ms) }),
                "full" => Ok(Admission::Full),
                other => Err(StoreError(format!("unexpected verdict from the admit script: {other:?}"))),
            }
        })
    }

    fn attempt<'a>(&'a self, to: CodeFor<'a>, limits: &'a Limits) -> BoxFuture<'a, Result<Attempt, StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let fields: Vec<String> = self
                .attempt
                .key(self.code_key(to))
                .key(self.wrong_key(to))
                .arg(limits.max_wrong)
                .arg(millis(limits.wrong_window))
                .invoke_async(&mut connection)
                .await
                .map_err(failed)?;
            let unexpected = || StoreError(format!("unexpected reply to the attempt script: {} fields", fields.len()));
            let number = |index: usize| fields.get(index).and_then(|field| field.parse::<i64>().ok());
            let bytes = |index: usize| fields.get(index).and_then(|field| hex::decode(field).ok());
            match fields.first().map(String::as_str) {
                Some("none") => Ok(Attempt::NoCode),
                Some("locked") => Ok(Attempt::Locked { retry_after: from_millis(number(1).unwrap_or(0)) }),
                Some("candidate") => {
                    let salt = bytes(3).and_then(|salt| <[u8; 16]>::try_from(salt).ok());
                    let hash = bytes(4).and_then(|hash| <[u8; 32]>::try_from(hash).ok());
                    let (Some(salt), Some(hash), Some(wrong)) = (salt, hash, number(1)) else {
                        return Err(unexpected());
                    };
                    Ok(Attempt::Candidate {
                        sealed: SealedCode { salt, hash },
                        wrong: u32::try_from(wrong).unwrap_or(u32::MAX),
                        window_left: from_millis(number(2).unwrap_or(0)),
                    })
                }
                _ => Err(unexpected()),
            }
        })
    }

    fn confirm<'a>(&'a self, to: CodeFor<'a>, code: &'a SealedCode) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let used: i64 = self
                .confirm
                .key(self.code_key(to))
                .key(self.wrong_key(to))
                .key(self.pending_key())
                .arg(hex::encode(code.hash))
                .invoke_async(&mut connection)
                .await
                .map_err(failed)?;
            Ok(used == 1)
        })
    }
}

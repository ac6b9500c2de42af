//! The fleet-wide token buckets in Redis: one atomic Lua script refills each bucket by the time
//! elapsed (Redis's own clock), takes up to the asked amount (or takes back a negative one) and
//! answers what it granted and how long until the bucket can cover the rest. The keys of one
//! provider share a hash tag (`{provider}`), so one script call stays on one Redis Cluster slot.

use std::time::Duration;

use gateway_actors::{Lease, LeasePool};
use redis::{Script, aio::ConnectionManager};

/// Buckets idle this long expire (they would be full again anyway).
const BUCKET_TTL_MS: u64 = 120_000;

/// KEYS: bucket hashes; ARGV: `capacity, amount` per key, then the TTL in ms. Returns the
/// amount granted per key, then the ms until every bucket can cover what it could not grant.
const TAKE_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[#KEYS * 2 + 1])
local out = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[i * 2 - 1])
  local want = tonumber(ARGV[i * 2])
  local rate = cap / 60000
  local v = redis.call('HMGET', key, 'level', 'ts')
  local level = tonumber(v[1]) or cap
  local ts = tonumber(v[2]) or now
  if now > ts then level = math.min(cap, level + (now - ts) * rate) end
  local granted = 0
  if want < 0 then
    level = math.min(cap, level - want)
  else
    granted = math.max(0, math.min(want, math.floor(level)))
    level = level - granted
    if granted < want then
      local missing = math.min(want - granted, cap) - level
      wait = math.max(wait, math.ceil(missing / rate))
    end
  end
  redis.call('HSET', key, 'level', tostring(level), 'ts', tostring(now))
  redis.call('PEXPIRE', key, ttl)
  out[i] = granted
end
out[#KEYS + 1] = wait
return out
";

/// One provider's buckets in Redis.
pub struct FleetBucket {
    script: Script,
    rpm: Option<(String, u64)>,
    tpm: Option<(String, u64)>,
}

impl FleetBucket {
    /// The buckets of `provider` for the pool's limits, under `prefix`.
    pub fn new(prefix: &str, provider: &str, pool: &LeasePool) -> Self {
        let (rpm, tpm) = pool.limits();
        let key = |kind: &str| format!("{prefix}limit:{{{provider}}}:{kind}");
        Self {
            script: Script::new(TAKE_SCRIPT),
            rpm: rpm.map(|n| (key("rpm"), n)),
            tpm: tpm.map(|n| (key("tpm"), n)),
        }
    }

    /// Takes `lease` (or gives back with `give_back`): what was granted and the wait for the
    /// rest. One `EVALSHA` (the script is loaded on first use).
    pub async fn run(
        &self,
        redis: &ConnectionManager,
        lease: Lease,
        give_back: bool,
    ) -> Result<(Lease, Duration), redis::RedisError> {
        let sign = if give_back { -1 } else { 1 };
        let mut invocation = self.script.prepare_invoke();
        let mut kinds = Vec::new();
        for (bucket, amount, kind) in [(&self.rpm, lease.requests, 0), (&self.tpm, lease.tokens, 1)]
        {
            if let Some((key, capacity)) = bucket {
                let amount = i64::try_from(amount).unwrap_or(i64::MAX) * sign;
                invocation.key(key).arg(*capacity).arg(amount);
                kinds.push(kind);
            }
        }
        invocation.arg(BUCKET_TTL_MS);
        let answer: Vec<i64> = invocation.invoke_async(&mut redis.clone()).await?;
        let mut granted = Lease::default();
        for (kind, amount) in kinds.iter().zip(&answer) {
            let amount = u64::try_from(*amount).unwrap_or(0);
            match kind {
                0 => granted.requests = amount,
                _ => granted.tokens = amount,
            }
        }
        let wait = answer
            .get(kinds.len())
            .and_then(|ms| u64::try_from(*ms).ok())
            .unwrap_or(0);
        Ok((granted, Duration::from_millis(wait)))
    }
}

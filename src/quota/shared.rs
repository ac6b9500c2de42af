//! Caller limits in Redis, for the whole fleet: one atomic Lua script per request checks the
//! caller's `rpm` and `tpm` buckets and budget spend together (taking nothing unless all
//! allow it), and one more after the response corrects the token estimate and adds the cost.
//! A caller's keys share a hash tag (`{caller}`), so each script stays on one Cluster slot.

use std::time::Duration;

use redis::{Script, aio::ConnectionManager};

use super::{Ask, Checked, Refused};
use crate::rate_limits::{RateLimits, Window};

/// Idle buckets expire (they would be full again anyway).
const BUCKET_TTL_MS: u64 = 120_000;
/// A budget window's spend is kept this long after the window ends.
const SPEND_GRACE_MS: u64 = 86_400_000;

/// KEYS: rpm bucket, tpm bucket, spend. ARGV: rpm cap, tpm cap (0: none), tokens, budget in
/// nano-USD (0: none), take (1/0), bucket TTL ms. Returns verdict (0 ok, 1 rpm, 2 tpm,
/// 3 budget), wait ms, rpm left, rpm reset ms, tpm left, tpm reset ms, spent.
const CHECK_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[6])
local function load(key, cap)
  if cap <= 0 then return 0 end
  local v = redis.call('HMGET', key, 'level', 'ts')
  local level = tonumber(v[1]) or cap
  local ts = tonumber(v[2]) or now
  if now > ts then level = math.min(cap, level + (now - ts) * cap / 60000) end
  return level
end
local rcap, tcap = tonumber(ARGV[1]), tonumber(ARGV[2])
local want = math.min(tonumber(ARGV[3]), tcap)
local budget = tonumber(ARGV[4])
local r, k = load(KEYS[1], rcap), load(KEYS[2], tcap)
local spent = tonumber(redis.call('GET', KEYS[3]) or '0')
local verdict, wait = 0, 0
if rcap > 0 and r < 1 then
  verdict, wait = 1, math.ceil((1 - r) * 60000 / rcap)
elseif tcap > 0 and k < want then
  verdict, wait = 2, math.ceil((want - k) * 60000 / tcap)
elseif budget > 0 and spent >= budget then
  verdict = 3
end
if verdict == 0 and ARGV[5] == '1' then
  r = r - 1
  k = k - want
end
local out = {verdict, wait, 0, 0, 0, 0, spent}
if rcap > 0 then
  redis.call('HSET', KEYS[1], 'level', tostring(r), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[1], ttl)
  out[3], out[4] = math.max(0, math.floor(r)), math.ceil((rcap - r) * 60000 / rcap)
end
if tcap > 0 then
  redis.call('HSET', KEYS[2], 'level', tostring(k), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[2], ttl)
  out[5], out[6] = math.max(0, math.floor(k)), math.ceil((tcap - k) * 60000 / tcap)
end
return out
";

/// KEYS: tpm bucket, spend. ARGV: tpm cap (0: none), token delta (negative: used more than
/// estimated, into debt), cost in nano-USD, spend TTL ms, bucket TTL ms.
const SETTLE_SCRIPT: &str = r"
local tcap = tonumber(ARGV[1])
if tcap > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local v = redis.call('HMGET', KEYS[1], 'level', 'ts')
  local level = tonumber(v[1]) or tcap
  local ts = tonumber(v[2]) or now
  if now > ts then level = math.min(tcap, level + (now - ts) * tcap / 60000) end
  level = math.min(tcap, level + tonumber(ARGV[2]))
  redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
end
local cost = tonumber(ARGV[3])
if cost > 0 then
  redis.call('INCRBY', KEYS[2], cost)
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
end
return 1
";

/// The fleet's caller limits in Redis.
pub struct SharedLedger {
    redis: ConnectionManager,
    prefix: String,
    timeout: Duration,
    check: Script,
    settle: Script,
}

/// The Redis keys of one caller.
struct Keys {
    rpm: String,
    tpm: String,
    spend: String,
}

impl SharedLedger {
    /// Uses `redis` (keys under `prefix`); every call gives up after `timeout`.
    pub fn new(redis: ConnectionManager, prefix: &str, timeout: Duration) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            timeout,
            check: Script::new(CHECK_SCRIPT),
            settle: Script::new(SETTLE_SCRIPT),
        }
    }

    fn keys(&self, id: &str, window: &str) -> Keys {
        let key = |kind: &str| format!("{}quota:{{{id}}}:{kind}", self.prefix);
        Keys {
            rpm: key("rpm"),
            tpm: key("tpm"),
            spend: key(&format!("spend:{window}")),
        }
    }

    /// Checks (and with `ask.take`, takes) in one script; `None` when Redis did not answer in
    /// time.
    pub async fn check(&self, ask: &Ask<'_>) -> Option<Checked> {
        let keys = self.keys(ask.id, ask.window);
        let mut invocation = self.check.prepare_invoke();
        invocation
            .key(&keys.rpm)
            .key(&keys.tpm)
            .key(&keys.spend)
            .arg(ask.limits.rpm.unwrap_or(0))
            .arg(ask.limits.tpm.unwrap_or(0))
            .arg(ask.tokens)
            .arg(ask.limits.budget_usd.map_or(0, super::nanos))
            .arg(u8::from(ask.take))
            .arg(BUCKET_TTL_MS);
        let mut conn = self.redis.clone();
        let call = invocation.invoke_async::<Vec<i64>>(&mut conn);
        let answer = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(answer)) if answer.len() == 7 => answer,
            Ok(Ok(_)) => return None,
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "Caller quota check failed in Redis.");
                return None;
            }
            Err(_) => return None,
        };
        let n = |i: usize| u64::try_from(answer.get(i).copied().unwrap_or(0)).unwrap_or(0);
        let wait = Duration::from_millis(n(1));
        let refused = match answer.first() {
            Some(1) => Some(Refused::Requests(wait)),
            Some(2) => Some(Refused::Tokens(wait)),
            Some(3) => Some(Refused::Budget),
            _ => None,
        };
        let window = |limit: Option<u64>, left: usize| {
            limit.map(|limit| Window {
                limit,
                remaining: n(left),
                reset: Duration::from_millis(n(left + 1)),
            })
        };
        Some(Checked {
            refused,
            limits: RateLimits {
                requests: window(ask.limits.rpm, 2),
                tokens: window(ask.limits.tpm, 4),
            },
            spent_nanos: n(6),
        })
    }

    /// Corrects the token estimate and adds the cost; false when Redis did not take it.
    pub async fn settle(
        &self,
        id: &str,
        window: &str,
        window_ends_in: Duration,
        tpm: Option<u64>,
        token_delta: i64,
        cost_nanos: u64,
    ) -> bool {
        let keys = self.keys(id, window);
        let spend_ttl = u64::try_from(window_ends_in.as_millis())
            .unwrap_or(u64::MAX / 2)
            .saturating_add(SPEND_GRACE_MS);
        let mut invocation = self.settle.prepare_invoke();
        invocation
            .key(&keys.tpm)
            .key(&keys.spend)
            .arg(tpm.unwrap_or(0))
            .arg(token_delta)
            .arg(cost_nanos)
            .arg(spend_ttl)
            .arg(BUCKET_TTL_MS);
        let mut conn = self.redis.clone();
        let call = invocation.invoke_async::<i64>(&mut conn);
        matches!(tokio::time::timeout(self.timeout, call).await, Ok(Ok(1)))
    }
}

//! The Redis conversation store: one versioned JSON record per response under
//! `<key_prefix>response:<id>`, expiring server-side after the TTL, reached through a lazily
//! connecting, self-reconnecting `ConnectionManager` so the gateway starts while Redis is down.

use std::{sync::Arc, time::Duration};

use redis::aio::ConnectionManager;

use super::{
    StoredResponse,
    record::{decode_record, encode_record},
};
use crate::{config::RedisStoreConfig, error::GatewayError};

/// Extra connection attempts after a failure (backoff between them), so an outage costs a
/// request about one connect timeout rather than a long retry ladder.
const CONNECT_RETRIES: usize = 1;
/// Longest backoff between connection attempts.
const MAX_RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// Handle to the Redis store; cheap to clone (the manager multiplexes one connection).
#[derive(Clone)]
pub struct RedisStore {
    manager: ConnectionManager,
    key_prefix: Arc<str>,
    ttl_ms: u64,
}

impl RedisStore {
    /// A store for `config`; connects on first use (must run inside a tokio runtime).
    pub fn new(config: &RedisStoreConfig, ttl: Duration) -> Result<Self, GatewayError> {
        let client = config
            .client()
            .map_err(|e| GatewayError::Internal(format!("conversations.redis_url: {e}")))?;
        let manager_config = config
            .manager_config()
            .set_number_of_retries(CONNECT_RETRIES)
            .set_max_delay(MAX_RECONNECT_DELAY);
        let manager = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|e| GatewayError::Internal(format!("cannot set up Redis: {e}")))?;
        Ok(Self {
            manager,
            key_prefix: Arc::from(config.key_prefix.as_str()),
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1),
        })
    }

    /// The Redis key of response `id`.
    pub fn key(&self, id: &str) -> String {
        format!("{}response:{id}", self.key_prefix)
    }

    /// Loads a record; unreadable or unknown-version records count as missing (logged).
    pub async fn get(&self, id: &str) -> Result<Option<StoredResponse>, GatewayError> {
        let key = self.key(id);
        let bytes: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut self.manager.clone())
            .await
            .map_err(|e| unavailable("GET", &e))?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        match decode_record(&bytes) {
            Ok(stored) => Ok(Some(stored)),
            Err(err) => {
                tracing::error!(key, error = %err, "Unreadable conversation record in Redis; treating it as missing.");
                Ok(None)
            }
        }
    }

    /// Writes a record with the TTL as its server-side expiry.
    pub async fn put(&self, stored: &StoredResponse) -> Result<(), GatewayError> {
        let record = encode_record(stored)?;
        redis::cmd("SET")
            .arg(self.key(&stored.response.id))
            .arg(record)
            .arg("PX")
            .arg(self.ttl_ms)
            .query_async::<()>(&mut self.manager.clone())
            .await
            .map_err(|e| unavailable("SET", &e))
    }

    /// Sets flag `name` (a short key under the prefix) for `ttl_ms`.
    async fn set_flag(&self, name: String, ttl_ms: u64) -> Result<(), GatewayError> {
        redis::cmd("SET")
            .arg(format!("{}{name}", self.key_prefix))
            .arg(1)
            .arg("PX")
            .arg(ttl_ms.max(1))
            .query_async::<()>(&mut self.manager.clone())
            .await
            .map_err(|e| unavailable("SET", &e))
    }

    /// Whether flag `name` is set.
    async fn has_flag(&self, name: String) -> Result<bool, GatewayError> {
        redis::cmd("EXISTS")
            .arg(format!("{}{name}", self.key_prefix))
            .query_async::<u64>(&mut self.manager.clone())
            .await
            .map(|n| n > 0)
            .map_err(|e| unavailable("EXISTS", &e))
    }

    /// Asks whichever replica runs background response `id` to cancel it: a flag key its
    /// runner polls, expiring with the record.
    pub async fn request_cancel(&self, id: &str) -> Result<(), GatewayError> {
        self.set_flag(format!("cancel:{id}"), self.ttl_ms).await
    }

    /// Whether a cancel of background response `id` was asked for.
    pub async fn cancel_requested(&self, id: &str) -> Result<bool, GatewayError> {
        self.has_flag(format!("cancel:{id}")).await
    }

    /// Marks background response `id` as running on a live replica for `ttl` (refreshed by its
    /// runner well within it).
    pub async fn heartbeat(&self, id: &str, ttl: Duration) -> Result<(), GatewayError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.set_flag(format!("heartbeat:{id}"), ttl_ms).await
    }

    /// Whether the replica running background response `id` beat within its heartbeat TTL.
    pub async fn is_beating(&self, id: &str) -> Result<bool, GatewayError> {
        self.has_flag(format!("heartbeat:{id}")).await
    }

    /// Appends background response `id`'s events (sequence number, JSON) to its Redis stream,
    /// keeping about the last `keep` and expiring with the record, so any replica can replay
    /// and follow them.
    pub async fn append_events(
        &self,
        id: &str,
        events: &[(u64, String)],
        keep: usize,
    ) -> Result<(), GatewayError> {
        let key = format!("{}events:{id}", self.key_prefix);
        let mut pipe = redis::pipe();
        for (sequence, json) in events {
            pipe.cmd("XADD")
                .arg(&key)
                .arg("MAXLEN")
                .arg("~")
                .arg(keep)
                .arg("*")
                .arg("seq")
                .arg(*sequence)
                .arg("event")
                .arg(json)
                .ignore();
        }
        pipe.cmd("PEXPIRE").arg(&key).arg(self.ttl_ms).ignore();
        pipe.query_async::<()>(&mut self.manager.clone())
            .await
            .map_err(|e| unavailable("XADD", &e))
    }

    /// Up to `count` events of background response `id` after stream entry `after` (`-` for
    /// the first): `(entry id, event JSON)`.
    pub async fn read_events(
        &self,
        id: &str,
        after: &str,
        count: usize,
    ) -> Result<Vec<(String, String)>, GatewayError> {
        let start = if after == "-" {
            "-".to_owned()
        } else {
            format!("({after}")
        };
        let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(format!("{}events:{id}", self.key_prefix))
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.manager.clone())
            .await
            .map_err(|e| unavailable("XRANGE", &e))?;
        Ok(entries
            .into_iter()
            .filter_map(|(entry, fields)| {
                let event = fields.into_iter().find(|(k, _)| k == "event")?.1;
                Some((entry, event))
            })
            .collect())
    }

    /// Deletes a record; answers whether it existed.
    pub async fn delete(&self, id: &str) -> Result<bool, GatewayError> {
        let removed: u64 = redis::cmd("DEL")
            .arg(self.key(id))
            .query_async(&mut self.manager.clone())
            .await
            .map_err(|e| unavailable("DEL", &e))?;
        Ok(removed > 0)
    }
}

fn unavailable(command: &str, err: &redis::RedisError) -> GatewayError {
    tracing::warn!(command, error = %err, "Redis conversation store command failed.");
    GatewayError::StoreUnavailable(format!("Redis {command}: {err}"))
}

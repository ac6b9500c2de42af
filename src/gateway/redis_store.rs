//! The Redis conversation store: one versioned JSON record per response under
//! `<key_prefix>response:<id>`, expiring server-side after the TTL, reached through a lazily
//! connecting, self-reconnecting `ConnectionManager` so the gateway starts while Redis is down.

use std::{sync::Arc, time::Duration};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

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
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.command_timeout))
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

    /// Asks whichever replica runs background response `id` to cancel it: a flag key its
    /// runner polls, expiring with the record.
    pub async fn request_cancel(&self, id: &str) -> Result<(), GatewayError> {
        redis::cmd("SET")
            .arg(format!("{}cancel:{id}", self.key_prefix))
            .arg(1)
            .arg("PX")
            .arg(self.ttl_ms)
            .query_async::<()>(&mut self.manager.clone())
            .await
            .map_err(|e| unavailable("SET", &e))
    }

    /// Whether a cancel of background response `id` was asked for.
    pub async fn cancel_requested(&self, id: &str) -> Result<bool, GatewayError> {
        redis::cmd("EXISTS")
            .arg(format!("{}cancel:{id}", self.key_prefix))
            .query_async::<u64>(&mut self.manager.clone())
            .await
            .map(|n| n > 0)
            .map_err(|e| unavailable("EXISTS", &e))
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

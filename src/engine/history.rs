//! The conversation store handle: stored responses (full input + response) in the memory store
//! (a `ConversationActor`'s records) or in Redis, the `previous_response_id` rule (previous input → previous output → new input),
//! and the stable ids given to input items when they are stored. Both stores hold the same
//! versioned JSON record (`record.rs`).

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use actix::{Actor, Addr};
use bytes::Bytes;
use gateway_actors::{ConversationActor, ConversationHandle, ConversationStats, PutRecord};

use super::{
    record::{decode_record, encode_record},
    redis_store::RedisStore,
};
use crate::{
    api::{Item, ResponseResource},
    config::{ConversationBackend, ConversationsConfig},
    error::GatewayError,
};

/// A finished response, the full input that produced it, and who may see it.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    /// The caller that created it (`Caller::owner`); only that caller can read, continue or
    /// delete it.
    pub owner: String,
    /// Everything sent upstream for this turn (history included), each item with an id.
    pub input: Vec<Item>,
    /// The response object.
    pub response: ResponseResource,
}

/// Bytes a memory record costs beyond its encoding: the id twice (map and expiry index), the
/// entry, and the index nodes (measured: about 380 with the map's spare capacity).
const ENTRY_OVERHEAD: usize = 384;

/// Where the records live.
#[derive(Clone)]
enum Backend {
    /// The in-process store (TTL, entry and byte bounds): read and written through its handle,
    /// expired by its actor's timer (the address keeps the actor alive). Records are kept
    /// encoded: the byte bound then counts what is really held (the decoded form is about 2.5
    /// times larger), and a record is decoded only when a request continues from it.
    Memory {
        records: ConversationHandle<Bytes>,
        /// Kept so the actor (and its purge timer) lives as long as the store.
        _purger: Addr<ConversationActor<Bytes>>,
    },
    /// Redis, shared between gateway processes.
    Redis(RedisStore),
}

/// Handle to the conversation store; cheap to clone into every worker.
#[derive(Clone)]
pub struct ConversationStore {
    backend: Backend,
    /// Responses that could not be stored (counted until metrics exist).
    store_failures: Arc<AtomicU64>,
}

impl ConversationStore {
    /// Starts the configured store (inside an actix System). Redis connects on first use, so
    /// the gateway starts even while Redis is down.
    pub fn start(config: &ConversationsConfig) -> Result<Self, GatewayError> {
        let backend = match &config.backend {
            ConversationBackend::Memory => {
                let actor =
                    ConversationActor::new(config.ttl, config.max_entries, config.max_bytes);
                Backend::Memory {
                    records: actor.handle(),
                    _purger: actor.start(),
                }
            }
            ConversationBackend::Redis(redis) => {
                Backend::Redis(RedisStore::new(redis, config.ttl)?)
            }
        };
        Ok(Self {
            backend,
            store_failures: Arc::new(AtomicU64::new(0)),
        })
    }

    /// `memory` or `redis`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory { .. } => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    /// Loads `owner`'s stored response: `None` when it is missing, expired, or another
    /// caller's (indistinguishable on purpose, so ids cannot be probed). Request paths use this.
    pub async fn get_owned(
        &self,
        id: &str,
        owner: &str,
    ) -> Result<Option<StoredResponse>, GatewayError> {
        Ok(self.get(id).await?.filter(|stored| stored.owner == owner))
    }

    /// Deletes `owner`'s stored response; answers whether it existed (another caller's does not).
    pub async fn delete_owned(&self, id: &str, owner: &str) -> Result<bool, GatewayError> {
        if self.get_owned(id, owner).await?.is_none() {
            return Ok(false);
        }
        self.delete(id).await
    }

    /// Loads a stored response, if it exists and has not expired, whoever owns it.
    pub async fn get(&self, id: &str) -> Result<Option<StoredResponse>, GatewayError> {
        match &self.backend {
            Backend::Memory { records, .. } => {
                let Some(bytes) = records.get(id) else {
                    return Ok(None);
                };
                match decode_record(&bytes) {
                    Ok(stored) => Ok(Some(stored)),
                    Err(err) => Err(GatewayError::Internal(format!(
                        "stored record {id} does not decode: {err}"
                    ))),
                }
            }
            Backend::Redis(redis) => redis.get(id).await,
        }
    }

    /// Deletes a stored response, whoever owns it; answers whether it existed.
    pub async fn delete(&self, id: &str) -> Result<bool, GatewayError> {
        match &self.backend {
            Backend::Memory { records, .. } => Ok(records.delete(id)),
            Backend::Redis(redis) => redis.delete(id).await,
        }
    }

    /// Stores a finished response (done when this returns, so an immediate follow-up finds it).
    /// Input items without an id get one first (see [`assign_input_ids`]). A failure is counted.
    pub async fn put(&self, mut stored: StoredResponse) -> Result<(), GatewayError> {
        assign_input_ids(&mut stored.input, &stored.response.id);
        let result = match &self.backend {
            Backend::Memory { records, .. } => encode_record(&stored).map(|record| {
                let bytes = record.len() + ENTRY_OVERHEAD;
                let id = stored.response.id;
                let value = Bytes::from(record);
                records.put(PutRecord { id, value, bytes });
            }),
            Backend::Redis(redis) => redis.put(&stored).await,
        };
        if result.is_err() {
            self.store_failures.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// Whether other gateway processes share this store (Redis): a background response stored
    /// here may be running in another one.
    pub fn is_shared(&self) -> bool {
        match self.backend {
            Backend::Memory { .. } => false,
            Backend::Redis(_) => true,
        }
    }

    /// Asks the process running background response `id` to cancel it (shared store only).
    pub async fn request_cancel(&self, id: &str) -> Result<(), GatewayError> {
        match &self.backend {
            Backend::Memory { .. } => Ok(()),
            Backend::Redis(redis) => redis.request_cancel(id).await,
        }
    }

    /// Whether a cancel of background response `id` was asked for through the shared store
    /// (an unreachable store reads as no).
    pub async fn cancel_requested(&self, id: &str) -> bool {
        match &self.backend {
            Backend::Memory { .. } => false,
            Backend::Redis(redis) => redis.cancel_requested(id).await.unwrap_or(false),
        }
    }

    /// Refreshes the heartbeat of background response `id`, running here (shared store only;
    /// an unreachable store is retried at the next beat).
    pub async fn heartbeat(&self, id: &str, ttl: std::time::Duration) {
        if let Backend::Redis(redis) = &self.backend
            && let Err(err) = redis.heartbeat(id, ttl).await
        {
            tracing::debug!(id, error = %err, "Background heartbeat not written.");
        }
    }

    /// Whether the replica running background response `id` is known to have died: its
    /// heartbeat expired (shared store only; an unreachable store reads as alive, so a Redis
    /// outage never fails running work).
    pub async fn runner_is_gone(&self, id: &str) -> bool {
        match &self.backend {
            Backend::Memory { .. } => false,
            Backend::Redis(redis) => redis.is_beating(id).await.is_ok_and(|beating| !beating),
        }
    }

    /// Mirrors background response `id`'s events to the shared store (Redis only), so other
    /// replicas can replay and follow them; a failure is logged (this replica still has them).
    pub async fn append_events(&self, id: &str, events: &[crate::api::StreamEvent], keep: usize) {
        let Backend::Redis(redis) = &self.backend else {
            return;
        };
        let encoded: Vec<(u64, String)> = events
            .iter()
            .filter_map(|e| Some((e.sequence_number, serde_json::to_string(e).ok()?)))
            .collect();
        if let Err(err) = redis.append_events(id, &encoded, keep).await {
            tracing::warn!(id, error = %err, "Background events not mirrored to Redis.");
        }
    }

    /// Background response `id`'s events after stream entry `after` from the shared store
    /// (`None` without one).
    pub async fn read_events(
        &self,
        id: &str,
        after: &str,
    ) -> Result<Option<Vec<(String, crate::api::StreamEvent)>>, GatewayError> {
        let Backend::Redis(redis) = &self.backend else {
            return Ok(None);
        };
        let entries = redis.read_events(id, after, 256).await?;
        Ok(Some(
            entries
                .into_iter()
                .filter_map(|(entry, json)| Some((entry, serde_json::from_str(&json).ok()?)))
                .collect(),
        ))
    }

    /// Responses that could not be stored since start.
    pub fn store_failures(&self) -> u64 {
        self.store_failures.load(Ordering::Relaxed)
    }

    /// Entry/byte/eviction counts of the memory store (`None` for Redis, which bounds itself).
    pub async fn memory_stats(&self) -> Result<Option<ConversationStats>, GatewayError> {
        match &self.backend {
            Backend::Memory { records, .. } => Ok(Some(records.stats())),
            Backend::Redis(_) => Ok(None),
        }
    }

    /// The input for a request: prior input and output (when continuing from one of `owner`'s
    /// responses; another caller's is "not found"), then the new input.
    pub async fn resolve_input(
        &self,
        previous_response_id: Option<&str>,
        new_input: Vec<Item>,
        owner: &str,
    ) -> Result<Vec<Item>, GatewayError> {
        let Some(id) = previous_response_id else {
            return Ok(new_input);
        };
        let Some(previous) = self.get_owned(id, owner).await? else {
            return Err(GatewayError::NotFound {
                message: format!(
                    "Previous response with id '{id}' not found (unknown, expired, or stored with store=false)."
                ),
                param: Some("previous_response_id".to_owned()),
                code: "previous_response_not_found",
            });
        };
        if !previous.response.status.is_terminal() {
            return Err(GatewayError::invalid(
                format!(
                    "Previous response '{id}' is still running (background); wait until it has ended."
                ),
                Some("previous_response_id"),
            ));
        }
        let mut input = Vec::with_capacity(
            previous.input.len() + previous.response.output.len() + new_input.len(),
        );
        input.extend(previous.input);
        input.extend(previous.response.output);
        input.extend(new_input);
        Ok(input)
    }
}

/// Gives every input item without an id a stable one, `<kind>_<response suffix>_in<N>`, where
/// the suffix is the response id without `resp_` and `N` is the item's position in the full
/// input (`msg_ab12_in0`). Items from earlier turns already carry the ids they were stored
/// with, so an item keeps one id for the whole chain; caller-given ids are kept as they are.
pub fn assign_input_ids(input: &mut [Item], response_id: &str) {
    let suffix = response_id.strip_prefix("resp_").unwrap_or(response_id);
    for (index, item) in input.iter_mut().enumerate() {
        let (slot, kind) = match item {
            Item::Message(m) => (&mut m.id, "msg"),
            Item::FunctionCall(f) => (&mut f.id, "fc"),
            Item::FunctionCallOutput(f) => (&mut f.id, "fco"),
            Item::Reasoning(r) => (&mut r.id, "rs"),
            Item::Compaction(c) => (&mut c.id, "cmp"),
            Item::CustomToolCall(c) => (&mut c.id, "ctc"),
            Item::CustomToolCallOutput(c) => (&mut c.id, "ctco"),
            Item::ItemReference(_) | Item::Other(_) => continue,
        };
        if slot.is_none() {
            *slot = Some(format!("{kind}_{suffix}_in{index}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn input_ids_are_stable_and_keep_existing_ones() {
        let mut input: Vec<Item> = serde_json::from_value(json!([
            {"type":"message","role":"user","content":"Hi"},
            {"type":"message","id":"msg_mine","role":"user","content":"Hi"},
            {"type":"function_call_output","call_id":"c1","output":"{}"},
            {"type":"item_reference","id":"msg_ref"},
            {"type":"function_call","call_id":"c2","name":"f","arguments":"{}"}
        ]))
        .unwrap();
        assign_input_ids(&mut input, "resp_ab12");
        let ids: Vec<_> = input.iter().map(Item::id).collect();
        assert_eq!(
            ids,
            [
                Some("msg_ab12_in0"),
                Some("msg_mine"),
                Some("fco_ab12_in2"),
                Some("msg_ref"),
                Some("fc_ab12_in4")
            ]
        );
        let again = input.clone();
        assign_input_ids(&mut input, "resp_other");
        assert_eq!(input, again, "stored ids never change");
    }
}

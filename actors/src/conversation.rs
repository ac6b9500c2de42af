//! `ConversationActor` and its [`ConversationRecords`]: stored responses keyed by id, with TTL
//! expiry (purged on the actor's timer, not only on access) and hard bounds on entries and bytes
//! (oldest evicted first), so memory stays flat under any load. The request path reads and
//! writes through a [`ConversationHandle`] (a short lock in its own worker: a mailbox message per
//! stored response woke the actor's thread for every request, ~12% of the gateway's CPU); the
//! actor runs the purge timer and answers the same operations as messages. Generic over the
//! stored value; the gateway stores encoded records (`Bytes`).

use std::{
    collections::{BTreeSet, HashMap},
    marker::PhantomData,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use actix::prelude::*;
// Tokio's clock, not std's: expiry follows paused/advanced time in tests (`tokio::time::pause`).
use tokio::time::Instant;

/// How often expired records are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(5);

/// Stores a record (replacing one with the same id).
pub struct PutRecord<V> {
    /// Record id.
    pub id: String,
    /// The value.
    pub value: V,
    /// Its approximate size, for the byte bound.
    pub bytes: usize,
}

/// Fetches a live record.
pub struct GetRecord<V> {
    /// Record id.
    pub id: String,
    _value: PhantomData<fn() -> V>,
}

impl<V> GetRecord<V> {
    /// A lookup for `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            _value: PhantomData,
        }
    }
}

/// Deletes a record; answers whether it existed.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct DeleteRecord {
    /// Record id.
    pub id: String,
}

/// Asks for store statistics.
#[derive(Message)]
#[rtype(result = "ConversationStats")]
pub struct StoreStats;

/// Store statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConversationStats {
    /// Live records.
    pub entries: usize,
    /// Bytes accounted.
    pub bytes: usize,
    /// Records evicted by the bounds.
    pub evictions: u64,
    /// Records removed by TTL.
    pub expirations: u64,
}

impl<V: 'static> Message for PutRecord<V> {
    type Result = ();
}

impl<V: 'static> Message for GetRecord<V> {
    type Result = Option<V>;
}

struct Entry<V> {
    value: V,
    bytes: usize,
    key: (Instant, u64),
}

/// The records with their bounds (no actor, no lock: see [`ConversationHandle`]).
pub struct ConversationRecords<V> {
    ttl: Duration,
    max_entries: usize,
    max_bytes: usize,
    records: HashMap<String, Entry<V>>,
    // (expiry, insertion counter) → id; with one TTL, expiry order is also age order.
    order: BTreeSet<((Instant, u64), String)>,
    counter: u64,
    stats: ConversationStats,
}

impl<V: Clone> ConversationRecords<V> {
    /// A store with the given TTL and bounds.
    pub fn new(ttl: Duration, max_entries: usize, max_bytes: usize) -> Self {
        Self {
            ttl,
            max_entries: max_entries.max(1),
            max_bytes: max_bytes.max(1),
            records: HashMap::new(),
            order: BTreeSet::new(),
            counter: 0,
            stats: ConversationStats::default(),
        }
    }

    fn remove(&mut self, id: &str) -> bool {
        match self.records.remove(id) {
            Some(entry) => {
                self.order.remove(&(entry.key, id.to_owned()));
                self.stats.bytes -= entry.bytes;
                true
            }
            None => false,
        }
    }

    /// Drops every record expired by `now`.
    pub fn purge(&mut self, now: Instant) {
        while let Some(((expiry, _), id)) = self.order.first().cloned() {
            if expiry > now {
                break;
            }
            self.remove(&id);
            self.stats.expirations += 1;
        }
    }

    fn evict_to_bounds(&mut self) {
        while self.records.len() > self.max_entries || self.stats.bytes > self.max_bytes {
            let Some((_, id)) = self.order.first().cloned() else {
                break;
            };
            self.remove(&id);
            self.stats.evictions += 1;
        }
    }

    /// Stores a record (replacing one with the same id).
    pub fn put(&mut self, msg: PutRecord<V>) {
        self.remove(&msg.id);
        if msg.bytes > self.max_bytes {
            // Larger than the whole store: keeping it would evict everything else.
            self.stats.evictions += 1;
            self.stats.entries = self.records.len();
            return;
        }
        self.counter += 1;
        let key = (Instant::now() + self.ttl, self.counter);
        self.order.insert((key, msg.id.clone()));
        self.stats.bytes += msg.bytes;
        self.records.insert(
            msg.id,
            Entry {
                value: msg.value,
                bytes: msg.bytes,
                key,
            },
        );
        self.evict_to_bounds();
        self.stats.entries = self.records.len();
    }

    /// A live record.
    pub fn get(&self, id: &str) -> Option<V> {
        let entry = self.records.get(id)?;
        if entry.key.0 <= Instant::now() {
            return None;
        }
        Some(entry.value.clone())
    }

    /// Deletes a record; answers whether it existed.
    pub fn delete(&mut self, id: &str) -> bool {
        let existed = self.remove(id);
        self.stats.entries = self.records.len();
        existed
    }

    /// Entry, byte, eviction and expiry counts.
    pub fn stats(&self) -> ConversationStats {
        ConversationStats {
            entries: self.records.len(),
            ..self.stats
        }
    }
}

/// The records, shared by the actor and the request path; every operation is one short lock.
pub struct ConversationHandle<V> {
    records: Arc<Mutex<ConversationRecords<V>>>,
}

impl<V> Clone for ConversationHandle<V> {
    fn clone(&self) -> Self {
        Self {
            records: self.records.clone(),
        }
    }
}

impl<V: Clone> ConversationHandle<V> {
    fn lock(&self) -> MutexGuard<'_, ConversationRecords<V>> {
        // Every operation leaves the records consistent, so a panic elsewhere cannot corrupt them.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a record (replacing one with the same id).
    pub fn put(&self, msg: PutRecord<V>) {
        self.lock().put(msg);
    }

    /// A live record.
    pub fn get(&self, id: &str) -> Option<V> {
        self.lock().get(id)
    }

    /// Deletes a record; answers whether it existed.
    pub fn delete(&self, id: &str) -> bool {
        self.lock().delete(id)
    }

    /// Entry, byte, eviction and expiry counts.
    pub fn stats(&self) -> ConversationStats {
        self.lock().stats()
    }
}

/// The conversation store actor: purges expired records on a timer.
pub struct ConversationActor<V> {
    handle: ConversationHandle<V>,
}

impl<V: Clone + Unpin + 'static> ConversationActor<V> {
    /// A store with the given TTL and bounds.
    pub fn new(ttl: Duration, max_entries: usize, max_bytes: usize) -> Self {
        Self {
            handle: ConversationHandle {
                records: Arc::new(Mutex::new(ConversationRecords::new(
                    ttl,
                    max_entries,
                    max_bytes,
                ))),
            },
        }
    }

    /// The handle the request path uses.
    pub fn handle(&self) -> ConversationHandle<V> {
        self.handle.clone()
    }
}

impl<V: Clone + Unpin + 'static> Actor for ConversationActor<V> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(PURGE_INTERVAL, |act, _| {
            act.handle.lock().purge(Instant::now());
        });
    }
}

impl<V: Clone + Unpin + 'static> Handler<PutRecord<V>> for ConversationActor<V> {
    type Result = ();

    fn handle(&mut self, msg: PutRecord<V>, _: &mut Self::Context) {
        self.handle.put(msg);
    }
}

impl<V: Clone + Unpin + 'static> Handler<GetRecord<V>> for ConversationActor<V> {
    type Result = Option<V>;

    fn handle(&mut self, msg: GetRecord<V>, _: &mut Self::Context) -> Option<V> {
        self.handle.get(&msg.id)
    }
}

impl<V: Clone + Unpin + 'static> Handler<DeleteRecord> for ConversationActor<V> {
    type Result = bool;

    fn handle(&mut self, msg: DeleteRecord, _: &mut Self::Context) -> bool {
        self.handle.delete(&msg.id)
    }
}

impl<V: Clone + Unpin + 'static> Handler<StoreStats> for ConversationActor<V> {
    type Result = MessageResult<StoreStats>;

    fn handle(&mut self, _: StoreStats, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.handle.stats())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(id: &str, bytes: usize) -> PutRecord<u32> {
        PutRecord {
            id: id.into(),
            value: 7,
            bytes,
        }
    }

    #[actix_rt::test]
    async fn stores_gets_and_deletes() {
        let store = ConversationActor::<u32>::new(Duration::from_secs(60), 10, 1000).start();
        store.send(put("a", 10)).await.unwrap();
        assert_eq!(store.send(GetRecord::new("a")).await.unwrap(), Some(7));
        assert!(store.send(DeleteRecord { id: "a".into() }).await.unwrap());
        assert_eq!(store.send(GetRecord::<u32>::new("a")).await.unwrap(), None);
    }

    #[actix_rt::test]
    async fn bounds_evict_the_oldest() {
        let store = ConversationActor::<u32>::new(Duration::from_secs(60), 2, 25).start();
        for id in ["a", "b", "c"] {
            store.send(put(id, 10)).await.unwrap();
        }
        assert_eq!(store.send(GetRecord::<u32>::new("a")).await.unwrap(), None);
        assert_eq!(
            store.send(GetRecord::<u32>::new("c")).await.unwrap(),
            Some(7)
        );
        let stats = store.send(StoreStats).await.unwrap();
        assert_eq!((stats.entries, stats.bytes, stats.evictions), (2, 20, 1));
    }

    #[actix_rt::test]
    async fn expired_records_are_gone_and_purged() {
        let store = ConversationActor::<u32>::new(Duration::from_millis(30), 10, 1000).start();
        store.send(put("a", 10)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(store.send(GetRecord::<u32>::new("a")).await.unwrap(), None);
    }

    #[actix_rt::test]
    async fn expiry_follows_paused_time() {
        tokio::time::pause();
        let ttl = Duration::from_secs(3600);
        let store = ConversationActor::<u32>::new(ttl, 10, 1000).start();
        store.send(put("a", 10)).await.unwrap();
        tokio::time::advance(ttl - Duration::from_millis(1)).await;
        assert_eq!(
            store.send(GetRecord::<u32>::new("a")).await.unwrap(),
            Some(7)
        );
        tokio::time::advance(Duration::from_millis(2)).await;
        assert_eq!(store.send(GetRecord::<u32>::new("a")).await.unwrap(), None);
    }

    #[actix_rt::test]
    async fn purge_timer_frees_expired_records_without_access() {
        tokio::time::pause();
        let ttl = Duration::from_secs(60);
        let store = ConversationActor::<u32>::new(ttl, 10, 1000).start();
        store.send(put("a", 10)).await.unwrap();
        store.send(put("b", 20)).await.unwrap();
        tokio::time::advance(ttl + PURGE_INTERVAL).await;
        // Let the interval fire before asking.
        tokio::task::yield_now().await;
        let stats = store.send(StoreStats).await.unwrap();
        assert_eq!((stats.entries, stats.bytes, stats.expirations), (0, 0, 2));
    }

    #[actix_rt::test]
    async fn bounds_hold_across_100k_writes() {
        let (max_entries, max_bytes) = (10_000, 1_000_000);
        let store =
            ConversationActor::<u32>::new(Duration::from_secs(60), max_entries, max_bytes).start();
        let mut peak = ConversationStats::default();
        for i in 0..100_000_usize {
            // 50..=249 bytes: the byte bound (about 6,700 records) bites before the entry bound.
            store
                .send(put(&format!("resp_{i}"), 50 + i % 200))
                .await
                .unwrap();
            let stats = store.send(StoreStats).await.unwrap();
            assert!(
                stats.entries <= max_entries && stats.bytes <= max_bytes,
                "{stats:?}"
            );
            peak.entries = peak.entries.max(stats.entries);
            peak.bytes = peak.bytes.max(stats.bytes);
        }
        let stats = store.send(StoreStats).await.unwrap();
        assert_eq!(stats.evictions as usize + stats.entries, 100_000);
        assert!(
            peak.bytes > max_bytes - 250,
            "the byte bound was reached: {peak:?}"
        );
        let newest = store
            .send(GetRecord::<u32>::new("resp_99999"))
            .await
            .unwrap();
        assert_eq!(newest, Some(7));
        assert_eq!(
            store.send(GetRecord::<u32>::new("resp_0")).await.unwrap(),
            None
        );
    }

    #[test]
    fn purge_removes_expired_without_access() {
        let mut store = ConversationRecords::<u32>::new(Duration::from_secs(1), 10, 1000);
        store.counter = 1;
        let key = (Instant::now(), 1);
        store.order.insert((key, "a".into()));
        store.records.insert(
            "a".into(),
            Entry {
                value: 1,
                bytes: 5,
                key,
            },
        );
        store.stats.bytes = 5;
        store.purge(Instant::now() + Duration::from_secs(2));
        assert!(store.records.is_empty());
        assert_eq!(store.stats.expirations, 1);
    }

    #[actix_rt::test]
    async fn the_handle_and_the_actor_share_the_records() {
        let actor = ConversationActor::<u32>::new(Duration::from_secs(60), 10, 1000);
        let handle = actor.handle();
        let addr = actor.start();
        handle.put(put("a", 10));
        assert_eq!(addr.send(GetRecord::new("a")).await.unwrap(), Some(7));
        addr.send(put("b", 20)).await.unwrap();
        assert_eq!(handle.get("b"), Some(7));
        assert_eq!(handle.stats().bytes, 30);
        assert!(handle.delete("a"));
        assert_eq!(addr.send(StoreStats).await.unwrap().entries, 1);
    }
}

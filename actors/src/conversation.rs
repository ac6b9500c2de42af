//! `ConversationActor` and its [`ConversationRecords`]: stored responses keyed by id, with TTL
//! expiry (purged on the actor's timer, not only on access) and hard bounds on entries and bytes
//! (oldest evicted first), so memory stays flat under any load. The request path reads and
//! writes through a [`ConversationHandle`] (a short lock in its own worker: a mailbox message per
//! stored response woke the actor's thread for every request, ~12% of the gateway's CPU); the
//! actor owns the records' lifetime: it runs the purge timer. Generic over the stored value; the
//! gateway stores encoded records (`Bytes`).

use std::{
    collections::{BTreeSet, HashMap},
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The running actor (its purge timer) and the handle the request path would use.
    fn started(
        actor: ConversationActor<u32>,
    ) -> (ConversationHandle<u32>, Addr<ConversationActor<u32>>) {
        (actor.handle(), actor.start())
    }

    fn put(id: &str, bytes: usize) -> PutRecord<u32> {
        PutRecord {
            id: id.into(),
            value: 7,
            bytes,
        }
    }

    #[actix_rt::test]
    async fn stores_gets_and_deletes() {
        let (store, _actor) = started(ConversationActor::<u32>::new(
            Duration::from_secs(60),
            10,
            1000,
        ));
        store.put(put("a", 10));
        assert_eq!(store.get("a"), Some(7));
        assert!(store.delete("a"));
        assert_eq!(store.get("a"), None);
    }

    #[actix_rt::test]
    async fn bounds_evict_the_oldest() {
        let (store, _actor) = started(ConversationActor::<u32>::new(
            Duration::from_secs(60),
            2,
            25,
        ));
        for id in ["a", "b", "c"] {
            store.put(put(id, 10));
        }
        assert_eq!(store.get("a"), None);
        assert_eq!(store.get("c"), Some(7));
        let stats = store.stats();
        assert_eq!((stats.entries, stats.bytes, stats.evictions), (2, 20, 1));
    }

    #[actix_rt::test]
    async fn expired_records_are_gone_and_purged() {
        let (store, _actor) = started(ConversationActor::<u32>::new(
            Duration::from_millis(30),
            10,
            1000,
        ));
        store.put(put("a", 10));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(store.get("a"), None);
    }

    #[actix_rt::test]
    async fn expiry_follows_paused_time() {
        tokio::time::pause();
        let ttl = Duration::from_secs(3600);
        let (store, _actor) = started(ConversationActor::<u32>::new(ttl, 10, 1000));
        store.put(put("a", 10));
        tokio::time::advance(ttl - Duration::from_millis(1)).await;
        assert_eq!(store.get("a"), Some(7));
        tokio::time::advance(Duration::from_millis(2)).await;
        assert_eq!(store.get("a"), None);
    }

    #[actix_rt::test]
    async fn purge_timer_frees_expired_records_without_access() {
        tokio::time::pause();
        let ttl = Duration::from_secs(60);
        let (store, _actor) = started(ConversationActor::<u32>::new(ttl, 10, 1000));
        // The actor starts (and arms its timer) when it first runs.
        tokio::task::yield_now().await;
        store.put(put("a", 10));
        store.put(put("b", 20));
        tokio::time::advance(ttl + PURGE_INTERVAL).await;
        // Let the interval fire before asking.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let stats = store.stats();
        assert_eq!((stats.entries, stats.bytes, stats.expirations), (0, 0, 2));
    }

    #[actix_rt::test]
    async fn bounds_hold_across_100k_writes() {
        let (max_entries, max_bytes) = (10_000, 1_000_000);
        let (store, _actor) = started(ConversationActor::<u32>::new(
            Duration::from_secs(60),
            max_entries,
            max_bytes,
        ));
        let mut peak = ConversationStats::default();
        for i in 0..100_000_usize {
            // 50..=249 bytes: the byte bound (about 6,700 records) bites before the entry bound.
            store.put(put(&format!("resp_{i}"), 50 + i % 200));
            let stats = store.stats();
            assert!(
                stats.entries <= max_entries && stats.bytes <= max_bytes,
                "{stats:?}"
            );
            peak.entries = peak.entries.max(stats.entries);
            peak.bytes = peak.bytes.max(stats.bytes);
        }
        let stats = store.stats();
        assert_eq!(stats.evictions as usize + stats.entries, 100_000);
        assert!(
            peak.bytes > max_bytes - 250,
            "the byte bound was reached: {peak:?}"
        );
        let newest = store.get("resp_99999");
        assert_eq!(newest, Some(7));
        assert_eq!(store.get("resp_0"), None);
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
    async fn handles_share_the_records() {
        let (handle, _actor) = started(ConversationActor::<u32>::new(
            Duration::from_secs(60),
            10,
            1000,
        ));
        let other = handle.clone();
        handle.put(put("a", 10));
        other.put(put("b", 20));
        assert_eq!((handle.get("b"), other.get("a")), (Some(7), Some(7)));
        assert_eq!(handle.stats().bytes, 30);
        assert!(other.delete("a"));
        assert_eq!(handle.stats().entries, 1);
    }
}

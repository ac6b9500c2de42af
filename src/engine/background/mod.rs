//! Background responses (`background: true`): the per-process registry of runs (running counts
//! per caller and in total, each run's bounded event log that followers replay and tail, and
//! its cancel signal). The work itself is in `runner.rs`.

mod control;
mod remote;
mod runner;

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};

use futures::Stream;
use tokio::sync::watch;

pub(super) use runner::Detached;

use crate::{api::StreamEvent, config::BackgroundConfig, error::GatewayError};

/// The registry of background runs in this process; cheap to clone.
#[derive(Clone)]
pub struct Background {
    inner: Arc<Inner>,
}

struct Inner {
    config: BackgroundConfig,
    // A std mutex: held only for map and counter updates, never across an await (mr:src/db.rs).
    registry: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    runs: HashMap<String, Arc<Run>>,
    running: usize,
    per_caller: HashMap<String, usize>,
    /// Finished runs kept for replay, oldest first (at most `max_running` of them).
    finished: VecDeque<String>,
}

/// One background response: its event log and cancel signal.
pub struct Run {
    id: String,
    owner: String,
    log: Mutex<Log>,
    /// Bumped after every append and at the end; followers wait on it.
    changed: watch::Sender<()>,
    cancel: watch::Sender<bool>,
}

struct Log {
    events: VecDeque<StreamEvent>,
    capacity: usize,
    finished: bool,
}

/// A running slot, held by the runner: dropping it frees the slot and ends the run's log.
pub struct RunSlot {
    background: Background,
    run: Arc<Run>,
}

impl Drop for RunSlot {
    fn drop(&mut self) {
        self.background.release(&self.run);
    }
}

impl RunSlot {
    /// The run this slot holds.
    pub fn run(&self) -> &Arc<Run> {
        &self.run
    }
}

impl Background {
    /// An empty registry with `config`'s bounds.
    pub fn new(config: BackgroundConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                registry: Mutex::new(Registry::default()),
            }),
        }
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding this lock cannot leave the counters half-updated (each update
        // is a few integer steps), so a poisoned lock is still consistent.
        self.inner
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a new run of `owner`'s, or refuses it when the caller or the process is at
    /// its limit (429).
    pub fn admit(&self, id: &str, owner: &str) -> Result<RunSlot, GatewayError> {
        let config = self.inner.config;
        let mut registry = self.registry();
        if registry.running >= config.max_running {
            return Err(GatewayError::BackgroundLimit {
                scope: "on this gateway",
            });
        }
        let mine = registry.per_caller.get(owner).copied().unwrap_or(0);
        if mine >= config.max_per_caller {
            return Err(GatewayError::BackgroundLimit {
                scope: "for this caller",
            });
        }
        let run = Arc::new(Run {
            id: id.to_owned(),
            owner: owner.to_owned(),
            log: Mutex::new(Log {
                events: VecDeque::new(),
                capacity: config.event_buffer,
                finished: false,
            }),
            changed: watch::Sender::new(()),
            cancel: watch::Sender::new(false),
        });
        registry.running += 1;
        *registry.per_caller.entry(owner.to_owned()).or_default() += 1;
        registry.runs.insert(id.to_owned(), run.clone());
        Ok(RunSlot {
            background: self.clone(),
            run,
        })
    }

    /// The run `id`, running or recently finished, if this process has it.
    pub fn get(&self, id: &str) -> Option<Arc<Run>> {
        self.registry().runs.get(id).cloned()
    }

    /// Background responses running in this process.
    pub fn running(&self) -> usize {
        self.registry().running
    }

    fn release(&self, run: &Arc<Run>) {
        run.finish();
        let retain = self.inner.config.max_running.max(1);
        let mut registry = self.registry();
        registry.running = registry.running.saturating_sub(1);
        if let Some(count) = registry.per_caller.get_mut(&run.owner) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                registry.per_caller.remove(&run.owner);
            }
        }
        registry.finished.push_back(run.id.clone());
        while registry.finished.len() > retain {
            if let Some(old) = registry.finished.pop_front() {
                registry.runs.remove(&old);
            }
        }
    }
}

impl Run {
    fn log(&self) -> MutexGuard<'_, Log> {
        // Appends and reads leave the log consistent at every step.
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends events (in sequence order), dropping the oldest beyond the buffer's capacity.
    pub fn push(&self, events: Vec<StreamEvent>) {
        if events.is_empty() {
            return;
        }
        {
            let mut log = self.log();
            log.events.extend(events);
            while log.events.len() > log.capacity {
                log.events.pop_front();
            }
        }
        self.changed.send_replace(());
    }

    fn finish(&self) {
        self.log().finished = true;
        self.changed.send_replace(());
    }

    /// The response id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the run has ended.
    pub fn is_finished(&self) -> bool {
        self.log().finished
    }

    /// Asks the runner to stop (it ends the response `cancelled`).
    pub fn cancel(&self) {
        self.cancel.send_replace(true);
    }

    /// The signal the runner watches.
    pub fn cancel_signal(&self) -> watch::Receiver<bool> {
        self.cancel.subscribe()
    }

    /// Resolves once the run has ended.
    pub async fn finished(&self) {
        let mut changed = self.changed.subscribe();
        while !self.is_finished() {
            if changed.changed().await.is_err() {
                return;
            }
        }
    }

    /// The events after sequence number `after` (all of them when `None`) in batches, then
    /// the live ones until the terminal event: no gap and no duplicate, since every batch
    /// starts right after the last one sent. Refused when the first wanted event has already
    /// left the bounded buffer.
    pub fn follow(
        self: &Arc<Self>,
        after: Option<u64>,
    ) -> Result<impl Stream<Item = Vec<StreamEvent>> + use<>, GatewayError> {
        let first_wanted = after.map_or(0, |n| n.saturating_add(1));
        let oldest = self.log().events.front().map(|e| e.sequence_number);
        if oldest.is_some_and(|oldest| oldest > first_wanted) {
            return Err(GatewayError::invalid(
                format!(
                    "Events before sequence number {} of this response are no longer kept; resume from a later one.",
                    oldest.unwrap_or_default()
                ),
                Some("starting_after"),
            ));
        }
        // Subscribed before the first read, so an append between the read and the wait still
        // wakes the follower.
        let follower = Follower {
            changed: self.changed.subscribe(),
            run: self.clone(),
            next: first_wanted,
            done: false,
        };
        Ok(futures::stream::unfold(follower, |mut f| async move {
            let batch = f.next_batch().await?;
            Some((batch, f))
        }))
    }
}

/// A reader of one run's log.
struct Follower {
    run: Arc<Run>,
    changed: watch::Receiver<()>,
    /// The next sequence number to send.
    next: u64,
    done: bool,
}

impl Follower {
    async fn next_batch(&mut self) -> Option<Vec<StreamEvent>> {
        loop {
            if self.done {
                return None;
            }
            let (batch, finished) = {
                let log = self.run.log();
                if log
                    .events
                    .front()
                    .is_some_and(|e| e.sequence_number > self.next)
                {
                    // This follower fell behind by more than the buffer: rather than skip
                    // events, end here (the client resumes from its last sequence number, and
                    // is told then that those events are gone).
                    tracing::warn!(response_id = %self.run.id, "A background stream follower fell behind the event buffer.");
                    return None;
                }
                // Sequence numbers in the log are consecutive, so the position is arithmetic.
                let start = log.events.front().map_or(0, |e| {
                    usize::try_from(self.next - e.sequence_number).unwrap_or(usize::MAX)
                });
                let batch: Vec<StreamEvent> = log.events.iter().skip(start).cloned().collect();
                (batch, log.finished)
            };
            if let Some(last) = batch.last() {
                self.next = last.sequence_number + 1;
                self.done = last.body.is_terminal();
                return Some(batch);
            }
            if finished {
                return None;
            }
            if self.changed.changed().await.is_err() {
                return None;
            }
        }
    }
}

/// Resolves once `signal` asks to cancel; never without a signal (or once its sender is gone).
pub(super) async fn cancelled(signal: Option<&mut watch::Receiver<bool>>) {
    if let Some(signal) = signal
        && signal.wait_for(|cancel| *cancel).await.is_ok()
    {
        return;
    }
    std::future::pending::<()>().await;
}

//! Following a background response that runs on another replica: its events are read from the
//! shared store's stream (`<prefix>events:<id>`, written by the runner) in order, polled until
//! the terminal event. No gap and no duplicate: entries are read after the last one seen, and
//! only sequence numbers from the next wanted one on are passed.

use std::time::Duration;

use futures::Stream;

use crate::{api::StreamEvent, engine::ConversationStore};

/// Pause between two reads that found nothing new (the runner writes every batch at once).
const POLL: Duration = Duration::from_millis(100);
/// A follower that has seen nothing new for this long ends (the runner's replica stopped; a
/// `GET` of the response then reports how it ended).
const GIVE_UP: Duration = Duration::from_secs(600);

/// Reads one response's events from the shared store.
pub struct RemoteFollower {
    store: ConversationStore,
    id: String,
    /// The last stream entry read.
    after: String,
    /// The next sequence number to pass on.
    next: u64,
    done: bool,
}

impl RemoteFollower {
    /// A follower of response `id` from sequence number `next` on.
    pub fn new(store: ConversationStore, id: String, next: u64) -> Self {
        Self {
            store,
            id,
            after: "-".to_owned(),
            next,
            done: false,
        }
    }

    /// The events in batches, ending after the terminal one.
    pub fn into_stream(self) -> impl Stream<Item = Vec<StreamEvent>> {
        futures::stream::unfold(self, |mut follower| async move {
            let batch = follower.next_batch().await?;
            Some((batch, follower))
        })
    }

    async fn next_batch(&mut self) -> Option<Vec<StreamEvent>> {
        let mut idle = Duration::ZERO;
        while !self.done {
            let entries = match self.store.read_events(&self.id, &self.after).await {
                Ok(Some(entries)) => entries,
                Ok(None) => return None,
                Err(err) => {
                    tracing::warn!(id = %self.id, error = %err, "Cannot read background events from the shared store.");
                    Vec::new()
                }
            };
            let mut batch = Vec::new();
            for (entry, event) in entries {
                self.after = entry;
                if event.sequence_number < self.next {
                    continue;
                }
                self.next = event.sequence_number + 1;
                self.done = event.body.is_terminal();
                batch.push(event);
                if self.done {
                    break;
                }
            }
            if !batch.is_empty() {
                return Some(batch);
            }
            if idle >= GIVE_UP {
                return None;
            }
            tokio::time::sleep(POLL).await;
            idle += POLL;
        }
        None
    }
}

//! What an owner does with a background response once it runs: cancel it (here, or through
//! the shared store on the replica running it), follow its events (from this process's log or
//! the shared store), and the settling of one whose replica stopped.

use std::time::Duration;

use crate::{
    api::{ResponseResource, ResponseStatus},
    engine::{Engine, EventStream, StoredResponse},
    error::GatewayError,
};

/// How long `cancel` waits for the runner to store the cancelled end before answering with
/// the state it finds.
const CANCEL_WAIT: Duration = Duration::from_secs(10);
/// How often a cancel served by another replica looks for the cancelled end in the store.
const CANCEL_END_POLL: Duration = Duration::from_millis(50);

impl Engine {
    /// `POST /v1/responses/{id}/cancel` for `owner`: stops a running background response and
    /// answers it `cancelled`; an ended one is answered as it is.
    pub async fn cancel_response(
        &self,
        id: &str,
        owner: &str,
    ) -> Result<ResponseResource, GatewayError> {
        let stored = self.owned_background(id, owner, None).await?;
        if stored.response.status.is_terminal() {
            return Ok(stored.response);
        }
        match self.background.get(id) {
            Some(run) => {
                run.cancel();
                // Bounded: the runner ends promptly, but the answer must not hang on it.
                let _ = tokio::time::timeout(CANCEL_WAIT, run.finished()).await;
                let now = self.conversations.get_owned(id, owner).await?;
                Ok(now.map_or(stored.response, |s| s.response))
            }
            None if self.conversations.is_shared() => {
                // Another replica may be running it: ask it through the store, then wait
                // (bounded) for the end it stores.
                self.conversations.request_cancel(id).await?;
                let deadline = tokio::time::Instant::now() + CANCEL_WAIT;
                loop {
                    let now = self.conversations.get_owned(id, owner).await?;
                    match now {
                        Some(now) if now.response.status.is_terminal() => return Ok(now.response),
                        Some(_) if tokio::time::Instant::now() < deadline => {
                            tokio::time::sleep(CANCEL_END_POLL).await;
                        }
                        now => return Ok(now.map_or(stored.response, |s| s.response)),
                    }
                }
            }
            None => {
                // No runner holds it (the memory store is this process's own): it is over.
                let mut stored = stored;
                stored.response.status = ResponseStatus::Cancelled;
                self.conversations.put(stored.clone()).await?;
                Ok(stored.response)
            }
        }
    }

    /// `GET /v1/responses/{id}?stream=true[&starting_after=N]`: the events after `N`, then
    /// the live ones until the end.
    pub async fn follow_response(
        &self,
        id: &str,
        owner: &str,
        starting_after: Option<u64>,
    ) -> Result<EventStream, GatewayError> {
        self.owned_background(id, owner, Some("stream")).await?;
        let keepalive = self.config.server.keepalive;
        if let Some(run) = self.background.get(id) {
            let events = run.follow(starting_after)?;
            return Ok(EventStream::from_batches(events, keepalive));
        }
        // Running (or run) on another replica: its events are in the shared store.
        let first = self.conversations.read_events(id, "-").await?;
        let Some(first) = first.filter(|events| !events.is_empty()) else {
            return Err(GatewayError::invalid(
                format!(
                    "The events of response '{id}' are no longer kept; retrieve it without `stream`."
                ),
                Some("stream"),
            ));
        };
        let wanted = starting_after.map_or(0, |n| n.saturating_add(1));
        if first[0].1.sequence_number > wanted {
            return Err(GatewayError::invalid(
                format!(
                    "Events before sequence number {} of this response are no longer kept; resume from a later one.",
                    first[0].1.sequence_number
                ),
                Some("starting_after"),
            ));
        }
        let follower =
            super::remote::RemoteFollower::new(self.conversations.clone(), id.to_owned(), wanted);
        Ok(EventStream::from_batches(follower.into_stream(), keepalive))
    }

    /// `owner`'s stored response `id`, which must be a background one (400 naming `param`
    /// otherwise).
    async fn owned_background(
        &self,
        id: &str,
        owner: &str,
        param: Option<&str>,
    ) -> Result<StoredResponse, GatewayError> {
        let stored = self
            .conversations
            .get_owned(id, owner)
            .await?
            .ok_or_else(|| GatewayError::NotFound {
                message: format!(
                    "Response with id '{id}' not found (unknown, expired, deleted, or created with store=false)."
                ),
                param: None,
                code: "response_not_found",
            })?;
        if !stored.response.background {
            return Err(GatewayError::invalid(
                format!(
                    "Response '{id}' was not created with `background: true`; only background responses can be cancelled or streamed again."
                ),
                param,
            ));
        }
        Ok(self.settle_orphan(stored).await)
    }

    /// A background response whose replica stopped (its heartbeat expired, it runs nowhere
    /// here) is marked `failed` and stored, so nothing stays `in_progress` forever; anything
    /// else is returned as it is.
    pub async fn settle_orphan(&self, mut stored: StoredResponse) -> StoredResponse {
        let response = &stored.response;
        let unfinished = matches!(
            response.status,
            ResponseStatus::Queued | ResponseStatus::InProgress
        );
        if !response.background
            || !unfinished
            || self.background.get(&response.id).is_some()
            || !self.conversations.runner_is_gone(&response.id).await
        {
            return stored;
        }
        stored.response.status = ResponseStatus::Failed;
        stored.response.error = Some(crate::api::ResponseError {
            code: "server_error".to_owned(),
            message:
                "The gateway replica running this background response stopped before it finished."
                    .to_owned(),
        });
        tracing::warn!(id = %stored.response.id, "Background response orphaned by a stopped replica; marked failed.");
        if let Err(err) = self.conversations.put(stored.clone()).await {
            tracing::warn!(error = %err, "Could not store the orphaned background response's end.");
        }
        stored
    }
}

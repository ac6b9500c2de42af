//! Graceful drain. On SIGTERM or SIGINT the gateway reports not ready (`/readyz` → 503) at once
//! but keeps accepting and serving for `server.shutdown_delay`, so a load balancer has time to
//! notice; then new model requests are refused with 503 `server_shutting_down` while in-flight
//! requests and streams finish, for at most `server.shutdown_timeout`; then what is still open
//! is closed: live streams end with `error` + `response.failed`, requests still waiting for their
//! first byte (or still sending their body) answer 503. Live streams and attempts watch one
//! shared [`Drain`] signal; nothing polls.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix_web::dev::ServerHandle;
use tokio::sync::{Notify, watch};

/// Extra time actix waits after the drain closed the streams, so they end cleanly before it
/// cuts connections.
pub const CLOSE_MARGIN: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Not ready; still serving everything.
    Draining,
    /// New model requests refused; in-flight work finishing.
    Refusing,
    Closed,
}

/// Model requests (and their response bodies) still running.
#[derive(Default)]
struct Active {
    count: AtomicUsize,
    idle: Notify,
}

/// The shared drain signal (cheap to clone).
#[derive(Clone)]
pub struct Drain {
    phase: Arc<watch::Sender<Phase>>,
    active: Arc<Active>,
    /// Background responses still running (also counted in `active`).
    detached: Arc<Active>,
}

/// One model request in flight: held until its response body is finished or dropped.
pub struct DrainTicket {
    active: Arc<Active>,
}

impl Drop for DrainTicket {
    fn drop(&mut self) {
        if self.active.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.active.idle.notify_waiters();
        }
    }
}

/// A background response's hold on the drain: counted with the requests, so the grace period
/// waits for it, and on its own, so that after the close the drain waits (at most
/// [`CLOSE_MARGIN`]) for its `failed` end to be stored before the server stops.
pub struct DetachedTicket {
    _request: DrainTicket,
    _detached: DrainTicket,
}

impl Default for Drain {
    fn default() -> Self {
        Self::new()
    }
}

impl Drain {
    /// Serving.
    pub fn new() -> Self {
        Self {
            phase: Arc::new(watch::Sender::new(Phase::Serving)),
            active: Arc::new(Active::default()),
            detached: Arc::new(Active::default()),
        }
    }

    /// Starts draining: not ready any more, everything still served.
    pub fn begin(&self) {
        self.advance(Phase::Draining);
    }

    /// Refuses new model requests from now on; in-flight work continues.
    pub fn refuse(&self) {
        self.advance(Phase::Refusing);
    }

    /// Ends the grace period: open streams and waiting attempts close now.
    pub fn close(&self) {
        self.advance(Phase::Closed);
    }

    /// Moves forward to `next` (never back).
    fn advance(&self, next: Phase) {
        self.phase.send_if_modified(|phase| {
            let forward = rank(*phase) < rank(next);
            if forward {
                *phase = next;
            }
            forward
        });
    }

    /// Whether the drain has begun (`/readyz` answers 503).
    pub fn is_draining(&self) -> bool {
        *self.phase.borrow() != Phase::Serving
    }

    /// A ticket for a new model request, or `None` once new requests are refused.
    pub fn admit(&self) -> Option<DrainTicket> {
        if matches!(*self.phase.borrow(), Phase::Refusing | Phase::Closed) {
            return None;
        }
        self.active.count.fetch_add(1, Ordering::AcqRel);
        Some(DrainTicket {
            active: self.active.clone(),
        })
    }

    /// A ticket for a new background response, or `None` once new requests are refused.
    pub fn admit_detached(&self) -> Option<DetachedTicket> {
        let request = self.admit()?;
        self.detached.count.fetch_add(1, Ordering::AcqRel);
        Some(DetachedTicket {
            _request: request,
            _detached: DrainTicket {
                active: self.detached.clone(),
            },
        })
    }

    /// Model requests in flight.
    pub fn active(&self) -> usize {
        self.active.count.load(Ordering::Acquire)
    }

    /// Resolves once no model request is in flight.
    async fn idle(&self) {
        idle(&self.active).await;
    }

    /// Resolves once the grace period is over (never while serving normally).
    pub async fn closed(&self) {
        let mut phase = self.phase.subscribe();
        // The sender lives as long as `self`, so this only ends at `Closed`.
        let _ = phase.wait_for(|p| *p == Phase::Closed).await;
    }

    /// Drains `server`: not ready at once; everything served for `delay`; then new model
    /// requests refused while in-flight ones finish, for at most `grace`; then what is left is
    /// closed and the server stops. Returns once it stopped.
    pub async fn shutdown(&self, server: ServerHandle, delay: Duration, grace: Duration) {
        self.begin();
        tokio::time::sleep(delay).await;
        self.refuse();
        let finished = tokio::time::timeout(grace, self.idle()).await.is_ok();
        if !finished {
            tracing::warn!(
                active = self.active(),
                "Drain deadline reached; closing open streams."
            );
        }
        self.close();
        // Background responses have no connection to keep the server up: wait here until their
        // ends are stored.
        if tokio::time::timeout(CLOSE_MARGIN, idle(&self.detached))
            .await
            .is_err()
        {
            tracing::warn!("Background responses did not end within the close margin.");
        }
        server.stop(true).await;
    }

    /// Waits for SIGTERM or SIGINT, then [`Self::shutdown`]s `server`.
    pub async fn on_signals(self, server: ServerHandle, delay: Duration, grace: Duration) {
        let signal = wait_for_signal().await;
        tracing::info!(
            signal,
            delay_s = delay.as_secs_f64(),
            grace_s = grace.as_secs_f64(),
            "Shutting down: not ready now, serving for the delay, then draining in-flight requests."
        );
        self.shutdown(server, delay, grace).await;
        tracing::info!("Drained; bye.");
    }
}

/// Resolves once `active` counts nothing.
async fn idle(active: &Active) {
    loop {
        let notified = active.idle.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if active.count.load(Ordering::Acquire) == 0 {
            return;
        }
        notified.await;
    }
}

fn rank(phase: Phase) -> u8 {
    match phase {
        Phase::Serving => 0,
        Phase::Draining => 1,
        Phase::Refusing => 2,
        Phase::Closed => 3,
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        },
        (Err(err), _) | (_, Err(err)) => {
            tracing::error!(error = %err, "Cannot listen for signals; falling back to Ctrl-C only.");
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn streams_see_the_close_only_after_the_grace_period() {
        let drain = Drain::new();
        assert!(!drain.is_draining());
        let waiter = tokio::spawn({
            let drain = drain.clone();
            async move { drain.closed().await }
        });
        drain.begin();
        assert!(drain.is_draining());
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "draining is not closed yet");
        drain.close();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        drain.closed().await; // already closed: resolves at once
    }

    #[tokio::test(start_paused = true)]
    async fn tickets_are_refused_after_the_delay_and_the_drain_ends_when_they_finish() {
        let drain = Drain::new();
        let ticket = drain.admit().unwrap();
        drain.begin();
        let during_delay = drain.admit();
        assert!(during_delay.is_some(), "served during the delay");
        drop(during_delay);
        drain.refuse();
        assert!(drain.admit().is_none(), "refused after the delay");
        assert_eq!(drain.active(), 1);
        let idle = tokio::spawn({
            let drain = drain.clone();
            async move { drain.idle().await }
        });
        tokio::task::yield_now().await;
        assert!(!idle.is_finished(), "one request still in flight");
        drop(ticket);
        tokio::time::timeout(Duration::from_secs(1), idle)
            .await
            .unwrap()
            .unwrap();
        // Phases never go back.
        drain.begin();
        assert!(drain.admit().is_none());
    }
}

//! Graceful drain. On SIGTERM or SIGINT the gateway reports not ready (`/readyz` → 503) at once,
//! stops accepting connections, and lets in-flight requests and streams finish for
//! `server.shutdown_timeout`; then it closes what is still open: live streams end with `error` +
//! `response.failed`, requests still waiting for their first byte answer 503. Live streams and
//! attempts watch one shared [`Drain`] signal; nothing polls.

use std::{sync::Arc, time::Duration};

use actix_web::dev::ServerHandle;
use tokio::sync::watch;

/// Extra time actix waits after the drain closed the streams, so they end cleanly before it
/// cuts connections.
pub const CLOSE_MARGIN: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    Draining,
    Closed,
}

/// The shared drain signal (cheap to clone).
#[derive(Clone)]
pub struct Drain {
    phase: Arc<watch::Sender<Phase>>,
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
        }
    }

    /// Starts draining: not ready any more, in-flight work continues.
    pub fn begin(&self) {
        self.phase.send_if_modified(|phase| {
            let serving = *phase == Phase::Serving;
            if serving {
                *phase = Phase::Draining;
            }
            serving
        });
    }

    /// Ends the grace period: open streams and waiting attempts close now.
    pub fn close(&self) {
        self.phase.send_replace(Phase::Closed);
    }

    /// Whether the drain has begun (`/readyz` answers 503).
    pub fn is_draining(&self) -> bool {
        *self.phase.borrow() != Phase::Serving
    }

    /// Resolves once the grace period is over (never while serving normally).
    pub async fn closed(&self) {
        let mut phase = self.phase.subscribe();
        // The sender lives as long as `self`, so this only ends at `Closed`.
        let _ = phase.wait_for(|p| *p == Phase::Closed).await;
    }

    /// Drains `server`: begin, stop accepting, close after `grace`; returns once it stopped.
    pub async fn shutdown(&self, server: ServerHandle, grace: Duration) {
        self.begin();
        let drain = self.clone();
        let closer = actix_web::rt::spawn(async move {
            tokio::time::sleep(grace).await;
            tracing::warn!("Drain deadline reached; closing open streams.");
            drain.close();
        });
        server.stop(true).await;
        closer.abort();
    }

    /// Waits for SIGTERM or SIGINT, then [`Self::shutdown`]s `server`.
    pub async fn on_signals(self, server: ServerHandle, grace: Duration) {
        let signal = wait_for_signal().await;
        tracing::info!(
            signal,
            grace_s = grace.as_secs_f64(),
            "Shutting down: not ready, no new connections, draining in-flight requests."
        );
        self.shutdown(server, grace).await;
        tracing::info!("Drained; bye.");
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
}

//! [`Permit`]: a concurrency slot held for one upstream call, and the [`Waiter`] that keeps a
//! queued caller's admission honest however its wait ends.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use tokio::{sync::OwnedSemaphorePermit, time::Instant};

use super::ProviderGate;
use crate::health::ReportOutcome;

/// A concurrency slot. Hold it for the whole upstream call, stream included; dropping it frees
/// the slot. Report the outcome once the first byte (or the failure) is known.
pub struct Permit {
    slot: Option<OwnedSemaphorePermit>,
    gate: Arc<ProviderGate>,
    reported: bool,
    /// Tokens charged to the `tpm` bucket (`None` without a `tpm` limit).
    tokens: Option<u64>,
    settled: bool,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("provider", &self.gate.name)
            .field("reported", &self.reported)
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl Permit {
    pub(super) fn new(
        slot: OwnedSemaphorePermit,
        gate: Arc<ProviderGate>,
        tokens: Option<u64>,
    ) -> Self {
        Self {
            slot: Some(slot),
            gate,
            reported: false,
            tokens,
            settled: false,
        }
    }

    /// Records the time to the first event of a stream (the latency average) without a
    /// verdict: the stream counts as a success only when it completes.
    pub fn first_byte(&self, ttfb: Duration) {
        self.gate.lock().health.record_ttfb(ttfb);
    }

    /// Reports the call's outcome (only the first report counts).
    pub fn report(&mut self, outcome: ReportOutcome) {
        if !self.reported {
            self.reported = true;
            self.gate.record(&outcome);
        }
    }

    /// Corrects the estimated token charge with the tokens really used (only once; nothing to
    /// do without a `tpm` limit).
    pub fn settle_tokens(&mut self, used: u64) {
        if let Some(charged) = self.tokens.filter(|_| !self.settled) {
            self.settled = true;
            let refund = i128::from(charged) - i128::from(used);
            let refund =
                i64::try_from(refund).unwrap_or(if refund < 0 { i64::MIN } else { i64::MAX });
            if refund != 0 {
                self.gate.refund_tokens(refund);
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Free the slot before the report, so the in-flight count is already right.
        drop(self.slot.take());
        self.report(ReportOutcome::Abandoned);
    }
}

/// A caller waiting for a slot. However the wait ends it leaves the queue, and unless it got a
/// slot it gives its admission back (`rpm`/`tpm` charge, a half-open probe): also when the wait
/// is dropped with the caller's request, which would otherwise leave a probe taken for good.
pub(super) struct Waiter<'a> {
    pub(super) gate: &'a ProviderGate,
    pub(super) tokens: u64,
    pub(super) served: bool,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.gate.waiting.fetch_sub(1, Ordering::Relaxed);
        if !self.served {
            let now = Instant::now();
            let mut state = self.gate.lock();
            state.health.undo_admit(self.tokens, now);
            self.gate.publish(&mut state, now);
            drop(state);
            self.gate.give_back_lease(self.tokens);
        }
    }
}

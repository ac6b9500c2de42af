//! What a provider instance exchanges: fleet trips ([`Trip`], [`Tripped`], [`ApplyTrip`]),
//! the status query and its answer, admission refusals, and the limits it is built with.

use std::{sync::Arc, time::Duration};

use actix::prelude::*;

use crate::{breaker::BreakerState, health::Refusal, lease::LeasePool};

/// What tripped on one replica and should hold on every replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trip {
    /// An upstream 429 with `retry-after`: `model` cools.
    Cooling {
        /// The upstream model.
        model: String,
    },
    /// The breaker opened.
    BreakerOpen,
}

/// Reports a trip on this replica, for the fleet to publish (sent by the gate).
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub struct Tripped {
    /// The provider instance.
    pub provider: String,
    /// What tripped.
    pub trip: Trip,
    /// For how long from now.
    pub lasts: Duration,
}

/// Applies another replica's trip to this provider (sent by the fleet actor).
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub struct ApplyTrip {
    /// What tripped.
    pub trip: Trip,
    /// For how long from now.
    pub lasts: Duration,
}

/// Asks for the provider's live status.
#[derive(Message)]
#[rtype(result = "ProviderStatus")]
pub struct Status;

/// Why a permit was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AdmissionError {
    /// The breaker is open.
    #[error("circuit open for {retry_after:?}")]
    CircuitOpen {
        /// Until the breaker half-opens.
        retry_after: Duration,
    },
    /// Cooling after an upstream 429, or over the local `rpm`/`tpm` limit.
    #[error("rate limited for {retry_after:?}")]
    RateLimited {
        /// Until a call fits again.
        retry_after: Duration,
    },
    /// The wait queue is full, or the wait timed out.
    #[error("queue full")]
    QueueFull {
        /// Suggested wait.
        retry_after: Duration,
    },
}

impl From<Refusal> for AdmissionError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::CircuitOpen(retry_after) => Self::CircuitOpen { retry_after },
            Refusal::RateLimited(retry_after) => Self::RateLimited { retry_after },
        }
    }
}

/// Limits of one provider instance.
#[derive(Debug, Clone)]
pub struct ProviderLimits {
    /// Concurrent calls.
    pub max_concurrency: usize,
    /// Callers allowed to wait for a permit.
    pub max_queue: usize,
    /// Longest wait for a permit.
    pub queue_timeout: Duration,
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// Breaker cooldown.
    pub cooldown: Duration,
    /// Local requests-per-minute limit.
    pub rpm: Option<u64>,
    /// Local tokens-per-minute limit.
    pub tpm: Option<u64>,
    /// Fleet mode: `rpm`/`tpm` hold across replicas and are drawn from this pool instead of
    /// local buckets.
    pub fleet: Option<Arc<LeasePool>>,
}

/// A live view of one provider.
#[derive(Debug, Clone)]
pub struct ProviderStatus {
    /// Instance name.
    pub name: String,
    /// Calls holding a permit.
    pub in_flight: usize,
    /// Callers waiting for a permit.
    pub waiting: usize,
    /// Breaker state.
    pub breaker: BreakerState,
    /// Recent time to first byte.
    pub ttfb: Option<Duration>,
}

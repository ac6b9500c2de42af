//! The actor system of llm-gateway. Actors own state, never I/O:
//! - [`ProviderActor`]: one per upstream instance, holding its [`ProviderGate`]: concurrency
//!   permits with a bounded wait queue, a circuit breaker, 429 cooling per model, local
//!   `rpm`/`tpm` limits and a latency average, fed by outcome reports and published to the router.
//!   In fleet mode its `rpm`/`tpm` draw from a [`LeasePool`] the fleet task keeps topped up.
//! - [`RouterActor`]: keeps the [`RouteTable`] that resolves a model to a plan, orders it by the
//!   model group's [`Strategy`] and skips candidates that cannot take a call now.
//!
//! The request path reads the route table and takes permits from the gates in its own worker
//! (short locks, no mailbox round trip); the actors are their writers and message front.
//! - [`ConversationActor`]: stored responses with TTL expiry (its timer) and entry/byte bounds,
//!   read and written through a [`ConversationHandle`].
//!
//! Messages are only what production sends: provider updates to the router
//! ([`InstanceUpdate`]), a new routing table on reload ([`Replace`]), fleet trips to provider
//! actors ([`ApplyTrip`]) and their status for metrics ([`Status`]).
//!
//! Callers run upstream I/O themselves while holding a [`Permit`]; tokens never pass a mailbox.

mod breaker;
mod bucket;
mod conversation;
mod health;
mod lease;
mod provider;
mod router;
mod strategy;

pub use breaker::{Breaker, BreakerState};
pub use bucket::TokenBucket;
pub use conversation::{
    ConversationActor, ConversationHandle, ConversationRecords, ConversationStats, PutRecord,
};
pub use health::{Availability, InstanceHealth, InstanceUpdate, Refusal, ReportOutcome};
pub use lease::{Lease, LeasePool, Take};
pub use provider::{
    AdmissionError, ApplyTrip, Permit, ProviderActor, ProviderGate, ProviderLimits, ProviderStatus,
    Status, Trip, Tripped,
};
pub use router::{Plan, Replace, Resolve, Route, RouteError, RouteTable, Routed, RouterActor};
pub use strategy::{
    Candidate, Demand, InstanceStats, Price, SplitMix64, Strategy, Target, cost, order, sticky_hash,
};

//! The actor system of llm-gateway. Actors own state, never I/O:
//! - [`ProviderActor`]: one per upstream instance; concurrency permits with a bounded wait queue,
//!   a circuit breaker, 429 cooling per model, local `rpm`/`tpm` limits and a latency average,
//!   all fed by outcome reports and published to the router.
//! - [`RouterActor`]: resolves a model to a plan, orders it by the model group's [`Strategy`]
//!   and skips candidates that cannot take a call now.
//! - [`ConversationActor`]: stored responses with TTL expiry and entry/byte bounds.
//!
//! Callers run upstream I/O themselves while holding a [`Permit`]; tokens never pass a mailbox.

mod breaker;
mod bucket;
mod conversation;
mod health;
mod provider;
mod router;
mod strategy;

pub use breaker::{Breaker, BreakerState};
pub use bucket::TokenBucket;
pub use conversation::{
    ConversationActor, ConversationStats, DeleteRecord, GetRecord, PutRecord, StoreStats,
};
pub use health::{Availability, InstanceHealth, Refusal};
pub use provider::{
    Acquire, AdmissionError, Permit, ProviderActor, ProviderLimits, ProviderStatus, ReportOutcome,
    Status,
};
pub use router::{
    Candidate, InstanceUpdate, Plan, Resolve, Route, RouteError, Routed, RouterActor,
};
pub use strategy::{
    Demand, InstanceStats, Price, SplitMix64, Strategy, Target, cost, order, sticky_hash,
};

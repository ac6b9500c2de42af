//! The actor system of llm-gateway. Actors own state, never I/O:
//! - [`ProviderActor`]: one per upstream instance; concurrency permits with a bounded wait queue,
//!   and a circuit breaker fed by outcome reports.
//! - [`RouterActor`]: resolves a model to ordered candidates and skips open breakers.
//! - [`ConversationActor`]: stored responses with TTL expiry and entry/byte bounds.
//!
//! Callers run upstream I/O themselves while holding a [`Permit`]; tokens never pass a mailbox.

mod breaker;
mod conversation;
mod provider;
mod router;

pub use breaker::{Breaker, BreakerState};
pub use conversation::{
    ConversationActor, ConversationStats, DeleteRecord, GetRecord, PutRecord, StoreStats,
};
pub use provider::{
    Acquire, AdmissionError, Permit, ProviderActor, ProviderLimits, ProviderStatus, ReportOutcome,
    Status,
};
pub use router::{BreakerChanged, Candidate, Resolve, Route, RouteError, RouterActor};

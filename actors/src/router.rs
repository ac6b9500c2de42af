//! `RouterActor` and its [`RouteTable`]: resolve a model name to a plan (a model group's targets
//! and strategy, plus fallbacks), order it with the strategy, and drop the candidates that cannot
//! take a call now (breaker open, model cooling after a 429, local rate limit reached), as the
//! provider instances report in [`InstanceUpdate`]s. The actor is the table's one writer; the
//! request path routes by reading the table in its own worker (a pure computation under a read
//! lock), so routing costs no mailbox round trip. No I/O anywhere.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError, RwLock},
    time::Duration,
};

use actix::prelude::*;
use tokio::time::Instant;

use crate::{
    health::{Availability, InstanceUpdate},
    provider::ProviderGate,
    strategy::{self, Candidate, Demand, InstanceStats, SplitMix64, Strategy, Target},
};

/// Why no candidate can be offered.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    /// No configured provider serves this model.
    #[error("{0}")]
    UnknownModel(String),
    /// No candidate can take a call now.
    #[error("all providers for this model are cooling down")]
    AllUnavailable {
        /// Until the first candidate can take a call again.
        retry_after: Duration,
        /// Whether a candidate is rate limited (cooling or at its local limit) rather than
        /// only unhealthy (breaker open).
        rate_limited: bool,
    },
}

/// What the rules resolved a model name to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// How to order `targets`.
    pub strategy: Strategy,
    /// The model group's targets (a single-target plan for names routed by prefix).
    pub targets: Vec<Target>,
    /// Tried after every target, in this order.
    pub fallbacks: Vec<Candidate>,
}

/// The routing rules the router applies (pure, provided by the gateway from its config).
pub trait Resolve: Unpin + Send + Sync + 'static {
    /// The plan for `model`, optionally pinned to a provider.
    fn resolve(&self, model: &str, pinned: Option<&str>) -> Result<Plan, RouteError>;
}

/// The candidates that can take a call now, in the order to try them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Routed {
    /// Candidates to try, in order.
    pub candidates: Vec<Candidate>,
    /// Soonest end of a 429 cooling or local limit among the skipped candidates.
    pub skipped_limited: Option<Duration>,
    /// Soonest half-open among the candidates skipped for an open breaker.
    pub skipped_open: Option<Duration>,
}

/// Resolves a model to ordered candidates that can take a call now (read from the
/// [`RouteTable`] in the request's own worker).
#[derive(Debug, Clone, Default)]
pub struct Route {
    /// The requested model.
    pub model: String,
    /// A pinned provider (`"provider"` field or `provider/model` name).
    pub pinned: Option<String>,
    /// A conversation's sticky key ([`strategy::sticky_hash`]): `weighted` picks the same
    /// target for the same key.
    pub sticky: Option<u64>,
    /// The request's size, for `cost`.
    pub demand: Demand,
}

/// What the router routes by, shared between the actor (which applies [`InstanceUpdate`]s) and
/// the request path (which calls [`RouteTable::route`]).
pub struct RouteTable<R> {
    rules: R,
    /// Availability as last published by each instance.
    instances: RwLock<HashMap<String, Availability>>,
    /// Instances whose calls in flight and latency are read live (not published per call).
    live: RwLock<HashMap<String, Arc<ProviderGate>>>,
    /// Randomness for `weighted` splits without a sticky key.
    rng: Mutex<SplitMix64>,
}

impl<R: Resolve> RouteTable<R> {
    fn new(rules: R, seed: u64) -> Self {
        Self {
            rules,
            instances: RwLock::new(HashMap::new()),
            live: RwLock::new(HashMap::new()),
            rng: Mutex::new(SplitMix64::new(seed)),
        }
    }

    /// Reads `provider`'s calls in flight and latency from its gate from now on.
    pub fn register(&self, provider: &str, gate: Arc<ProviderGate>) {
        self.live
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(provider.to_owned(), gate);
    }

    fn apply(&self, update: InstanceUpdate) {
        self.instances
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(update.provider, update.availability);
    }

    /// The candidates for `msg` that can take a call now, in the order to try them.
    pub fn route(&self, msg: &Route) -> Result<Routed, RouteError> {
        let plan = self.rules.resolve(&msg.model, msg.pinned.as_deref())?;
        let instances = self
            .instances
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let live = self.live.read().unwrap_or_else(PoisonError::into_inner);
        let stats = |provider: &str| match live.get(provider) {
            Some(gate) => gate.stats(),
            None => instances
                .get(provider)
                .map_or(InstanceStats::default(), |a| a.stats),
        };
        let order = match msg.sticky {
            Some(key) => {
                let mut sticky = SplitMix64::new(key);
                strategy::order(
                    plan.strategy,
                    &plan.targets,
                    &stats,
                    msg.demand,
                    &mut sticky,
                )
            }
            None => {
                let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
                strategy::order(plan.strategy, &plan.targets, &stats, msg.demand, &mut rng)
            }
        };
        let mut ordered: Vec<Candidate> = Vec::with_capacity(order.len() + plan.fallbacks.len());
        for candidate in order
            .into_iter()
            .filter_map(|i| plan.targets.get(i).map(|t| t.candidate.clone()))
            .chain(plan.fallbacks)
        {
            if !ordered.contains(&candidate) {
                ordered.push(candidate);
            }
        }
        let now = Instant::now();
        let mut routed = Routed::default();
        for candidate in ordered {
            let slot = match unavailable(&instances, &candidate, now) {
                None => {
                    routed.candidates.push(candidate);
                    continue;
                }
                Some((wait, true)) => (&mut routed.skipped_limited, wait),
                Some((wait, false)) => (&mut routed.skipped_open, wait),
            };
            *slot.0 = Some(slot.0.map_or(slot.1, |w| w.min(slot.1)));
        }
        if !routed.candidates.is_empty() {
            return Ok(routed);
        }
        match (routed.skipped_limited, routed.skipped_open) {
            (Some(limited), open) => Err(RouteError::AllUnavailable {
                retry_after: open.map_or(limited, |o| o.min(limited)),
                rate_limited: true,
            }),
            (None, Some(open)) => Err(RouteError::AllUnavailable {
                retry_after: open,
                rate_limited: false,
            }),
            (None, None) => Ok(routed),
        }
    }
}

/// How long `candidate` cannot take a call, and whether that is a rate limit.
fn unavailable(
    instances: &HashMap<String, Availability>,
    candidate: &Candidate,
    now: Instant,
) -> Option<(Duration, bool)> {
    let state = instances.get(&candidate.provider)?;
    let left = |until: &Instant| Some(*until).filter(|u| *u > now).map(|u| u - now);
    let cooling = state
        .cooling
        .iter()
        .find(|(model, _)| *model == candidate.model)
        .and_then(|(_, until)| left(until));
    let limited = state
        .limited_until
        .as_ref()
        .and_then(left)
        .into_iter()
        .chain(cooling)
        .max();
    let open = state.open_until.as_ref().and_then(left);
    match (limited, open) {
        (None, None) => None,
        (Some(wait), None) => Some((wait, true)),
        (None, Some(wait)) => Some((wait, false)),
        (Some(a), Some(b)) => Some((a.max(b), a >= b)),
    }
}

/// The router actor: the one writer of its [`RouteTable`].
pub struct RouterActor<R: Resolve> {
    table: Arc<RouteTable<R>>,
}

impl<R: Resolve> RouterActor<R> {
    /// A router applying `rules`, with randomness seeded from the clock.
    pub fn new(rules: R) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self::with_seed(rules, seed)
    }

    /// A router with a fixed seed (deterministic `weighted` splits in tests).
    pub fn with_seed(rules: R, seed: u64) -> Self {
        Self {
            table: Arc::new(RouteTable::new(rules, seed)),
        }
    }

    /// The table the request path routes with.
    pub fn table(&self) -> Arc<RouteTable<R>> {
        self.table.clone()
    }
}

/// Replaces the routing rules and the instances (a configuration reload): the router builds a
/// new table, carries over what kept instances last published, and routes with it from now
/// on. Requests already routing keep the table they hold.
#[derive(Message)]
#[rtype(result = "Arc<RouteTable<R>>")]
pub struct Replace<R: Resolve + 'static> {
    /// The new rules.
    pub rules: R,
    /// Every instance of the new configuration, with its gate (kept or new).
    pub gates: Vec<(String, Arc<ProviderGate>)>,
}

impl<R: Resolve> RouteTable<R> {
    /// A table for `rules` and `gates` that starts from what `self` knew of the kept instances.
    fn successor(&self, rules: R, gates: Vec<(String, Arc<ProviderGate>)>, seed: u64) -> Self {
        let next = Self::new(rules, seed);
        {
            let known = self
                .instances
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let mut instances = next
                .instances
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            for (name, _) in &gates {
                if let Some(availability) = known.get(name) {
                    instances.insert(name.clone(), availability.clone());
                }
            }
        }
        for (name, gate) in gates {
            next.register(&name, gate);
        }
        next
    }
}

impl<R: Resolve + 'static> Handler<Replace<R>> for RouterActor<R> {
    type Result = MessageResult<Replace<R>>;

    fn handle(&mut self, msg: Replace<R>, _: &mut Self::Context) -> Self::Result {
        let seed = self
            .table
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_u64();
        self.table = Arc::new(self.table.successor(msg.rules, msg.gates, seed));
        MessageResult(self.table.clone())
    }
}

impl<R: Resolve> Actor for RouterActor<R> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
    }
}

impl<R: Resolve> Handler<InstanceUpdate> for RouterActor<R> {
    type Result = ();

    fn handle(&mut self, msg: InstanceUpdate, _: &mut Self::Context) {
        self.table.apply(msg);
    }
}

#[cfg(test)]
mod tests;

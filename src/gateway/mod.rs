//! The gateway's request engine, shared by all HTTP workers: actor handles, providers, and the
//! flow of one request (validate → history → route → admit → call → translate → store).

mod attempt;
mod background;
pub mod compaction;
mod dispatch;
mod drain;
mod failover;
mod history;
mod keepalive;
mod record;
mod redis_store;
mod validate;

use std::{collections::HashMap, sync::Arc};

use actix::{Actor, Addr};
use gateway_actors::{
    LeasePool, ProviderActor, ProviderGate, ProviderLimits, RouteTable, RouterActor,
};

pub use background::Background;
pub use dispatch::{EventStream, Execution};
pub use drain::{CLOSE_MARGIN, DetachedTicket, Drain, DrainTicket};
pub use history::{ConversationStore, StoredResponse, assign_input_ids};
pub use keepalive::{KEEPALIVE_FRAME, with_keepalive};
pub use validate::validate_request;

use crate::{
    config::Config,
    error::GatewayError,
    fleet::{FleetActor, FleetProvider},
    providers::{Provider, http::build_client},
    routing::RoutingRules,
};

/// One provider instance: its translation/transport and its admission actor.
pub struct ProviderSlot {
    /// Translation and transport.
    pub provider: Arc<Provider>,
    /// Permits and breaker, as messages.
    pub actor: Addr<ProviderActor>,
    /// The same permits and breaker, taken from the request's own worker.
    pub gate: Arc<ProviderGate>,
}

/// Everything a request needs, cheap to clone into each worker.
#[derive(Clone)]
pub struct Gateway {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Router actor (applies the providers' availability updates to `routes`).
    pub router: Addr<RouterActor<RoutingRules>>,
    /// What requests route with, in their own worker.
    pub routes: Arc<RouteTable<RoutingRules>>,
    /// Provider instances by name.
    pub providers: Arc<HashMap<String, ProviderSlot>>,
    /// Conversation store.
    pub conversations: ConversationStore,
    /// Request log line, metrics, prices and usage.
    pub observability: crate::observability::Observability,
    /// The shutdown drain signal (`/readyz`, live streams and attempts watch it).
    pub drain: Drain,
    /// Background responses running (or recently finished) in this process.
    pub background: Background,
}

impl Gateway {
    /// Starts the actors for `config` (must run inside an actix System).
    pub fn start(config: Config) -> Result<Self, GatewayError> {
        // One client (connection pool) per distinct connect timeout: reqwest sets it per client.
        let mut clients: HashMap<std::time::Duration, reqwest::Client> = HashMap::new();
        let router_actor = RouterActor::new(RoutingRules::new(&config));
        let routes = router_actor.table();
        let router = router_actor.start();
        let mut providers = HashMap::new();
        let fleet_redis = config.redis.as_ref().filter(|_| config.fleet.enabled);
        for provider_config in &config.providers {
            // Fleet mode: `rpm`/`tpm` are the fleet's, drawn from leases of a Redis bucket.
            let fleet = fleet_redis
                .filter(|_| provider_config.rpm.is_some() || provider_config.tpm.is_some())
                .map(|redis| {
                    Arc::new(LeasePool::new(
                        provider_config.rpm,
                        provider_config.tpm,
                        config.fleet.lease_fraction,
                        redis.command_timeout,
                    ))
                });
            let limits = ProviderLimits {
                max_concurrency: provider_config.max_concurrency,
                max_queue: provider_config.max_queue,
                queue_timeout: provider_config.queue_timeout,
                failure_threshold: provider_config.failure_threshold,
                cooldown: provider_config.cooldown,
                rpm: provider_config.rpm,
                tpm: provider_config.tpm,
                fleet,
            };
            let actor = ProviderActor::new(
                provider_config.name.clone(),
                limits,
                Some(router.clone().recipient()),
            );
            let gate = actor.gate();
            routes.register(&provider_config.name, gate.clone());
            let actor = actor.start();
            let connect_timeout = provider_config.connect_timeout;
            let http = match clients.get(&connect_timeout) {
                Some(client) => client.clone(),
                None => {
                    let client = build_client(connect_timeout)?;
                    clients.insert(connect_timeout, client.clone());
                    client
                }
            };
            let provider = Arc::new(Provider::new(provider_config.clone(), http));
            providers.insert(
                provider_config.name.clone(),
                ProviderSlot {
                    provider,
                    actor,
                    gate,
                },
            );
        }
        if let Some(redis) = fleet_redis {
            let members = providers
                .iter()
                .map(|(name, slot): (&String, &ProviderSlot)| {
                    let member = FleetProvider {
                        gate: slot.gate.clone(),
                        actor: slot.actor.clone(),
                    };
                    (name.clone(), member)
                })
                .collect();
            FleetActor::start(redis, &config.fleet, members)?;
        }
        let conversations = ConversationStore::start(&config.conversations)?;
        let observability = crate::observability::Observability::start(&config)?;
        let config_background = config.background;
        Ok(Self {
            config: Arc::new(config),
            router,
            routes,
            providers: Arc::new(providers),
            conversations,
            observability,
            drain: Drain::new(),
            background: Background::new(config_background),
        })
    }
}

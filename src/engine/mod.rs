//! The gateway's request engine, shared by all HTTP workers: actor handles, providers, and the
//! flow of one request (validate → history → route → admit → call → translate → store).

mod attempt;
mod background;
pub mod compaction;
mod dispatch;
mod drain;
mod failover;
mod history;
mod record;
mod redis_store;
pub mod reload;
mod validate;

use std::{collections::HashMap, sync::Arc};

use actix::{Actor, Addr};
use gateway_actors::{
    LeasePool, ProviderActor, ProviderGate, ProviderLimits, RouteTable, RouterActor,
};

pub use background::Background;
pub use dispatch::{EventStream, Execution, Notes};
pub use drain::{CLOSE_MARGIN, DetachedTicket, Drain, DrainTicket};
pub use history::{ConversationStore, StoredResponse, assign_input_ids};
pub use validate::validate_request;

use crate::{
    config::Config,
    error::GatewayError,
    fleet::{FleetActor, FleetProvider, FleetStatus},
    providers::{Provider, http::HttpClient},
    routing::RoutingRules,
};

/// One provider instance: its translation/transport and its admission actor.
#[derive(Clone)]
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
pub struct Engine {
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
    /// Caller authentication (its keys are part of the configuration a reload replaces).
    pub auth: crate::auth::Authenticator,
    /// Caller quotas and budgets (`quotas:`).
    pub quotas: crate::quota::Quotas,
}

impl Engine {
    /// Starts the actors for `config` (must run inside an actix System).
    pub fn start(config: Config) -> Result<Self, GatewayError> {
        let router_actor = RouterActor::new(RoutingRules::new(&config));
        let routes = router_actor.table();
        let router = router_actor.start();
        let mut clients = Clients::default();
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
            let slot = ProviderSlot::start(provider_config, &router, &mut clients, fleet)?;
            routes.register(&provider_config.name, slot.gate.clone());
            providers.insert(provider_config.name.clone(), slot);
        }
        let drain = Drain::new();
        let fleet_status = fleet_redis.map(|_| FleetStatus::new());
        if let (Some(redis), Some(status)) = (fleet_redis, &fleet_status) {
            // The fleet hands its unused leases back when the drain closes.
            let (closed, stopping) = tokio::sync::watch::channel(false);
            let watched = drain.clone();
            actix::spawn(async move {
                watched.closed().await;
                let _ = closed.send(true);
            });
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
            FleetActor::start(redis, &config.fleet, members, stopping, status.clone())?;
        }
        let conversations = ConversationStore::start(&config.conversations)?;
        let observability = crate::observability::Observability::start(&config)?;
        let config_background = config.background;
        let auth = crate::auth::Authenticator::start(&config.auth, &config.quotas.claim)?;
        let quotas = crate::quota::Quotas::start(&config, fleet_status)?;
        Ok(Self {
            config: Arc::new(config),
            router,
            routes,
            providers: Arc::new(providers),
            conversations,
            observability,
            drain,
            background: Background::new(config_background),
            auth,
            quotas,
        })
    }
}

/// Upstream HTTP clients (connection pools), one per distinct connect timeout (reqwest sets
/// it per client), each one per thread (`HttpClient::per_thread`).
#[derive(Default)]
pub(crate) struct Clients(HashMap<std::time::Duration, HttpClient>);

impl Clients {
    fn for_timeout(
        &mut self,
        connect_timeout: std::time::Duration,
    ) -> Result<HttpClient, GatewayError> {
        if let Some(client) = self.0.get(&connect_timeout) {
            return Ok(client.clone());
        }
        let client = HttpClient::per_thread(connect_timeout)?;
        self.0.insert(connect_timeout, client.clone());
        Ok(client)
    }
}

impl ProviderSlot {
    /// Starts the admission actor for `config`, publishing to `router`; with `fleet`, its
    /// `rpm`/`tpm` draw from that lease pool.
    pub(crate) fn start(
        config: &crate::config::ProviderConfig,
        router: &Addr<RouterActor<RoutingRules>>,
        clients: &mut Clients,
        fleet: Option<Arc<LeasePool>>,
    ) -> Result<Self, GatewayError> {
        let limits = ProviderLimits {
            max_concurrency: config.max_concurrency,
            max_queue: config.max_queue,
            queue_timeout: config.queue_timeout,
            failure_threshold: config.failure_threshold,
            cooldown: config.cooldown,
            rpm: config.rpm,
            tpm: config.tpm,
            fleet,
        };
        let actor = ProviderActor::new(
            config.name.clone(),
            limits,
            Some(router.clone().recipient()),
        );
        let gate = actor.gate();
        let actor = actor.start();
        let http = clients.for_timeout(config.connect_timeout)?;
        Ok(Self {
            provider: Arc::new(Provider::new(config.clone(), http)),
            actor,
            gate,
        })
    }
}

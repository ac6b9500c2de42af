//! The gateway's request engine, shared by all HTTP workers: actor handles, providers, and the
//! flow of one request (validate → history → route → admit → call → translate → store).

pub mod compaction;
mod dispatch;
mod history;
mod record;
mod redis_store;
mod validate;

use std::{collections::HashMap, sync::Arc};

use actix::{Actor, Addr};
use gateway_actors::{ProviderActor, ProviderLimits, RouterActor};

pub use dispatch::{EventStream, Execution};
pub use history::{ConversationStore, StoredResponse, assign_input_ids};
pub use validate::validate_request;

use crate::{
    config::Config,
    error::GatewayError,
    providers::{Provider, http::build_client},
    routing::RoutingRules,
};

/// One provider instance: its translation/transport and its admission actor.
pub struct ProviderSlot {
    /// Translation and transport.
    pub provider: Arc<Provider>,
    /// Permits and breaker.
    pub actor: Addr<ProviderActor>,
}

/// Everything a request needs, cheap to clone into each worker.
#[derive(Clone)]
pub struct Gateway {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Router actor.
    pub router: Addr<RouterActor<RoutingRules>>,
    /// Provider instances by name.
    pub providers: Arc<HashMap<String, ProviderSlot>>,
    /// Conversation store.
    pub conversations: ConversationStore,
}

impl Gateway {
    /// Starts the actors for `config` (must run inside an actix System).
    pub fn start(config: Config) -> Result<Self, GatewayError> {
        let http = build_client()?;
        let router = RouterActor::new(RoutingRules::new(&config)).start();
        let mut providers = HashMap::new();
        for provider_config in &config.providers {
            let limits = ProviderLimits {
                max_concurrency: provider_config.max_concurrency,
                max_queue: provider_config.max_queue,
                queue_timeout: provider_config.queue_timeout,
                failure_threshold: provider_config.failure_threshold,
                cooldown: provider_config.cooldown,
            };
            let actor = ProviderActor::new(
                provider_config.name.clone(),
                limits,
                Some(router.clone().recipient()),
            )
            .start();
            let provider = Arc::new(Provider::new(provider_config.clone(), http.clone()));
            providers.insert(
                provider_config.name.clone(),
                ProviderSlot { provider, actor },
            );
        }
        let conversations = ConversationStore::start(&config.conversations)?;
        Ok(Self {
            config: Arc::new(config),
            router,
            providers: Arc::new(providers),
            conversations,
        })
    }
}

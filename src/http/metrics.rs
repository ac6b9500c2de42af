//! `GET /metrics`: the Prometheus text format. Gauges that live in actors (permits, queues,
//! breakers, the memory store) are sampled just before rendering. 404 when metrics are off.

use actix_web::HttpResponse;
use gateway_actors::{BreakerState, Status};

use crate::{
    engine::Engine,
    error::GatewayError,
    observability::metrics::{self as m, render},
};

/// The path, also consulted by the auth middleware (`metrics.require_auth`).
pub const PATH: &str = "/metrics";

/// The Prometheus text exposition format, version 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every metric.
pub async fn scrape(gateway: super::current::Current) -> Result<HttpResponse, GatewayError> {
    let Some(handle) = gateway.observability.prometheus() else {
        return Err(GatewayError::NotFound {
            message: "Metrics are disabled (`metrics.enabled: false`).".to_owned(),
            param: None,
            code: "route_not_found",
        });
    };
    sample(&gateway).await;
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(render(handle)))
}

/// Sets the gauges that live in actors (permits, queues, breakers, the memory store) just
/// before a scrape renders them: nothing on the request path keeps them.
async fn sample(gateway: &Engine) {
    for (name, slot) in gateway.providers.iter() {
        let Ok(status) = slot.actor.send(Status).await else {
            continue;
        };
        let state = match status.breaker {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        };
        #[expect(clippy::cast_precision_loss, reason = "permit counts are small")]
        let (in_flight, waiting) = (status.in_flight as f64, status.waiting as f64);
        metrics::gauge!(m::PROVIDER_IN_FLIGHT, "provider" => name.clone()).set(in_flight);
        metrics::gauge!(m::PROVIDER_QUEUED, "provider" => name.clone()).set(waiting);
        metrics::gauge!(m::PROVIDER_BREAKER, "provider" => name.clone()).set(state);
    }
    let store = &gateway.conversations;
    metrics::counter!(m::STORE_FAILURES).absolute(store.store_failures());
    match store.memory_stats().await {
        Ok(Some(stats)) => {
            #[expect(clippy::cast_precision_loss, reason = "sizes stay far below 2^52")]
            let (entries, bytes) = (stats.entries as f64, stats.bytes as f64);
            metrics::gauge!(m::STORE_ENTRIES).set(entries);
            metrics::gauge!(m::STORE_BYTES).set(bytes);
            metrics::counter!(m::STORE_EVICTIONS).absolute(stats.evictions);
            metrics::counter!(m::STORE_EXPIRATIONS).absolute(stats.expirations);
        }
        Ok(None) => {}
        Err(err) => tracing::warn!(error = %err, "Cannot sample the conversation store."),
    }
}

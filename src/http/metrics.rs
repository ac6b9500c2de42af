//! `GET /metrics`: the Prometheus text format. Gauges that live in actors (permits, queues,
//! breakers, the memory store) are sampled just before rendering. 404 when metrics are off.

use actix_web::HttpResponse;

use crate::{
    error::GatewayError,
    observability::metrics::{render, sample},
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

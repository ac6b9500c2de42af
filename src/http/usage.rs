//! `GET /v1/usage`: token and cost totals per caller and model since start (with the Redis
//! store: since the shared totals began), and each limited caller's quotas (limit, remaining,
//! reset). Callers see their own rows; `usage.admins` (and the single caller of a gateway
//! without authentication) see everyone's.

use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use super::render;
use crate::{auth::Caller, error::GatewayError, observability::UsageRow};

/// Lists the totals.
pub async fn list(req: HttpRequest, gateway: super::current::Current) -> HttpResponse {
    let id = super::request_id(&req);
    let result = async {
        let caller = Caller::of(&req)?;
        let observability = &gateway.observability;
        let all = observability.sees_all_usage(&caller.owner);
        let scope = (!all).then_some(caller.owner.as_str());
        let rows = observability.usage().rows(scope).await?;
        let quota_scope = (!all).then_some((caller.owner.as_str(), caller.quota_claim.as_deref()));
        let limits = gateway.quotas.report(quota_scope).await;
        Ok::<_, GatewayError>(HttpResponse::Ok().json(json!({
            "object": "usage",
            "since": observability.usage().started_at(),
            "store": observability.usage().kind(),
            "scope": if all { "all" } else { "caller" },
            "data": rows,
            "total": total(&rows),
            "limits": limits,
        })))
    }
    .await;
    result.unwrap_or_else(|err| render::error(&id, &err))
}

/// The sum of every row.
fn total(rows: &[UsageRow]) -> serde_json::Value {
    let sum = |f: fn(&UsageRow) -> u64| rows.iter().map(f).sum::<u64>();
    json!({
        "requests": sum(|r| r.requests),
        "input_tokens": sum(|r| r.input_tokens),
        "output_tokens": sum(|r| r.output_tokens),
        "cached_tokens": sum(|r| r.cached_tokens),
        "reasoning_tokens": sum(|r| r.reasoning_tokens),
        "cost_usd": rows.iter().map(|r| r.cost_usd).sum::<f64>(),
    })
}

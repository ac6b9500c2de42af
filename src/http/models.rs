//! `GET /v1/models`: every model the configured providers serve, in OpenAI's list shape.

use actix_web::HttpResponse;
use serde_json::json;

/// Lists `models:` groups, then provider models (deduplicated; the first provider serving a
/// name owns it).
pub async fn list(gateway: super::current::Current) -> HttpResponse {
    let mut seen = std::collections::BTreeSet::new();
    let mut data = Vec::new();
    // Model groups first: their public names, when a target's provider is configured.
    for (name, group) in &gateway.config.routing.models {
        let served = group
            .targets
            .iter()
            .any(|t| gateway.config.provider(&t.provider).is_some());
        if served && seen.insert(name.clone()) {
            data.push(
                json!({"id": name, "object": "model", "created": 0, "owned_by": "llm-gateway"}),
            );
        }
    }
    for provider in &gateway.config.providers {
        for model in &provider.models {
            if seen.insert(model.clone()) {
                data.push(json!({"id": model, "object": "model", "created": 0, "owned_by": provider.name}));
            }
        }
    }
    HttpResponse::Ok().json(json!({"object": "list", "data": data}))
}

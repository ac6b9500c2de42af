//! `GET /v1/models`: every model the configured providers serve, in OpenAI's list shape.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::gateway::Gateway;

/// Lists models (deduplicated; the first provider serving a name owns it).
pub async fn list(gateway: web::Data<Gateway>) -> HttpResponse {
    let mut seen = std::collections::BTreeSet::new();
    let mut data = Vec::new();
    for provider in &gateway.config.providers {
        for model in &provider.models {
            if seen.insert(model.clone()) {
                data.push(json!({"id": model, "object": "model", "created": 0, "owned_by": provider.name}));
            }
        }
    }
    HttpResponse::Ok().json(json!({"object": "list", "data": data}))
}

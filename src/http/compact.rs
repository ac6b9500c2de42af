//! `POST /v1/responses/compact`: JSON in, `CompactResource` out.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{body, render, request_id};
use crate::{
    auth::Caller,
    frontdoor::compact::{CompactRequest, compact},
    gateway::Gateway,
};

/// Compacts a conversation window.
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    gateway: web::Data<Gateway>,
) -> HttpResponse {
    let id = request_id(&req);
    let result = async {
        let caller = Caller::of(&req)?;
        let bytes = body::read_body(&req, payload, gateway.config.server.max_body_bytes).await?;
        let request: CompactRequest = body::parse_json(&bytes)?;
        compact(&gateway, request, id.clone(), &caller).await
    }
    .await;
    let response = match result {
        Ok(resource) => HttpResponse::Ok().json(resource),
        Err(err) => render::error(&id, &err),
    };
    render::with_request_id(response, &id)
}

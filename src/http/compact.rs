//! `POST /v1/responses/compact`: JSON in, `CompactResource` out.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{body, render, request_id};
use crate::engine::compaction::compact::{CompactRequest, compact};

/// Compacts a conversation window.
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    gateway: super::current::Current,
) -> HttpResponse {
    let id = request_id(&req);
    let result = async {
        let (caller, request) = body::caller_and_json::<CompactRequest>(&req, payload).await?;
        compact(&gateway, request, id.clone(), &caller).await
    }
    .await;
    let response = match result {
        Ok(resource) => HttpResponse::Ok().json(resource),
        Err(err) => render::error(&id, &err),
    };
    render::with_request_id(response, &id)
}

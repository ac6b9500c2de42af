//! `POST /v1/responses`: JSON or SSE.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{body, request_id};
use crate::{
    api::CreateResponse,
    error::GatewayError,
    gateway::{Execution, Gateway},
};

/// Creates a response.
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    gateway: web::Data<Gateway>,
) -> HttpResponse {
    let id = request_id(&req);
    let parsed = body::caller_and_json::<CreateResponse>(&req, payload).await;
    // Either way the request gets its one "Request finished." line and its counters.
    let result = match parsed {
        Ok((caller, request)) => gateway.create_response(request, id.clone(), &caller).await,
        Err(err) => {
            gateway.observability.reject(&id, &err);
            Err(err)
        }
    };
    let mut response = match result {
        Ok(Execution::Json(response)) => HttpResponse::Ok().json(response),
        Ok(Execution::Stream(body)) => HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header(("cache-control", "no-cache"))
            .insert_header(("x-accel-buffering", "no"))
            .streaming(body.into_sse()),
        Err(err) => render_error(&id, &err),
    };
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&id) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            value,
        );
    }
    response
}

/// The error response; the request's info line was written by its observer.
fn render_error(request_id: &str, err: &GatewayError) -> HttpResponse {
    if let GatewayError::Internal(detail) = err {
        tracing::error!(request_id, detail, "Internal error.");
    }
    actix_web::ResponseError::error_response(err)
}

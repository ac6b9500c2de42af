//! Rendering shared by the front-door handlers (compact, Chat Completions): the logged error
//! response and the `x-request-id` header, as `POST /v1/responses` does them.

use actix_web::{
    HttpResponse,
    http::header::{HeaderName, HeaderValue},
};

use crate::error::GatewayError;

/// The error response for `err` (logged once: internal errors at error, the rest at info).
pub fn error(request_id: &str, err: &GatewayError) -> HttpResponse {
    if let GatewayError::Internal(detail) = err {
        tracing::error!(request_id, detail, "Internal error.");
    } else {
        tracing::info!(
            request_id,
            status = err.status().as_u16(),
            code = err.code(),
            "Request rejected."
        );
    }
    actix_web::ResponseError::error_response(err)
}

/// The error response for a model request, whose info line its `RequestObserver` (or
/// `Observability::reject`) already wrote; only internal detail is logged here, at error.
pub fn observed_error(request_id: &str, err: &GatewayError) -> HttpResponse {
    if let GatewayError::Internal(detail) = err {
        tracing::error!(request_id, detail, "Internal error.");
    }
    actix_web::ResponseError::error_response(err)
}

/// Echoes the request id.
pub fn with_request_id(mut response: HttpResponse, request_id: &str) -> HttpResponse {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    response
}

//! The last word on error bodies: an error response that leaves the App with no body (actix's
//! own 405 for a method a resource does not route, a failed extractor, …) gets the Open
//! Responses error object, so every error the gateway sends is JSON a client can read.

use actix_web::{
    body::{BodySize, MessageBody},
    dev::ServiceResponse,
    http::header::{CONTENT_TYPE, HeaderValue},
    middleware::{ErrorHandlerResponse, ErrorHandlers},
};

use crate::api::{ErrorBody, ErrorObject};

/// The middleware: every 4xx/5xx passes through [`fill`].
pub fn middleware<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(fill)
}

/// A machine-readable code for a status the App answered on its own.
fn code_of(status: u16) -> String {
    match status {
        400 => "invalid_request".to_owned(),
        404 => "route_not_found".to_owned(),
        405 => "method_not_allowed".to_owned(),
        413 => "payload_too_large".to_owned(),
        414 => "uri_too_long".to_owned(),
        415 => "unsupported_media_type".to_owned(),
        431 => "request_header_fields_too_large".to_owned(),
        other => format!("http_{other}"),
    }
}

fn fill<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if !matches!(
        res.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    ) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = format!(
        "{} {} answered {}.",
        res.request().method(),
        res.request().path(),
        status
    );
    let body = ErrorBody {
        error: ErrorObject {
            kind: crate::error::ErrorType::for_status(status.as_u16())
                .as_str()
                .to_owned(),
            code: Some(code_of(status.as_u16())),
            message,
            param: None,
        },
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    let (request, response) = res.into_parts();
    let mut response = response.set_body(json).map_into_boxed_body();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, response).map_into_right_body(),
    ))
}

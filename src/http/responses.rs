//! `POST /v1/responses`: JSON or SSE.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{body, request_id};
use crate::{
    api::CreateResponse,
    engine::{Execution, Notes},
    error::GatewayError,
};

/// Creates a response.
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    gateway: super::current::Current,
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
    let response = match result {
        Ok(Execution::Json(response, notes)) => {
            let mut ok = HttpResponse::Ok();
            note_headers(&mut ok, &notes);
            ok.json(response)
        }
        Ok(Execution::Stream(body)) => {
            let mut ok = HttpResponse::Ok();
            note_headers(&mut ok, body.notes());
            super::sse::respond(&mut ok, super::sse::body(body))
        }
        Err(err) => render_error(&id, &err),
    };
    super::render::with_request_id(response, &id)
}

/// Names the tool types the chosen upstream could not serve and that were left out
/// (`tools.unsupported: drop`), so a caller can tell a model that cannot search from one
/// that chose not to; and the caller's rate limits, as OpenAI sends them.
pub(super) fn note_headers(builder: &mut actix_web::HttpResponseBuilder, notes: &Notes) {
    if !notes.dropped_tools.is_empty() {
        builder.insert_header(("x-gateway-dropped-tools", notes.dropped_tools.join(", ")));
    }
    if let Some(limits) = &notes.rate_limits {
        for header in limits.headers() {
            builder.insert_header(header);
        }
    }
}

/// The error response; the request's info line was written by its observer.
fn render_error(request_id: &str, err: &GatewayError) -> HttpResponse {
    if let GatewayError::Internal(detail) = err {
        tracing::error!(request_id, detail, "Internal error.");
    }
    actix_web::ResponseError::error_response(err)
}

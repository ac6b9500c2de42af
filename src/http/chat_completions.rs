//! `POST /v1/chat/completions`: Chat Completions JSON or SSE over the normal request flow.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{body, render, request_id};
use crate::{
    api::chat_completions::ChatRequest,
    engine::Execution,
    error::GatewayError,
    frontdoor::chat_completions::{into_completion, into_create_response, into_sse},
};

/// Creates a chat completion.
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    gateway: super::current::Current,
) -> HttpResponse {
    let id = request_id(&req);
    let parsed = async {
        let (caller, chat) = body::caller_and_json::<ChatRequest>(&req, payload).await?;
        let (request, options) = into_create_response(chat)?;
        Ok::<_, GatewayError>((caller, request, options))
    }
    .await;
    // Either way the request gets its one "Request finished." line and its counters.
    let (caller, request, options) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            gateway.observability.reject(&id, &err);
            return render::with_request_id(render::observed_error(&id, &err), &id);
        }
    };
    let result = async {
        match gateway
            .create_response(request, id.clone(), &caller)
            .await?
        {
            Execution::Json(response, notes) => {
                let mut ok = HttpResponse::Ok();
                super::responses::note_headers(&mut ok, &notes);
                Ok(ok.json(into_completion(&response)?))
            }
            Execution::Stream(events) => {
                let mut ok = HttpResponse::Ok();
                super::responses::note_headers(&mut ok, events.notes());
                Ok(super::sse::respond(&mut ok, into_sse(events, options)))
            }
        }
    }
    .await;
    let response = result.unwrap_or_else(|err: GatewayError| render::observed_error(&id, &err));
    render::with_request_id(response, &id)
}

//! Background responses over HTTP (OpenAI-compatible extras): `POST /v1/responses/{id}/cancel`,
//! and the query of `GET /v1/responses/{id}?stream=true&starting_after=N` (served by
//! `stored::retrieve`).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};

use super::not_allowed;
use crate::{auth::Caller, engine::EventStream, error::GatewayError};

/// `POST /v1/responses/{id}/cancel`: the response, `cancelled` if it was still running.
pub async fn cancel(
    req: HttpRequest,
    path: web::Path<String>,
    gateway: super::current::Current,
) -> HttpResponse {
    let id = path.into_inner();
    let result = async {
        let caller = Caller::of(&req)?;
        let response = gateway.cancel_response(&id, &caller.owner).await?;
        Ok(HttpResponse::Ok().json(&response))
    }
    .await;
    super::stored::finish(&req, result)
}

/// 405 on `/v1/responses/{id}/cancel`.
pub async fn cancel_method_not_allowed(req: HttpRequest) -> HttpResponse {
    not_allowed(&req, "POST")
}

/// `None` unless the query asks for the event stream (`stream=true`); then `starting_after`,
/// if given.
pub fn stream_query(query: &str) -> Result<Option<Option<u64>>, GatewayError> {
    let params = web::Query::<HashMap<String, String>>::from_query(query)
        .map_err(|e| GatewayError::invalid(format!("Malformed query string: {e}."), None))?
        .into_inner();
    match params.get("stream").map(String::as_str) {
        None | Some("false") => return Ok(None),
        Some("true") => {}
        Some(other) => {
            return Err(GatewayError::invalid(
                format!("stream must be 'true' or 'false'; got '{other}'."),
                Some("stream"),
            ));
        }
    }
    let after = match params.get("starting_after") {
        None => None,
        Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
            GatewayError::invalid(
                format!(
                    "starting_after must be a sequence number (an integer from 0); got '{text}'."
                ),
                Some("starting_after"),
            )
        })?),
    };
    Ok(Some(after))
}

/// The events as an SSE response.
pub fn event_stream(events: EventStream) -> HttpResponse {
    super::sse::respond(&mut HttpResponse::Ok(), super::sse::body(events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_query_reads_stream_and_starting_after() {
        assert_eq!(stream_query("").unwrap(), None);
        assert_eq!(stream_query("stream=false&starting_after=3").unwrap(), None);
        assert_eq!(stream_query("stream=true").unwrap(), Some(None));
        assert_eq!(
            stream_query("stream=true&starting_after=7").unwrap(),
            Some(Some(7))
        );
        for (query, param) in [
            ("stream=yes", "stream"),
            ("stream=true&starting_after=-1", "starting_after"),
        ] {
            let err = stream_query(query).unwrap_err();
            assert_eq!(err.param().as_deref(), Some(param), "{query}");
        }
    }
}

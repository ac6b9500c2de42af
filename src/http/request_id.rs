//! The outermost middleware: gives every request its id (the caller's sane `x-request-id`, or a
//! fresh `req_…`) before anything else runs, so the auth middleware, handlers and logs share it,
//! and sets `x-request-id` on every response: errors, 401s from the auth middleware, streams.
//! It also opens the request's root tracing span (continuing the caller's `traceparent`).

use actix_web::{
    Error, HttpMessage, HttpRequest,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Instrument;

/// The response and request header carrying the id.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// Longest accepted caller-supplied id.
pub const MAX_LEN: usize = 128;

/// The request's id, in the request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The id for `req`: the one already assigned, else a sane caller `x-request-id` (visible
/// ASCII, 1 to [`MAX_LEN`] bytes), else a fresh `req_<uuid>`.
pub fn of(req: &HttpRequest) -> String {
    if let Some(RequestId(id)) = req.extensions().get::<RequestId>() {
        return id.clone();
    }
    from_header(req).unwrap_or_else(|| format!("req_{}", uuid::Uuid::new_v4().simple()))
}

fn from_header(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= MAX_LEN && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
}

/// The middleware (`actix_web::middleware::from_fn(request_id::tag)`); wrap it last so it is
/// the outermost layer.
pub async fn tag(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = of(req.request());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = crate::telemetry::spans::request(&req, &id);
    // Handler errors arrive here already rendered (actix turns them into responses at the
    // route, and the auth middleware answers its 401s itself), so only a broken inner service
    // could skip the header. The request cannot be cloned to render one here: routing needs
    // it unshared.
    let mut response = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    crate::telemetry::spans::record_status(&span, response.status().as_u16());
    if !response.headers().contains_key(&HEADER)
        && let Ok(value) = HeaderValue::from_str(&id)
    {
        response.headers_mut().insert(HEADER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::{App, HttpResponse, middleware::from_fn, test, web};

    use super::*;

    async fn echo(req: HttpRequest) -> HttpResponse {
        HttpResponse::Ok().body(of(&req))
    }

    #[actix_web::test]
    async fn ids_are_kept_when_sane_and_minted_otherwise() {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(tag))
                .route("/echo", web::get().to(echo))
                .route(
                    "/fail",
                    web::get().to(|| async {
                        Err::<HttpResponse, _>(crate::GatewayError::Internal("boom".into()))
                    }),
                ),
        )
        .await;
        let long = "x".repeat(MAX_LEN + 1);
        for (sent, kept) in [
            (Some("abc-123"), true),
            (Some("has space"), false),
            (Some(long.as_str()), false),
            (None, false),
        ] {
            let mut req = test::TestRequest::get().uri("/echo");
            if let Some(sent) = sent {
                req = req.insert_header(("x-request-id", sent));
            }
            let resp = test::call_service(&app, req.to_request()).await;
            let header = resp
                .headers()
                .get("x-request-id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let body = test::read_body(resp).await;
            assert_eq!(body, header.as_bytes(), "the handler sees the same id");
            if kept {
                assert_eq!(Some(header.as_str()), sent);
            } else {
                assert!(header.starts_with("req_"), "{header}");
            }
        }
        let req = test::TestRequest::get()
            .uri("/fail")
            .insert_header(("x-request-id", "e-1"));
        let resp = test::call_service(&app, req.to_request()).await;
        assert_eq!(resp.status().as_u16(), 500);
        assert_eq!(resp.headers().get("x-request-id").unwrap(), "e-1");
    }
}

//! actix-web handlers: extract → validate → ask the gateway → render JSON or SSE. Every error,
//! including unknown routes and wrong methods, is an Open Responses error object.

pub mod auth_gate;
mod background;
pub mod body;
mod chat_completions;
mod compact;
pub mod current;
pub mod drain_gate;
pub mod empty_errors;
pub mod metrics;
mod models;
mod render;
pub mod request_id;
mod responses;
pub mod sse;
mod stored;
mod usage;
mod websocket;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::GatewayError;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/responses")
            .route(web::post().to(responses::create))
            .route(web::get().to(websocket::websocket))
            .default_service(web::to(method_not_allowed)),
    )
    // Before `/v1/responses/{id}`, which would otherwise take `compact` as an id.
    .service(
        web::resource("/v1/responses/compact")
            .route(web::post().to(compact::create))
            .default_service(web::to(method_not_allowed)),
    )
    // Separate resources: `/v1/responses` keeps its POST-only 405.
    .service(
        web::resource("/v1/responses/{id}")
            .route(web::get().to(stored::retrieve))
            .route(web::delete().to(stored::delete))
            .default_service(web::to(stored::method_not_allowed)),
    )
    .service(
        web::resource("/v1/responses/{id}/cancel")
            .route(web::post().to(background::cancel))
            .default_service(web::to(background::cancel_method_not_allowed)),
    )
    .service(
        web::resource("/v1/responses/{id}/input_items")
            .route(web::get().to(stored::input_items))
            .default_service(web::to(stored::input_items_method_not_allowed)),
    )
    .service(
        web::resource("/v1/chat/completions")
            .route(web::post().to(chat_completions::create))
            .default_service(web::to(method_not_allowed)),
    )
    .service(get_only("/v1/models").route(web::get().to(models::list)))
    .service(get_only("/v1/usage").route(web::get().to(usage::list)))
    .service(get_only(metrics::PATH).route(web::get().to(metrics::scrape)))
    .service(get_only("/healthz").route(web::get().to(health)))
    .service(get_only("/readyz").route(web::get().to(ready)))
    .default_service(web::to(not_found));
}

/// A GET resource whose other methods get the 405 error object.
fn get_only(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|req: HttpRequest| async move {
        not_allowed(&req, "GET")
    }))
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Ready until the shutdown drain begins; then 503, so load balancers stop sending.
async fn ready(gateway: current::Current) -> HttpResponse {
    if gateway.drain.is_draining() {
        return HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "draining"}));
    }
    if gateway.providers.is_empty() {
        return HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "status": "no_providers",
            "reason": "no provider has an API key configured"
        }));
    }
    if !gateway.auth.is_ready() {
        return HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "loading_auth_keys"}));
    }
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, GatewayError> {
    Err(GatewayError::NotFound {
        message: format!("No route for {} {}.", req.method(), req.path()),
        param: None,
        code: "route_not_found",
    })
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    not_allowed(&req, "POST")
}

/// A 405 error object naming the methods `allow`ed on the path.
fn not_allowed(req: &HttpRequest, allow: &'static str) -> HttpResponse {
    let error = crate::api::ErrorBody {
        error: crate::api::ErrorObject {
            kind: "invalid_request_error".to_owned(),
            code: Some("method_not_allowed".to_owned()),
            message: format!(
                "{} is not allowed on {}; use {allow}.",
                req.method(),
                req.path()
            ),
            param: None,
        },
    };
    HttpResponse::MethodNotAllowed()
        .insert_header(("allow", allow))
        .json(error)
}

/// The request id: the one the `request_id` middleware assigned, else the caller's
/// `x-request-id` when sane, else a fresh one.
pub fn request_id(req: &HttpRequest) -> String {
    request_id::of(req)
}

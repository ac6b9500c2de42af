//! The actix-web-httpauth middleware wrapping the whole App: every route needs credentials
//! except `OPEN_PATHS` and, unless `metrics.require_auth`, `/metrics` (secure by default for
//! routes added later), and the `Caller` goes into
//! the request extensions for handlers (`web::ReqData<Caller>`).

use actix_web::{Error, HttpMessage, dev::ServiceRequest, web};
use actix_web_httpauth::{extractors::bearer::BearerAuth, middleware::HttpAuthentication};

use crate::{auth::Caller, error::GatewayError};

/// Paths answered without credentials (probes).
pub const OPEN_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// The signature of `check`, as `HttpAuthentication` stores it.
pub type CheckFn = fn(
    ServiceRequest,
    Option<BearerAuth>,
) -> futures::future::LocalBoxFuture<
    'static,
    Result<ServiceRequest, (Error, ServiceRequest)>,
>;

/// The middleware; needs `web::Data<Authenticator>` in the App data.
pub fn authentication() -> HttpAuthentication<Option<BearerAuth>, CheckFn> {
    HttpAuthentication::with_fn(check_boxed as CheckFn)
}

fn check_boxed(
    req: ServiceRequest,
    bearer: Option<BearerAuth>,
) -> futures::future::LocalBoxFuture<'static, Result<ServiceRequest, (Error, ServiceRequest)>> {
    Box::pin(check(req, bearer))
}

/// Authenticates one request: inserts its `Caller`, or answers 401/503 before any handler runs.
/// A missing or non-Bearer `Authorization` header arrives here as `None`.
pub async fn check(
    req: ServiceRequest,
    bearer: Option<BearerAuth>,
) -> Result<ServiceRequest, (Error, ServiceRequest)> {
    if OPEN_PATHS.contains(&req.path()) || is_public_metrics(&req) {
        return Ok(req);
    }
    let Some(auth) = crate::http::current::Current::of(req.request()).map(|g| g.auth.clone())
    else {
        // Fail closed: without an authenticator nothing is let through.
        let err = GatewayError::Internal("no Authenticator in app data".to_owned());
        return Err((err.into(), req));
    };
    let token = match &bearer {
        Some(bearer) => Some(bearer.token().to_owned()),
        None => bearer_any_case(&req),
    };
    let authenticate = auth.authenticate(token.as_deref());
    match crate::telemetry::traced(crate::telemetry::spans::auth(), authenticate).await {
        Ok(caller) => {
            req.extensions_mut().insert::<Caller>(caller);
            Ok(req)
        }
        Err(err) => {
            crate::observability::metrics::record_auth_failure(err.code());
            tracing::info!(
                request_id = crate::http::request_id(req.request()),
                method = %req.method(),
                path = req.path(),
                status = err.status().as_u16(),
                code = err.code(),
                reason = %err,
                "Request not authenticated."
            );
            Err((err.into(), req))
        }
    }
}

/// The token of an `Authorization: <scheme> <token>` header whose scheme is `Bearer` in any
/// case (RFC 9110 §11.1: auth schemes are case-insensitive; actix-web-httpauth's extractor only
/// takes `Bearer` as written, so `bearer <token>` arrives here as no credentials).
fn bearer_any_case(req: &ServiceRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// `/metrics` is open unless `metrics.require_auth` (fails closed without the gateway's data).
fn is_public_metrics(req: &ServiceRequest) -> bool {
    req.path() == crate::http::metrics::PATH
        && req
            .app_data::<web::Data<crate::engine::reload::EngineHandle>>()
            .map(|handle| handle.current())
            .is_some_and(|g| !g.config.metrics.require_auth)
}

#[cfg(test)]
mod tests {
    use actix_web::{App, HttpResponse, test, web};

    use super::*;
    use crate::config::{ApiKeyConfig, AuthConfig, Secret};

    async fn whoami(caller: web::ReqData<Caller>) -> HttpResponse {
        HttpResponse::Ok().body(caller.owner.clone())
    }

    fn keys_only() -> AuthConfig {
        AuthConfig {
            enabled: true,
            api_keys: vec![ApiKeyConfig {
                name: "ci".into(),
                key: Secret::new("k-ci-0123456789abcdef"),
            }],
            ..AuthConfig::default()
        }
    }

    #[actix_web::test]
    async fn keys_probes_and_anonymous() {
        for (config, bearer, status, body) in [
            (keys_only(), Some("k-ci-0123456789abcdef"), 200, "key:ci"),
            (keys_only(), Some("wrong-key-0123456789"), 401, ""),
            (keys_only(), None, 401, ""),
            (AuthConfig::default(), None, 200, "anonymous"),
        ] {
            let mut full = crate::config::Config::from_yaml("{}", &|_| None).unwrap();
            full.auth = config;
            let gateway = crate::engine::Engine::start(full).unwrap();
            let handle = crate::engine::reload::EngineHandle::new(gateway);
            let app = test::init_service(
                App::new()
                    .app_data(web::Data::new(handle))
                    .wrap(authentication())
                    .route("/who", web::get().to(whoami))
                    .route("/healthz", web::get().to(HttpResponse::Ok)),
            )
            .await;
            let mut req = test::TestRequest::get().uri("/who");
            if let Some(token) = bearer {
                req = req.insert_header(("authorization", format!("Bearer {token}")));
            }
            let resp = test::call_service(&app, req.to_request()).await;
            assert_eq!(resp.status().as_u16(), status);
            if status == 401 {
                let challenge = resp.headers().get("www-authenticate").unwrap();
                assert!(challenge.to_str().unwrap().starts_with("Bearer"));
            } else {
                assert_eq!(test::read_body(resp).await, body.as_bytes());
            }
            let probe = test::TestRequest::get().uri("/healthz").to_request();
            assert_eq!(test::call_service(&app, probe).await.status().as_u16(), 200);
        }
    }
}

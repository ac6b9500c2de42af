//! Owns the provider-shaped error answers: the error fixtures, plus hand-written bodies (in each provider's real
//! shape) for the statuses that have no fixture (401, 404, 500, 503, 529, malformed requests).

use actix_web::HttpResponse;
use serde_json::json;

use super::fixtures::fixture;
use super::reply;

/// The upstream API a request was routed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// OpenAI `POST /v1/responses`.
    Responses,
    /// OpenAI `POST /v1/chat/completions`.
    Chat,
    /// Azure `POST /openai/deployments/{deployment}/chat/completions?api-version=...`.
    Azure,
    /// Anthropic `POST /v1/messages`.
    Anthropic,
    /// Gemini `POST /v1beta/models/{model}:generateContent` / `:streamGenerateContent`.
    Gemini,
}

const REQUEST_ID: &str = "req_011MockUpstream0000000000";

fn openai(
    code: u16,
    message: &str,
    kind: &str,
    param: Option<&str>,
    err_code: Option<&str>,
) -> HttpResponse {
    let body =
        json!({"error": {"message": message, "type": kind, "param": param, "code": err_code}});
    reply::body(
        code,
        reply::JSON,
        body.to_string(),
        &[("x-request-id".into(), REQUEST_ID.into())],
    )
}

fn azure(code: u16, err_code: &str, message: &str) -> HttpResponse {
    reply::json(
        code,
        &json!({"error": {"code": err_code, "message": message}}),
    )
}

fn anthropic(code: u16, kind: &str, message: &str) -> HttpResponse {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": REQUEST_ID});
    reply::body(
        code,
        reply::JSON,
        body.to_string(),
        &[("request-id".into(), REQUEST_ID.into())],
    )
}

fn gemini(code: u16, status: &str, message: &str) -> HttpResponse {
    let body = json!({"error": {"code": code, "message": message, "status": status}});
    reply::body(
        code,
        "application/json; charset=UTF-8",
        body.to_string(),
        &[],
    )
}

/// 401 (Gemini: see `missing_key` / `wrong_key`; this is the OAuth-style 401 `UNAUTHENTICATED`).
pub fn unauthorized(api: Api) -> HttpResponse {
    match api {
        Api::Responses | Api::Chat => openai(
            401,
            "Incorrect API key provided: sk-mock***. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        ),
        Api::Azure => azure(
            401,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        ),
        Api::Anthropic => anthropic(401, "authentication_error", "invalid x-api-key"),
        Api::Gemini => gemini(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        ),
    }
}

/// No API key at all, as each provider really answers it (Gemini: 403 `PERMISSION_DENIED`).
pub fn missing_key(api: Api) -> HttpResponse {
    match api {
        Api::Responses | Api::Chat => openai(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            None,
            None,
        ),
        Api::Anthropic => anthropic(401, "authentication_error", "x-api-key header is required"),
        Api::Gemini => gemini(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        ),
        Api::Azure => unauthorized(api),
    }
}

/// A key that is not the configured one (Gemini: 400 `API_KEY_INVALID`, the fixture).
pub fn wrong_key(api: Api) -> HttpResponse {
    match api {
        Api::Gemini => reply::body(
            400,
            "application/json; charset=UTF-8",
            fixture("gemini/error_400_invalid_argument.json"),
            &[],
        ),
        _ => unauthorized(api),
    }
}

/// A malformed request (bad JSON, missing required field, missing version header / query).
pub fn bad_request(api: Api, message: &str) -> HttpResponse {
    match api {
        Api::Responses | Api::Chat => openai(400, message, "invalid_request_error", None, None),
        Api::Azure => azure(400, "BadRequest", message),
        Api::Anthropic => anthropic(400, "invalid_request_error", message),
        Api::Gemini => gemini(400, "INVALID_ARGUMENT", message),
    }
}

pub fn not_found(api: Api, model: &str) -> HttpResponse {
    match api {
        Api::Responses | Api::Chat => openai(
            404,
            &format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error",
            None,
            Some("model_not_found"),
        ),
        Api::Azure => reply::json_text(
            404,
            fixture("azure-openai/error_404_deployment_not_found.json"),
        ),
        Api::Anthropic => anthropic(404, "not_found_error", &format!("model: {model}")),
        Api::Gemini => gemini(
            404,
            "NOT_FOUND",
            &format!(
                "models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
            ),
        ),
    }
}

/// 500 internal error.
pub fn server_error(api: Api) -> HttpResponse {
    match api {
        Api::Responses | Api::Chat => openai(
            500,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
            None,
        ),
        Api::Azure => azure(
            500,
            "InternalServerError",
            "The service is temporarily unable to process your request. Please try again later.",
        ),
        Api::Anthropic => anthropic(500, "api_error", "Internal server error"),
        Api::Gemini => gemini(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        ),
    }
}

/// 503 / 529 overloaded (Gemini 503: fixture; Anthropic 529: fixture).
pub fn overloaded(api: Api, code: u16) -> HttpResponse {
    match (api, code) {
        (Api::Anthropic, 529) => reply::http("anthropic/error_529_overloaded.http"),
        (Api::Anthropic, _) => anthropic(code, "overloaded_error", "Overloaded"),
        (Api::Gemini, _) => reply::body(
            code,
            "application/json; charset=UTF-8",
            fixture("gemini/error_503_unavailable.json"),
            &[],
        ),
        (Api::Responses | Api::Chat, _) => openai(
            code,
            "The server is overloaded or not ready yet.",
            "server_error",
            None,
            None,
        ),
        (Api::Azure, _) => azure(
            code,
            "ServiceUnavailable",
            "The service is temporarily unable to process your request. Please try again later.",
        ),
    }
}

/// The provider's 429 fixture; `quota` picks OpenAI's non-retryable `insufficient_quota` variant.
pub fn rate_limited(api: Api, quota: bool) -> HttpResponse {
    match api {
        Api::Responses | Api::Chat if quota => {
            reply::http("openai/error_429_insufficient_quota.http")
        }
        Api::Responses | Api::Chat => reply::http("openai/error_429_rate_limit.http"),
        Api::Azure => reply::http("azure-openai/error_429_rate_limit.http"),
        Api::Anthropic => reply::http("anthropic/error_429_rate_limit.http"),
        Api::Gemini => reply::http("gemini/error_429_resource_exhausted.http"),
    }
}

/// The provider's 400 fixture.
pub fn fixture_400(api: Api) -> HttpResponse {
    match api {
        Api::Responses | Api::Chat => reply::http("openai/error_400_invalid_request.http"),
        Api::Azure => reply::json_text(400, fixture("azure-openai/error_400_content_filter.json")),
        Api::Anthropic => reply::http("anthropic/error_400_invalid_request.http"),
        Api::Gemini => wrong_key(api),
    }
}

/// The in-band error frame a provider sends when a 200 stream fails midway (OpenAI Responses and Anthropic have
/// whole fixtures for this and do not use it).
pub fn stream_error_frame(api: Api) -> String {
    match api {
        Api::Gemini => format!(
            "data: {}\r\n\r\n",
            json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}})
        ),
        Api::Anthropic => format!(
            "event: error\ndata: {}\n\n",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        ),
        Api::Responses | Api::Chat | Api::Azure => format!(
            "data: {}\n\n",
            json!({"error": {"message": "The server had an error while processing your request. Sorry about that!", "type": "server_error", "param": null, "code": null}})
        ),
    }
}

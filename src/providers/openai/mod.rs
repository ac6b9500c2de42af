//! OpenAI through its Responses API, `POST {base_url}/responses` with the shared thin transport
//! (`http::post_json`: one pooled client, our SSE decoder, no retries). The gateway owns
//! conversation state, so the full history is sent with `store: false`.
//! Docs: https://platform.openai.com/docs/api-reference/responses
//!
//! Not through async-openai (Azure still is): its stream spawns an event-source task per
//! response that hands every event through a channel, which cost ~4.5 KiB per open stream and a
//! task hop per chunk, and its request path re-encodes each body; the benchmark (BENCHMARKS.md, second pass)
//! measured both.

mod stream;
#[cfg(test)]
mod tests;
mod translate;
mod wire;

use reqwest::header::{AUTHORIZATION, HeaderMap};

pub use stream::OpenAiStream;
pub use translate::{build_request, parse_response};
use wire::OpenAiErrorBody;
pub use wire::OpenAiRequest;

use super::{Call, UpstreamReply, http, upstream_error};
use crate::{
    config::ProviderConfig,
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
};

/// The prefix earlier gateway versions put on OpenAI's reasoning state; stored history may still
/// carry it, so it is removed before the value goes back upstream. OpenAI's own values are now
/// passed through untouched (the gateway's envelopes for other providers start `gw1.`).
pub const LEGACY_PREFIX: &str = "openai:";

/// The OpenAI upstream client.
pub struct OpenAiClient {
    http: http::HttpClient,
    url: String,
}

impl OpenAiClient {
    /// A client for `config`, sending through the shared `http` pool.
    pub fn new(config: &ProviderConfig, http: impl Into<http::HttpClient>) -> Self {
        let base = config.base_url.trim_end_matches('/');
        Self {
            http: http.into(),
            url: format!("{base}/responses"),
        }
    }

    /// One attempt: JSON or SSE depending on `call.stream`.
    pub async fn send(
        &self,
        config: &ProviderConfig,
        call: Call<'_>,
    ) -> Result<UpstreamReply, GatewayError> {
        let body = serde_json::to_vec(&build_request(call)?).map_err(|e| {
            GatewayError::Internal(format!("cannot encode the OpenAI request: {e}"))
        })?;
        let authorization =
            http::key_header(config, &format!("Bearer {}", config.api_key.expose()))?;
        let mut headers = client_request_id(call.request_id);
        headers.insert(AUTHORIZATION, authorization);
        http::post_json(
            &self.http,
            config,
            &self.url,
            headers,
            body,
            call.stream,
            parse_error,
        )
        .await
    }
}

/// `X-Client-Request-Id`: OpenAI keeps it with the request, so a gateway request id can be
/// traced upstream (https://platform.openai.com/docs/api-reference/debugging-requests).
fn client_request_id(request_id: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = reqwest::header::HeaderValue::from_str(request_id)
        && !request_id.is_empty()
    {
        headers.insert("x-client-request-id", value);
    }
    headers
}

/// Maps an OpenAI error response (status, headers, `{"error":{message,type,param,code}}`).
pub fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    let parsed: OpenAiErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let error = parsed.error.unwrap_or_default();
    let code = error.code.or(error.kind).unwrap_or_default();
    let message = error.message.as_deref();
    let mut kind = upstream_error::classify_status(status);
    if code == "insufficient_quota" {
        kind = UpstreamErrorKind::QuotaExceeded;
    }
    let kind = upstream_error::refine_bad_request(kind, Some(&code), message.unwrap_or_default());
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut err = UpstreamError::new(
        provider,
        kind,
        upstream_error::client_message(provider, kind, status, message),
    )
    // OpenAI's 429s carry no retry-after header; the wait is in the message
    // ("Please try again in 3.728s").
    .with_retry_after(
        upstream_error::retry_after(headers)
            .or_else(|| message.and_then(upstream_error::retry_hint)),
    )
    .with_detail(format!(
        "status {status}, request-id {request_id}: {}",
        upstream_error::excerpt(body)
    ));
    err.param = match kind {
        UpstreamErrorKind::BadRequest => error.param,
        UpstreamErrorKind::ContextLengthExceeded => Some("input".to_owned()),
        _ => None,
    };
    err
}

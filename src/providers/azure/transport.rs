//! Azure OpenAI transport: the deployment-scoped Chat Completions URL
//! (`{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`) and the
//! `api-key` header, sent by the shared thin transport (`http::post_json`: body caps, our SSE
//! decoder with pull backpressure, no retries), failures mapped by [`super::parse_error`].
//! Docs: https://learn.microsoft.com/azure/ai-services/openai/reference#chat-completions
//!
//! Not through async-openai any more: its stream is read by a spawned task into an unbounded
//! channel (a client that stopped reading let the gateway buffer without bound) and its JSON
//! path reads a whole body without a cap; the OpenAI provider left it earlier for the same
//! per-stream task.

use reqwest::header::{HeaderMap, HeaderValue};

use super::{build_request, parse_error};
use crate::{
    config::ProviderConfig,
    error::GatewayError,
    providers::{Call, UpstreamReply, http},
};

/// Header Azure echoes in its logs, so a gateway request can be traced upstream.
const CLIENT_REQUEST_ID: &str = "x-ms-client-request-id";

/// The Azure OpenAI upstream client (classic deployment-scoped Chat Completions).
pub struct AzureClient {
    http: http::HttpClient,
}

impl AzureClient {
    /// A client for `config`, sending through the shared `http` pool.
    pub fn new(_config: &ProviderConfig, http: impl Into<http::HttpClient>) -> Self {
        Self { http: http.into() }
    }

    /// One attempt: JSON or SSE depending on `call.stream`.
    pub async fn send(
        &self,
        config: &ProviderConfig,
        call: Call<'_>,
    ) -> Result<UpstreamReply, GatewayError> {
        let provider = config.name.as_str();
        let Some(deployment) = deployment_for(config, call.model) else {
            return Err(GatewayError::NotFound {
                message: format!(
                    "Provider `{provider}` has no deployment for model `{}`.",
                    call.model
                ),
                param: Some("model".to_owned()),
                code: "model_not_found",
            });
        };
        let stream = call.stream;
        let body = serde_json::to_vec(&build_request(call, config)?).map_err(|e| {
            GatewayError::Internal(format!("cannot encode the Azure OpenAI request: {e}"))
        })?;
        let mut headers = request_headers(call.request_id);
        headers.insert(
            "api-key",
            http::key_header(config, config.api_key.expose())?,
        );
        let url = endpoint(config, deployment);
        http::post_json(&self.http, config, &url, headers, body, stream, parse_error).await
    }
}

/// The Chat Completions URL of `deployment` (encoded as one path segment).
pub(super) fn endpoint(config: &ProviderConfig, deployment: &str) -> String {
    let base = config.base_url.trim_end_matches('/');
    let api_version = config.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION);
    format!(
        "{base}/openai/deployments/{}/chat/completions?api-version={}",
        http::path_segment(deployment),
        http::path_segment(api_version)
    )
}

/// The GA `api-version` used when the config names none (config validation defaults it too).
const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The deployment for `model`: its mapped deployment, `model` itself when it already names a
/// configured deployment, else the default deployment. Without a default the `deployments` map
/// is an allow-list: an unlisted model has none (`None`, answered 404), so a caller can never
/// reach a deployment the operator did not configure.
pub(super) fn deployment_for<'a>(config: &'a ProviderConfig, model: &'a str) -> Option<&'a str> {
    if let Some(deployment) = config.deployments.get(model) {
        return Some(deployment);
    }
    if config.deployments.values().any(|d| d == model) {
        return Some(model);
    }
    config.deployment_id.as_deref()
}

fn request_headers(request_id: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(request_id)
        && !request_id.is_empty()
    {
        headers.insert(CLIENT_REQUEST_ID, value);
    }
    headers
}

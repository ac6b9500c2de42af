//! `AnthropicClient`: the thin transport, `POST {base_url}/v1/messages` with `x-api-key` and
//! `anthropic-version`, through the shared `post_json`.

use reqwest::header::{HeaderMap, HeaderValue};

use super::{DEFAULT_API_VERSION, build_request, parse_error};
use crate::{
    config::ProviderConfig,
    error::GatewayError,
    providers::{
        Call, UpstreamReply,
        http::{HttpClient, key_header, post_json},
    },
};

/// Sends Messages requests for one configured Anthropic instance.
#[derive(Debug, Clone)]
pub struct AnthropicClient {
    http: HttpClient,
    url: String,
}

impl AnthropicClient {
    /// A client for `config`, sharing `http` (connection pool).
    pub fn new(config: &ProviderConfig, http: impl Into<HttpClient>) -> Self {
        let base = config.base_url.trim_end_matches('/');
        // Tolerate a base URL configured with the version segment already on it.
        let base = base.strip_suffix("/v1").unwrap_or(base);
        Self {
            http: http.into(),
            url: format!("{base}/v1/messages"),
        }
    }

    /// Sends one attempt: JSON when `call.stream` is false, an SSE data stream otherwise.
    pub async fn send(
        &self,
        config: &ProviderConfig,
        call: Call<'_>,
    ) -> Result<UpstreamReply, GatewayError> {
        let request = build_request(call, config)?;
        let body = serde_json::to_vec(&request).map_err(|e| {
            GatewayError::Internal(format!("cannot encode the Anthropic request: {e}"))
        })?;
        let api_key = key_header(config, config.api_key.expose())?;
        let version = config.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION);
        let version = HeaderValue::from_str(version).map_err(|_| {
            GatewayError::Internal(format!(
                "the api_version of provider `{}` is not a valid header value",
                config.name
            ))
        })?;
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", api_key);
        headers.insert("anthropic-version", version);
        post_json(
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

//! Azure OpenAI transport: async-openai's `AzureConfig` (deployment URL, `api-version` query,
//! `api-key` header) fed our `ChatRequest` through `*_byot`, sent by our `CapturingService`
//! (one attempt, our timeouts, failures mapped by [`super::parse_error`]).

use async_openai::{Client, config::AzureConfig, traits::RequestOptionsBuilder};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::value::RawValue;

use super::{build_request, parse_error};
use crate::{
    config::ProviderConfig,
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    providers::{Call, UpstreamReply, http, sdk},
};

/// Header Azure echoes in its logs, so a gateway request can be traced upstream.
const CLIENT_REQUEST_ID: &str = "x-ms-client-request-id";

/// The Azure OpenAI upstream client (classic deployment-scoped Chat Completions).
pub struct AzureClient {
    http: reqwest::Client,
    service: sdk::CapturingService,
    /// Whether the key can be sent as a header (async-openai would panic on one that cannot).
    key_is_valid: bool,
}

impl AzureClient {
    /// A client for `config`, sending through the shared `http` pool.
    pub fn new(config: &ProviderConfig, http: reqwest::Client) -> Self {
        let service = sdk::CapturingService::new(
            http.clone(),
            &config.name,
            config.request_timeout,
            parse_error,
        );
        Self {
            http,
            service,
            key_is_valid: HeaderValue::from_str(config.api_key.expose()).is_ok(),
        }
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
        let body = build_request(call, config)?;
        if !self.key_is_valid {
            let kind = UpstreamErrorKind::Auth;
            return Err(UpstreamError::new(
                provider,
                kind,
                http::generic_message(provider, kind, 0),
            )
            .with_detail("the configured API key is not a valid HTTP header value")
            .into());
        }
        let sdk = self.sdk_client(config, deployment);
        let chat = sdk.chat().headers(request_headers(call.request_id));
        if call.stream {
            let stream = chat
                .create_stream_byot::<_, Box<RawValue>>(body)
                .await
                .map_err(|e| sdk::map_sdk_error(provider, e))?;
            return Ok(UpstreamReply::Stream(sdk::into_data_stream(
                stream,
                provider.to_owned(),
                config.stream_idle_timeout,
            )));
        }
        // The service bounds the wait for the response head; this also bounds the body.
        let raw: Box<RawValue> =
            tokio::time::timeout(config.request_timeout, chat.create_byot(body))
                .await
                .map_err(|_| {
                    let kind = UpstreamErrorKind::Timeout;
                    UpstreamError::new(provider, kind, http::generic_message(provider, kind, 0))
                })?
                .map_err(|e| sdk::map_sdk_error(provider, e))?;
        Ok(UpstreamReply::Json(sdk::raw_bytes(raw)))
    }

    /// An SDK client for `deployment` (cheap: shares the pool and service). async-openai puts
    /// the deployment into the URL path as it is, so it is encoded here as one segment.
    fn sdk_client(&self, config: &ProviderConfig, deployment: &str) -> Client<AzureConfig> {
        let endpoint = config.base_url.trim_end_matches('/');
        let api_version = config.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION);
        let azure = AzureConfig::new()
            .with_api_base(endpoint)
            .with_deployment_id(http::path_segment(deployment))
            .with_api_version(api_version)
            .with_api_key(config.api_key.expose());
        Client::build(self.http.clone(), azure).with_http_service(self.service.clone())
    }
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

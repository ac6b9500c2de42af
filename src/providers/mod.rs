//! Upstream providers. Each module holds pure translation (request, response, stream event,
//! error) plus one thin transport function; [`Provider`] dispatches over them exhaustively.

pub mod anthropic;
pub mod azure;
pub mod dialect;
pub mod gemini;
pub mod http;
pub mod openai;
#[cfg(test)]
mod test_support;
pub mod upstream_error;
pub mod web_search;

use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

use crate::{
    api::{CreateResponse, Item, ProviderKind},
    config::ProviderConfig,
    error::GatewayError,
    stream::ResponseEmitter,
};

/// What one upstream attempt needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The caller's request (settings, tools, format).
    pub request: &'a CreateResponse,
    /// The full input: stored history followed by the new input.
    pub input: &'a [Item],
    /// The upstream model (or Azure deployment) name.
    pub model: &'a str,
    /// Whether to ask the upstream for a stream.
    pub stream: bool,
    /// The gateway request id, forwarded where the provider accepts one.
    pub request_id: &'a str,
    /// Seals and opens the reasoning state carried in `encrypted_content`.
    pub sealer: &'a crate::seal::Sealer,
}

impl Call<'_> {
    /// How the caller names `input[index]` (an index into history + new input): `input[j]` for
    /// an item of this request's own input, `input` for one from stored history.
    pub fn item_param(&self, index: usize) -> String {
        let own = match &self.request.input {
            None => 0,
            Some(crate::api::Input::Text(_)) => 1,
            Some(crate::api::Input::Items(items)) => items.len(),
        };
        let history = self.input.len().saturating_sub(own);
        match index.checked_sub(history) {
            Some(j) => format!("input[{j}]"),
            None => "input".to_owned(),
        }
    }
}

/// The `data:` payloads of an upstream SSE stream, in order.
pub type DataStream = Pin<Box<dyn Stream<Item = Result<String, GatewayError>> + Send>>;

/// A successful upstream answer, before translation.
pub enum UpstreamReply {
    /// A complete JSON body.
    Json(Bytes),
    /// An SSE stream.
    Stream(DataStream),
}

/// Translates one provider's stream `data:` payloads into emitter calls.
pub trait StreamTranslator: Send {
    /// Handles one `data:` payload. An `Err` is an upstream failure reported in-stream.
    fn on_data(&mut self, data: &str, out: &mut ResponseEmitter) -> Result<(), GatewayError>;
    /// The upstream stream ended; finish the response (or report a cut stream as an error).
    fn on_end(&mut self, out: &mut ResponseEmitter) -> Result<(), GatewayError>;
}

/// A configured upstream provider instance.
pub struct Provider {
    /// Its configuration.
    pub config: ProviderConfig,
    client: ProviderClient,
}

enum ProviderClient {
    OpenAi(openai::OpenAiClient),
    Azure(azure::AzureClient),
    Anthropic(anthropic::AnthropicClient),
    Gemini(gemini::GeminiClient),
}

impl Provider {
    /// Builds the client for `config`, sharing `http` (connection pool).
    pub fn new(config: ProviderConfig, http: impl Into<http::HttpClient>) -> Self {
        let http = http.into();
        let client = match config.kind {
            ProviderKind::OpenAi => {
                ProviderClient::OpenAi(openai::OpenAiClient::new(&config, http))
            }
            ProviderKind::Azure => ProviderClient::Azure(azure::AzureClient::new(&config, http)),
            ProviderKind::Anthropic => {
                ProviderClient::Anthropic(anthropic::AnthropicClient::new(&config, http))
            }
            ProviderKind::Gemini => {
                ProviderClient::Gemini(gemini::GeminiClient::new(&config, http))
            }
        };
        Self { config, client }
    }

    /// Instance name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Sends one attempt upstream (no retries: failover is the caller's decision).
    pub async fn send(&self, call: Call<'_>) -> Result<UpstreamReply, GatewayError> {
        match &self.client {
            ProviderClient::OpenAi(c) => c.send(&self.config, call).await,
            ProviderClient::Azure(c) => c.send(&self.config, call).await,
            ProviderClient::Anthropic(c) => c.send(&self.config, call).await,
            ProviderClient::Gemini(c) => c.send(&self.config, call).await,
        }
    }

    /// Translates a complete JSON answer into the emitter (which it finishes).
    pub fn parse_response(
        &self,
        call: Call<'_>,
        body: &[u8],
        out: &mut ResponseEmitter,
    ) -> Result<(), GatewayError> {
        let name = &self.config.name;
        match &self.client {
            ProviderClient::OpenAi(_) => openai::parse_response(body, call, out, name),
            ProviderClient::Azure(_) => azure::parse_response(body, call, out, name),
            ProviderClient::Anthropic(_) => anthropic::parse_response(body, call, out, name),
            ProviderClient::Gemini(_) => gemini::parse_response(body, call, out, name),
        }
    }

    /// A stream translator for one attempt.
    pub fn stream_translator(&self, call: Call<'_>) -> Box<dyn StreamTranslator> {
        let name = self.config.name.clone();
        match &self.client {
            ProviderClient::OpenAi(_) => Box::new(openai::OpenAiStream::new(call, name)),
            ProviderClient::Azure(_) => Box::new(azure::AzureStream::new(call, name)),
            ProviderClient::Anthropic(_) => Box::new(anthropic::AnthropicStream::new(call, name)),
            ProviderClient::Gemini(_) => Box::new(gemini::GeminiStream::new(call, name)),
        }
    }
}

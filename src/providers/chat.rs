//! TEMPORARY placeholder while the real module is written (replaced before commit).

use super::{Call, StreamTranslator, UpstreamReply};
use crate::{config::ProviderConfig, error::GatewayError, stream::ResponseEmitter};

/// Placeholder client.
pub struct AzureClient;

impl AzureClient {
    /// Placeholder.
    pub fn new(_config: &ProviderConfig, _http: reqwest::Client) -> Self {
        Self
    }

    /// Placeholder.
    pub async fn send(&self, _config: &ProviderConfig, _call: Call<'_>) -> Result<UpstreamReply, GatewayError> {
        Err(GatewayError::Internal("placeholder".into()))
    }
}

/// Placeholder.
pub fn parse_response(_body: &[u8], _call: Call<'_>, _out: &mut ResponseEmitter, _provider: &str) -> Result<(), GatewayError> {
    Err(GatewayError::Internal("placeholder".into()))
}

/// Placeholder stream.
pub struct ChatStream;

impl ChatStream {
    /// Placeholder.
    pub fn new(_call: Call<'_>, _provider: String) -> Self {
        Self
    }
}

impl StreamTranslator for ChatStream {
    fn on_data(&mut self, _data: &str, _out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        Err(GatewayError::Internal("placeholder".into()))
    }
    fn on_end(&mut self, _out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        Err(GatewayError::Internal("placeholder".into()))
    }
}

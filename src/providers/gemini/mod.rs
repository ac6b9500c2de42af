//! Google Gemini through the Generative Language API (`generateContent` /
//! `streamGenerateContent?alt=sse`). Translation is pure; only `transport` does I/O.
//! Docs: https://ai.google.dev/api/generate-content (see also docs/providers/gemini.md).

mod contents;
mod grounding;
mod output;
mod stream;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
mod translate;
mod transport;
mod wire;

pub use stream::GeminiStream;
pub use translate::{build_request, parse_response};
pub use transport::{GeminiClient, parse_error};
pub use wire::{
    GeminiBlob, GeminiCandidate, GeminiContent, GeminiError, GeminiErrorBody, GeminiFileData,
    GeminiFunctionCall, GeminiFunctionCallingConfig, GeminiFunctionDeclaration,
    GeminiFunctionResponse, GeminiGoogleSearch, GeminiGroundingMetadata, GeminiPart,
    GeminiPromptFeedback, GeminiRequest, GeminiResponse, GeminiThinkingConfig, GeminiTool,
    GeminiToolConfig, GeminiUsage, GenerationConfig,
};

/// The API version in the URL (`v1beta` has every field the gateway uses).
pub const API_VERSION: &str = "v1beta";

//! Gemini `generateContent` wire types (lowerCamelCase JSON): request, response/stream chunk and
//! error body. Deserialization is tolerant: unknown fields are ignored, enums are plain strings.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `user` role (also used for tool results).
pub const ROLE_USER: &str = "user";
/// The `model` role.
pub const ROLE_MODEL: &str = "model";

/// The `generateContent` request body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiRequest {
    /// Conversation turns, alternating `user` / `model`, starting with `user`.
    pub contents: Vec<GeminiContent>,
    /// System instruction (role ignored upstream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<GeminiContent>,
    /// Tool groups (the gateway sends one `functionDeclarations` group).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<GeminiTool>,
    /// How the model may call functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<GeminiToolConfig>,
    /// Sampling, output format and thinking settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_config: Option<GenerationConfig>,
}

/// One turn (or the system instruction).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiContent {
    /// `user` or `model` (absent on the system instruction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The parts, in order.
    #[serde(default)]
    pub parts: Vec<GeminiPart>,
}

/// One part. Exactly one data field is set, plus optional `thought` / `thoughtSignature`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiPart {
    /// Text (a thought summary when `thought` is true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Whether `text` is a thought summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
    /// Opaque signature that must come back on the same part when the turn is replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
    /// Inline base64 media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_data: Option<GeminiBlob>,
    /// Media by URI (Files API, `gs://`, YouTube).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<GeminiFileData>,
    /// A function call by the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<GeminiFunctionCall>,
    /// The caller's result for a function call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_response: Option<GeminiFunctionResponse>,
}

/// `inlineData`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiBlob {
    /// IANA media type.
    #[serde(default)]
    pub mime_type: String,
    /// Base64 bytes.
    #[serde(default)]
    pub data: String,
}

/// `fileData`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiFileData {
    /// IANA media type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The URI.
    #[serde(default)]
    pub file_uri: String,
}

/// `functionCall`: `args` is a JSON object, not a string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiFunctionCall {
    /// Call id, only when Gemini produced one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Function name.
    #[serde(default)]
    pub name: String,
    /// Arguments object (absent for zero-argument calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
}

/// `functionResponse`: `response` must be an object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiFunctionResponse {
    /// The matching call's id, only when Gemini produced one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The called function's name (required upstream).
    #[serde(default)]
    pub name: String,
    /// `{"output": …}`.
    #[serde(default)]
    pub response: Value,
}

/// A tool group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiTool {
    /// Function declarations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub function_declarations: Vec<GeminiFunctionDeclaration>,
    /// Grounding with Google Search (`{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_search: Option<GeminiGoogleSearch>,
}

/// `googleSearch`: no options the gateway sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeminiGoogleSearch {}

/// `groundingMetadata` of a candidate grounded with Google Search
/// (https://ai.google.dev/gemini-api/docs/google-search).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiGroundingMetadata {
    /// The searches the model ran.
    #[serde(default)]
    pub web_search_queries: Vec<String>,
    /// The sources (`web: {uri, title}`).
    #[serde(default)]
    pub grounding_chunks: Vec<GeminiGroundingChunk>,
    /// Which text each source supports.
    #[serde(default)]
    pub grounding_supports: Vec<GeminiGroundingSupport>,
}

/// One grounding source.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GeminiGroundingChunk {
    /// A web page.
    #[serde(default)]
    pub web: Option<GeminiWebSource>,
}

/// A web page a grounded answer used.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GeminiWebSource {
    /// Its URL (often a Google redirect).
    #[serde(default)]
    pub uri: Option<String>,
    /// Its title (often the domain).
    #[serde(default)]
    pub title: Option<String>,
}

/// A span of the answer and the sources that support it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiGroundingSupport {
    /// The span.
    #[serde(default)]
    pub segment: Option<GeminiSegment>,
    /// Indices into `groundingChunks`.
    #[serde(default)]
    pub grounding_chunk_indices: Vec<usize>,
}

/// A span of the answer text, in bytes (omitted indices are 0).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiSegment {
    /// First byte.
    #[serde(default)]
    pub start_index: usize,
    /// One past the last byte.
    #[serde(default)]
    pub end_index: usize,
}

/// One function declaration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiFunctionDeclaration {
    /// Function name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments (omitted for zero-argument functions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters_json_schema: Option<Value>,
}

/// `toolConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiToolConfig {
    /// The function-calling mode.
    pub function_calling_config: GeminiFunctionCallingConfig,
}

/// `functionCallingConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiFunctionCallingConfig {
    /// `AUTO`, `ANY`, `NONE` or `VALIDATED`.
    pub mode: String,
    /// Restricts calls to these functions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_function_names: Vec<String>,
}

/// `generationConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    /// Output budget (includes thinking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// 0–2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// `application/json` for structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<String>,
    /// JSON Schema the output must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_json_schema: Option<Value>,
    /// Thinking budget / level and thought summaries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<GeminiThinkingConfig>,
}

/// `thinkingConfig`: `thinkingBudget` (2.5) or `thinkingLevel` (3.x), never both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiThinkingConfig {
    /// Return thought summaries as `thought: true` parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
    /// Token budget (Gemini 2.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<i32>,
    /// `MINIMAL`, `LOW`, `MEDIUM`, `HIGH` (Gemini 3.x).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<String>,
}

/// A `generateContent` response, one stream chunk, or an in-stream `{"error": …}` frame.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiResponse {
    /// Candidates (the gateway asks for one).
    #[serde(default)]
    pub candidates: Vec<GeminiCandidate>,
    /// Set when the prompt itself was blocked.
    #[serde(default)]
    pub prompt_feedback: Option<GeminiPromptFeedback>,
    /// Token counts (running values in streams).
    #[serde(default)]
    pub usage_metadata: Option<GeminiUsage>,
    /// The served model version.
    #[serde(default)]
    pub model_version: Option<String>,
    /// Gemini's response id (logs only).
    #[serde(default)]
    pub response_id: Option<String>,
    /// An error reported inside a stream.
    #[serde(default)]
    pub error: Option<GeminiError>,
}

/// One candidate.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiCandidate {
    /// The generated turn (or this chunk's new parts).
    #[serde(default)]
    pub content: Option<GeminiContent>,
    /// Why generation stopped; absent while streaming.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Human-readable detail for some finish reasons.
    #[serde(default)]
    pub finish_message: Option<String>,
    /// Google Search grounding: searches, sources and the spans they support.
    #[serde(default)]
    pub grounding_metadata: Option<GeminiGroundingMetadata>,
}

/// `promptFeedback`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiPromptFeedback {
    /// `SAFETY`, `OTHER`, `BLOCKLIST`, `PROHIBITED_CONTENT`, …
    #[serde(default)]
    pub block_reason: Option<String>,
}

/// `usageMetadata`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiUsage {
    /// Prompt tokens, including cached ones.
    #[serde(default)]
    pub prompt_token_count: u64,
    /// Cached part of the prompt.
    #[serde(default)]
    pub cached_content_token_count: u64,
    /// Visible output tokens (excludes thoughts).
    #[serde(default)]
    pub candidates_token_count: u64,
    /// Thinking tokens.
    #[serde(default)]
    pub thoughts_token_count: u64,
    /// Tokens of server-side tool results fed back.
    #[serde(default)]
    pub tool_use_prompt_token_count: u64,
}

/// The error body: `{"error": {code, message, status, details}}` (sometimes inside an array).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GeminiErrorBody {
    /// The error.
    pub error: GeminiError,
}

/// A `google.rpc.Status`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GeminiError {
    /// HTTP status code.
    #[serde(default)]
    pub code: Option<i64>,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// Canonical status (`INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, …).
    #[serde(default)]
    pub status: String,
    /// Typed details (`ErrorInfo`, `RetryInfo`, `QuotaFailure`, …), kept raw.
    #[serde(default)]
    pub details: Vec<Value>,
}

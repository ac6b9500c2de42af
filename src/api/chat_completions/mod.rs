//! The Chat Completions wire model, one for both directions: the front door reads requests and
//! writes completions and chunks with it (`frontdoor::chat_completions`), the Azure upstream
//! writes requests and reads completions and chunks with it (`providers::azure`).
//!
//! Reading is as lenient as the reading side needs: requests ignore unknown fields (like
//! `/v1/responses`); completions and chunks also take `null` wherever upstreams send it. Fields
//! only one side writes are skipped when unset, so each side's JSON is what it always was.
//! Reference: https://platform.openai.com/docs/api-reference/chat

mod request;
mod response;

pub use request::{
    AssistantMessage, ChatContent, ChatFunction, ChatFunctionCall, ChatMessage, ChatPart,
    ChatRequest, ChatTool, ChatToolCall, FileData, ImageUrl, JsonSchema, ResponseFormat,
    StreamOptions,
};
pub use response::{
    ChatCompletion, ChatUsage, Choice, CompletionDetails, Delta, FunctionDelta, PromptDetails,
    ToolCallDelta,
};

use serde::{Deserialize, Deserializer};

/// Reads a field that upstreams may send as `null` as its default (`deserialize_with`), so the
/// type can be the one the writing side fills in (`String`, `u64`, `Vec`) rather than an `Option`.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;

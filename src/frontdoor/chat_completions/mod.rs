//! The OpenAI Chat Completions front door: a Chat Completions request becomes the gateway's
//! Open Responses request (`request`), and the response or its event stream becomes a
//! `chat.completion` (`response`) or `chat.completion.chunk` SSE frames (`stream`). Routing,
//! failover, limits and providers are those of `/v1/responses`, unchanged. The wire model is
//! `api::chat_completions`, shared with the Azure upstream.

mod request;
mod response;
mod stream;

#[cfg(test)]
mod tests;

pub use request::{ChatOptions, MIN_OUTPUT_TOKENS, into_create_response};
pub use response::into_completion;
pub use stream::{ChunkTranslator, into_sse};

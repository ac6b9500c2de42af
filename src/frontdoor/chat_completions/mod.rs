//! The OpenAI Chat Completions front door: a Chat Completions request becomes the gateway's
//! Open Responses request (`request`), and the response or its event stream becomes a
//! `chat.completion` (`response`) or `chat.completion.chunk` SSE frames (`stream`). Routing,
//! failover, limits and providers are those of `/v1/responses`, unchanged.

mod request;
mod response;
mod stream;
pub mod wire;

#[cfg(test)]
mod tests;

pub use request::{ChatOptions, MIN_OUTPUT_TOKENS, into_create_response};
pub use response::into_completion;
pub use stream::{ChunkTranslator, into_sse};

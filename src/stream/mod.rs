//! Streaming: SSE decoding/encoding and the provider-independent Open Responses event emitter.

pub mod emitter;
pub mod sse;

pub use emitter::{Finish, ResponseContext, ResponseEmitter};
pub use sse::{SseDecoder, SseEvent};

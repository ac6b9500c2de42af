//! Streaming: SSE decoding/encoding and the provider-independent Open Responses event emitter.

pub mod emitter;
pub mod sse;
mod tool_names;

pub use emitter::{Finish, ResponseContext, ResponseEmitter};
pub use sse::{SseDecoder, SseEvent};
pub use tool_names::{ToolNames, ToolOrigin};

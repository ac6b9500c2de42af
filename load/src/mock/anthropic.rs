//! Anthropic Messages (`POST /v1/messages`), shapes from `tests/fixtures/anthropic/message_text*`.

use serde_json::json;

use super::{WireFormat, sse_frame};

const MESSAGE_ID: &str = "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK";
const MODEL: &str = "claude-3-opus-latest";

/// The Anthropic Messages wire format.
pub struct Messages;

impl WireFormat for Messages {
    fn json(&self) -> String {
        json!({
            "id": MESSAGE_ID, "type": "message", "role": "assistant", "model": MODEL,
            "content": [{"type": "text", "text": "Hello there!"}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 11, "output_tokens": 6}
        })
        .to_string()
    }

    fn head(&self) -> String {
        let start = json!({"type": "message_start", "message": {
            "id": MESSAGE_ID, "type": "message", "role": "assistant", "content": [], "model": MODEL,
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 11, "output_tokens": 1}
        }});
        let block = json!({"type": "content_block_start", "index": 0,
                           "content_block": {"type": "text", "text": ""}});
        sse_frame(Some("message_start"), &start.to_string())
            + &sse_frame(Some("content_block_start"), &block.to_string())
            + &sse_frame(Some("ping"), r#"{"type": "ping"}"#)
    }

    fn delta(&self, _k: usize, text: &str) -> String {
        format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{text}\"}}}}\n\n"
        )
    }

    fn tail(&self, chunks: usize, _full_text: &str) -> String {
        let delta = json!({"type": "message_delta",
                           "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                           "usage": {"output_tokens": chunks}});
        sse_frame(
            Some("content_block_stop"),
            r#"{"type":"content_block_stop","index":0}"#,
        ) + &sse_frame(Some("message_delta"), &delta.to_string())
            + &sse_frame(Some("message_stop"), r#"{"type":"message_stop"}"#)
    }
}

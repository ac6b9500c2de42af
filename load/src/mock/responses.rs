//! OpenAI Responses (`POST /v1/responses`), shapes from `tests/fixtures/openai/responses_text*`.

use serde_json::{Value, json};

use super::{WireFormat, sse_frame};

const RESPONSE_ID: &str = "resp_689a0b2545288193953c892439b42e2800b2e36c65a1fd4b";
const MESSAGE_ID: &str = "msg_689a0b2637b08193ac478e568f49e3f900b2e36c65a1fd4b";
const MODEL: &str = "gpt-4o-mini-2024-07-18";
const TEXT: &str = "I can't provide real-time updates, but you can easily check the current weather in San Francisco using a weather website or app. Typically, San Francisco has cool, foggy summers and mild winters, so it's good to be prepared for variable weather!";
/// Sequence numbers used before the first delta (created, in_progress, item added, part added).
const HEAD_EVENTS: usize = 4;

/// The OpenAI Responses wire format.
pub struct Responses;

fn message(status: &str, text: Option<&str>) -> Value {
    let content = match text {
        Some(text) => {
            json!([{"type": "output_text", "annotations": [], "logprobs": [], "text": text}])
        }
        None => json!([]),
    };
    json!({"id": MESSAGE_ID, "type": "message", "status": status, "content": content, "role": "assistant"})
}

fn response(status: &str, output: Value, usage: Value) -> Value {
    json!({
        "id": RESPONSE_ID, "object": "response", "created_at": 1_754_925_861, "status": status,
        "background": false, "error": null, "incomplete_details": null, "instructions": null,
        "max_output_tokens": null, "max_tool_calls": null, "model": MODEL, "output": output,
        "parallel_tool_calls": true, "previous_response_id": null, "prompt_cache_key": null,
        "reasoning": {"effort": null, "summary": null}, "safety_identifier": null,
        "service_tier": "default", "store": true, "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"}, "tool_choice": "auto",
        "tools": [], "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled", "usage": usage,
        "user": null, "metadata": {}
    })
}

fn usage(output_tokens: usize) -> Value {
    json!({
        "input_tokens": 14, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 14 + output_tokens
    })
}

fn event(kind: &str, mut body: Value, seq: usize) -> String {
    if let Some(map) = body.as_object_mut() {
        map.insert("type".to_owned(), json!(kind));
        map.insert("sequence_number".to_owned(), json!(seq));
    }
    sse_frame(Some(kind), &body.to_string())
}

impl WireFormat for Responses {
    fn json(&self) -> String {
        response(
            "completed",
            json!([message("completed", Some(TEXT))]),
            usage(50),
        )
        .to_string()
    }

    fn head(&self) -> String {
        let in_progress = response("in_progress", json!([]), Value::Null);
        let part = json!({"type": "output_text", "annotations": [], "logprobs": [], "text": ""});
        [
            event("response.created", json!({"response": in_progress}), 0),
            event("response.in_progress", json!({"response": in_progress}), 1),
            event(
                "response.output_item.added",
                json!({"output_index": 0, "item": message("in_progress", None)}),
                2,
            ),
            event(
                "response.content_part.added",
                json!({"item_id": MESSAGE_ID, "output_index": 0, "content_index": 0, "part": part}),
                3,
            ),
        ]
        .concat()
    }

    fn delta(&self, k: usize, text: &str) -> String {
        format!(
            "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"item_id\":\"{MESSAGE_ID}\",\"output_index\":0,\"content_index\":0,\"delta\":\"{text}\",\"logprobs\":[],\"obfuscation\":\"Wd6S45xQ7Sy\",\"sequence_number\":{}}}\n\n",
            HEAD_EVENTS + k
        )
    }

    fn tail(&self, chunks: usize, full_text: &str) -> String {
        let seq = HEAD_EVENTS + chunks;
        let part =
            json!({"type": "output_text", "annotations": [], "logprobs": [], "text": full_text});
        let done = message("completed", Some(full_text));
        let ids = |extra: Value| {
            let mut base = json!({"item_id": MESSAGE_ID, "output_index": 0, "content_index": 0});
            if let (Some(map), Value::Object(more)) = (base.as_object_mut(), extra) {
                map.extend(more);
            }
            base
        };
        [
            event(
                "response.output_text.done",
                ids(json!({"text": full_text, "logprobs": []})),
                seq,
            ),
            event(
                "response.content_part.done",
                ids(json!({"part": part})),
                seq + 1,
            ),
            event(
                "response.output_item.done",
                json!({"output_index": 0, "item": done}),
                seq + 2,
            ),
            event(
                "response.completed",
                json!({"response": response("completed", json!([done]), usage(chunks))}),
                seq + 3,
            ),
        ]
        .concat()
    }
}

//! Chat Completions (`POST /v1/chat/completions`) and Azure OpenAI
//! (`POST /openai/deployments/{d}/chat/completions`), shapes from
//! `tests/fixtures/{openai,azure-openai}/chat_completion_text*`.

use serde_json::{Value, json};

use super::{WireFormat, sse_frame};

/// Azure's per-choice content filter verdict (all categories safe).
const AZURE_FILTER: &str = r#""content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"#;

/// The Chat Completions wire format; `azure` adds Azure's content-filter fields.
pub struct Chat {
    /// Azure OpenAI flavour.
    pub azure: bool,
}

impl Chat {
    fn id(&self) -> &'static str {
        if self.azure {
            "chatcmpl-CfT3bR9lAs2wO5nC8yZ1qM4eX0tF7"
        } else {
            "chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL"
        }
    }

    fn model(&self) -> &'static str {
        if self.azure {
            "gpt-4.1-2025-04-14"
        } else {
            "gpt-4o-2024-08-06"
        }
    }

    fn chunk(&self, choices: Value, usage: Option<Value>) -> String {
        let mut chunk = json!({
            "id": self.id(), "object": "chat.completion.chunk", "created": 1_727_346_168,
            "model": self.model(), "system_fingerprint": "fp_5050236cbd", "choices": choices
        });
        if let (Some(map), Some(usage)) = (chunk.as_object_mut(), usage) {
            map.insert("usage".to_owned(), usage);
        }
        sse_frame(None, &chunk.to_string())
    }

    fn filter(&self) -> &'static str {
        if self.azure { AZURE_FILTER } else { "" }
    }
}

fn prompt_filter() -> Value {
    let safe = json!({"filtered": false, "severity": "safe"});
    json!([{"prompt_index": 0, "content_filter_results": {
        "hate": safe, "jailbreak": {"filtered": false, "detected": false},
        "self_harm": safe, "sexual": safe, "violence": safe
    }}])
}

impl WireFormat for Chat {
    fn json(&self) -> String {
        let mut body = json!({
            "id": self.id(), "object": "chat.completion", "created": 1_727_346_142,
            "model": self.model(),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or app like the Weather Channel or a local news station.", "refusal": null},
                "logprobs": null, "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 14, "completion_tokens": 37, "total_tokens": 51,
                      "completion_tokens_details": {"reasoning_tokens": 0}},
            "system_fingerprint": "fp_b40fb1c6fb"
        });
        if self.azure
            && let Some(map) = body.as_object_mut()
        {
            map.insert("prompt_filter_results".to_owned(), prompt_filter());
        }
        body.to_string()
    }

    fn head(&self) -> String {
        let role = self.chunk(
            json!([{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": null},
                    "logprobs": null, "finish_reason": null}]),
            None,
        );
        if !self.azure {
            return role;
        }
        // Azure opens with an id-less chunk carrying only the prompt filter results.
        let pre = json!({"choices": [], "created": 0, "id": "", "model": "", "object": "",
                         "prompt_filter_results": prompt_filter()});
        sse_frame(None, &pre.to_string()) + &role
    }

    fn delta(&self, _k: usize, text: &str) -> String {
        format!(
            "data: {{\"id\":\"{}\",\"object\":\"chat.completion.chunk\",\"created\":1727346168,\"model\":\"{}\",\"system_fingerprint\":\"fp_5050236cbd\",\"choices\":[{{{}\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n",
            self.id(),
            self.model(),
            self.filter()
        )
    }

    fn tail(&self, chunks: usize, _full_text: &str) -> String {
        let finish = self.chunk(
            json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}]),
            None,
        );
        let usage = json!({"prompt_tokens": 14, "completion_tokens": chunks,
                           "total_tokens": 14 + chunks,
                           "completion_tokens_details": {"reasoning_tokens": 0}});
        finish + &self.chunk(json!([]), Some(usage)) + "data: [DONE]\n\n"
    }
}

//! Gemini (`POST /v1beta/models/{m}:generateContent` and `:streamGenerateContent?alt=sse`),
//! shapes from `tests/fixtures/gemini/*_text*`. Like the real API, frames end in CRLF.

use serde_json::{Value, json};

use super::WireFormat;

const RESPONSE_ID: &str = "nZ3Iac3yBq-UkdUPs8iQ0Ag";
const SIGNATURE: &str = "EjRWCpYicHGtaSE6vbpSyR1Pdczrw8mfV8GFeaMNAtTEBoLSY2FxHPVIROEKcxuVqej3YYXCtW0Oora9mPhaSgjgWVXQCP5cj2tcgbWqeZI2uSaCpj23p00XjzLUNyfbliuG";

/// The Gemini `generateContent` wire format.
pub struct Gemini;

fn usage(candidates: Option<usize>) -> Value {
    let mut usage = json!({"promptTokenCount": 8, "totalTokenCount": 401,
                           "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}],
                           "thoughtsTokenCount": 393});
    if let (Some(map), Some(n)) = (usage.as_object_mut(), candidates) {
        map.insert("candidatesTokenCount".to_owned(), json!(n));
    }
    usage
}

fn frame(body: &Value) -> String {
    format!("data: {body}\r\n\r\n")
}

impl WireFormat for Gemini {
    fn json(&self) -> String {
        json!({
            "candidates": [{
                "content": {"parts": [{
                    "text": "Why did the gateway break up with the proxy? It needed more personal space in its headers.",
                    "thoughtSignature": SIGNATURE
                }], "role": "model"},
                "finishReason": "STOP", "index": 0
            }],
            "usageMetadata": usage(Some(19)),
            "modelVersion": "gemini-2.5-flash", "responseId": "mJ3Iab-DL8CqkdUP0_2W8QU"
        })
        .to_string()
    }

    fn head(&self) -> String {
        String::new()
    }

    fn delta(&self, _k: usize, text: &str) -> String {
        format!(
            "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"{text}\"}}],\"role\":\"model\"}},\"index\":0}}],\"usageMetadata\":{{\"promptTokenCount\":8,\"totalTokenCount\":401,\"promptTokensDetails\":[{{\"modality\":\"TEXT\",\"tokenCount\":8}}],\"thoughtsTokenCount\":393}},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"{RESPONSE_ID}\"}}\r\n\r\n"
        )
    }

    fn tail(&self, chunks: usize, _full_text: &str) -> String {
        frame(&json!({
            "candidates": [{
                "content": {"parts": [{"text": "", "thoughtSignature": SIGNATURE}], "role": "model"},
                "finishReason": "STOP", "index": 0
            }],
            "usageMetadata": usage(Some(chunks)),
            "modelVersion": "gemini-2.5-flash", "responseId": RESPONSE_ID
        }))
    }
}

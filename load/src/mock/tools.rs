//! Tool calls: a non-streaming request that offers function tools is answered with a call to the
//! first one, in the provider's own shape (the Open Responses compliance suite's tool-calling
//! case, run by hand against the gateway in front of this mock; see docs/api.md, "The official
//! compliance suite"). Requests without tools never parse their body here.

use bytes::Bytes;
use serde_json::{Value, json};

use super::Kind;

/// The first function tool's name offered by `body`, if any.
pub(super) fn offered(kind: Kind, body: &[u8]) -> Option<String> {
    if !body.windows(7).any(|w| w == b"\"tools\"") {
        return None;
    }
    let request: Value = serde_json::from_slice(body).ok()?;
    let first = request.get("tools")?.as_array()?.first()?;
    let name = match kind {
        Kind::Responses | Kind::Anthropic => first.get("name"),
        Kind::Chat | Kind::Azure => first.pointer("/function/name"),
        Kind::Gemini => first.pointer("/functionDeclarations/0/name"),
    }?;
    name.as_str().map(str::to_owned)
}

/// `json` (the format's text answer) turned into a call to `name` with `{}` as arguments.
pub(super) fn call(kind: Kind, json: &Bytes, name: &str) -> Option<Bytes> {
    let mut body: Value = serde_json::from_slice(json).ok()?;
    let slot = |body: &mut Value, pointer: &str, value: Value| {
        if let Some(target) = body.pointer_mut(pointer) {
            *target = value;
        }
    };
    match kind {
        Kind::Responses => slot(
            &mut body,
            "/output",
            json!([{"id": "fc_bench", "type": "function_call", "status": "completed",
                    "call_id": "call_bench", "name": name, "arguments": "{}"}]),
        ),
        Kind::Chat | Kind::Azure => {
            slot(
                &mut body,
                "/choices/0/message",
                json!({"role": "assistant", "content": null, "refusal": null,
                       "tool_calls": [{"id": "call_bench", "type": "function",
                                       "function": {"name": name, "arguments": "{}"}}]}),
            );
            slot(&mut body, "/choices/0/finish_reason", json!("tool_calls"));
        }
        Kind::Anthropic => {
            slot(
                &mut body,
                "/content",
                json!([{"type": "tool_use", "id": "toolu_bench", "name": name, "input": {}}]),
            );
            slot(&mut body, "/stop_reason", json!("tool_use"));
        }
        Kind::Gemini => slot(
            &mut body,
            "/candidates/0/content/parts",
            json!([{"functionCall": {"name": name, "args": {}}}]),
        ),
    }
    Some(Bytes::from(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{WireFormat, anthropic, chat, gemini, responses};

    #[test]
    fn each_format_calls_the_first_offered_tool() {
        let cases: [(Kind, Box<dyn WireFormat>, Value, &str); 4] = [
            (
                Kind::Responses,
                Box::new(responses::Responses),
                json!({"tools": [{"type": "function", "name": "get_weather"}]}),
                "/output/0/name",
            ),
            (
                Kind::Azure,
                Box::new(chat::Chat { azure: true }),
                json!({"tools": [{"type": "function", "function": {"name": "get_weather"}}]}),
                "/choices/0/message/tool_calls/0/function/name",
            ),
            (
                Kind::Anthropic,
                Box::new(anthropic::Messages),
                json!({"tools": [{"name": "get_weather", "input_schema": {}}]}),
                "/content/0/name",
            ),
            (
                Kind::Gemini,
                Box::new(gemini::Gemini),
                json!({"tools": [{"functionDeclarations": [{"name": "get_weather"}]}]}),
                "/candidates/0/content/parts/0/functionCall/name",
            ),
        ];
        for (kind, wire, request, pointer) in cases {
            let body = request.to_string();
            let name = offered(kind, body.as_bytes()).expect("a tool is offered");
            let answer = call(kind, &Bytes::from(wire.json()), &name).expect("a call");
            let answer: Value = serde_json::from_slice(&answer).expect("JSON");
            assert_eq!(
                answer.pointer(pointer),
                Some(&json!("get_weather")),
                "{kind:?}"
            );
        }
        assert_eq!(offered(Kind::Responses, br#"{"input":"hi"}"#), None);
    }
}

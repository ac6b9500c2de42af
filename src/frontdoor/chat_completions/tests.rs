//! Golden tests for the Chat Completions front door: requests in, Open Responses out; responses
//! and event streams in, completions and chunks out (compared as JSON values).

use bytes::BytesMut;
use serde_json::{Value, json};

use super::{ChatOptions, ChunkTranslator, into_completion, into_create_response};
use crate::api::{ResponseResource, StreamEvent, chat_completions::ChatRequest};

fn translate(body: Value) -> Result<(Value, ChatOptions), crate::GatewayError> {
    let chat: ChatRequest = serde_json::from_value(body).unwrap();
    into_create_response(chat).map(|(request, options)| {
        let mut value = serde_json::to_value(request).unwrap();
        // Only the fields that were set.
        value.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        (value, options)
    })
}

#[test]
fn a_full_request_maps_to_open_responses() {
    let (request, options) = translate(json!({
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "JSON only."}]},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA", "detail": "low"}},
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,BBB", "filename": "a.pdf"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "look", "arguments": "{\"x\":1}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"seen\":true}"},
            {"role": "assistant", "content": "A cat.", "refusal": null}
        ],
        "tools": [{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "look"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
        "max_tokens": 5, "temperature": 0.2, "top_p": 0.9, "presence_penalty": 0.1,
        "frequency_penalty": 0.3, "stop": ["\n"], "user": "u-1", "seed": 7, "n": 1,
        "stream": true, "stream_options": {"include_usage": true}, "reasoning_effort": "low"
    }))
    .unwrap();
    assert_eq!(
        options,
        ChatOptions {
            stream: true,
            include_usage: true
        }
    );
    assert_eq!(
        request,
        json!({
            "model": "claude-sonnet-4-5",
            "input": [
                {"type": "message", "role": "system", "content": "Be brief."},
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "JSON only."}]},
                {"type": "message", "role": "user", "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAA", "detail": "low"},
                    {"type": "input_file", "file_data": "data:application/pdf;base64,BBB", "filename": "a.pdf"}
                ]},
                {"type": "function_call", "call_id": "call_1", "name": "look", "arguments": "{\"x\":1}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "{\"seen\":true}"},
                {"type": "message", "role": "assistant", "content": [
                    {"type": "output_text", "text": "A cat.", "annotations": []}
                ]}
            ],
            "tools": [{"type": "function", "name": "look", "description": null,
                       "parameters": {"type": "object"}, "strict": null}],
            "tool_choice": {"type": "function", "name": "look"},
            "text": {"format": {"type": "json_schema", "name": "answer", "description": null,
                                "schema": {"type": "object"}, "strict": true}},
            "temperature": 0.2, "top_p": 0.9, "presence_penalty": 0.1, "frequency_penalty": 0.3,
            "max_output_tokens": 16,
            "reasoning": {"effort": "low", "summary": null},
            "store": false, "stream": true, "safety_identifier": "u-1"
        })
    );
}

#[test]
fn tool_choice_forms_map() {
    let choice = |tc: Value| {
        translate(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": tc}),
        )
        .map(|(r, _)| r["tool_choice"].clone())
    };
    assert_eq!(choice(json!("required")).unwrap(), json!("required"));
    assert_eq!(
        choice(
            json!({"type": "allowed_tools", "allowed_tools": {"mode": "required",
            "tools": [{"type": "function", "function": {"name": "f"}}]}})
        )
        .unwrap(),
        json!({"type": "allowed_tools", "tools": [{"type": "function", "name": "f"}], "mode": "required"})
    );
    assert_eq!(
        choice(json!({"type": "custom"}))
            .unwrap_err()
            .param()
            .as_deref(),
        Some("tool_choice")
    );
}

#[test]
fn unsupported_requests_name_the_chat_parameter() {
    let user = json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (json!({"model": "m", "messages": user, "n": 2}), "n"),
        (json!({"model": "m", "messages": []}), "messages"),
        (json!({"model": "m"}), "messages"),
        (
            json!({"model": "m", "messages": user, "functions": [{"name": "f"}]}),
            "functions",
        ),
        (
            json!({"model": "m", "messages": user, "tools": [{"type": "custom", "custom": {}}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "m", "messages": [{"role": "system", "content": [
                {"type": "image_url", "image_url": {"url": "x"}}]}]}),
            "messages[0].content[0]",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]}),
            "messages[0].content[0]",
        ),
        (
            json!({"model": "m", "messages": [{"role": "function", "name": "f", "content": "x"}]}),
            "messages[0].role",
        ),
    ];
    for (body, param) in cases {
        let err = translate(body.clone()).unwrap_err();
        assert_eq!(err.status().as_u16(), 400, "{body}");
        assert_eq!(err.param().as_deref(), Some(param), "{body}");
    }
}

fn response(extra: Value) -> ResponseResource {
    let mut base = json!({
        "id": "resp_abc", "object": "response", "created_at": 1700000000, "completed_at": 1700000001,
        "status": "completed", "incomplete_details": null, "model": "gpt-4o-2024-08-06",
        "previous_response_id": null, "instructions": null, "output": [], "error": null,
        "tools": [], "tool_choice": "auto", "truncation": "disabled", "parallel_tool_calls": true,
        "text": {"format": {"type": "text"}}, "top_p": 1.0, "presence_penalty": 0.0,
        "frequency_penalty": 0.0, "top_logprobs": 0, "temperature": 1.0, "reasoning": null,
        "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
                  "input_tokens_details": {"cached_tokens": 2},
                  "output_tokens_details": {"reasoning_tokens": 1}},
        "max_output_tokens": null, "max_tool_calls": null, "store": false, "background": false,
        "service_tier": "default", "metadata": {}, "safety_identifier": null, "prompt_cache_key": null
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    serde_json::from_value(base).unwrap()
}

#[test]
fn responses_become_completions() {
    let text = response(json!({"output": [
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
         "content": [{"type": "output_text", "text": "Hello", "annotations": []}]}
    ]}));
    assert_eq!(
        serde_json::to_value(into_completion(&text).unwrap()).unwrap(),
        json!({"id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000,
            "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello", "refusal": null},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                      "prompt_tokens_details": {"cached_tokens": 2},
                      "completion_tokens_details": {"reasoning_tokens": 1}}})
    );
    let tools = response(json!({"output": [
        {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "f",
         "arguments": "{}", "status": "completed"}
    ]}));
    let value = serde_json::to_value(into_completion(&tools).unwrap()).unwrap();
    assert_eq!(value["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(value["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(
        value["choices"][0]["message"]["tool_calls"],
        json!([{"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}])
    );
    let cut = response(json!({"status": "incomplete",
        "incomplete_details": {"reason": "content_filter"}}));
    let value = serde_json::to_value(into_completion(&cut).unwrap()).unwrap();
    assert_eq!(value["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(value["choices"][0]["message"]["content"], "");
    let failed = response(json!({"status": "failed",
        "error": {"code": "server_error", "message": "boom"}}));
    assert_eq!(into_completion(&failed).unwrap_err().status().as_u16(), 502);
}

fn event(n: u64, body: Value) -> StreamEvent {
    let mut body = body;
    body["sequence_number"] = json!(n);
    serde_json::from_value(body).unwrap()
}

fn chunks(translator: &mut ChunkTranslator, events: &[StreamEvent]) -> Vec<Value> {
    let mut out = BytesMut::new();
    for e in events {
        translator.on_event(e, &mut out);
    }
    String::from_utf8(out.to_vec())
        .unwrap()
        .split("\n\n")
        .filter(|f| !f.is_empty())
        .map(|f| serde_json::from_str(f.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

#[test]
fn events_become_chunks_with_indexed_tool_calls_and_usage() {
    let created =
        serde_json::to_value(response(json!({"status": "in_progress", "usage": null}))).unwrap();
    let done = serde_json::to_value(response(json!({"output": [
        {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f", "arguments": "{}", "status": "completed"},
        {"type": "function_call", "id": "fc_2", "call_id": "c2", "name": "g", "arguments": "{}", "status": "completed"}
    ]}))).unwrap();
    let fc = |id: &str, call: &str, name: &str| {
        json!({"type": "function_call", "id": id,
        "call_id": call, "name": name, "arguments": "", "status": "in_progress"})
    };
    let events = [
        event(0, json!({"type": "response.created", "response": created})),
        event(
            1,
            json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
            "content_index": 0, "delta": "Hi", "logprobs": []}),
        ),
        event(
            2,
            json!({"type": "response.output_item.added", "output_index": 1, "item": fc("fc_1", "c1", "f")}),
        ),
        event(
            3,
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 1, "delta": "{}"}),
        ),
        event(
            4,
            json!({"type": "response.output_item.added", "output_index": 2, "item": fc("fc_2", "c2", "g")}),
        ),
        event(
            5,
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_2", "output_index": 2, "delta": "{"}),
        ),
        event(6, json!({"type": "response.completed", "response": done})),
    ];
    let mut translator = ChunkTranslator::new(ChatOptions {
        stream: true,
        include_usage: true,
    });
    let chunks = chunks(&mut translator, &events);
    let deltas: Vec<Value> = chunks
        .iter()
        .map(|c| c["choices"][0]["delta"].clone())
        .collect();
    assert_eq!(
        deltas,
        [
            json!({"role": "assistant", "content": ""}),
            json!({"content": "Hi"}),
            json!({"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
            json!({"tool_calls": [{"index": 1, "id": "c2", "type": "function", "function": {"name": "g", "arguments": ""}}]}),
            json!({"tool_calls": [{"index": 1, "function": {"arguments": "{"}}]}),
            json!({}),
            Value::Null,
        ]
    );
    assert!(
        chunks
            .iter()
            .all(|c| c["id"] == "chatcmpl-abc" && c["object"] == "chat.completion.chunk")
    );
    assert_eq!(chunks[6]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(chunks[0]["usage"], Value::Null);
    assert_eq!(chunks[7]["choices"], json!([]));
    assert_eq!(chunks[7]["usage"]["total_tokens"], 15);
    assert!(!translator.failed());
}

#[test]
fn a_mid_stream_failure_is_one_error_frame() {
    let created = serde_json::to_value(response(json!({"status": "in_progress"}))).unwrap();
    let failed = serde_json::to_value(response(json!({"status": "failed",
        "error": {"code": "upstream_error", "message": "cut"}})))
    .unwrap();
    let events = [
        event(0, json!({"type": "response.created", "response": created})),
        event(
            1,
            json!({"type": "error", "error": {"type": "server_error", "code": "upstream_error",
            "message": "The upstream stream broke.", "param": null}}),
        ),
        event(2, json!({"type": "response.failed", "response": failed})),
    ];
    let mut translator = ChunkTranslator::new(ChatOptions::default());
    let chunks = chunks(&mut translator, &events);
    assert_eq!(chunks.len(), 2);
    assert!(
        chunks[0].get("usage").is_none(),
        "no usage key without include_usage"
    );
    assert_eq!(chunks[1]["error"]["code"], "upstream_error");
    assert!(translator.failed());
}

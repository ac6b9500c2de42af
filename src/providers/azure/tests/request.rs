//! `build_request`: Open Responses request + history → Chat Completions body (golden values).

use serde_json::{Value, json};

use super::{call, config, items, request};
use crate::providers::azure::build_request;

fn body(req: Value, input: Value, stream: bool) -> Value {
    let req = request(req);
    let mut all = req.input_items();
    all.extend(items(input));
    let built = build_request(call(&req, &all, stream), &config("http://unused")).unwrap();
    serde_json::to_value(built).unwrap()
}

fn rejected(input: Value) -> (String, Option<String>) {
    let req = request(json!({"model": "gpt-4o"}));
    let input = items(input);
    let err = build_request(call(&req, &input, false), &config("http://unused")).unwrap_err();
    assert_eq!(err.status().as_u16(), 400);
    (err.to_string(), err.param())
}

#[test]
fn plain_text_is_one_user_message() {
    assert_eq!(
        body(
            json!({"model": "public-name", "input": "Hello"}),
            json!([]),
            false
        ),
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]})
    );
}

#[test]
fn settings_map_and_gateway_only_fields_are_dropped() {
    let req = json!({
        "model": "gpt-4o", "input": "Hi", "instructions": "Be brief.",
        "temperature": 0.2, "top_p": 0.9, "presence_penalty": 0.1, "frequency_penalty": 0.3,
        "max_output_tokens": 100, "top_logprobs": 3, "reasoning": {"effort": "low", "summary": "auto"},
        "text": {"format": {"type": "text"}, "verbosity": "low"},
        "safety_identifier": "user-1", "prompt_cache_key": "k1", "service_tier": "flex",
        "metadata": {"a": "b"}, "store": true, "max_tool_calls": 2, "truncation": "disabled",
        "parallel_tool_calls": false, "tool_choice": "none"
    });
    assert_eq!(
        body(req, json!([]), true),
        json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"}
            ],
            "max_completion_tokens": 100,
            "temperature": 0.2, "top_p": 0.9, "presence_penalty": 0.1, "frequency_penalty": 0.3,
            "logprobs": true, "top_logprobs": 3,
            "verbosity": "low", "reasoning_effort": "low",
            "safety_identifier": "user-1", "prompt_cache_key": "k1", "service_tier": "flex",
            "stream": true, "stream_options": {"include_usage": true}
        })
    );
}

#[test]
fn multi_turn_history_with_tool_calls_and_outputs() {
    let input = json!([
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris and Rome?"}]},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "thinking"}]},
        {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
         "content": [{"type": "output_text", "text": "Let me check.", "annotations": []}]},
        {"type": "function_call", "call_id": "call_a", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
        {"type": "function_call", "call_id": "call_b", "name": "get_weather", "arguments": "{\"city\":\"Rome\"}"},
        {"type": "function_call_output", "call_id": "call_a", "output": "{\"temp\":20}"},
        {"type": "function_call_output", "call_id": "call_b", "output": [{"type": "input_text", "text": "sunny"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help with that."}]},
        {"type": "message", "role": "developer", "content": "Answer in French."},
        {"type": "function_call", "call_id": "call_c", "name": "now", "arguments": "{}"},
        {"role": "system", "content": [{"type": "input_text", "text": "Stay polite."}]}
    ]);
    let tool_call = |id: &str, name: &str, args: &str| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}});
    assert_eq!(
        body(json!({"model": "gpt-4o"}), input, false)["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                tool_call("call_a", "get_weather", "{\"city\":\"Paris\"}"),
                tool_call("call_b", "get_weather", "{\"city\":\"Rome\"}")
            ]},
            {"role": "tool", "tool_call_id": "call_a", "content": "{\"temp\":20}"},
            {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "sunny"}]},
            {"role": "assistant", "refusal": "I can't help with that."},
            {"role": "developer", "content": "Answer in French."},
            {"role": "assistant", "tool_calls": [tool_call("call_c", "now", "{}")]},
            {"role": "system", "content": [{"type": "text", "text": "Stay polite."}]}
        ])
    );
}

#[test]
fn images_and_files_become_parts() {
    let input = json!([{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "high"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
        {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}
    ]}]);
    assert_eq!(
        body(json!({"model": "gpt-4o"}), input, false)["messages"][0]["content"],
        json!([
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}}
        ])
    );
}

#[test]
fn structured_output_formats() {
    let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": false});
    let req = json!({"model": "m", "input": "x", "text": {"format": {
        "type": "json_schema", "name": "count", "description": "A count.", "schema": schema, "strict": true}}});
    assert_eq!(
        body(req, json!([]), false)["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "count", "description": "A count.", "schema": schema, "strict": true}})
    );
    let unnamed = json!({"model": "m", "input": "x", "text": {"format": {"type": "json_schema", "schema": {"type": "object"}}}});
    assert_eq!(
        body(unnamed, json!([]), false)["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "response", "schema": {"type": "object"}}})
    );
    let object = json!({"model": "m", "input": "x", "text": {"format": {"type": "json_object"}}});
    assert_eq!(
        body(object, json!([]), false)["response_format"],
        json!({"type": "json_object"})
    );
}

#[test]
fn tools_and_every_tool_choice_form() {
    let tools = json!([
        {"type": "function", "name": "get_weather", "description": "Weather.", "strict": true,
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
        {"type": "function", "name": "now"}
    ]);
    let with_choice = |choice: Value| {
        let req = json!({"model": "m", "input": "x", "tools": tools, "tool_choice": choice, "parallel_tool_calls": false});
        body(req, json!([]), false)
    };
    let full = with_choice(json!("required"));
    assert_eq!(
        full["tools"],
        json!([
            {"type": "function", "function": {"name": "get_weather", "description": "Weather.",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": true}},
            {"type": "function", "function": {"name": "now"}}
        ])
    );
    assert_eq!(full["tool_choice"], "required");
    assert_eq!(full["parallel_tool_calls"], false);
    assert_eq!(with_choice(json!("auto"))["tool_choice"], "auto");
    assert_eq!(with_choice(json!("none"))["tool_choice"], "none");
    assert_eq!(
        with_choice(json!({"type": "function", "name": "now"}))["tool_choice"],
        json!({"type": "function", "function": {"name": "now"}})
    );
    assert_eq!(
        with_choice(
            json!({"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "now"}]})
        )["tool_choice"],
        json!({"type": "allowed_tools", "allowed_tools": {"mode": "required",
               "tools": [{"type": "function", "function": {"name": "now"}}]}})
    );
    assert_eq!(
        with_choice(
            json!({"type": "allowed_tools", "tools": [{"type": "function", "name": "get_weather"}]})
        )["tool_choice"]["allowed_tools"]["mode"],
        "auto"
    );
    // Without tools, upstreams reject tool_choice / parallel_tool_calls / `tools: []`.
    let bare = body(
        json!({"model": "m", "input": "x", "tools": [], "tool_choice": "required", "parallel_tool_calls": true}),
        json!([]),
        false,
    );
    assert_eq!(
        bare,
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
    );
}

#[test]
fn untranslatable_items_are_rejected_with_their_path() {
    let user = json!({"role": "user", "content": "hi"});
    assert_eq!(
        rejected(json!([user, {"type": "item_reference", "id": "msg_1"}]))
            .1
            .as_deref(),
        Some("input[1]")
    );
    assert_eq!(
        rejected(json!([{"type": "compaction", "encrypted_content": "x"}]))
            .1
            .as_deref(),
        Some("input[0]")
    );
    let part =
        |p: Value| json!([{"role": "user", "content": [{"type": "input_text", "text": "a"}, p]}]);
    assert_eq!(
        rejected(part(json!({"type": "input_image", "file_id": "file_1"})))
            .1
            .as_deref(),
        Some("input[0].content[1].file_id")
    );
    assert_eq!(
        rejected(part(
            json!({"type": "input_file", "file_url": "https://x/a.pdf"})
        ))
        .1
        .as_deref(),
        Some("input[0].content[1].file_url")
    );
    assert_eq!(
        rejected(part(
            json!({"type": "input_video", "video_url": "https://x/v.mp4"})
        ))
        .1
        .as_deref(),
        Some("input[0].content[1]")
    );
    let system_image = json!([{"role": "system", "content": [{"type": "input_image", "image_url": "https://x/i.png"}]}]);
    assert_eq!(
        rejected(system_image).1.as_deref(),
        Some("input[0].content[0]")
    );
}

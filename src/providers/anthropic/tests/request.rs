//! Golden requests: Open Responses request JSON in → Anthropic request JSON out.

use serde_json::{Value, json};

use super::{call, config, config_with, create};
use crate::{
    api::ProviderKind,
    error::GatewayError,
    providers::{anthropic::build_request, test_support::sealed},
};

fn build_on(
    request: Value,
    config: &crate::config::ProviderConfig,
    stream: bool,
) -> Result<Value, GatewayError> {
    let request = create(request);
    let input = request.input_items();
    let built = build_request(call(&request, &input, stream), config)?;
    Ok(serde_json::to_value(built).unwrap())
}

fn build(request: Value) -> Value {
    build_on(request, &config(), false).unwrap()
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": [{"type": "text", "text": text}]})
}

#[test]
fn text_input() {
    let got = build(json!({"model": "m", "input": "Hello"}));
    assert_eq!(
        got,
        json!({"model": "claude-sonnet-4-5", "max_tokens": 4096, "messages": [user("Hello")]})
    );
}

#[test]
fn instructions_and_system_messages_merge_into_system() {
    let got = build(json!({
        "instructions": "Be brief.",
        "max_output_tokens": 300,
        "stream": true,
        "safety_identifier": "user-42",
        "input": [
            {"type": "message", "role": "system", "content": "Use metric units."},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}, {"type": "input_text", "text": ""}]},
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Answer in French."}]},
            {"role": "user", "content": "and you?"}
        ]
    }));
    assert_eq!(
        got,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 300,
            "system": "Be brief.\n\nUse metric units.\n\nAnswer in French.",
            "metadata": {"user_id": "user-42"},
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": "and you?"}]}]
        })
    );
    let streamed = build_on(json!({"input": "x"}), &config(), true).unwrap();
    assert_eq!(streamed["stream"], json!(true));
}

#[test]
fn tool_calls_and_results_pair_in_call_order_with_results_first() {
    let got = build(json!({"input": [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking.", "annotations": []}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
        {"type": "function_call", "call_id": "call_2", "name": "get_weather", "arguments": "{\"city\":\"Rome\"}"},
        {"role": "user", "content": "Quick please."},
        {"type": "function_call_output", "call_id": "call_2", "output": "18C"},
        {"type": "function_call_output", "call_id": "call_1", "output": [{"type": "input_text", "text": "21C"}]},
        {"type": "message", "role": "assistant", "content": "Paris 21C, Rome 18C."},
        {"role": "user", "content": "Thanks!"}
    ]}));
    assert_eq!(
        got["messages"],
        json!([
            user("Weather in Paris and Rome?"),
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Rome"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "21C"}]},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "18C"},
                {"type": "text", "text": "Quick please."}
            ]},
            {"role": "assistant", "content": [{"type": "text", "text": "Paris 21C, Rome 18C."}]},
            user("Thanks!")
        ])
    );
}

#[test]
fn dangling_calls_get_error_results_and_orphan_outputs_are_dropped() {
    let got = build(json!({"input": [
        {"role": "user", "content": "Go."},
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "not json"},
        {"role": "user", "content": "Never mind."},
        {"type": "function_call_output", "call_id": "call_unknown", "output": "stale"},
        {"type": "function_call", "call_id": "call_2", "name": "lookup", "arguments": ""}
    ]}));
    let missing = json!({"type": "tool_result", "tool_use_id": "call_1", "is_error": true,
        "content": "No result was provided for this tool call."});
    assert_eq!(
        got["messages"],
        json!([
            user("Go."),
            {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "lookup", "input": {}}]},
            {"role": "user", "content": [missing, {"type": "text", "text": "Never mind."}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "call_2", "name": "lookup", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_2", "is_error": true,
                "content": "No result was provided for this tool call."}]}
        ])
    );
}

#[test]
fn history_starting_with_the_assistant_gets_a_user_turn_and_prefill_is_trimmed() {
    let got = build(json!({"input": [
        {"type": "message", "role": "assistant", "content": "Hi, how can I help?"},
        {"role": "user", "content": "Write a haiku."},
        {"type": "message", "role": "assistant", "content": "Autumn moon  \n"}
    ]}));
    assert_eq!(
        got["messages"],
        json!([
            user("(continued)"),
            {"role": "assistant", "content": [{"type": "text", "text": "Hi, how can I help?"}]},
            user("Write a haiku."),
            {"role": "assistant", "content": [{"type": "text", "text": "Autumn moon"}]}
        ])
    );
}

#[test]
fn images_and_pdfs_become_blocks() {
    let got = build(json!({"input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
        {"type": "input_image", "image_url": "https://example.com/cat.jpg", "detail": "high"},
        {"type": "input_file", "filename": "report.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"},
        {"type": "input_file", "file_url": "https://example.com/a.pdf"}
    ]}]}));
    assert_eq!(
        got["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "document", "title": "report.pdf", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}},
            {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}}
        ]}])
    );
}

#[test]
fn unportable_content_is_rejected() {
    for part in [
        json!({"type": "input_image", "file_id": "file-123"}),
        json!({"type": "input_image", "image_url": "data:image/bmp;base64,Qk0="}),
        json!({"type": "input_image", "image_url": "data:image/png,notbase64"}),
        json!({"type": "input_file", "filename": "notes.txt", "file_data": "aGVsbG8="}),
        json!({"type": "input_video", "video_url": "https://example.com/v.mp4"}),
    ] {
        let request = json!({"input": [{"role": "user", "content": [part.clone()]}]});
        let err = build_on(request, &config(), false).unwrap_err();
        assert!(
            matches!(err, GatewayError::InvalidRequest { .. }),
            "{part}: {err:?}"
        );
    }
    let compaction = json!({"input": [{"type": "compaction", "encrypted_content": "x"}]});
    assert!(build_on(compaction, &config(), false).is_err());
    let only_system = json!({"input": [{"role": "system", "content": "x"}]});
    assert!(build_on(only_system, &config(), false).is_err());
}

#[test]
fn json_schema_becomes_output_config() {
    let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": false});
    let got = build(
        json!({"input": "Count.", "text": {"format": {"type": "json_schema", "name": "count", "schema": schema, "strict": true}}}),
    );
    assert_eq!(
        got["output_config"],
        json!({"format": {"type": "json_schema", "schema": schema}})
    );
    let object = build(
        json!({"input": "x", "instructions": "Hi.", "text": {"format": {"type": "json_object"}}}),
    );
    assert_eq!(
        object["system"],
        json!("Hi.\n\nRespond with a single valid JSON object and nothing else.")
    );
    assert!(object.get("output_config").is_none());
}

fn tools() -> Value {
    json!([
        {"type": "function", "name": "a", "description": "A.", "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}, "strict": true},
        {"type": "function", "name": "b"}
    ])
}

#[test]
fn tools_and_tool_choice_forms() {
    let with = |choice: Value, parallel: Value| {
        let mut request = json!({"input": "x", "tools": tools()});
        if !choice.is_null() {
            request["tool_choice"] = choice;
        }
        if !parallel.is_null() {
            request["parallel_tool_calls"] = parallel;
        }
        let got = build(request);
        let names: Vec<String> = got["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        (
            names,
            got.get("tool_choice").cloned().unwrap_or(Value::Null),
        )
    };
    let both = vec!["a".to_owned(), "b".to_owned()];
    let only_a = vec!["a".to_owned()];
    let cases = [
        (Value::Null, Value::Null, both.clone(), Value::Null),
        (
            Value::Null,
            json!(false),
            both.clone(),
            json!({"type": "auto", "disable_parallel_tool_use": true}),
        ),
        (
            json!("auto"),
            Value::Null,
            both.clone(),
            json!({"type": "auto"}),
        ),
        (
            json!("none"),
            json!(false),
            both.clone(),
            json!({"type": "none"}),
        ),
        (
            json!("required"),
            json!(false),
            both.clone(),
            json!({"type": "any", "disable_parallel_tool_use": true}),
        ),
        (
            json!({"type": "function", "name": "b"}),
            Value::Null,
            both.clone(),
            json!({"type": "tool", "name": "b"}),
        ),
        (
            json!({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "a"}]}),
            Value::Null,
            only_a.clone(),
            json!({"type": "auto"}),
        ),
        (
            json!({"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "a"}]}),
            Value::Null,
            only_a,
            json!({"type": "any"}),
        ),
    ];
    for (choice, parallel, names, expected) in cases {
        assert_eq!(
            with(choice.clone(), parallel),
            (names, expected),
            "tool_choice {choice}"
        );
    }
    let got = build(json!({"input": "x", "tools": tools()}));
    assert_eq!(
        got["tools"],
        json!([
            {"name": "a", "description": "A.", "input_schema": {"type": "object", "properties": {"x": {"type": "string"}}}, "strict": true},
            {"name": "b", "input_schema": {"type": "object", "properties": {}}}
        ])
    );
    let unknown =
        json!({"input": "x", "tools": tools(), "tool_choice": {"type": "function", "name": "zzz"}});
    assert!(build_on(unknown, &config(), false).is_err());
    assert!(
        build(json!({"input": "x", "tool_choice": "required"}))
            .get("tool_choice")
            .is_none()
    );
}

#[test]
fn reasoning_effort_enables_thinking_and_raises_max_tokens() {
    let got = build(
        json!({"input": "x", "max_output_tokens": 1000, "reasoning": {"effort": "medium"},
        "temperature": 0.2, "top_p": 0.5, "tools": tools(), "tool_choice": "required"}),
    );
    assert_eq!(
        got["thinking"],
        json!({"type": "enabled", "budget_tokens": 8192})
    );
    assert_eq!(got["max_tokens"], json!(9192));
    assert_eq!(
        got["tool_choice"],
        json!({"type": "auto"}),
        "forced tool use is downgraded with thinking"
    );
    assert!(got.get("temperature").is_none() && got.get("top_p").is_none());

    let roomy =
        build(json!({"input": "x", "max_output_tokens": 20000, "reasoning": {"effort": "high"}}));
    assert_eq!(
        roomy["thinking"],
        json!({"type": "enabled", "budget_tokens": 16384})
    );
    assert_eq!(roomy["max_tokens"], json!(20000));

    let default_tokens = build(json!({"input": "x", "reasoning": {"effort": "low"}}));
    assert_eq!(
        (
            default_tokens["thinking"]["budget_tokens"].clone(),
            default_tokens["max_tokens"].clone()
        ),
        (json!(2048), json!(4096))
    );

    let forced = build(
        json!({"input": "x", "reasoning": {"effort": "minimal"}, "tools": tools(), "tool_choice": {"type": "function", "name": "a"}}),
    );
    assert_eq!(forced["tool_choice"], json!({"type": "auto"}));

    for effort in ["none", "bogus"] {
        assert!(
            build(json!({"input": "x", "reasoning": {"effort": effort}}))
                .get("thinking")
                .is_none()
        );
    }
}

#[test]
fn temperature_is_clamped_and_preferred_over_top_p() {
    let got = build(
        json!({"input": "x", "temperature": 1.7, "top_p": 0.9, "presence_penalty": 1.0, "frequency_penalty": 1.0}),
    );
    assert_eq!(
        (got["temperature"].clone(), got.get("top_p")),
        (json!(1.0), None)
    );
    assert!(got.get("presence_penalty").is_none() && got.get("frequency_penalty").is_none());
    let only_top_p = build(json!({"input": "x", "top_p": 0.9}));
    assert_eq!(only_top_p["top_p"], json!(0.9));
    let newest = config_with("    api_version: \"2026-10-21\"\n");
    let got = build_on(
        json!({"input": "x", "temperature": 0.5, "top_p": 0.9}),
        &newest,
        false,
    )
    .unwrap();
    assert!(got.get("temperature").is_none() && got.get("top_p").is_none());
}

#[test]
fn reasoning_items_replay_only_anthropic_artifacts() {
    let mine = |payload: &str| sealed(ProviderKind::Anthropic, "claude-sonnet-4-5", payload);
    let got = build(json!({"reasoning": {"effort": "low"}, "input": [
        {"role": "user", "content": "Go."},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Plan: call it."}],
            "encrypted_content": mine("{\"signature\":\"sig-1\"}")},
        {"type": "reasoning", "id": "rs_2", "summary": [], "encrypted_content": mine("{\"redacted_thinking\":\"opaque\"}")},
        {"type": "reasoning", "id": "rs_3", "summary": [{"type": "summary_text", "text": "openai"}], "encrypted_content": "gAAAAABopenai"},
        // Earlier gateways' plain form, and state sealed for another model: left out.
        {"type": "reasoning", "id": "rs_4", "summary": [], "encrypted_content": "anthropic:{\"signature\":\"old\"}"},
        {"type": "reasoning", "id": "rs_5", "summary": [], "encrypted_content":
            sealed(ProviderKind::Anthropic, "claude-opus-4-1", "{\"signature\":\"other\"}")},
        {"type": "function_call", "call_id": "toolu_1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "toolu_1", "output": "ok"}
    ]}));
    assert_eq!(
        got["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Plan: call it.", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
        ]})
    );
    assert_eq!(
        got["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
}

#[test]
fn thinking_is_disabled_when_the_continued_tool_turn_has_none() {
    let got = build(json!({"reasoning": {"effort": "low"}, "input": [
        {"role": "user", "content": "Go."},
        {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAABopenai"},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "ok"}
    ]}));
    assert!(got.get("thinking").is_none());
    assert_eq!(got["messages"].as_array().unwrap().len(), 3);
}

#[test]
fn an_altered_envelope_is_a_400_naming_the_item() {
    let mut envelope = sealed(
        ProviderKind::Anthropic,
        "claude-sonnet-4-5",
        "{\"signature\":\"s\"}",
    );
    let last = envelope.pop().unwrap();
    envelope.push(if last == 'A' { 'B' } else { 'A' });
    let request = create(json!({"input": [
        {"role": "user", "content": "Go."},
        {"type": "reasoning", "summary": [], "encrypted_content": envelope},
        {"type": "function_call", "call_id": "toolu_1", "name": "f", "arguments": "{}"}
    ]}));
    let input = request.input_items();
    let err = build_request(call(&request, &input, false), &config()).unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(err.param().as_deref(), Some("input[1].encrypted_content"));
}

#[test]
fn a_live_web_search_becomes_the_server_tool_and_a_cached_one_does_not() {
    let got = build(json!({"input": "News?", "max_tool_calls": 3, "tools": [
        {"type": "web_search", "filters": {"allowed_domains": ["example.com"]},
         "user_location": {"type": "approximate", "country": "GB"}},
        {"type": "function", "name": "f", "parameters": {"type": "object"}}]}));
    assert_eq!(
        got["tools"],
        json!([
            {"name": "f", "input_schema": {"type": "object"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3,
             "allowed_domains": ["example.com"], "user_location": {"type": "approximate", "country": "GB"}}
        ])
    );
    let cached = build(json!({"input": "News?", "tools": [
        {"type": "web_search", "external_web_access": false}]}));
    assert!(cached.get("tools").is_none(), "{cached}");
}

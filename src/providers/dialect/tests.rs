//! Dialect tests: tool flattening, input items and names as each provider needs them.

use serde_json::json;

use super::*;
use crate::api::FunctionOutput;

fn request(tools: Value) -> CreateResponse {
    serde_json::from_value(json!({"model": "m", "tools": tools})).unwrap()
}

fn codex_tools() -> Value {
    json!([
        {"type": "function", "name": "shell", "parameters": {"type": "object"}},
        {"type": "namespace", "name": "multi_agent", "description": "Sub-agents", "tools": [
            {"type": "function", "name": "spawn_agent", "description": "Spawn"},
            {"type": "custom", "name": "apply_patch", "description": "Patch",
             "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}}]},
        {"type": "web_search", "external_web_access": false},
        {"type": "custom", "name": "freeform"}
    ])
}

fn function_names(lowered: &Lowered) -> Vec<String> {
    lowered
        .request
        .tools
        .iter()
        .flatten()
        .map(|t| match t {
            Tool::Function(f) => f.name.clone(),
            other => panic!("not flattened: {other:?}"),
        })
        .collect()
}

#[test]
fn namespaces_and_custom_tools_become_functions_and_map_back() {
    let lowered = lower(
        &request(codex_tools()),
        &[],
        "anthropic",
        Native::default(),
        UnsupportedTools::Drop,
    )
    .unwrap();
    assert_eq!(
        function_names(&lowered),
        [
            "shell",
            "multi_agent__spawn_agent",
            "multi_agent__apply_patch",
            "freeform"
        ]
    );
    assert_eq!(lowered.dropped, ["web_search"]);
    assert_eq!(
        lowered.names.origin("multi_agent__spawn_agent"),
        Some(&ToolOrigin::Namespaced {
            namespace: "multi_agent".into(),
            name: "spawn_agent".into()
        })
    );
    assert!(lowered.names.origin("shell").is_none());
    let Some(Tool::Function(patch)) = lowered.request.tools.as_ref().map(|t| &t[2]) else {
        panic!()
    };
    let input = &patch.parameters.as_ref().unwrap()["properties"]["input"]["description"];
    assert!(input.as_str().unwrap().contains("start: /.+/"));
}

#[test]
fn names_are_valid_everywhere_and_collisions_are_resolved_deterministically() {
    let long = "n".repeat(60);
    let tools = json!([
        {"type": "function", "name": "a__b"},
        {"type": "namespace", "name": "a", "tools": [{"type": "function", "name": "b"}]},
        {"type": "namespace", "name": "mcp.server", "tools": [{"type": "function", "name": long}]},
        {"type": "namespace", "name": "9x", "tools": [{"type": "function", "name": "f"}]}
    ]);
    let first = function_names(
        &lower(
            &request(tools.clone()),
            &[],
            "google",
            Native::default(),
            UnsupportedTools::Drop,
        )
        .unwrap(),
    );
    let again = function_names(
        &lower(
            &request(tools),
            &[],
            "google",
            Native::default(),
            UnsupportedTools::Drop,
        )
        .unwrap(),
    );
    assert_eq!(first, again);
    let valid = regex_free_valid;
    for name in &first {
        assert!(valid(name), "{name}");
    }
    assert_eq!(first[0], "a__b");
    assert_ne!(first[1], "a__b");
    assert!(first[1].starts_with("a__b_"));
    assert_eq!(first[3], "_9x__f");
}

fn regex_free_valid(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[test]
fn reject_policy_names_the_tool_and_provider() {
    let err = lower(
        &request(codex_tools()),
        &[],
        "anthropic",
        Native::default(),
        UnsupportedTools::Reject,
    )
    .unwrap_err();
    assert_eq!(err.code(), "unsupported_tool");
    assert_eq!(err.param().as_deref(), Some("tools[2].type"));
    assert!(err.to_string().contains("anthropic"));
}

#[test]
fn dialect_history_items_become_function_items() {
    let input: Vec<Item> = serde_json::from_value(json!([
        {"type": "function_call", "call_id": "c1", "name": "spawn_agent",
         "namespace": "multi_agent", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "ok"}]},
        {"type": "custom_tool_call", "call_id": "c2", "name": "freeform", "input": "raw"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": "done"}
    ]))
    .unwrap();
    let lowered = lower(
        &request(codex_tools()),
        &input,
        "anthropic",
        Native::default(),
        UnsupportedTools::Drop,
    )
    .unwrap();
    let Item::FunctionCall(call) = &lowered.input[0] else {
        panic!()
    };
    assert_eq!(
        (call.name.as_str(), call.namespace.as_ref()),
        ("multi_agent__spawn_agent", None)
    );
    assert!(
        matches!(&lowered.input[1], Item::FunctionCallOutput(o) if matches!(o.output, FunctionOutput::Parts(_)))
    );
    let Item::FunctionCall(custom) = &lowered.input[2] else {
        panic!()
    };
    assert_eq!(custom.name, "freeform");
    assert_eq!(
        serde_json::from_str::<Value>(&custom.arguments).unwrap(),
        json!({"input": "raw"})
    );
    assert!(matches!(&lowered.input[3], Item::FunctionCallOutput(o) if o.call_id == "c2"));
}

#[test]
fn items_a_provider_cannot_represent_are_a_400_naming_them() {
    let input: Vec<Item> = serde_json::from_value(json!([
        {"type": "message", "role": "user", "content": "hi"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "q"}}
    ]))
    .unwrap();
    let err = lower(
        &request(json!([])),
        &input,
        "google",
        Native::default(),
        UnsupportedTools::Drop,
    )
    .unwrap_err();
    assert_eq!(err.param().as_deref(), Some("input[1]"));
    assert!(err.to_string().contains("web_search_call"));
}

//! OpenAI's tool dialect as coding agents (Codex) send it, end to end against the mock upstreams:
//! passed through to OpenAI; on Azure (Chat Completions), Anthropic and Gemini, namespaces and
//! custom tools flattened into valid function names and given back in the dialect, hosted tools
//! left out and named in `x-gateway-dropped-tools` (or refused with `tools.unsupported: reject`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{post_responses, providers_yaml, start_gateway},
    json::{pointer_between, pointers_to, pointers_with_key},
    mock_upstream::{Behaviour, MockUpstream},
    spec::{assert_dialect_events, assert_valid_error_body, assert_valid_response},
};
use serde_json::{Value, json};

/// (provider, model, the upstream's tool-name pointer for each declared function)
const FLATTENING: [(&str, &str); 3] = [
    ("azureopenai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.5-flash"),
];

fn codex_tools() -> Value {
    json!([
        {"type": "function", "name": "shell", "description": "Runs a command",
         "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}}},
        {"type": "namespace", "name": "multi_agent", "description": "Sub-agents", "tools": [
            {"type": "function", "name": "spawn_agent", "description": "Spawn an agent",
             "parameters": {"type": "object", "properties": {"message": {"type": "string"}}}}]},
        {"type": "web_search", "external_web_access": false},
        {"type": "custom", "name": "apply_patch", "description": "Edit files",
         "format": {"type": "grammar", "syntax": "lark", "definition": "start: /[\\s\\S]+/"}},
        {"type": "tool_search", "execution": "client"}
    ])
}

/// The function names the upstream was offered, whatever its wire format.
fn upstream_tool_names(body: &Value) -> Vec<String> {
    let tools = body["tools"].as_array().cloned().unwrap_or_default();
    tools
        .iter()
        .flat_map(|t| {
            if let Some(decls) = t["functionDeclarations"].as_array() {
                decls.iter().map(|d| d["name"].clone()).collect()
            } else if t.get("function").is_some() {
                vec![t["function"]["name"].clone()]
            } else {
                vec![t["name"].clone()]
            }
        })
        .map(|n| n.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Checks a response against the spec, except the dialect's own items (`custom_tool_call`),
/// which the spec's `ItemField` does not list: those are checked for the fields Codex needs.
fn assert_valid_dialect_response(body: &Value) {
    let mut standard = body.clone();
    let output = standard["output"].as_array_mut().unwrap();
    for item in output.iter().filter(|i| i["type"] == "custom_tool_call") {
        for key in ["id", "call_id", "name", "input", "status"] {
            assert!(item[key].is_string(), "custom_tool_call.{key}: {item}");
        }
    }
    output.retain(|i| i["type"] != "custom_tool_call");
    assert_valid_response(&standard);
}

#[actix_web::test]
async fn namespaced_calls_come_back_with_bare_name_and_namespace() {
    for (provider, model) in FLATTENING {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        mock.push_behaviour(Behaviour::CallTool("multi_agent__spawn_agent".into()));
        let reply = post_responses(
            &gw,
            &json!({"model": model, "input": "delegate", "tools": codex_tools(), "store": false,
                    "include": ["reasoning.encrypted_content"], "tool_choice": "auto"}),
        )
        .await;
        assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
        assert_eq!(
            reply.header("x-gateway-dropped-tools"),
            Some("web_search, tool_search"),
            "{provider}"
        );
        let body = reply.json();
        assert_valid_dialect_response(&body);
        let call = body["output"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["type"] == "function_call")
            .unwrap_or_else(|| panic!("{provider}: no call in {body}"));
        assert_eq!(call["name"], "spawn_agent", "{provider}");
        assert_eq!(call["namespace"], "multi_agent", "{provider}");
        // The echoed tools are the spec's function tools only.
        assert!(
            body["tools"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["type"] == "function")
        );
        let upstream = mock.last_request().unwrap();
        assert_eq!(
            upstream_tool_names(&upstream.body),
            ["shell", "multi_agent__spawn_agent", "apply_patch"],
            "{provider}"
        );
    }
}

#[actix_web::test]
async fn custom_tool_calls_stream_as_custom_tool_call_items() {
    for (provider, model) in FLATTENING {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        mock.push_behaviour(Behaviour::CallTool("apply_patch".into()));
        let reply = post_responses(
            &gw,
            &json!({"model": model, "input": "patch it", "tools": codex_tools(), "stream": true}),
        )
        .await;
        assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
        // The dialect's events are checked below with `assert_valid_dialect_response`.
        let events = assert_dialect_events(provider, &reply.text, |event| {
            let kind = event["type"].as_str().unwrap_or_default();
            kind.starts_with("response.custom_tool_call_input.")
                || event["item"]["type"] == "custom_tool_call"
                || kind == "response.completed"
        });
        let done = events
            .iter()
            .find(|e| {
                e["type"] == "response.output_item.done" && e["item"]["type"] == "custom_tool_call"
            })
            .unwrap_or_else(|| panic!("{provider}: no custom_tool_call in {}", reply.text));
        assert_eq!(done["item"]["name"], "apply_patch");
        let input_done = events
            .iter()
            .find(|e| e["type"] == "response.custom_tool_call_input.done")
            .unwrap();
        assert_eq!(input_done["input"], done["item"]["input"]);
        let completed = events.last().unwrap();
        assert_eq!(completed["type"], "response.completed");
        assert_valid_dialect_response(&completed["response"]);
    }
}

#[actix_web::test]
async fn dialect_history_is_flattened_going_up() {
    let history = json!([
        {"type": "message", "role": "user", "content": "go"},
        {"type": "reasoning", "summary": [], "encrypted_content": null},
        {"type": "function_call", "call_id": "call_1", "name": "spawn_agent",
         "namespace": "multi_agent", "arguments": "{\"message\":\"hi\"}"},
        {"type": "function_call_output", "call_id": "call_1",
         "output": [{"type": "input_text", "text": "agent started"}]},
        {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin Patch"},
        {"type": "custom_tool_call_output", "call_id": "call_2", "output": "applied"}
    ]);
    for (provider, model) in FLATTENING {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        let reply = post_responses(
            &gw,
            &json!({"model": model, "input": history, "tools": codex_tools(), "store": false}),
        )
        .await;
        assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
        assert_valid_dialect_response(&reply.json());
        let sent = mock.last_request().unwrap().body;
        // The namespaced call in the history went up as the provider's own tool call, under the
        // flattened name; the custom call's input as that call's `input` argument.
        let (call_name, custom_input) = history_call_pointers(provider);
        let at = pointers_to(&sent, &json!("multi_agent__spawn_agent"));
        assert!(
            at.iter().any(|p| call_name.matches(p)),
            "{provider}: the flattened name is at {at:?}, not a history call's name: {sent}"
        );
        let patch = match provider {
            // Chat Completions carries arguments as a JSON string.
            "azureopenai" => json!("{\"input\":\"*** Begin Patch\"}"),
            _ => json!("*** Begin Patch"),
        };
        let at = pointers_to(&sent, &patch);
        assert!(
            at.iter().any(|p| custom_input.matches(p)),
            "{provider}: the custom call's input is at {at:?}: {sent}"
        );
        let namespaces = pointers_with_key(&sent, "namespace");
        assert!(
            namespaces.is_empty(),
            "{provider}: {namespaces:?} in {sent}"
        );
    }
}

/// A JSON pointer shape: a fixed start, any segments, a fixed end.
struct Shape(&'static str, &'static str);

impl Shape {
    fn matches(&self, pointer: &str) -> bool {
        pointer_between(pointer, self.0, self.1)
    }
}

/// Where each provider's request carries a history tool call's name, and a custom call's input.
fn history_call_pointers(provider: &str) -> (Shape, Shape) {
    match provider {
        "azureopenai" => (
            Shape("/messages/", "/function/name"),
            Shape("/messages/", "/function/arguments"),
        ),
        "anthropic" => (
            Shape("/messages/", "/name"),
            Shape("/messages/", "/input/input"),
        ),
        _ => (
            Shape("/contents/", "/functionCall/name"),
            Shape("/contents/", "/functionCall/args/input"),
        ),
    }
}

#[actix_web::test]
async fn items_a_provider_cannot_take_are_a_400_naming_them() {
    // Chat Completions has no web search: a past search cannot be represented there. (Anthropic
    // and Gemini leave it out: tests/web_search.rs.)
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["azureopenai"], ""));
    let reply = post_responses(
        &gw,
        &json!({"model": "gpt-4o-mini", "input": [
            {"type": "message", "role": "user", "content": "q"},
            {"type": "web_search_call", "id": "ws_1", "status": "completed",
             "action": {"type": "search", "query": "rust"}}]}),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    let body = reply.json();
    assert_valid_error_body(&body);
    assert_eq!(body["error"]["param"], "input[1]");
    assert_eq!(mock.requests().len(), 0, "never sent upstream");
}

#[actix_web::test]
async fn reject_policy_refuses_unsupported_tool_types() {
    let mock = MockUpstream::start();
    let yaml = format!(
        "{}tools:\n  unsupported: reject\n",
        providers_yaml(&mock, &["google"], "")
    );
    let gw = start_gateway(&yaml);
    let reply = post_responses(
        &gw,
        &json!({"model": "gemini-2.5-flash", "input": "q", "tools": codex_tools()}),
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    let body = reply.json();
    assert_valid_error_body(&body);
    assert_eq!(body["error"]["code"], "unsupported_tool");
    assert_eq!(body["error"]["param"], "tools[2].type");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("google")
    );
    assert_eq!(mock.requests().len(), 0);
}

#[actix_web::test]
async fn openai_gets_the_dialect_unchanged() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let input = json!([
        {"type": "message", "role": "user", "content": "go"},
        {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "x"},
        {"type": "custom_tool_call_output", "call_id": "call_2", "output": "ok"},
        {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "q"}}
    ]);
    let reply = post_responses(
        &gw,
        &json!({"model": "gpt-4o", "input": input, "tools": codex_tools()}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.header("x-gateway-dropped-tools").is_none());
    let upstream = mock.last_request().unwrap().body;
    // Function tools gain an explicit `"strict": null` (as before); the dialect's are verbatim.
    assert_eq!(upstream["tools"][1]["tools"][0]["name"], "spawn_agent");
    assert_eq!(
        upstream["tools"].as_array().unwrap()[2..],
        codex_tools().as_array().unwrap()[2..]
    );
    let types: Vec<&str> = upstream["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "message",
            "custom_tool_call",
            "custom_tool_call_output",
            "web_search_call"
        ]
    );
}

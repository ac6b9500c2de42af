//! Owns the providers' structural rules that the real APIs enforce with a 400 (turn order, tool
//! result placement, role names, schema subsets), so translation bugs fail tests like they fail
//! in production. `None` means the body is acceptable.

use serde_json::Value;

use super::errors::Api;

/// The first rule `body` breaks for `api`, as the provider would word it.
pub fn violation(api: Api, body: &Value) -> Option<String> {
    match api {
        Api::Anthropic => anthropic(body),
        Api::Gemini => gemini(body),
        Api::Chat | Api::Azure => chat(body),
        Api::Responses => responses(body),
    }
}

fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn blocks(message: &Value) -> Vec<&Value> {
    match message.get("content") {
        Some(Value::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// The first key of `object` not in `allowed`.
fn unknown_key<'a>(object: &'a Value, allowed: &[&str]) -> Option<&'a str> {
    object
        .as_object()?
        .keys()
        .map(String::as_str)
        .find(|k| !allowed.contains(k))
}

/// Top-level Messages API fields (https://docs.anthropic.com/en/api/messages); anything else is
/// a 400 `extra_forbidden` there.
const ANTHROPIC_FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "cache_control",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "context_management",
    "output_config",
];

/// `GenerateContentRequest` fields (https://ai.google.dev/api/generate-content); the real API
/// answers an unknown one with 400 `Invalid JSON payload received. Unknown name`.
const GEMINI_FIELDS: &[&str] = &[
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
];

fn anthropic(body: &Value) -> Option<String> {
    if let Some(key) = unknown_key(body, ANTHROPIC_FIELDS) {
        return Some(format!("{key}: Extra inputs are not permitted"));
    }
    let messages = array(body, "messages");
    if messages.is_empty() {
        return Some("messages: at least one message is required".into());
    }
    if messages[0]["role"] != "user" {
        return Some("messages: first message must use the \"user\" role".into());
    }
    for (i, pair) in messages.windows(2).enumerate() {
        if pair[0]["role"] == pair[1]["role"] {
            return Some(format!(
                "messages.{}: roles must alternate between \"user\" and \"assistant\"",
                i + 1
            ));
        }
    }
    for (i, message) in messages.iter().enumerate() {
        if !matches!(message["role"].as_str(), Some("user" | "assistant")) {
            return Some(format!(
                "messages.{i}.role: Input should be 'user' or 'assistant'"
            ));
        }
        for block in blocks(message) {
            if block["type"] == "text" && block["text"].as_str().is_some_and(str::is_empty) {
                return Some(format!(
                    "messages.{i}: text content blocks must be non-empty"
                ));
            }
        }
        let uses: Vec<&str> = blocks(message)
            .iter()
            .filter(|b| b["type"] == "tool_use")
            .filter_map(|b| b["id"].as_str())
            .collect();
        let next = messages.get(i + 1);
        let results: Vec<&Value> = next.map(blocks).unwrap_or_default();
        let leading: Vec<&str> = results
            .iter()
            .take_while(|b| b["type"] == "tool_result")
            .filter_map(|b| b["tool_use_id"].as_str())
            .collect();
        if results
            .iter()
            .skip(leading.len())
            .any(|b| b["type"] == "tool_result")
        {
            return Some(format!(
                "messages.{}: tool_result blocks must come before any other content",
                i + 1
            ));
        }
        if let Some(missing) = uses.iter().find(|id| !leading.contains(id)) {
            return Some(format!(
                "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {missing}",
                i + 1
            ));
        }
        if message["role"] == "user" && i > 0 {
            let previous: Vec<&str> = blocks(&messages[i - 1])
                .iter()
                .filter(|b| b["type"] == "tool_use")
                .filter_map(|b| b["id"].as_str())
                .collect();
            for block in blocks(message)
                .iter()
                .filter(|b| b["type"] == "tool_result")
            {
                let id = block["tool_use_id"].as_str().unwrap_or("");
                if !previous.contains(&id) {
                    return Some(format!(
                        "messages.{i}: unexpected `tool_use_id` found in `tool_result` blocks: {id}"
                    ));
                }
            }
        }
    }
    if let Some(t) = body
        .get("temperature")
        .and_then(Value::as_f64)
        .filter(|t| !(0.0..=1.0).contains(t))
    {
        return Some(format!(
            "temperature: Input should be less than or equal to 1 (got {t})"
        ));
    }
    let budget = body
        .pointer("/thinking/budget_tokens")
        .and_then(Value::as_u64);
    if budget.is_some_and(|b| body["max_tokens"].as_u64().unwrap_or(0) <= b) {
        return Some("`max_tokens` must be greater than `thinking.budget_tokens`".into());
    }
    for (i, tool) in array(body, "tools").iter().enumerate() {
        if tool.get("type").is_some_and(|t| t != "custom") {
            if let Some(violation) = super::search::anthropic_server_tool(i, tool) {
                return Some(violation);
            }
            continue;
        }
        if !valid_tool_name(tool["name"].as_str().unwrap_or(""), false) {
            return Some(format!(
                "tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
            ));
        }
        if tool.pointer("/input_schema/type") != Some(&Value::from("object")) {
            return Some(format!(
                "tools.{i}.custom.input_schema.type: Input should be 'object'"
            ));
        }
    }
    None
}

/// Function names: `^[a-zA-Z0-9_-]{1,64}$` (Chat Completions, Anthropic); Gemini also allows
/// `.` and `:` but the name must start with a letter or an underscore.
fn valid_tool_name(name: &str, gemini: bool) -> bool {
    (1..=64).contains(&name.len())
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '_' || c == '-' || (gemini && ".:".contains(c))
        })
        && (!gemini || name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
}

/// Keywords Gemini's OpenAPI-subset `parameters`/`responseSchema` reject.
const GEMINI_UNSUPPORTED: &[&str] = &[
    "additionalProperties",
    "$schema",
    "$ref",
    "$defs",
    "const",
    "oneOf",
    "allOf",
];

fn find_unsupported(schema: &Value) -> Option<&'static str> {
    match schema {
        Value::Object(map) => GEMINI_UNSUPPORTED
            .iter()
            .find(|k| map.contains_key(**k))
            .copied()
            .or_else(|| map.values().find_map(find_unsupported)),
        Value::Array(items) => items.iter().find_map(find_unsupported),
        _ => None,
    }
}

fn gemini(body: &Value) -> Option<String> {
    if let Some(key) = unknown_key(body, GEMINI_FIELDS) {
        return Some(format!(
            "Invalid JSON payload received. Unknown name \"{key}\": Cannot find field."
        ));
    }
    let contents = array(body, "contents");
    if contents.is_empty() {
        return Some("* GenerateContentRequest.contents: contents is not specified".into());
    }
    for (i, content) in contents.iter().enumerate() {
        if !matches!(content["role"].as_str(), Some("user" | "model")) {
            return Some(format!(
                "Please use a valid role: user, model. (contents[{i}].role)"
            ));
        }
        let parts = array(content, "parts");
        if parts.is_empty() {
            return Some(format!(
                "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            ));
        }
        for part in parts {
            if let Some(response) = part.get("functionResponse") {
                if response["name"].as_str().is_none_or(str::is_empty) {
                    return Some(format!(
                        "* GenerateContentRequest.contents[{i}]: function_response.name is not specified"
                    ));
                }
                if !response["response"].is_object() {
                    return Some(format!(
                        "* contents[{i}]: function_response.response must be an object"
                    ));
                }
            }
        }
    }
    if let Some(violation) = super::search::gemini_tool_mix(body) {
        return Some(violation);
    }
    for tool in array(body, "tools") {
        if let Some(key) = tool.as_object().and_then(|t| {
            t.keys().find(|k| {
                !["functionDeclarations", "googleSearch", "codeExecution"].contains(&k.as_str())
            })
        }) {
            return Some(format!(
                "Invalid JSON payload received. Unknown name \"{key}\" at 'tools[0]'"
            ));
        }
        if let Some(violation) = super::search::gemini_google_search(tool) {
            return Some(violation);
        }
        for decl in array(tool, "functionDeclarations") {
            let name = decl["name"].as_str().unwrap_or("");
            if !valid_tool_name(name, true) {
                return Some(format!(
                    "* GenerateContentRequest.tools[0].function_declarations[0].name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64. ({name})"
                ));
            }
            if let Some(key) = decl.get("parameters").and_then(find_unsupported) {
                return Some(format!(
                    "Invalid JSON payload received. Unknown name \"{key}\" at 'tools[0].function_declarations[0].parameters'"
                ));
            }
        }
    }
    if let Some(key) = body
        .pointer("/generationConfig/responseSchema")
        .and_then(find_unsupported)
    {
        return Some(format!(
            "Invalid JSON payload received. Unknown name \"{key}\" at 'generation_config.response_schema'"
        ));
    }
    None
}

fn chat(body: &Value) -> Option<String> {
    for (i, tool) in array(body, "tools").iter().enumerate() {
        if tool["type"] != "function" {
            return Some(format!(
                "Invalid value: '{}'. Supported values are: 'function' and 'custom'. (tools[{i}].type)",
                tool["type"]
            ));
        }
        if !valid_tool_name(
            tool.pointer("/function/name")
                .and_then(Value::as_str)
                .unwrap_or(""),
            false,
        ) {
            return Some(format!(
                "Invalid 'tools[{i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."
            ));
        }
    }
    let messages = array(body, "messages");
    let mut open_calls: Vec<String> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let role = message["role"].as_str().unwrap_or("");
        if !matches!(role, "system" | "developer" | "user" | "assistant" | "tool") {
            return Some(format!(
                "Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'."
            ));
        }
        if role == "tool" {
            let id = message["tool_call_id"].as_str().unwrap_or("");
            match open_calls.iter().position(|c| c == id) {
                Some(pos) => {
                    open_calls.remove(pos);
                }
                None => {
                    return Some(format!(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (messages[{i}])."
                    ));
                }
            }
            continue;
        }
        if !open_calls.is_empty() {
            return Some(format!(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
                open_calls.join(", ")
            ));
        }
        if role == "assistant" {
            open_calls = array(message, "tool_calls")
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect();
        }
    }
    None
}

fn responses(body: &Value) -> Option<String> {
    let input = array(body, "input");
    let mut calls: Vec<&str> = Vec::new();
    for item in input {
        match item["type"].as_str() {
            Some("function_call") => calls.extend(item["call_id"].as_str()),
            Some("function_call_output") => {
                let id = item["call_id"].as_str().unwrap_or("");
                if !calls.contains(&id) {
                    return Some(format!(
                        "No tool call found for function call output with call_id {id}."
                    ));
                }
            }
            _ => {}
        }
    }
    None
}

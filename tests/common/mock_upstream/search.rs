//! Owns the hosted web search tools' rules, as the real APIs enforce them with a 400: Anthropic's
//! server web search tool (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool)
//! and Gemini's Google Search grounding (https://ai.google.dev/gemini-api/docs/google-search).

use serde_json::Value;

/// The server tool versions the mock knows.
const ANTHROPIC_WEB_SEARCH: [&str; 2] = ["web_search_20250305", "web_search_20260209"];
/// Their fields.
const ANTHROPIC_WEB_SEARCH_FIELDS: [&str; 7] = [
    "type",
    "name",
    "max_uses",
    "allowed_domains",
    "blocked_domains",
    "user_location",
    "cache_control",
];
const LOCATION_FIELDS: [&str; 5] = ["type", "city", "region", "country", "timezone"];

/// `Some(violation)` for a typed (server) tool at `tools[i]`; `None` when it is valid. Only called
/// for tools with a `type` other than `custom`.
pub fn anthropic_server_tool(i: usize, tool: &Value) -> Option<String> {
    let kind = tool["type"].as_str().unwrap_or("");
    if !ANTHROPIC_WEB_SEARCH.contains(&kind) {
        return Some(format!(
            "tools.{i}: Input tag '{kind}' found using 'type' does not match any of the expected tags"
        ));
    }
    let object = tool.as_object()?;
    if let Some(key) = object
        .keys()
        .find(|k| !ANTHROPIC_WEB_SEARCH_FIELDS.contains(&k.as_str()))
    {
        return Some(format!(
            "tools.{i}.{kind}.{key}: Extra inputs are not permitted"
        ));
    }
    if tool["name"] != "web_search" {
        return Some(format!(
            "tools.{i}.{kind}.name: Input should be 'web_search'"
        ));
    }
    if let Some(max) = tool.get("max_uses")
        && max.as_u64().is_none_or(|m| m == 0)
    {
        return Some(format!(
            "tools.{i}.{kind}.max_uses: Input should be greater than 0"
        ));
    }
    for key in ["allowed_domains", "blocked_domains"] {
        if let Some(list) = tool.get(key)
            && !list
                .as_array()
                .is_some_and(|l| l.iter().all(Value::is_string))
        {
            return Some(format!(
                "tools.{i}.{kind}.{key}: Input should be a valid list of strings"
            ));
        }
    }
    if tool.get("allowed_domains").is_some() && tool.get("blocked_domains").is_some() {
        return Some("Only one of allowed_domains and blocked_domains can be specified".to_owned());
    }
    if let Some(location) = tool.get("user_location") {
        if location["type"] != "approximate" {
            return Some(format!(
                "tools.{i}.{kind}.user_location.type: Input should be 'approximate'"
            ));
        }
        if let Some(key) = location
            .as_object()
            .and_then(|l| l.keys().find(|k| !LOCATION_FIELDS.contains(&k.as_str())))
        {
            return Some(format!(
                "tools.{i}.{kind}.user_location.{key}: Extra inputs are not permitted"
            ));
        }
    }
    None
}

/// `Some(violation)` when `googleSearch` comes with function declarations: combining built-in
/// tools with function calling is Gemini 3's tool combination, which needs
/// `toolConfig.includeServerSideToolInvocations` (https://ai.google.dev/gemini-api/docs/tool-combination).
pub fn gemini_tool_mix(body: &Value) -> Option<String> {
    let tools = body.get("tools")?.as_array()?;
    let search = tools.iter().any(|t| t.get("googleSearch").is_some());
    let functions = tools
        .iter()
        .any(|t| t.get("functionDeclarations").is_some());
    let combination = body
        .pointer("/toolConfig/includeServerSideToolInvocations")
        .and_then(Value::as_bool)
        == Some(true);
    (search && functions && !combination).then(|| {
        "Built-in tools (google_search) and function calling can only be combined with include_server_side_tool_invocations".to_owned()
    })
}

/// `Some(violation)` for a malformed `googleSearch` tool entry.
pub fn gemini_google_search(tool: &Value) -> Option<String> {
    let search = tool.get("googleSearch")?;
    let Some(options) = search.as_object() else {
        return Some(
            "Invalid JSON payload received. Invalid value at 'tools[0].google_search' (type.googleapis.com/google.ai.generativelanguage.v1beta.Tool.GoogleSearch)".to_owned(),
        );
    };
    options
        .keys()
        .find(|k| k.as_str() != "timeRangeFilter")
        .map(|key| {
            format!(
                "Invalid JSON payload received. Unknown name \"{key}\" at 'tools[0].google_search': Cannot find field."
            )
        })
}

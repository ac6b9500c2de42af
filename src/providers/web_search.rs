//! OpenAI's hosted `web_search` tool on upstreams with a search of their own (Anthropic's server
//! web search tool, Gemini's Google Search grounding): which tools qualify, the options that carry
//! over; the Open Responses shapes their results become (`web_search_call` items and
//! `url_citation` annotations) are the emitter's (`stream::emitter`, `citations.rs`).
//!
//! `web_search_call` items sent back in a later request are left out for these upstreams: the
//! search already happened and its outcome is in the assistant text that follows. Anthropic only
//! takes a `server_tool_use` back paired with its `web_search_tool_result` (whose encrypted page
//! content the item does not carry) in the same assistant turn (docs/providers/anthropic.md §3),
//! and Gemini has no part for a past search at all.

use serde_json::{Map, Value, json};

use crate::api::{CreateResponse, ProviderKind, Tool};

/// The `type`s OpenAI gives its hosted web search tool.
const WEB_SEARCH_TYPES: [&str; 3] = ["web_search", "web_search_preview", "web_search_2025_08_26"];

/// What an upstream's own web search takes for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Native {
    /// A live `web_search` tool becomes the upstream's search tool.
    pub search: bool,
    /// `web_search_call` items in the input are left out (else they are a 400).
    pub past_searches: bool,
}

/// What `kind` does with web search for `request`. Gemini grounds with Google Search only when
/// the request has no function tools: combining a built-in tool with function calling needs
/// Gemini 3's tool combination, whose server-side tool calls must be circulated back in the
/// history (https://ai.google.dev/gemini-api/docs/tool-combination), which the gateway does not
/// translate; the search is then left out (and named) rather than failing upstream.
pub fn native(kind: ProviderKind, request: &CreateResponse) -> Native {
    match kind {
        ProviderKind::Anthropic => Native {
            search: true,
            past_searches: true,
        },
        ProviderKind::Gemini => Native {
            search: !request
                .tools
                .iter()
                .flatten()
                .any(|t| matches!(t, Tool::Function(_) | Tool::Namespace(_) | Tool::Custom(_))),
            past_searches: true,
        },
        ProviderKind::OpenAi | ProviderKind::Azure => Native::default(),
    }
}

/// Whether `tool` asks for a live web search. `external_web_access: false` (OpenAI's cached,
/// offline search) has no equivalent upstream: such a tool is left out, never made live.
pub fn is_live(tool: &Tool) -> bool {
    let Tool::Other(map) = tool else {
        return false;
    };
    WEB_SEARCH_TYPES.contains(&tool.kind())
        && map.get("external_web_access").and_then(Value::as_bool) != Some(false)
}

/// The live web search tool of a (lowered) tool list, if any.
pub fn find(tools: &[Tool]) -> Option<&Map<String, Value>> {
    tools.iter().find_map(|tool| match tool {
        Tool::Other(map) if is_live(tool) => Some(map),
        _ => None,
    })
}

/// `filters.allowed_domains` of a web search tool, if non-empty.
pub fn allowed_domains(tool: &Map<String, Value>) -> Option<Vec<String>> {
    let domains: Vec<String> = tool
        .get("filters")?
        .get("allowed_domains")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    (!domains.is_empty()).then_some(domains)
}

/// `user_location` (`{type: "approximate", city, region, country, timezone}`) with its string
/// fields only, if any are set.
pub fn user_location(tool: &Map<String, Value>) -> Option<Value> {
    let location = tool.get("user_location")?.as_object()?;
    let mut out = Map::new();
    for key in ["city", "region", "country", "timezone"] {
        if let Some(value) = location.get(key).and_then(Value::as_str) {
            out.insert(key.to_owned(), json!(value));
        }
    }
    if out.is_empty() {
        return None;
    }
    out.insert("type".to_owned(), json!("approximate"));
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(value: Value) -> Tool {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn only_live_searches_qualify() {
        assert!(is_live(&tool(json!({"type": "web_search"}))));
        assert!(is_live(&tool(
            json!({"type": "web_search", "external_web_access": true})
        )));
        assert!(!is_live(&tool(
            json!({"type": "web_search", "external_web_access": false})
        )));
        assert!(!is_live(&tool(json!({"type": "tool_search"}))));
        let search_only: CreateResponse =
            serde_json::from_value(json!({"model": "m", "tools": [{"type": "web_search"}]}))
                .unwrap();
        let with_functions: CreateResponse = serde_json::from_value(json!({"model": "m",
            "tools": [{"type": "web_search"}, {"type": "function", "name": "f"}]}))
        .unwrap();
        assert!(native(ProviderKind::Anthropic, &with_functions).search);
        assert!(native(ProviderKind::Gemini, &search_only).search);
        let gemini = native(ProviderKind::Gemini, &with_functions);
        assert!(!gemini.search && gemini.past_searches);
        assert_eq!(native(ProviderKind::Azure, &search_only), Native::default());
    }

    #[test]
    fn options_carry_over() {
        let Tool::Other(map) = tool(json!({"type": "web_search",
            "filters": {"allowed_domains": ["docs.rs"]},
            "user_location": {"type": "approximate", "city": "Paris", "country": "FR", "x": 1}}))
        else {
            panic!("not kept verbatim");
        };
        assert_eq!(allowed_domains(&map), Some(vec!["docs.rs".to_owned()]));
        assert_eq!(
            user_location(&map),
            Some(json!({"type": "approximate", "city": "Paris", "country": "FR"}))
        );
    }
}

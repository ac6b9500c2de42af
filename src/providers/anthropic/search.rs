//! Anthropic's server web search in both directions: the `web_search` tool → the dated server
//! tool, and `server_tool_use` / `web_search_tool_result` blocks → `web_search_call` items, text
//! citations → `url_citation` annotations (`providers::web_search` holds what qualifies; the emitter writes the shapes).

use serde_json::Value;

use super::wire::{AnthropicCitation, AnthropicToolSpec, AnthropicWebSearchTool};
use crate::{api::CreateResponse, providers::web_search, stream::ResponseEmitter};

/// The server tool version the gateway asks for.
const TOOL_TYPE: &str = "web_search_20250305";
/// The name Anthropic requires for it.
const TOOL_NAME: &str = "web_search";

/// The server web search tool for the request's live `web_search` tool, if any (kept by
/// `dialect::lower` only when the search is live). `max_tool_calls` bounds its searches.
pub(super) fn tool(request: &CreateResponse) -> Option<AnthropicToolSpec> {
    let tool = web_search::find(request.tools.as_deref().unwrap_or_default())?;
    Some(AnthropicToolSpec::WebSearch(AnthropicWebSearchTool {
        kind: TOOL_TYPE,
        name: TOOL_NAME,
        max_uses: request.max_tool_calls.filter(|n| *n > 0),
        allowed_domains: web_search::allowed_domains(tool),
        user_location: web_search::user_location(tool),
    }))
}

/// Server searches seen in one response, waiting for their results: an item is emitted when
/// the result arrives, so its status is known. A search still waiting when the response ends (a
/// `pause_turn` or `max_tokens` cut) ran to no result and is not reported.
#[derive(Debug, Default)]
pub(super) struct Searches {
    /// `(server_tool_use id, query)`, in call order.
    pending: Vec<(String, String)>,
}

impl Searches {
    /// A `server_tool_use` block with its complete input.
    pub(super) fn called(&mut self, id: &str, name: &str, input: &Value) {
        if name != TOOL_NAME {
            tracing::debug!(
                tool = name,
                "Skipping a server tool the gateway does not map."
            );
            return;
        }
        let query = input.get("query").and_then(Value::as_str).unwrap_or("");
        self.pending.push((id.to_owned(), query.to_owned()));
    }

    /// A `web_search_tool_result` block: its search becomes a `web_search_call` item, failed
    /// when the result is an error object.
    pub(super) fn answered(
        &mut self,
        out: &mut ResponseEmitter,
        tool_use_id: &str,
        content: &Value,
    ) {
        let Some(at) = self.pending.iter().position(|(id, _)| id == tool_use_id) else {
            tracing::debug!(
                tool_use_id,
                "Skipping a web search result that answers no call."
            );
            return;
        };
        let (_, query) = self.pending.remove(at);
        let failed =
            content.get("type").and_then(Value::as_str) == Some("web_search_tool_result_error");
        out.web_search_call(&query, !failed);
    }
}

/// Characters in the open output text part (where the next text block starts).
pub(super) fn text_position(out: &ResponseEmitter) -> usize {
    out.open_text().map_or(0, |text| text.chars().count())
}

/// Annotates the text emitted since `start` with the web search citations among `citations`.
pub(super) fn annotate(out: &mut ResponseEmitter, start: usize, citations: &[AnthropicCitation]) {
    let end = text_position(out);
    let mut seen: Vec<&str> = Vec::new();
    for citation in citations {
        let Some(url) = citation.url.as_deref() else {
            continue;
        };
        if citation.kind != "web_search_result_location" || seen.contains(&url) || end <= start {
            continue;
        }
        seen.push(url);
        let title = citation.title.as_deref().unwrap_or(url);
        out.cite_url(url, title, start, end);
    }
}

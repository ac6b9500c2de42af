//! Web search results in `ResponseEmitter`: `web_search_call` items, and `url_citation`
//! annotations on the open output text part (with `response.output_text.annotation.added`).

use serde_json::{Map, Value, json};

use super::{OpenItem, OpenPart, ResponseEmitter};
use crate::api::EventBody;

impl ResponseEmitter {
    /// A completed (or failed) `web_search_call` item for one search.
    pub fn web_search_call(&mut self, query: &str, completed: bool) {
        self.complete_item(call_item(query, completed), "ws");
    }

    /// Cites `url` (`title`) over characters `start..end` of the open output text part.
    pub fn cite_url(&mut self, url: &str, title: &str, start: usize, end: usize) {
        self.annotate_text(url_citation(url, title, start, end));
    }

    /// The open output text part's text so far (`None` when no text part is open).
    pub fn open_text(&self) -> Option<&str> {
        match &self.open {
            Some(OpenItem::Message {
                open_part: Some(OpenPart::Text(text, _)),
                ..
            }) => Some(text),
            _ => None,
        }
    }

    /// Adds `annotation` (a `url_citation`, indices in characters of the open text part) to
    /// the open output text part; without one there is nothing to annotate and it is skipped.
    fn annotate_text(&mut self, annotation: Value) {
        let Some(OpenItem::Message {
            index,
            id,
            parts,
            open_part: Some(OpenPart::Text(_, annotations)),
        }) = &mut self.open
        else {
            tracing::debug!("Skipping a citation with no output text to annotate.");
            return;
        };
        let body = EventBody::AnnotationAdded {
            item_id: id.clone(),
            output_index: *index,
            content_index: parts.len(),
            annotation_index: annotations.len(),
            annotation: annotation.clone(),
        };
        annotations.push(annotation);
        self.push(body);
    }
}

/// A `web_search_call` output item (the gateway sets its id): one search for `query`.
fn call_item(query: &str, completed: bool) -> Map<String, Value> {
    let status = if completed { "completed" } else { "failed" };
    let item = json!({
        "type": "web_search_call",
        "status": status,
        "action": {"type": "search", "query": query},
    });
    match item {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A `url_citation` annotation over characters `start..end` of an output text part.
fn url_citation(url: &str, title: &str, start: usize, end: usize) -> Value {
    json!({
        "type": "url_citation",
        "url": url,
        "title": title,
        "start_index": start,
        "end_index": end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_an_openai_shaped_item() {
        assert_eq!(
            Value::Object(call_item("rust", true)),
            json!({"type": "web_search_call", "status": "completed",
                   "action": {"type": "search", "query": "rust"}})
        );
    }
}

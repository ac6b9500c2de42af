//! Web search results in `ResponseEmitter`: `web_search_call` items, and `url_citation`
//! annotations on the open output text part (with `response.output_text.annotation.added`).

use serde_json::Value;

use super::{OpenItem, OpenPart, ResponseEmitter};
use crate::{api::EventBody, providers::web_search};

impl ResponseEmitter {
    /// A completed (or failed) `web_search_call` item for one search.
    pub fn web_search_call(&mut self, query: &str, completed: bool) {
        self.complete_item(web_search::call_item(query, completed), "ws");
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
    pub fn annotate_text(&mut self, annotation: Value) {
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

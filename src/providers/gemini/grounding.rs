//! Google Search grounding → Open Responses: each of `webSearchQueries` becomes a
//! `web_search_call` item, and each `groundingSupports` span a `url_citation` annotation for each
//! web source it names, on the output text part (spans are byte offsets into the answer text,
//! annotations count characters).

use super::wire::{GeminiGroundingMetadata, GeminiGroundingSupport};
use crate::stream::ResponseEmitter;

/// What one response has already reported (a stream may repeat the metadata).
#[derive(Debug, Default)]
pub(super) struct Grounding {
    queries: Vec<String>,
    cited: Vec<(usize, usize, String)>,
}

impl Grounding {
    /// Before the chunk's parts: with no text open yet, the searches come first (as OpenAI
    /// orders them); otherwise they wait until the text is annotated (`after_parts`).
    pub(super) fn before_parts(
        &mut self,
        meta: &GeminiGroundingMetadata,
        out: &mut ResponseEmitter,
    ) {
        if out.open_text().is_none() {
            self.searches(meta, out);
        }
    }

    /// After the chunk's parts: annotates the open text, then reports any new searches.
    pub(super) fn after_parts(
        &mut self,
        meta: &GeminiGroundingMetadata,
        out: &mut ResponseEmitter,
    ) {
        for support in &meta.grounding_supports {
            self.cite(meta, support, out);
        }
        self.searches(meta, out);
    }

    fn searches(&mut self, meta: &GeminiGroundingMetadata, out: &mut ResponseEmitter) {
        for query in &meta.web_search_queries {
            if !self.queries.contains(query) {
                self.queries.push(query.clone());
                out.web_search_call(query, true);
            }
        }
    }

    fn cite(
        &mut self,
        meta: &GeminiGroundingMetadata,
        support: &GeminiGroundingSupport,
        out: &mut ResponseEmitter,
    ) {
        let (Some(segment), Some(text)) = (&support.segment, out.open_text()) else {
            return;
        };
        let chars = |byte: usize| text.get(..byte).map(|prefix| prefix.chars().count());
        let (Some(start), Some(end)) = (chars(segment.start_index), chars(segment.end_index))
        else {
            tracing::debug!("Skipping a grounding span outside the answer text.");
            return;
        };
        if end <= start {
            return;
        }
        for index in &support.grounding_chunk_indices {
            let Some(web) = meta
                .grounding_chunks
                .get(*index)
                .and_then(|c| c.web.as_ref())
            else {
                continue;
            };
            let Some(url) = web.uri.as_deref() else {
                continue;
            };
            let key = (start, end, url.to_owned());
            if self.cited.contains(&key) {
                continue;
            }
            self.cited.push(key);
            let title = web.title.as_deref().unwrap_or(url);
            out.cite_url(url, title, start, end);
        }
    }
}

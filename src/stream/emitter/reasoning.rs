//! Reasoning items for `ResponseEmitter`: summary and raw text deltas, encrypted state.

use super::{OpenItem, ResponseEmitter};
use crate::api::{ContentPart, EventBody, Item, ItemStatus, ReasoningItem};

impl ResponseEmitter {
    pub(super) fn ensure_reasoning(&mut self) {
        self.start();
        if matches!(self.open, Some(OpenItem::Reasoning { .. })) {
            return;
        }
        self.close_item();
        let index = self.response.output.len();
        let id = self.item_id("rs", index);
        let item = reasoning_item(&id, Vec::new(), None, None, ItemStatus::InProgress);
        self.response.output.push(item.clone());
        self.push(EventBody::OutputItemAdded {
            output_index: index,
            item,
        });
        self.open = Some(OpenItem::Reasoning {
            index,
            id,
            summary: None,
            summary_done: Vec::new(),
            content: None,
            encrypted: None,
        });
    }

    /// Appends reasoning summary text (opening a reasoning item and a summary part as needed).
    pub fn reasoning_summary_delta(&mut self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        self.ensure_reasoning();
        let Some(OpenItem::Reasoning {
            index,
            id,
            summary,
            summary_done,
            ..
        }) = &mut self.open
        else {
            return;
        };
        let (item_id, output_index, summary_index) = (id.clone(), *index, summary_done.len());
        let opened = summary.is_none();
        summary.get_or_insert_with(String::new).push_str(delta);
        if opened {
            self.push(EventBody::ReasoningSummaryPartAdded {
                item_id: item_id.clone(),
                output_index,
                summary_index,
                part: ContentPart::SummaryText {
                    text: String::new(),
                },
            });
        }
        self.push(EventBody::ReasoningSummaryTextDelta {
            item_id,
            output_index,
            summary_index,
            delta: delta.to_owned(),
        });
    }

    /// Appends raw reasoning text (`response.reasoning.delta`).
    pub fn reasoning_text_delta(&mut self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        self.ensure_reasoning();
        let Some(OpenItem::Reasoning {
            index, id, content, ..
        }) = &mut self.open
        else {
            return;
        };
        content.get_or_insert_with(String::new).push_str(delta);
        let body = EventBody::ReasoningDelta {
            item_id: id.clone(),
            output_index: *index,
            content_index: 0,
            delta: delta.to_owned(),
        };
        self.push(body);
    }

    /// Attaches opaque provider state to the current reasoning item (opening one if needed).
    pub fn reasoning_encrypted(&mut self, data: &str) {
        self.ensure_reasoning();
        if let Some(OpenItem::Reasoning { encrypted, .. }) = &mut self.open {
            encrypted.get_or_insert_with(String::new).push_str(data);
        }
    }

    /// Closes a reasoning item's open summary and raw text (their `done` events), returning the
    /// summary parts.
    pub(super) fn close_reasoning_text(
        &mut self,
        index: usize,
        id: &str,
        summary: Option<String>,
        mut summary_done: Vec<ContentPart>,
        content: Option<&str>,
    ) -> Vec<ContentPart> {
        if let Some(text) = summary {
            let summary_index = summary_done.len();
            let part = ContentPart::SummaryText { text: text.clone() };
            self.push(EventBody::ReasoningSummaryTextDone {
                item_id: id.to_owned(),
                output_index: index,
                summary_index,
                text,
            });
            self.push(EventBody::ReasoningSummaryPartDone {
                item_id: id.to_owned(),
                output_index: index,
                summary_index,
                part: part.clone(),
            });
            summary_done.push(part);
        }
        if let Some(text) = content {
            self.push(EventBody::ReasoningDone {
                item_id: id.to_owned(),
                output_index: index,
                content_index: 0,
                text: text.to_owned(),
            });
        }
        summary_done
    }
}

pub(super) fn reasoning_item(
    id: &str,
    summary: Vec<ContentPart>,
    content: Option<Vec<ContentPart>>,
    encrypted_content: Option<String>,
    status: ItemStatus,
) -> Item {
    Item::Reasoning(ReasoningItem {
        id: Some(id.to_owned()),
        summary,
        content,
        encrypted_content,
        status: Some(status),
    })
}

//! Message items for `ResponseEmitter`: output text and refusal parts, their deltas and closing.

use super::{OpenItem, OpenPart, ResponseEmitter};
use crate::api::{ContentPart, EventBody, Item, ItemStatus, MessageContent, MessageItem, Role};

impl ResponseEmitter {
    /// Appends output text, opening a message and a text part as needed.
    pub fn text_delta(&mut self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        self.ensure_part(false);
        self.part_delta(delta);
    }

    /// Appends refusal text, opening a message and a refusal part as needed.
    pub fn refusal_delta(&mut self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        self.ensure_part(true);
        self.part_delta(delta);
    }

    pub(super) fn ensure_message(&mut self) {
        self.start();
        if matches!(self.open, Some(OpenItem::Message { .. })) {
            return;
        }
        self.close_item();
        let index = self.response.output.len();
        let id = self.item_id("msg", index);
        let item = message_item(&id, Vec::new(), ItemStatus::InProgress);
        self.response.output.push(item.clone());
        self.push(EventBody::OutputItemAdded {
            output_index: index,
            item,
        });
        self.open = Some(OpenItem::Message {
            index,
            id,
            parts: Vec::new(),
            open_part: None,
        });
    }

    fn ensure_part(&mut self, refusal: bool) {
        self.ensure_message();
        let kind_matches = match &self.open {
            Some(OpenItem::Message {
                open_part: Some(OpenPart::Refusal(_)),
                ..
            }) => refusal,
            Some(OpenItem::Message {
                open_part: Some(OpenPart::Text(..)),
                ..
            }) => !refusal,
            _ => false,
        };
        if kind_matches {
            return;
        }
        self.close_part();
        let Some(OpenItem::Message {
            index,
            id,
            parts,
            open_part,
        }) = &mut self.open
        else {
            return;
        };
        let (part, new_open) = if refusal {
            (
                ContentPart::Refusal {
                    refusal: String::new(),
                },
                OpenPart::Refusal(String::new()),
            )
        } else {
            (
                ContentPart::output_text(""),
                OpenPart::Text(String::new(), Vec::new()),
            )
        };
        *open_part = Some(new_open);
        let body = EventBody::ContentPartAdded {
            item_id: id.clone(),
            output_index: *index,
            content_index: parts.len(),
            part,
        };
        self.push(body);
    }

    fn part_delta(&mut self, delta: &str) {
        let Some(OpenItem::Message {
            index,
            id,
            parts,
            open_part: Some(part),
        }) = &mut self.open
        else {
            return;
        };
        let (item_id, output_index, content_index) = (id.clone(), *index, parts.len());
        let body = match part {
            OpenPart::Text(text, _) => {
                text.push_str(delta);
                EventBody::OutputTextDelta {
                    item_id,
                    output_index,
                    content_index,
                    delta: delta.to_owned(),
                    logprobs: Vec::new(),
                }
            }
            OpenPart::Refusal(text) => {
                text.push_str(delta);
                EventBody::RefusalDelta {
                    item_id,
                    output_index,
                    content_index,
                    delta: delta.to_owned(),
                }
            }
        };
        self.push(body);
    }

    pub(super) fn close_part(&mut self) {
        let Some(OpenItem::Message {
            index,
            id,
            parts,
            open_part,
        }) = &mut self.open
        else {
            return;
        };
        let Some(part) = open_part.take() else {
            return;
        };
        let (item_id, output_index, content_index) = (id.clone(), *index, parts.len());
        let (done, final_part) = match part {
            OpenPart::Text(text, annotations) => (
                EventBody::OutputTextDone {
                    item_id: item_id.clone(),
                    output_index,
                    content_index,
                    text: text.clone(),
                    logprobs: Vec::new(),
                },
                ContentPart::OutputText {
                    text,
                    annotations,
                    logprobs: None,
                },
            ),
            OpenPart::Refusal(refusal) => (
                EventBody::RefusalDone {
                    item_id: item_id.clone(),
                    output_index,
                    content_index,
                    refusal: refusal.clone(),
                },
                ContentPart::Refusal { refusal },
            ),
        };
        parts.push(final_part.clone());
        self.push(done);
        self.push(EventBody::ContentPartDone {
            item_id,
            output_index,
            content_index,
            part: final_part,
        });
    }
}

pub(super) fn message_item(id: &str, parts: Vec<ContentPart>, status: ItemStatus) -> Item {
    Item::Message(MessageItem {
        id: Some(id.to_owned()),
        status: Some(status),
        role: Role::Assistant,
        content: MessageContent::Parts(parts),
        phase: None,
    })
}

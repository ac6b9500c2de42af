//! `ResponseEmitter`: turns provider-neutral calls (text delta, tool call, reasoning, finish) into
//! the spec's event grammar with gap-free sequence numbers, and assembles the final response.
//! Every provider translator drives one, so the grammar is enforced in exactly one place.

use self::{message::message_item, reasoning::reasoning_item};
use crate::{
    api::{
        ContentPart, CustomToolCallItem, ErrorObject, EventBody, FunctionCallItem,
        IncompleteDetails, ItemStatus, ResponseError, ResponseResource, ResponseStatus,
        StreamEvent, Usage,
    },
    stream::ToolNames,
};

/// What the caller supplies that a pure translator must not invent: ids and the clock.
#[derive(Debug, Clone)]
pub struct ResponseContext {
    /// The response id (`resp_…`); item ids derive from it.
    pub response_id: String,
    /// Unix seconds at creation.
    pub created_at: u64,
    /// Clock for `completed_at`.
    pub now: fn() -> u64,
}

impl ResponseContext {
    /// A context with a fresh random id and the system clock.
    pub fn fresh() -> Self {
        Self {
            response_id: format!("resp_{}", uuid::Uuid::new_v4().simple()),
            created_at: unix_now(),
            now: unix_now,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How a response ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    /// Normal end.
    Completed,
    /// Cut short (`max_output_tokens`, `content_filter`).
    Incomplete(String),
    /// The model failed on a valid request.
    Failed(ResponseError),
}

#[derive(Debug)]
enum OpenItem {
    Message {
        index: usize,
        id: String,
        parts: Vec<ContentPart>,
        open_part: Option<OpenPart>,
    },
    FunctionCall {
        index: usize,
        item: FunctionCallItem,
    },
    /// A custom tool call: `input` is built from the deltas, sent at close (`tools.rs`).
    CustomToolCall {
        index: usize,
        item: CustomToolCallItem,
        /// The deltas are a flattened function's JSON arguments (`{"input": …}`), not raw input.
        json_arguments: bool,
    },
    Reasoning {
        index: usize,
        id: String,
        summary: Option<String>,
        summary_done: Vec<ContentPart>,
        content: Option<String>,
        encrypted: Option<String>,
    },
}

#[derive(Debug)]
enum OpenPart {
    /// Output text and its annotations so far (`citations.rs`).
    Text(String, Vec<serde_json::Value>),
    Refusal(String),
}

/// Builds the event stream and the final response for one request.
#[derive(Debug)]
pub struct ResponseEmitter {
    response: ResponseResource,
    now: fn() -> u64,
    id_suffix: String,
    seq: u64,
    open: Option<OpenItem>,
    events: Vec<StreamEvent>,
    record_events: bool,
    started: bool,
    finished: bool,
    /// How flattened function names map back to OpenAI's dialect (functions-only upstreams).
    tool_names: ToolNames,
    /// Tool types left out upstream, for `x-gateway-dropped-tools`.
    dropped_tools: Vec<String>,
}

impl ResponseEmitter {
    /// An emitter for `skeleton` (an in-progress response echoing the request).
    /// With `record_events` false (non-streaming), only the final response is assembled.
    pub fn new(skeleton: ResponseResource, ctx: &ResponseContext, record_events: bool) -> Self {
        let id_suffix = ctx
            .response_id
            .strip_prefix("resp_")
            .unwrap_or(&ctx.response_id)
            .to_owned();
        Self {
            response: skeleton,
            now: ctx.now,
            id_suffix,
            seq: 0,
            open: None,
            events: Vec::new(),
            record_events,
            started: false,
            finished: false,
            tool_names: ToolNames::default(),
            dropped_tools: Vec::new(),
        }
    }

    /// Takes the events produced since the last call.
    pub fn drain(&mut self) -> Vec<StreamEvent> {
        std::mem::take(&mut self.events)
    }

    /// Whether a terminal event has been produced.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether `start` has run (the stream has begun).
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// The response as assembled so far.
    pub fn response(&self) -> &ResponseResource {
        &self.response
    }

    /// Consumes the emitter, returning the response.
    pub fn into_response(self) -> ResponseResource {
        self.response
    }

    /// Records the model the upstream reports.
    pub fn set_model(&mut self, model: &str) {
        if !model.is_empty() {
            model.clone_into(&mut self.response.model);
        }
    }

    /// Records usage (the latest value wins).
    pub fn set_usage(&mut self, usage: Usage) {
        self.response.usage = Some(usage);
    }

    fn push(&mut self, body: EventBody) {
        if self.record_events {
            self.events.push(StreamEvent {
                sequence_number: self.seq,
                body,
            });
        }
        self.seq += 1;
    }

    fn snapshot(&self) -> Box<ResponseResource> {
        Box::new(self.response.clone())
    }

    fn item_id(&self, prefix: &str, index: usize) -> String {
        format!("{prefix}_{}{index:02}", self.id_suffix)
    }

    /// Emits `response.created` and `response.in_progress` once.
    pub fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        if self.record_events {
            let snap = self.snapshot();
            self.push(EventBody::Created {
                response: snap.clone(),
            });
            self.push(EventBody::InProgress { response: snap });
        }
    }

    /// Closes the open item, if any, as completed.
    pub fn close_item(&mut self) {
        self.close_item_with(ItemStatus::Completed);
    }

    fn close_item_with(&mut self, status: ItemStatus) {
        self.close_part();
        let Some(open) = self.open.take() else {
            return;
        };
        let (index, item) = match open {
            OpenItem::Message {
                index, id, parts, ..
            } => (index, message_item(&id, parts, status)),
            OpenItem::FunctionCall { index, item } => {
                (index, self.close_function_call(index, item, status))
            }
            OpenItem::CustomToolCall {
                index,
                item,
                json_arguments,
            } => (
                index,
                self.close_custom_call(index, item, json_arguments, status),
            ),
            OpenItem::Reasoning {
                index,
                id,
                summary,
                summary_done,
                content,
                encrypted,
            } => {
                let summary_done = self.close_reasoning_text(
                    index,
                    &id,
                    summary,
                    summary_done,
                    content.as_deref(),
                );
                let content = content.map(|text| vec![ContentPart::ReasoningText { text }]);
                (
                    index,
                    reasoning_item(&id, summary_done, content, encrypted, status),
                )
            }
        };
        if let Some(slot) = self.response.output.get_mut(index) {
            *slot = item.clone();
        }
        self.push(EventBody::OutputItemDone {
            output_index: index,
            item,
        });
    }

    /// Ends the response: closes open items and emits the terminal event.
    pub fn finish(&mut self, finish: Finish) {
        if self.finished {
            return;
        }
        self.start();
        let item_status = match finish {
            Finish::Completed => ItemStatus::Completed,
            Finish::Incomplete(_) | Finish::Failed(_) => ItemStatus::Incomplete,
        };
        self.close_item_with(item_status);
        self.finished = true;
        self.response.completed_at = Some((self.now)());
        let body = match finish {
            Finish::Completed => {
                self.response.status = ResponseStatus::Completed;
                EventBody::Completed {
                    response: self.snapshot(),
                }
            }
            Finish::Incomplete(reason) => {
                self.response.status = ResponseStatus::Incomplete;
                self.response.incomplete_details = Some(IncompleteDetails { reason });
                EventBody::Incomplete {
                    response: self.snapshot(),
                }
            }
            Finish::Failed(error) => {
                self.response.status = ResponseStatus::Failed;
                self.response.completed_at = None;
                self.response.error = Some(error);
                EventBody::Failed {
                    response: self.snapshot(),
                }
            }
        };
        self.push(body);
    }

    /// A failure after the stream began: an `error` event, then `response.failed`.
    pub fn fail(&mut self, error: ErrorObject) {
        if self.finished {
            return;
        }
        self.start();
        let response_error = ResponseError {
            code: error.code.clone().unwrap_or_else(|| error.kind.clone()),
            message: error.message.clone(),
        };
        // The grammar allows only `response.failed` after `error`, so close items first.
        self.close_item_with(ItemStatus::Incomplete);
        self.push(EventBody::Error { error });
        self.finish(Finish::Failed(response_error));
    }

    /// A cancelled background response: like [`Self::fail`] (the spec's grammar ends an
    /// interrupted stream with `error` then `response.failed`), but the response says
    /// `cancelled` and carries no error, as OpenAI's cancelled responses do.
    pub fn cancel(&mut self, error: ErrorObject) {
        if self.finished {
            return;
        }
        self.fail(error);
        self.response.status = ResponseStatus::Cancelled;
        self.response.error = None;
        if let Some(StreamEvent {
            body: EventBody::Failed { response },
            ..
        }) = self.events.last_mut()
        {
            response.status = ResponseStatus::Cancelled;
            response.error = None;
        }
    }
}

mod calls;
mod citations;
mod message;
mod reasoning;
#[cfg(test)]
mod tests;
mod tools;

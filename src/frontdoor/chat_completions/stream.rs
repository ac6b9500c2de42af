//! Open Responses events → `chat.completion.chunk` SSE frames: a role chunk first, content,
//! refusal and `tool_calls` deltas (indexed by call order), a finish chunk, the usage chunk when
//! asked for, then `data: [DONE]`. A failure mid-stream is one `data: {"error": …}` frame (what
//! the OpenAI SDKs raise on) and the stream ends without `[DONE]`.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use futures::Stream;
use serde::Serialize;
use serde_json::Value;

use super::{
    request::ChatOptions,
    response::{completion_id, failure, finish_reason, usage},
};
use crate::{
    api::{
        ErrorBody, ErrorObject, EventBody, Item, ResponseResource, StreamEvent,
        chat_completions::{ChatCompletion, Choice, Delta, FunctionDelta, ToolCallDelta},
    },
    engine::EventStream,
    stream::sse::DONE_FRAME,
};

/// Chunk state for one streamed completion.
#[derive(Debug)]
pub struct ChunkTranslator {
    options: ChatOptions,
    id: String,
    created: u64,
    model: String,
    /// Function-call item ids in the order they appeared (their position is the chunk index).
    calls: Vec<String>,
    failed: bool,
}

impl ChunkTranslator {
    /// A translator for a stream with `options`.
    pub fn new(options: ChatOptions) -> Self {
        Self {
            options,
            id: String::new(),
            created: 0,
            model: String::new(),
            calls: Vec::new(),
            failed: false,
        }
    }

    /// Whether the stream failed (then it must not end with `[DONE]`).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// The SSE frames for one event (often none).
    pub fn on_event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        match &event.body {
            EventBody::Created { response } => {
                self.id = completion_id(&response.id);
                self.created = response.created_at;
                self.model.clone_from(&response.model);
                self.chunk(
                    out,
                    delta_text(Some("assistant"), Some(String::new())),
                    None,
                );
            }
            EventBody::OutputItemAdded {
                item: Item::FunctionCall(call),
                ..
            } => {
                let index = chunk_index(self.calls.len());
                self.calls.push(call.id.clone().unwrap_or_default());
                let fragment = ToolCallDelta {
                    index: Some(index),
                    id: Some(call.call_id.clone()),
                    kind: Some("function"),
                    function: FunctionDelta {
                        name: Some(call.name.clone()),
                        arguments: String::new(),
                    },
                };
                self.chunk(out, delta_calls(fragment), None);
            }
            EventBody::FunctionCallArgumentsDelta { item_id, delta, .. } => {
                let Some(index) = self.calls.iter().position(|id| id == item_id) else {
                    return;
                };
                let fragment = ToolCallDelta {
                    index: Some(chunk_index(index)),
                    id: None,
                    kind: None,
                    function: FunctionDelta {
                        name: None,
                        arguments: delta.clone(),
                    },
                };
                self.chunk(out, delta_calls(fragment), None);
            }
            EventBody::OutputTextDelta { delta, .. } => {
                self.chunk(out, delta_text(None, Some(delta.clone())), None);
            }
            EventBody::RefusalDelta { delta, .. } => {
                let message = Delta {
                    refusal: Some(Some(delta.clone())),
                    ..Delta::default()
                };
                self.chunk(out, message, None);
            }
            EventBody::Completed { response } | EventBody::Incomplete { response } => {
                self.finish(response, out);
            }
            EventBody::Error { error } => {
                self.failed = true;
                write_error(out, error);
            }
            EventBody::Failed { response } if !self.failed => {
                self.failed = true;
                write_error(out, &failure(response).to_object());
            }
            _ => {}
        }
    }

    fn finish(&mut self, response: &ResponseResource, out: &mut BytesMut) {
        self.model.clone_from(&response.model);
        self.chunk(out, Delta::default(), Some(finish_reason(response)));
        if self.options.include_usage {
            let chunk = ChatCompletion {
                choices: Vec::new(),
                usage: Some(Some(usage(response.usage.unwrap_or_default()))),
                ..self.envelope()
            };
            write_data(out, &chunk);
        }
    }

    fn envelope(&self) -> ChatCompletion {
        ChatCompletion {
            id: self.id.clone(),
            object: "chat.completion.chunk",
            created: self.created,
            model: self.model.clone(),
            choices: Vec::new(),
            usage: self.options.include_usage.then_some(None),
            error: None,
        }
    }

    fn chunk(&self, out: &mut BytesMut, delta: Delta, finish: Option<&'static str>) {
        let chunk = ChatCompletion {
            choices: vec![Choice {
                index: 0,
                message: None,
                delta: Some(delta),
                logprobs: None,
                finish_reason: finish.map(Cow::Borrowed),
            }],
            ..self.envelope()
        };
        write_data(out, &chunk);
    }
}

fn delta_text(role: Option<&'static str>, content: Option<String>) -> Delta {
    Delta {
        role,
        content: content.map(Value::String),
        ..Delta::default()
    }
}

fn delta_calls(fragment: ToolCallDelta) -> Delta {
    Delta {
        tool_calls: Some(vec![fragment]),
        ..Delta::default()
    }
}

/// A call's position as the wire's `index`; a turn never has 2^32 calls, so saturating is
/// only a guard.
fn chunk_index(position: usize) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX)
}

fn write_data(out: &mut BytesMut, value: &impl Serialize) {
    match serde_json::to_vec(value) {
        Ok(json) => {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&json);
            out.extend_from_slice(b"\n\n");
        }
        Err(err) => tracing::error!(error = %err, "Could not encode a chat chunk."),
    }
}

fn write_error(out: &mut BytesMut, error: &ErrorObject) {
    write_data(
        out,
        &ErrorBody {
            error: error.clone(),
        },
    );
}

/// The live response as Chat Completions SSE. Batches that map to no chunk are skipped: an
/// empty body chunk would end a chunked HTTP/1.1 response.
pub fn into_sse(
    events: EventStream,
    options: ChatOptions,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let state = (events, ChunkTranslator::new(options), false);
    futures::stream::unfold(state, |(mut events, mut chunks, ended)| async move {
        if ended {
            return None;
        }
        let mut out = BytesMut::new();
        loop {
            match events.next_batch().await {
                Some(batch) => {
                    for event in &batch {
                        chunks.on_event(event, &mut out);
                    }
                    if !out.is_empty() {
                        return Some((Ok(out.freeze()), (events, chunks, false)));
                    }
                }
                None if chunks.failed() => return None,
                None => {
                    out.extend_from_slice(DONE_FRAME);
                    return Some((Ok(out.freeze()), (events, chunks, true)));
                }
            }
        }
    })
}

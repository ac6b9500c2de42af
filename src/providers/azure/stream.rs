//! `AzureStream`: Chat Completions chunks → emitter calls (docs/providers/mapping.md §7.4). Tool calls are kept
//! per `index`; the emitter holds one open item, so one call streams live at a time and calls
//! that interleave with it are buffered and emitted whole once the live one is complete.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde_json::Value;

use super::{
    response::{emit_call, finish_of, synthetic_call_id, usage_of},
    wire::{ErrorDetail, content_text},
};
use crate::{
    api::chat_completions::{ChatCompletion, Delta},
    error::GatewayError,
    providers::{Call, StreamTranslator},
    stream::{Finish, ResponseEmitter},
};

/// Stream state for one upstream attempt.
#[derive(Debug)]
pub struct AzureStream {
    provider: String,
    finish: Option<Finish>,
    calls: BTreeMap<u32, ToolCallState>,
    live: Option<u32>,
}

#[derive(Debug, Default)]
struct ToolCallState {
    id: Option<String>,
    name: String,
    arguments: String,
    phase: Phase,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Known, not yet in the emitter (buffered).
    #[default]
    Pending,
    /// Open in the emitter; argument pieces stream live.
    Live,
    /// Closed in the emitter.
    Done,
}

impl AzureStream {
    /// A translator for one attempt of `call` against `provider`.
    pub fn new(_call: Call<'_>, provider: String) -> Self {
        Self {
            provider,
            finish: None,
            calls: BTreeMap::new(),
            live: None,
        }
    }

    fn on_delta(&mut self, delta: Delta, out: &mut ResponseEmitter) {
        if let Some(reasoning) = delta.reasoning_content.as_ref().and_then(Value::as_str)
            && !reasoning.is_empty()
        {
            self.close_live(out);
            out.reasoning_text_delta(reasoning);
        }
        if let Some(content) = delta.content.as_ref().map(content_text)
            && !content.is_empty()
        {
            self.close_live(out);
            out.text_delta(&content);
        }
        if let Some(refusal) = delta.refusal.flatten()
            && !refusal.is_empty()
        {
            self.close_live(out);
            out.refusal_delta(&refusal);
        }
        for fragment in delta.tool_calls.into_iter().flatten() {
            let index = fragment
                .index
                .unwrap_or_else(|| self.index_without_one(fragment.id.as_deref()));
            let function = fragment.function;
            let state = self.calls.entry(index).or_default();
            if let Some(id) = fragment.id.filter(|id| !id.is_empty()) {
                state.id.get_or_insert(id);
            }
            if let Some(name) = function.name.filter(|n| !n.is_empty())
                && state.name.is_empty()
            {
                state.name = name;
            }
            let piece = function.arguments;
            match state.phase {
                Phase::Done => {
                    tracing::debug!(index, "Arguments for an already closed tool call ignored.");
                }
                Phase::Live => {
                    state.arguments.push_str(&piece);
                    out.function_arguments_delta(&piece);
                }
                Phase::Pending => state.arguments.push_str(&piece),
            }
        }
        self.advance(out);
    }

    /// The index of a fragment from an upstream that sends none: the call with the same id, a
    /// new call when the id is new, else the latest call (a continuation).
    fn index_without_one(&self, id: Option<&str>) -> u32 {
        let latest = self.calls.keys().next_back().copied();
        match id.filter(|id| !id.is_empty()) {
            Some(id) => self
                .calls
                .iter()
                .find(|(_, c)| c.id.as_deref() == Some(id))
                .map(|(index, _)| *index)
                .unwrap_or_else(|| latest.map_or(0, |i| i.saturating_add(1))),
            None => latest.unwrap_or(0),
        }
    }

    /// Moves to the next buffered call when the live one is provably complete (its arguments
    /// parse as JSON), so sequential calls stream live and interleaved ones stay correct.
    fn advance(&mut self, out: &mut ResponseEmitter) {
        loop {
            let next = self
                .calls
                .iter()
                .find(|(_, c)| c.phase == Phase::Pending && !c.name.is_empty())
                .map(|(index, _)| *index);
            let Some(next) = next else { return };
            if let Some(live) = self.live {
                let complete = self
                    .calls
                    .get(&live)
                    .is_some_and(|c| serde_json::from_str::<IgnoredAny>(&c.arguments).is_ok());
                if !complete {
                    return;
                }
                self.close_live(out);
            }
            self.start(next, out);
        }
    }

    fn start(&mut self, index: u32, out: &mut ResponseEmitter) {
        let response_id = out.response().id.clone();
        let Some(state) = self.calls.get_mut(&index) else {
            return;
        };
        let call_id = state
            .id
            .get_or_insert_with(|| synthetic_call_id(&response_id, index as usize))
            .clone();
        out.start_function_call(&call_id, &state.name);
        out.function_arguments_delta(&state.arguments);
        state.phase = Phase::Live;
        self.live = Some(index);
    }

    fn close_live(&mut self, out: &mut ResponseEmitter) {
        let Some(index) = self.live.take() else {
            return;
        };
        if let Some(state) = self.calls.get_mut(&index) {
            if state.arguments.is_empty() {
                state.arguments.push_str("{}");
                out.function_arguments_delta("{}");
            }
            state.phase = Phase::Done;
        }
        out.close_item();
    }

    /// Emits every call still open or buffered, in index order after the live one. With
    /// `keep_last_open` the last call stays open so `finish` marks it incomplete.
    fn flush_calls(&mut self, out: &mut ResponseEmitter, keep_last_open: bool) {
        let pending: Vec<u32> = self
            .calls
            .iter()
            .filter(|(_, c)| c.phase == Phase::Pending)
            .map(|(index, _)| *index)
            .collect();
        if pending.is_empty() {
            if !keep_last_open {
                self.close_live(out);
            }
            return;
        }
        self.close_live(out);
        let response_id = out.response().id.clone();
        let last = pending.len() - 1;
        for (n, index) in pending.into_iter().enumerate() {
            let Some(state) = self.calls.get_mut(&index) else {
                continue;
            };
            state.phase = Phase::Done;
            if state.name.is_empty() {
                tracing::debug!(index, "Tool call without a name dropped.");
                continue;
            }
            let call_id = state
                .id
                .get_or_insert_with(|| synthetic_call_id(&response_id, index as usize))
                .clone();
            emit_call(
                out,
                &call_id,
                &state.name,
                &state.arguments,
                keep_last_open && n == last,
            );
        }
    }

    fn cut(&self) -> GatewayError {
        crate::providers::upstream_error::stream_cut(
            &self.provider,
            "chat completions stream ended without a finish_reason",
        )
    }
}

impl StreamTranslator for AzureStream {
    fn on_data(&mut self, data: &str, out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        if data.trim().is_empty() {
            return Ok(());
        }
        let chunk: ChatCompletion = serde_json::from_str(data).map_err(|e| {
            crate::providers::upstream_error::protocol(
                &self.provider,
                format!("invalid chat completion chunk: {e}"),
            )
        })?;
        if let Some(error) = chunk.error.as_ref().filter(|e| !e.is_null()) {
            return Err(
                super::in_band_error(&self.provider, &ErrorDetail::from_value(error)).into(),
            );
        }
        // Azure's prompt-filter pre-chunk and the usage chunk carry no choices: no events.
        if let Some(choice) = chunk.choices.into_iter().find(|c| c.index == 0) {
            // The model first, so `response.created` already names the one that answers.
            out.set_model(&chunk.model);
            out.start();
            if let Some(delta) = choice.delta.or(choice.message) {
                self.on_delta(delta, out);
            }
            if let Some(finish) = finish_of(choice.finish_reason.as_deref()) {
                self.flush_calls(out, finish != Finish::Completed);
                self.finish = Some(finish);
            }
        }
        if let Some(usage) = chunk.usage.flatten() {
            out.set_usage(usage_of(usage));
        }
        Ok(())
    }

    fn on_end(&mut self, out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        let Some(finish) = self.finish.clone() else {
            return Err(self.cut());
        };
        self.flush_calls(out, finish != Finish::Completed);
        out.finish(finish);
        Ok(())
    }
}

//! Input items → Anthropic `system` + `messages`: turn merging and the normalization passes
//! Anthropic's turn rules need (docs/providers/mapping.md §2.3).

use super::{
    content::{assistant_block, parse_arguments, thinking_block, tool_result_content, user_block},
    wire::{AnthropicBlock, AnthropicMessage, AnthropicRole, AnthropicToolResultContent},
};
use crate::{
    api::{Item, MessageItem, Role},
    error::GatewayError,
    providers::Call,
};

/// Content of the synthetic `tool_result` answering a call the history never answered.
const MISSING_RESULT_TEXT: &str = "No result was provided for this tool call.";
/// Text of the user turn inserted when the history starts with assistant output.
const LEADING_USER_TEXT: &str = "(continued)";

/// The translated conversation.
#[derive(Debug, Default)]
pub(super) struct Conversation {
    /// Instructions, then system/developer message texts, in order.
    pub system: Vec<String>,
    /// Normalized turns.
    pub messages: Vec<AnthropicMessage>,
}

/// Translates the call's instructions and input items.
pub(super) fn build_conversation(call: Call<'_>) -> Result<Conversation, GatewayError> {
    let mut system = Vec::new();
    if let Some(text) = call
        .request
        .instructions
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        system.push(text.to_owned());
    }
    let mut turns = Vec::new();
    for (index, item) in call.input.iter().enumerate() {
        add_item(item, index, call, &mut system, &mut turns)?;
    }
    let messages = normalize(turns);
    if messages.is_empty() {
        return Err(GatewayError::invalid(
            "input must contain at least one user or assistant message",
            Some("input"),
        ));
    }
    Ok(Conversation { system, messages })
}

/// Adds one input item to `system` or to the turns (merging same-role neighbours).
fn add_item(
    item: &Item,
    index: usize,
    call: Call<'_>,
    system: &mut Vec<String>,
    turns: &mut Vec<AnthropicMessage>,
) -> Result<(), GatewayError> {
    match item {
        Item::Message(message) => add_message(message, system, turns)?,
        Item::FunctionCall(function_call) => {
            let input = parse_arguments(&function_call.call_id, &function_call.arguments);
            let block = AnthropicBlock::ToolUse {
                id: function_call.call_id.clone(),
                name: function_call.name.clone(),
                input,
            };
            push(turns, AnthropicRole::Assistant, block);
        }
        Item::FunctionCallOutput(output) => {
            let content = tool_result_content(&output.output)?;
            let block = AnthropicBlock::ToolResult {
                tool_use_id: output.call_id.clone(),
                content,
                is_error: None,
            };
            push(turns, AnthropicRole::User, block);
        }
        Item::Reasoning(reasoning) => match thinking_block(reasoning, call, index)? {
            Some(block) => push(turns, AnthropicRole::Assistant, block),
            // Another provider's or model's state (or none): Anthropic cannot use it.
            None => tracing::debug!(
                "Leaving out a reasoning item without Anthropic state for this model."
            ),
        },
        Item::Compaction(_) => {
            return Err(GatewayError::invalid(
                "compaction items cannot be sent to an Anthropic model",
                Some("input"),
            ));
        }
        Item::ItemReference(reference) => {
            return Err(GatewayError::invalid(
                format!("item_reference `{}` could not be resolved", reference.id),
                Some("input"),
            ));
        }
        // Kept by `dialect::lower` only with web search on; `providers::web_search` says why
        // it is left out.
        Item::Other(_) if item.other_kind() == Some("web_search_call") => {
            tracing::debug!("Leaving out a web_search_call item: the search already happened.");
        }
        Item::CustomToolCall(_) | Item::CustomToolCallOutput(_) | Item::Other(_) => {
            return Err(crate::providers::dialect::not_lowered(item));
        }
    }
    Ok(())
}

/// A message: system/developer text joins `system`; user and assistant parts become blocks.
fn add_message(
    message: &MessageItem,
    system: &mut Vec<String>,
    turns: &mut Vec<AnthropicMessage>,
) -> Result<(), GatewayError> {
    match message.role {
        Role::System | Role::Developer => {
            let text = message.content.joined_text();
            if !text.trim().is_empty() {
                system.push(text);
            }
        }
        Role::User => {
            for part in message.content.to_parts(Role::User) {
                if let Some(block) = user_block(&part)? {
                    push(turns, AnthropicRole::User, block);
                }
            }
        }
        Role::Assistant => {
            for part in message.content.to_parts(Role::Assistant) {
                if let Some(block) = assistant_block(&part)? {
                    push(turns, AnthropicRole::Assistant, block);
                }
            }
        }
    }
    Ok(())
}

/// Whether the last assistant turn calls tools without starting with a thinking block: Anthropic
/// rejects such a continuation when thinking is on (the thinking was produced elsewhere or lost).
pub(super) fn tool_loop_lacks_thinking(messages: &[AnthropicMessage]) -> bool {
    let Some(last) = messages
        .iter()
        .rev()
        .find(|m| m.role == AnthropicRole::Assistant)
    else {
        return false;
    };
    let calls_tools = last
        .content
        .iter()
        .any(|b| matches!(b, AnthropicBlock::ToolUse { .. }));
    calls_tools && !last.content.first().is_some_and(is_thinking)
}

fn push(turns: &mut Vec<AnthropicMessage>, role: AnthropicRole, block: AnthropicBlock) {
    match turns.last_mut() {
        Some(turn) if turn.role == role => turn.content.push(block),
        _ => turns.push(AnthropicMessage {
            role,
            content: vec![block],
        }),
    }
}

fn is_thinking(block: &AnthropicBlock) -> bool {
    matches!(
        block,
        AnthropicBlock::Thinking { .. } | AnthropicBlock::RedactedThinking { .. }
    )
}

// === normalization ===

/// Applies docs/providers/mapping.md §2.3: pairing, tool results first, no empty turns, alternating roles,
/// user first, no trailing whitespace on a final assistant turn.
fn normalize(turns: Vec<AnthropicMessage>) -> Vec<AnthropicMessage> {
    // An assistant turn holding only thinking says nothing (and is not valid on its own).
    let turns = turns
        .into_iter()
        .filter(|t| t.role == AnthropicRole::User || !t.content.iter().all(is_thinking))
        .collect();
    let mut turns = compact(pair_tool_calls(compact(turns)));
    trim_final_assistant(&mut turns);
    let mut turns = compact(turns);
    if turns
        .first()
        .is_some_and(|t| t.role == AnthropicRole::Assistant)
    {
        let text = LEADING_USER_TEXT.to_owned();
        turns.insert(
            0,
            AnthropicMessage {
                role: AnthropicRole::User,
                content: vec![AnthropicBlock::Text { text }],
            },
        );
    }
    turns
}

/// Drops empty turns, merges neighbours with the same role, and puts tool results first in
/// every user turn (stable, so results keep their order and text keeps its own).
fn compact(turns: Vec<AnthropicMessage>) -> Vec<AnthropicMessage> {
    let mut out: Vec<AnthropicMessage> = Vec::with_capacity(turns.len());
    for turn in turns.into_iter().filter(|t| !t.content.is_empty()) {
        match out.last_mut() {
            Some(last) if last.role == turn.role => last.content.extend(turn.content),
            _ => out.push(turn),
        }
    }
    for turn in out.iter_mut().filter(|t| t.role == AnthropicRole::User) {
        turn.content
            .sort_by_key(|b| !matches!(b, AnthropicBlock::ToolResult { .. }));
    }
    out
}

/// Every `tool_use` is answered in the next user turn, in call order (a synthetic error result
/// when the history has none); results that answer nothing in the previous assistant turn are
/// dropped.
fn pair_tool_calls(turns: Vec<AnthropicMessage>) -> Vec<AnthropicMessage> {
    let mut out = Vec::with_capacity(turns.len() + 1);
    let mut expected: Vec<String> = Vec::new();
    for turn in turns {
        match turn.role {
            AnthropicRole::Assistant => {
                if !expected.is_empty() {
                    out.push(answer(&std::mem::take(&mut expected), Vec::new()));
                }
                expected = turn
                    .content
                    .iter()
                    .filter_map(|b| match b {
                        AnthropicBlock::ToolUse { id, .. } => Some(id.clone()),
                        _ => None,
                    })
                    .collect();
                out.push(turn);
            }
            AnthropicRole::User => out.push(answer(&std::mem::take(&mut expected), turn.content)),
        }
    }
    if !expected.is_empty() {
        out.push(answer(&expected, Vec::new()));
    }
    out
}

/// A user turn answering `expected` (in order) from `content`'s results, then its other blocks.
fn answer(expected: &[String], content: Vec<AnthropicBlock>) -> AnthropicMessage {
    let mut results: Vec<Option<AnthropicBlock>> = vec![None; expected.len()];
    let mut rest = Vec::new();
    for block in content {
        let AnthropicBlock::ToolResult { tool_use_id, .. } = &block else {
            rest.push(block);
            continue;
        };
        let slot = expected
            .iter()
            .position(|id| id == tool_use_id)
            .and_then(|i| results.get_mut(i));
        match slot {
            Some(slot @ None) => *slot = Some(block),
            Some(Some(_)) | None => {
                tracing::debug!(call_id = %tool_use_id, "Dropping a function_call_output that answers no preceding call.");
            }
        }
    }
    let mut blocks: Vec<AnthropicBlock> = results
        .into_iter()
        .zip(expected)
        .map(|(result, id)| result.unwrap_or_else(|| missing_result(id)))
        .collect();
    blocks.extend(rest);
    AnthropicMessage {
        role: AnthropicRole::User,
        content: blocks,
    }
}

fn missing_result(id: &str) -> AnthropicBlock {
    tracing::debug!(call_id = %id, "Answering a function_call without output with a synthetic error result.");
    AnthropicBlock::ToolResult {
        tool_use_id: id.to_owned(),
        content: Some(AnthropicToolResultContent::Text(
            MISSING_RESULT_TEXT.to_owned(),
        )),
        is_error: Some(true),
    }
}

/// A final assistant turn is a prefill, which Anthropic rejects with trailing whitespace.
fn trim_final_assistant(turns: &mut [AnthropicMessage]) {
    let Some(last) = turns
        .last_mut()
        .filter(|t| t.role == AnthropicRole::Assistant)
    else {
        return;
    };
    if let Some(AnthropicBlock::Text { text }) = last.content.last_mut() {
        text.truncate(text.trim_end().len());
        if text.is_empty() {
            last.content.pop();
        }
    }
}

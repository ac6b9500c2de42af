//! Input items → Anthropic `system` + `messages`: content conversion, turn merging and the
//! normalization passes Anthropic's turn rules need (mapping.md §2.3).

use serde_json::{Map, Value};

use super::{
    artifact::{self, Artifact},
    wire::{AnthropicBlock, AnthropicMessage, AnthropicRole, AnthropicSource, AnthropicToolResultContent},
};
use crate::{
    api::{ContentPart, FunctionOutput, Item, ReasoningItem, Role},
    error::GatewayError,
    providers::Call,
};

/// Content of the synthetic `tool_result` answering a call the history never answered.
const MISSING_RESULT_TEXT: &str = "No result was provided for this tool call.";
/// Text of the user turn inserted when the history starts with assistant output.
const LEADING_USER_TEXT: &str = "(continued)";
/// Image media types Anthropic accepts.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

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
    if let Some(text) = call.request.instructions.as_deref().filter(|t| !t.trim().is_empty()) {
        system.push(text.to_owned());
    }
    let mut turns = Vec::new();
    for item in call.input {
        match item {
            Item::Message(message) => match message.role {
                Role::System | Role::Developer => {
                    let text = message.content.joined_text();
                    if !text.trim().is_empty() {
                        system.push(text);
                    }
                }
                Role::User => {
                    for part in message.content.to_parts(Role::User) {
                        if let Some(block) = user_block(&part)? {
                            push(&mut turns, AnthropicRole::User, block);
                        }
                    }
                }
                Role::Assistant => {
                    for part in message.content.to_parts(Role::Assistant) {
                        if let Some(block) = assistant_block(&part)? {
                            push(&mut turns, AnthropicRole::Assistant, block);
                        }
                    }
                }
            },
            Item::FunctionCall(call) => {
                let block = AnthropicBlock::ToolUse {
                    id: call.call_id.clone(),
                    name: call.name.clone(),
                    input: parse_arguments(&call.call_id, &call.arguments),
                };
                push(&mut turns, AnthropicRole::Assistant, block);
            }
            Item::FunctionCallOutput(output) => {
                let block = AnthropicBlock::ToolResult {
                    tool_use_id: output.call_id.clone(),
                    content: tool_result_content(&output.output)?,
                    is_error: None,
                };
                push(&mut turns, AnthropicRole::User, block);
            }
            Item::Reasoning(reasoning) => match thinking_block(reasoning) {
                Some(block) => push(&mut turns, AnthropicRole::Assistant, block),
                None => tracing::debug!("Dropping a reasoning item without an Anthropic artifact."),
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
        }
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

/// Whether the last assistant turn calls tools without starting with a thinking block: Anthropic
/// rejects such a continuation when thinking is on (the thinking was produced elsewhere or lost).
pub(super) fn tool_loop_lacks_thinking(messages: &[AnthropicMessage]) -> bool {
    let Some(last) = messages.iter().rev().find(|m| m.role == AnthropicRole::Assistant) else {
        return false;
    };
    let calls_tools = last.content.iter().any(|b| matches!(b, AnthropicBlock::ToolUse { .. }));
    calls_tools && !last.content.first().is_some_and(is_thinking)
}

fn push(turns: &mut Vec<AnthropicMessage>, role: AnthropicRole, block: AnthropicBlock) {
    match turns.last_mut() {
        Some(turn) if turn.role == role => turn.content.push(block),
        _ => turns.push(AnthropicMessage { role, content: vec![block] }),
    }
}

fn text_block(text: &str) -> Option<AnthropicBlock> {
    (!text.is_empty()).then(|| AnthropicBlock::Text { text: text.to_owned() })
}

fn is_thinking(block: &AnthropicBlock) -> bool {
    matches!(block, AnthropicBlock::Thinking { .. } | AnthropicBlock::RedactedThinking { .. })
}

/// A user-side part (message or tool output) as a block; `None` for empty text.
fn user_block(part: &ContentPart) -> Result<Option<AnthropicBlock>, GatewayError> {
    match part {
        ContentPart::InputImage { image_url, file_id, .. } => image_block(image_url.as_deref(), file_id.is_some()).map(Some),
        ContentPart::InputFile { filename, file_data, file_url, file_id } => {
            document_block(filename.as_deref(), file_data.as_deref(), file_url.as_deref(), file_id.is_some()).map(Some)
        }
        ContentPart::InputVideo { .. } => Err(GatewayError::invalid(
            "input_video is not supported by Anthropic models",
            Some("input"),
        )),
        other => Ok(other.text().and_then(text_block)),
    }
}

/// An assistant message part: text and refusals become text; media cannot be assistant content.
fn assistant_block(part: &ContentPart) -> Result<Option<AnthropicBlock>, GatewayError> {
    match part.text() {
        Some(text) => Ok(text_block(text)),
        None => Err(GatewayError::invalid(
            "assistant messages sent to an Anthropic model may only contain text",
            Some("input"),
        )),
    }
}

fn image_block(image_url: Option<&str>, has_file_id: bool) -> Result<AnthropicBlock, GatewayError> {
    let source = match image_url {
        Some(url) if url.starts_with("data:") => {
            let (media_type, data) = parse_data_url(url)
                .ok_or_else(|| GatewayError::invalid("input_image has a malformed data URL (expected data:<type>;base64,<data>)", Some("input")))?;
            let media_type = if media_type == "image/jpg" { "image/jpeg".to_owned() } else { media_type };
            if !IMAGE_TYPES.contains(&media_type.as_str()) {
                return Err(GatewayError::invalid(
                    format!("input_image type `{media_type}` is not supported by Anthropic models (use jpeg, png, gif or webp)"),
                    Some("input"),
                ));
            }
            AnthropicSource::Base64 { media_type, data }
        }
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => AnthropicSource::Url { url: url.to_owned() },
        Some(_) => return Err(GatewayError::invalid("input_image.image_url must be an http(s) or data: URL", Some("input"))),
        None if has_file_id => {
            return Err(GatewayError::invalid("input_image.file_id is not supported by Anthropic models; send image_url", Some("input")));
        }
        None => return Err(GatewayError::invalid("input_image needs an image_url", Some("input"))),
    };
    Ok(AnthropicBlock::Image { source })
}

/// PDFs only: Anthropic's other document sources need the text decoded, which the gateway does not do.
fn document_block(
    filename: Option<&str>,
    file_data: Option<&str>,
    file_url: Option<&str>,
    has_file_id: bool,
) -> Result<AnthropicBlock, GatewayError> {
    let not_pdf = || GatewayError::invalid("only PDF input_file content is supported by Anthropic models", Some("input"));
    let source = match (file_data, file_url) {
        (Some(data), _) if data.starts_with("data:") => {
            let (media_type, data) = parse_data_url(data)
                .ok_or_else(|| GatewayError::invalid("input_file has a malformed data URL (expected data:<type>;base64,<data>)", Some("input")))?;
            if media_type != "application/pdf" {
                return Err(not_pdf());
            }
            AnthropicSource::Base64 { media_type, data }
        }
        (Some(data), _) => {
            let named_pdf = filename.is_none_or(|name| name.to_ascii_lowercase().ends_with(".pdf"));
            if !named_pdf {
                return Err(not_pdf());
            }
            AnthropicSource::Base64 { media_type: "application/pdf".to_owned(), data: data.to_owned() }
        }
        (None, Some(url)) => AnthropicSource::Url { url: url.to_owned() },
        (None, None) if has_file_id => {
            return Err(GatewayError::invalid("input_file.file_id is not supported by Anthropic models; send file_data or file_url", Some("input")));
        }
        (None, None) => return Err(GatewayError::invalid("input_file needs file_data or file_url", Some("input"))),
    };
    Ok(AnthropicBlock::Document { source, title: filename.map(str::to_owned) })
}

/// `data:<media type>[;params];base64,<data>` → (lower-cased media type, data).
fn parse_data_url(url: &str) -> Option<(String, String)> {
    let (meta, data) = url.strip_prefix("data:")?.split_once(',')?;
    let mut params = meta.split(';');
    let media_type = params.next()?.trim().to_ascii_lowercase();
    let base64 = params.any(|p| p.trim().eq_ignore_ascii_case("base64"));
    (base64 && !media_type.is_empty() && !data.is_empty()).then(|| (media_type, data.to_owned()))
}

/// `arguments` (a JSON string) → `input` (a JSON object); anything else becomes `{}`.
fn parse_arguments(call_id: &str, arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) | Err(_) => {
            tracing::debug!(call_id, "Function call arguments are not a JSON object; sending {{}}.");
            Value::Object(Map::new())
        }
    }
}

fn tool_result_content(output: &FunctionOutput) -> Result<Option<AnthropicToolResultContent>, GatewayError> {
    match output {
        FunctionOutput::Text(text) if text.is_empty() => Ok(None),
        FunctionOutput::Text(text) => Ok(Some(AnthropicToolResultContent::Text(text.clone()))),
        FunctionOutput::Parts(parts) => {
            let mut blocks = Vec::new();
            for part in parts {
                blocks.extend(user_block(part)?);
            }
            Ok((!blocks.is_empty()).then_some(AnthropicToolResultContent::Blocks(blocks)))
        }
    }
}

/// A reasoning item carrying an Anthropic artifact → the block it came from; others → `None`.
fn thinking_block(reasoning: &ReasoningItem) -> Option<AnthropicBlock> {
    match artifact::decode(reasoning.encrypted_content.as_deref()?)? {
        Artifact::Signature(signature) => Some(AnthropicBlock::Thinking {
            thinking: reasoning.summary.iter().filter_map(ContentPart::text).collect(),
            signature,
        }),
        Artifact::Redacted(data) => Some(AnthropicBlock::RedactedThinking { data }),
    }
}

// === normalization ===

/// Applies mapping.md §2.3: pairing, tool results first, no empty turns, alternating roles,
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
    if turns.first().is_some_and(|t| t.role == AnthropicRole::Assistant) {
        let text = LEADING_USER_TEXT.to_owned();
        turns.insert(0, AnthropicMessage { role: AnthropicRole::User, content: vec![AnthropicBlock::Text { text }] });
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
        turn.content.sort_by_key(|b| !matches!(b, AnthropicBlock::ToolResult { .. }));
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
        let slot = expected.iter().position(|id| id == tool_use_id).and_then(|i| results.get_mut(i));
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
    AnthropicMessage { role: AnthropicRole::User, content: blocks }
}

fn missing_result(id: &str) -> AnthropicBlock {
    tracing::debug!(call_id = %id, "Answering a function_call without output with a synthetic error result.");
    AnthropicBlock::ToolResult {
        tool_use_id: id.to_owned(),
        content: Some(AnthropicToolResultContent::Text(MISSING_RESULT_TEXT.to_owned())),
        is_error: Some(true),
    }
}

/// A final assistant turn is a prefill, which Anthropic rejects with trailing whitespace.
fn trim_final_assistant(turns: &mut [AnthropicMessage]) {
    let Some(last) = turns.last_mut().filter(|t| t.role == AnthropicRole::Assistant) else {
        return;
    };
    if let Some(AnthropicBlock::Text { text }) = last.content.last_mut() {
        text.truncate(text.trim_end().len());
        if text.is_empty() {
            last.content.pop();
        }
    }
}

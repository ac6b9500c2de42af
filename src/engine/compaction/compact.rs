//! `POST /v1/responses/compact`: the conversation window condensed into kept user messages plus
//! one gateway `compaction` item whose summary the chosen model writes through the normal
//! provider path (`Engine::create_response`, non-streaming, `store: false`).

use serde::{Deserialize, Serialize};

use crate::{
    api::{
        CreateResponse, Input, Item, ItemStatus, MessageContent, MessageItem, ProviderKind,
        ResponseResource, ResponseStatus, Role, Usage, items::CompactionItem,
    },
    auth::Caller,
    engine::{
        Engine, Execution,
        compaction::{encode_summary, expand_compaction},
    },
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
};

/// The fixed instruction for the summarisation pass.
pub const SUMMARY_INSTRUCTIONS: &str = "You compact conversations between a user and an AI \
assistant so the assistant can continue in a fresh context window. Write a concise but complete \
summary of the conversation you are given: the user's goals and requirements, decisions made, \
facts and results established (including every tool call and its result), the assistant's latest \
answer, and anything still open. Write it as notes for the assistant, not as a reply to the user. \
Output only the summary.";

/// The longest `prompt_cache_key` the spec allows.
const MAX_PROMPT_CACHE_KEY: usize = 64;

/// The request body (`CompactResponseMethodPublicBody`) plus our `provider` extension.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CompactRequest {
    /// The model that writes the summary (required).
    #[serde(default)]
    pub model: Option<String>,
    /// The window to compact: a string (one user message) or items.
    #[serde(default)]
    pub input: Option<Input>,
    /// A stored response whose conversation comes before `input`.
    #[serde(default)]
    pub previous_response_id: Option<String>,
    /// The conversation's instructions, given to the summariser as context.
    #[serde(default)]
    pub instructions: Option<String>,
    /// Passed on to the summarisation request.
    #[serde(default)]
    pub prompt_cache_key: Option<String>,
    /// Gateway extension: pin the provider.
    #[serde(default)]
    pub provider: Option<ProviderKind>,
}

/// The compacted window (`CompactResource`): pass `output` back as input to continue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompactResource {
    /// The id of the summarisation response.
    pub id: String,
    /// Always `response.compaction`.
    pub object: &'static str,
    /// Kept items, then the `compaction` item.
    pub output: Vec<Item>,
    /// Unix seconds.
    pub created_at: u64,
    /// Tokens spent on the summarisation pass.
    pub usage: Usage,
}

/// Compacts a conversation window for `caller` (who may only compact from their own responses).
pub async fn compact(
    gateway: &Engine,
    request: CompactRequest,
    request_id: String,
    caller: &Caller,
) -> Result<CompactResource, GatewayError> {
    let model = validate(&request)?;
    let window = load_window(gateway, &request, caller).await?;
    let (response, summary) =
        summarise(gateway, &request, model, &window, request_id, caller).await?;
    let mut output = kept_items(&window, &response.id);
    output.push(Item::Compaction(CompactionItem {
        id: Some(format!("cmp_{}", suffix(&response.id))),
        encrypted_content: encode_summary(summary.trim()),
    }));
    output.extend(pending_calls(&window, &response.id));
    Ok(CompactResource {
        id: response.id.clone(),
        object: "response.compaction",
        output,
        created_at: response.created_at,
        usage: response.usage.unwrap_or_default(),
    })
}

/// The window to compact: the stored conversation (`previous_response_id`), then `input`.
async fn load_window(
    gateway: &Engine,
    request: &CompactRequest,
    caller: &Caller,
) -> Result<Vec<Item>, GatewayError> {
    let new_input = match &request.input {
        None => Vec::new(),
        Some(input) => CreateResponse {
            input: Some(input.clone()),
            ..CreateResponse::default()
        }
        .input_items(),
    };
    let window = gateway
        .conversations
        .resolve_input(
            request.previous_response_id.as_deref(),
            new_input,
            &caller.owner,
        )
        .await?;
    if window.is_empty() {
        return Err(GatewayError::invalid(
            "There is nothing to compact: `input` is empty.",
            Some("input"),
        ));
    }
    Ok(window)
}

/// The summarisation pass: `model` summarises the window's transcript through the normal
/// provider path; the response and its summary, which must not be empty.
async fn summarise(
    gateway: &Engine,
    request: &CompactRequest,
    model: String,
    window: &[Item],
    request_id: String,
    caller: &Caller,
) -> Result<(Box<ResponseResource>, String), GatewayError> {
    let transcript = render_transcript(
        &expand_compaction(window.to_vec())?,
        request.instructions.as_deref(),
    );
    let summariser = CreateResponse {
        model: Some(model),
        input: Some(Input::Text(transcript)),
        instructions: Some(SUMMARY_INSTRUCTIONS.to_owned()),
        store: Some(false),
        prompt_cache_key: request.prompt_cache_key.clone(),
        provider: request.provider,
        ..CreateResponse::default()
    };
    let response = match gateway
        .create_response(summariser, request_id, caller)
        .await?
    {
        Execution::Json(response, _) => response,
        Execution::Stream(_) => {
            return Err(GatewayError::Internal(
                "a non-streaming summarisation request streamed".to_owned(),
            ));
        }
    };
    let summary = summary_text(&response.output);
    if response.status == ResponseStatus::Failed || summary.trim().is_empty() {
        let message = response.error.as_ref().map_or_else(
            || "The model returned no summary.".to_owned(),
            |e| {
                format!(
                    "The model could not summarise the conversation: {}",
                    e.message
                )
            },
        );
        return Err(
            UpstreamError::new(&response.model, UpstreamErrorKind::Protocol, message).into(),
        );
    }
    Ok((response, summary))
}

/// Checks the body; answers the model name.
fn validate(request: &CompactRequest) -> Result<String, GatewayError> {
    let model = match request.model.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(GatewayError::invalid(
                "Missing required parameter: `model`.",
                Some("model"),
            ));
        }
        Some(model) => model.to_owned(),
    };
    if request.input.is_none() && request.previous_response_id.is_none() {
        return Err(GatewayError::invalid(
            "Send `input`, `previous_response_id`, or both.",
            Some("input"),
        ));
    }
    if request
        .prompt_cache_key
        .as_ref()
        .is_some_and(|k| k.len() > MAX_PROMPT_CACHE_KEY)
    {
        return Err(GatewayError::invalid(
            format!("`prompt_cache_key` may be at most {MAX_PROMPT_CACHE_KEY} characters."),
            Some("prompt_cache_key"),
        ));
    }
    Ok(model)
}

fn suffix(response_id: &str) -> &str {
    response_id.strip_prefix("resp_").unwrap_or(response_id)
}

/// The assistant text of the summarisation response.
fn summary_text(output: &[Item]) -> String {
    output
        .iter()
        .filter_map(|item| match item {
            Item::Message(m) if m.role == Role::Assistant => Some(m.content.joined_text()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// User messages stay verbatim (as output items: ids, status, content parts).
fn kept_items(window: &[Item], response_id: &str) -> Vec<Item> {
    window
        .iter()
        .enumerate()
        .filter_map(|(index, item)| match item {
            Item::Message(m) if m.role == Role::User => Some(Item::Message(MessageItem {
                id: Some(
                    m.id.clone()
                        .unwrap_or_else(|| format!("msg_{}_k{index}", suffix(response_id))),
                ),
                status: Some(ItemStatus::Completed),
                role: Role::User,
                content: MessageContent::Parts(m.content.to_parts(Role::User)),
                phase: None,
            })),
            _ => None,
        })
        .collect()
}

/// Tool calls still waiting for their output stay verbatim, so the caller can answer them.
fn pending_calls(window: &[Item], response_id: &str) -> Vec<Item> {
    let answered = |call_id: &str| {
        window
            .iter()
            .any(|i| matches!(i, Item::FunctionCallOutput(o) if o.call_id == call_id))
    };
    window
        .iter()
        .enumerate()
        .filter_map(|(index, item)| match item {
            Item::FunctionCall(call) if !answered(&call.call_id) => {
                let mut call = call.clone();
                call.id
                    .get_or_insert_with(|| format!("fc_{}_k{index}", suffix(response_id)));
                call.status = Some(ItemStatus::Completed);
                Some(Item::FunctionCall(call))
            }
            _ => None,
        })
        .collect()
}

/// The window as a plain-text transcript: provider-neutral (no tool definitions needed to show
/// tool calls), with non-text content named rather than sent.
pub fn render_transcript(window: &[Item], instructions: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(instructions) = instructions.filter(|i| !i.trim().is_empty()) {
        out.push_str("The assistant works under these instructions:\n");
        out.push_str(instructions);
        out.push_str("\n\n");
    }
    out.push_str("Conversation to summarise:\n");
    for item in window {
        let line = match item {
            Item::Message(m) => {
                let role = match m.role {
                    Role::User => "USER",
                    Role::Assistant => "ASSISTANT",
                    Role::System | Role::Developer => "CONTEXT",
                };
                format!("{role}: {}", message_text(&m.content, m.role))
            }
            Item::FunctionCall(c) => format!(
                "ASSISTANT called tool `{}` (call {}) with arguments {}",
                c.name, c.call_id, c.arguments
            ),
            Item::FunctionCallOutput(o) => format!(
                "TOOL RESULT for call {}: {}",
                o.call_id,
                o.output.joined_text()
            ),
            Item::CustomToolCall(c) => format!(
                "ASSISTANT called tool `{}` (call {}) with input {}",
                c.name, c.call_id, c.input
            ),
            Item::CustomToolCallOutput(o) => format!(
                "TOOL RESULT for call {}: {}",
                o.call_id,
                o.output.joined_text()
            ),
            Item::Reasoning(_) | Item::Compaction(_) | Item::ItemReference(_) | Item::Other(_) => {
                continue;
            }
        };
        out.push('\n');
        out.push_str(&line);
    }
    out
}

fn message_text(content: &MessageContent, role: Role) -> String {
    content
        .to_parts(role)
        .iter()
        .map(|part| match part.text() {
            Some(text) => text.to_owned(),
            None => match part {
                crate::api::ContentPart::InputImage { .. } => "[image]".to_owned(),
                crate::api::ContentPart::InputFile { filename, .. } => {
                    format!("[file {}]", filename.as_deref().unwrap_or("attachment"))
                }
                _ => "[attachment]".to_owned(),
            },
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;

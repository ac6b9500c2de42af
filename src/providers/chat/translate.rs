//! Pure Open Responses ⇄ Chat Completions translation: `build_request` (request + history →
//! `ChatRequest`) and `parse_response` (a `chat.completion` body → emitter calls).
//! Mapping: shared/providers/mapping.md §1–§6, CC column.

use serde_json::{Map, Value, json};

use super::wire::{
    AssistantMessage, ChatCompletion, ChatContent, ChatFunction, ChatFunctionCall, ChatMessage,
    ChatPart, ChatRequest, ChatTool, ChatToolCall, ChatUsage, ErrorDetail, FileData, ImageUrl,
    StreamOptions, content_text,
};
use crate::{
    api::{
        ContentPart, FunctionOutput, Item, MessageContent, MessageItem, Role, TextFormat, Tool,
        ToolChoice, ToolChoiceMode, ToolChoiceObject, Usage,
    },
    config::ProviderConfig,
    error::GatewayError,
    providers::Call,
    stream::{Finish, ResponseEmitter},
};

/// Builds the Chat Completions body for one attempt.
///
/// Deliberately not sent: `metadata` (Chat Completions only accepts it together with
/// `store: true`, and the gateway never stores upstream), `store` (the gateway keeps history
/// itself), `max_tool_calls`, `reasoning.summary`, `truncation` and `include` (no equivalent).
pub fn build_request(call: Call<'_>, _config: &ProviderConfig) -> Result<ChatRequest, GatewayError> {
    let request = call.request;
    let mut messages = Vec::with_capacity(call.input.len() + 1);
    if let Some(instructions) = request.instructions.as_deref().filter(|s| !s.is_empty()) {
        messages.push(ChatMessage::System {
            content: ChatContent::Text(instructions.to_owned()),
        });
    }
    for (index, item) in call.input.iter().enumerate() {
        push_item(&mut messages, index, item)?;
    }
    pad_empty_assistant_turns(&mut messages);

    let tools: Vec<ChatTool> = request.tools.iter().flatten().map(chat_tool).collect();
    // Upstreams reject `tools: []`, and `tool_choice`/`parallel_tool_calls` without tools.
    let has_tools = !tools.is_empty();
    let text = request.text.as_ref();
    let top_logprobs = request.top_logprobs.filter(|n| *n > 0);
    Ok(ChatRequest {
        model: call.model.to_owned(),
        messages,
        max_completion_tokens: request.max_output_tokens,
        temperature: request.temperature,
        top_p: request.top_p,
        presence_penalty: request.presence_penalty,
        frequency_penalty: request.frequency_penalty,
        logprobs: top_logprobs.map(|_| true),
        top_logprobs,
        tool_choice: request.tool_choice.as_ref().filter(|_| has_tools).map(tool_choice),
        parallel_tool_calls: request.parallel_tool_calls.filter(|_| has_tools),
        tools: has_tools.then_some(tools),
        response_format: text.and_then(|t| t.format.as_ref()).and_then(response_format),
        verbosity: text.and_then(|t| t.verbosity.clone()),
        reasoning_effort: request.reasoning.as_ref().and_then(|r| r.effort.clone()),
        safety_identifier: request.safety_identifier.clone(),
        prompt_cache_key: request.prompt_cache_key.clone(),
        service_tier: request.service_tier.clone(),
        stream: call.stream.then_some(true),
        stream_options: call.stream.then_some(StreamOptions {
            include_usage: true,
        }),
    })
}

fn push_item(messages: &mut Vec<ChatMessage>, index: usize, item: &Item) -> Result<(), GatewayError> {
    match item {
        Item::Message(message) => messages.push(chat_message(index, message)?),
        Item::FunctionCall(call) => {
            let tool_call = ChatToolCall {
                id: call.call_id.clone(),
                kind: "function",
                function: ChatFunctionCall {
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                },
            };
            // Calls join the assistant turn they belong to (its text, or the previous call).
            match messages.last_mut() {
                Some(ChatMessage::Assistant(turn)) => turn.tool_calls.push(tool_call),
                _ => messages.push(ChatMessage::Assistant(AssistantMessage {
                    tool_calls: vec![tool_call],
                    ..AssistantMessage::default()
                })),
            }
        }
        Item::FunctionCallOutput(output) => messages.push(ChatMessage::Tool {
            tool_call_id: output.call_id.clone(),
            content: tool_output(index, &output.output)?,
        }),
        // Chat Completions cannot take reasoning back (mapping.md §2): dropped.
        Item::Reasoning(_) => {}
        Item::Compaction(_) => {
            return Err(GatewayError::invalid(
                "Compaction items cannot be sent to this provider.",
                Some(&format!("input[{index}]")),
            ));
        }
        Item::ItemReference(_) => {
            return Err(GatewayError::invalid(
                "Item references are not supported here; send the referenced item itself.",
                Some(&format!("input[{index}]")),
            ));
        }
    }
    Ok(())
}

fn chat_message(index: usize, message: &MessageItem) -> Result<ChatMessage, GatewayError> {
    Ok(match message.role {
        Role::System => ChatMessage::System {
            content: text_content(index, &message.content)?,
        },
        Role::Developer => ChatMessage::Developer {
            content: text_content(index, &message.content)?,
        },
        Role::User => ChatMessage::User {
            content: user_content(index, &message.content)?,
        },
        Role::Assistant => ChatMessage::Assistant(assistant_turn(index, &message.content)?),
    })
}

fn unsupported(what: &str, param: String) -> GatewayError {
    GatewayError::invalid(format!("{what} is not supported by this provider."), Some(&param))
}

/// System and developer content: text only.
fn text_content(index: usize, content: &MessageContent) -> Result<ChatContent, GatewayError> {
    match content {
        MessageContent::Text(text) => Ok(ChatContent::Text(text.clone())),
        MessageContent::Parts(parts) => parts
            .iter()
            .enumerate()
            .map(|(j, part)| match part.text() {
                Some(text) => Ok(ChatPart::Text { text: text.to_owned() }),
                None => Err(unsupported(
                    "Non-text content in a system or developer message",
                    format!("input[{index}].content[{j}]"),
                )),
            })
            .collect::<Result<_, _>>()
            .map(ChatContent::Parts),
    }
}

fn user_content(index: usize, content: &MessageContent) -> Result<ChatContent, GatewayError> {
    let parts = match content {
        MessageContent::Text(text) => return Ok(ChatContent::Text(text.clone())),
        MessageContent::Parts(parts) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let param = |field: &str| format!("input[{index}].content[{j}]{field}");
        out.push(match part {
            ContentPart::InputImage {
                image_url: Some(url),
                detail,
                ..
            } => ChatPart::ImageUrl {
                image_url: ImageUrl {
                    url: url.clone(),
                    detail: detail.clone(),
                },
            },
            ContentPart::InputImage { file_id: Some(_), .. } => {
                return Err(unsupported("An image by `file_id`", param(".file_id")));
            }
            ContentPart::InputImage { .. } => {
                return Err(GatewayError::invalid("An input_image needs an `image_url`.", Some(&param(""))));
            }
            ContentPart::InputFile {
                filename,
                file_data,
                file_id,
                file_url,
            } => {
                if file_data.is_none() && file_id.is_none() {
                    let field = if file_url.is_some() { ".file_url" } else { "" };
                    return Err(unsupported("An input_file without `file_data`", param(field)));
                }
                ChatPart::File {
                    file: FileData {
                        file_data: file_data.clone(),
                        file_id: file_id.clone(),
                        filename: filename.clone(),
                    },
                }
            }
            ContentPart::InputVideo { .. } => return Err(unsupported("Video input", param(""))),
            other => ChatPart::Text {
                text: other.text().unwrap_or_default().to_owned(),
            },
        });
    }
    Ok(ChatContent::Parts(out))
}

fn assistant_turn(index: usize, content: &MessageContent) -> Result<AssistantMessage, GatewayError> {
    let mut text = String::new();
    let mut refusal: Option<String> = None;
    match content {
        MessageContent::Text(t) => text.push_str(t),
        MessageContent::Parts(parts) => {
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Refusal { refusal: r } => refusal.get_or_insert_with(String::new).push_str(r),
                    other => match other.text() {
                        Some(t) => text.push_str(t),
                        None => {
                            return Err(unsupported(
                                "Non-text content in an assistant message",
                                format!("input[{index}].content[{j}]"),
                            ));
                        }
                    },
                }
            }
        }
    }
    Ok(AssistantMessage {
        content: (!text.is_empty()).then_some(text),
        refusal,
        tool_calls: Vec::new(),
    })
}

/// An assistant turn needs content, a refusal or tool calls; an empty one gets `content: ""`.
fn pad_empty_assistant_turns(messages: &mut [ChatMessage]) {
    for message in messages {
        if let ChatMessage::Assistant(turn) = message
            && turn.content.is_none()
            && turn.refusal.is_none()
            && turn.tool_calls.is_empty()
        {
            turn.content = Some(String::new());
        }
    }
}

fn tool_output(index: usize, output: &FunctionOutput) -> Result<ChatContent, GatewayError> {
    match output {
        FunctionOutput::Text(text) => Ok(ChatContent::Text(text.clone())),
        FunctionOutput::Parts(parts) => parts
            .iter()
            .enumerate()
            .map(|(j, part)| match part.text() {
                Some(text) => Ok(ChatPart::Text { text: text.to_owned() }),
                None => Err(unsupported(
                    "Non-text content in a function_call_output",
                    format!("input[{index}].output[{j}]"),
                )),
            })
            .collect::<Result<_, _>>()
            .map(ChatContent::Parts),
    }
}

fn chat_tool(tool: &Tool) -> ChatTool {
    let Tool::Function(function) = tool;
    ChatTool {
        kind: "function",
        function: ChatFunction {
            name: function.name.clone(),
            description: function.description.clone(),
            parameters: function.parameters.clone(),
            strict: function.strict,
        },
    }
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Mode(mode) => json!(mode),
        ToolChoice::Object(ToolChoiceObject::Function { name }) => {
            json!({"type": "function", "function": {"name": name}})
        }
        ToolChoice::Object(ToolChoiceObject::AllowedTools { mode: ToolChoiceMode::None, .. }) => json!("none"),
        ToolChoice::Object(ToolChoiceObject::AllowedTools { tools, mode }) => {
            let tools: Vec<Value> = tools
                .iter()
                .map(|t| json!({"type": "function", "function": {"name": t.name}}))
                .collect();
            json!({"type": "allowed_tools", "allowed_tools": {"mode": mode, "tools": tools}})
        }
    }
}

fn response_format(format: &TextFormat) -> Option<Value> {
    match format {
        TextFormat::Text => None,
        TextFormat::JsonObject => Some(json!({"type": "json_object"})),
        TextFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => {
            let mut spec = Map::new();
            let name = name.as_deref().unwrap_or("response");
            spec.insert("name".to_owned(), json!(name));
            if let Some(description) = description {
                spec.insert("description".to_owned(), json!(description));
            }
            if let Some(schema) = schema {
                spec.insert("schema".to_owned(), schema.clone());
            }
            if let Some(strict) = strict {
                spec.insert("strict".to_owned(), json!(strict));
            }
            Some(json!({"type": "json_schema", "json_schema": spec}))
        }
    }
}

/// Translates a complete `chat.completion` body into the emitter, finishing it.
pub fn parse_response(
    body: &[u8],
    _call: Call<'_>,
    out: &mut ResponseEmitter,
    provider: &str,
) -> Result<(), GatewayError> {
    let completion: ChatCompletion = serde_json::from_slice(body)
        .map_err(|e| super::protocol_error(provider, format!("invalid chat completion: {e}")))?;
    if let Some(error) = completion.error.as_ref().filter(|e| !e.is_null()) {
        return Err(super::in_band_error(provider, &ErrorDetail::from_value(error)).into());
    }
    let choice = completion
        .choices
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.index.unwrap_or(0) == 0)
        .ok_or_else(|| super::protocol_error(provider, "chat completion without choices".to_owned()))?;
    out.start();
    out.set_model(completion.model.as_deref().unwrap_or_default());
    let finish = finish_of(choice.finish_reason.as_deref()).unwrap_or(Finish::Completed);
    let message = choice.message.unwrap_or_default();
    if let Some(reasoning) = message.reasoning_content.as_ref().and_then(Value::as_str) {
        out.reasoning_text_delta(reasoning);
    }
    if let Some(content) = &message.content {
        out.text_delta(&content_text(content));
    }
    if let Some(refusal) = &message.refusal {
        out.refusal_delta(refusal);
    }
    let calls = message.tool_calls.unwrap_or_default();
    let count = calls.len();
    for (n, call) in calls.into_iter().enumerate() {
        let function = call.function.unwrap_or_default();
        let call_id = match call.id.filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => synthetic_call_id(&out.response().id, n),
        };
        // A call cut by the token cap stays open so `finish` marks it incomplete.
        let keep_open = n + 1 == count && finish != Finish::Completed;
        emit_call(
            out,
            &call_id,
            function.name.as_deref().unwrap_or_default(),
            function.arguments.as_deref().unwrap_or_default(),
            keep_open,
        );
    }
    if let Some(usage) = completion.usage {
        out.set_usage(usage_of(usage));
    }
    out.finish(finish);
    Ok(())
}

/// Emits one function call; complete calls with no arguments get `{}` (valid JSON).
pub(super) fn emit_call(out: &mut ResponseEmitter, call_id: &str, name: &str, arguments: &str, keep_open: bool) {
    out.start_function_call(call_id, name);
    let arguments = if arguments.is_empty() && !keep_open { "{}" } else { arguments };
    out.function_arguments_delta(arguments);
    if !keep_open {
        out.close_item();
    }
}

/// A deterministic call id for upstreams that send none: unique per response and position.
pub(super) fn synthetic_call_id(response_id: &str, position: usize) -> String {
    format!("call_{}_{position}", response_id.strip_prefix("resp_").unwrap_or(response_id))
}

/// How a `finish_reason` ends the response (`None` when there is none).
pub(super) fn finish_of(reason: Option<&str>) -> Option<Finish> {
    Some(match reason? {
        "length" => Finish::Incomplete("max_output_tokens".to_owned()),
        "content_filter" => Finish::Incomplete("content_filter".to_owned()),
        "stop" | "tool_calls" | "function_call" => Finish::Completed,
        other => {
            tracing::debug!(finish_reason = other, "Unknown finish_reason treated as completed.");
            Finish::Completed
        }
    })
}

/// Chat Completions usage → ours.
pub(super) fn usage_of(usage: ChatUsage) -> Usage {
    Usage::new(
        usage.prompt_tokens.unwrap_or(0),
        usage.completion_tokens.unwrap_or(0),
        usage.prompt_tokens_details.and_then(|d| d.cached_tokens).unwrap_or(0),
        usage.completion_tokens_details.and_then(|d| d.reasoning_tokens).unwrap_or(0),
    )
}

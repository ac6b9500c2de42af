//! Pure Open Responses → Chat Completions request translation: `build_request` (request settings
//! + resolved history → `ChatRequest`). Mapping: docs/providers/mapping.md §1–§4, CC column.

use std::borrow::Cow;

use serde_json::{Value, json};

use crate::{
    api::{
        ContentPart, FunctionOutput, Item, MessageContent, MessageItem, Role, TextFormat, Tool,
        ToolChoice, ToolChoiceMode, ToolChoiceObject,
        chat_completions::{
            AssistantMessage, ChatContent, ChatFunction, ChatFunctionCall, ChatMessage, ChatPart,
            ChatRequest, ChatTool, ChatToolCall, FileData, ImageUrl, JsonSchema, ResponseFormat,
            StreamOptions,
        },
    },
    config::ProviderConfig,
    error::GatewayError,
    providers::Call,
};

/// Builds the Chat Completions body for one attempt.
///
/// Deliberately not sent: `metadata` (Chat Completions only accepts it together with
/// `store: true`, and the gateway never stores upstream), `store` (the gateway keeps history
/// itself), `max_tool_calls`, `reasoning.summary`, `truncation` and `include` (no equivalent).
pub fn build_request(
    call: Call<'_>,
    _config: &ProviderConfig,
) -> Result<ChatRequest, GatewayError> {
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

    let tools: Vec<ChatTool> = request
        .tools
        .iter()
        .flatten()
        .filter_map(chat_tool)
        .collect();
    // Upstreams reject `tools: []`, and `tool_choice`/`parallel_tool_calls` without tools.
    let has_tools = !tools.is_empty();
    let text = request.text.as_ref();
    let top_logprobs = request.top_logprobs.filter(|n| *n > 0);
    Ok(ChatRequest {
        model: Some(call.model.to_owned()),
        messages: Some(messages),
        max_completion_tokens: request.max_output_tokens,
        temperature: request.temperature,
        top_p: request.top_p,
        presence_penalty: request.presence_penalty,
        frequency_penalty: request.frequency_penalty,
        logprobs: top_logprobs.map(|_| true),
        top_logprobs,
        tool_choice: request
            .tool_choice
            .as_ref()
            .filter(|_| has_tools)
            .map(tool_choice),
        parallel_tool_calls: request.parallel_tool_calls.filter(|_| has_tools),
        tools: has_tools.then_some(tools),
        response_format: text
            .and_then(|t| t.format.as_ref())
            .and_then(response_format),
        verbosity: text.and_then(|t| t.verbosity.clone()),
        reasoning_effort: request.reasoning.as_ref().and_then(|r| r.effort.clone()),
        safety_identifier: request.safety_identifier.clone(),
        prompt_cache_key: request.prompt_cache_key.clone(),
        service_tier: request.service_tier.clone(),
        stream: call.stream.then_some(true),
        stream_options: call.stream.then_some(StreamOptions {
            include_usage: Some(true),
        }),
        ..ChatRequest::default()
    })
}

fn push_item(
    messages: &mut Vec<ChatMessage>,
    index: usize,
    item: &Item,
) -> Result<(), GatewayError> {
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
                Some(ChatMessage::Assistant(turn)) => {
                    turn.tool_calls.get_or_insert_with(Vec::new).push(tool_call);
                }
                _ => messages.push(ChatMessage::Assistant(AssistantMessage {
                    tool_calls: Some(vec![tool_call]),
                    ..AssistantMessage::default()
                })),
            }
        }
        Item::FunctionCallOutput(output) => messages.push(ChatMessage::Tool {
            tool_call_id: output.call_id.clone(),
            content: tool_output(index, &output.output)?,
        }),
        // Chat Completions cannot take reasoning back (docs/providers/mapping.md §2): dropped.
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
        Item::CustomToolCall(_) | Item::CustomToolCallOutput(_) | Item::Other(_) => {
            return Err(crate::providers::dialect::not_lowered(item));
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
    GatewayError::invalid(
        format!("{what} is not supported by this provider."),
        Some(&param),
    )
}

/// System and developer content: text only.
fn text_content(index: usize, content: &MessageContent) -> Result<ChatContent, GatewayError> {
    match content {
        MessageContent::Text(text) => Ok(ChatContent::Text(text.clone())),
        MessageContent::Parts(parts) => text_parts(
            parts,
            "Non-text content in a system or developer message",
            &format!("input[{index}].content"),
        ),
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
            ContentPart::InputImage {
                file_id: Some(_), ..
            } => {
                return Err(unsupported("An image by `file_id`", param(".file_id")));
            }
            ContentPart::InputImage { .. } => {
                return Err(GatewayError::invalid(
                    "An input_image needs an `image_url`.",
                    Some(&param("")),
                ));
            }
            ContentPart::InputFile {
                filename,
                file_data,
                file_id,
                file_url,
            } => {
                if file_data.is_none() && file_id.is_none() {
                    let field = if file_url.is_some() { ".file_url" } else { "" };
                    return Err(unsupported(
                        "An input_file without `file_data`",
                        param(field),
                    ));
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

fn assistant_turn(
    index: usize,
    content: &MessageContent,
) -> Result<AssistantMessage, GatewayError> {
    let mut text = String::new();
    let mut refusal: Option<String> = None;
    match content {
        MessageContent::Text(t) => text.push_str(t),
        MessageContent::Parts(parts) => {
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Refusal { refusal: r } => {
                        refusal.get_or_insert_with(String::new).push_str(r)
                    }
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
        content: (!text.is_empty()).then_some(ChatContent::Text(text)),
        refusal,
        tool_calls: None,
    })
}

/// An assistant turn needs content, a refusal or tool calls; an empty one gets `content: ""`.
fn pad_empty_assistant_turns(messages: &mut [ChatMessage]) {
    for message in messages {
        if let ChatMessage::Assistant(turn) = message
            && turn.content.is_none()
            && turn.refusal.is_none()
            && turn.tool_calls.as_ref().is_none_or(Vec::is_empty)
        {
            turn.content = Some(ChatContent::Text(String::new()));
        }
    }
}

fn tool_output(index: usize, output: &FunctionOutput) -> Result<ChatContent, GatewayError> {
    match output {
        FunctionOutput::Text(text) => Ok(ChatContent::Text(text.clone())),
        FunctionOutput::Parts(parts) => text_parts(
            parts,
            "Non-text content in a function_call_output",
            &format!("input[{index}].output"),
        ),
    }
}

/// Text-only parts; any other part is a 400 naming `{param}[j]`.
fn text_parts(parts: &[ContentPart], what: &str, param: &str) -> Result<ChatContent, GatewayError> {
    parts
        .iter()
        .enumerate()
        .map(|(j, part)| match part.text() {
            Some(text) => Ok(ChatPart::Text {
                text: text.to_owned(),
            }),
            None => Err(unsupported(what, format!("{param}[{j}]"))),
        })
        .collect::<Result<_, _>>()
        .map(ChatContent::Parts)
}

fn chat_tool(tool: &Tool) -> Option<ChatTool> {
    // Anything but a function was flattened or left out before translation (`providers::dialect`).
    let Tool::Function(function) = tool else {
        return None;
    };
    Some(ChatTool {
        kind: Cow::Borrowed("function"),
        function: Some(ChatFunction {
            name: function.name.clone(),
            description: function.description.clone(),
            parameters: function.parameters.clone(),
            strict: function.strict,
        }),
    })
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Mode(mode) => json!(mode),
        ToolChoice::Object(ToolChoiceObject::Function { name }) => {
            json!({"type": "function", "function": {"name": name}})
        }
        ToolChoice::Object(ToolChoiceObject::AllowedTools {
            mode: ToolChoiceMode::None,
            ..
        }) => json!("none"),
        ToolChoice::Object(ToolChoiceObject::AllowedTools { tools, mode }) => {
            let tools: Vec<Value> = tools
                .iter()
                .map(|t| json!({"type": "function", "function": {"name": t.name}}))
                .collect();
            json!({"type": "allowed_tools", "allowed_tools": {"mode": mode, "tools": tools}})
        }
    }
}

fn response_format(format: &TextFormat) -> Option<ResponseFormat> {
    match format {
        TextFormat::Text => None,
        TextFormat::JsonObject => Some(ResponseFormat::JsonObject),
        TextFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => Some(ResponseFormat::JsonSchema {
            json_schema: JsonSchema {
                name: name.as_deref().unwrap_or("response").to_owned(),
                description: description.clone(),
                schema: schema.clone(),
                strict: *strict,
            },
        }),
    }
}

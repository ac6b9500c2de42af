//! Chat Completions request → Open Responses `CreateResponse` (pure). Errors name the Chat
//! Completions parameter at fault (`messages[2].content[0]`, `n`, `tools[1].type`).
//!
//! Deliberately not mapped: `stop` (no Open Responses equivalent; ignored), `logprobs` (accepted,
//! never returned), `seed`, `logit_bias`, `modalities`, `audio`, `prediction` and other fields
//! this gateway does not know (ignored, like unknown fields on `/v1/responses`).

use serde_json::Value;

use crate::{
    api::{
        ContentPart, CreateResponse, FunctionCallItem, FunctionCallOutputItem, FunctionOutput,
        FunctionTool, Input, Item, MessageContent, MessageItem, ReasoningConfig, Role, TextConfig,
        TextFormat, Tool, ToolChoice,
        chat_completions::{
            AssistantMessage, ChatContent, ChatMessage, ChatPart, ChatRequest, ChatTool,
            ChatToolCall, ResponseFormat, StreamOptions,
        },
    },
    error::GatewayError,
};

/// The smallest output budget the Open Responses request accepts; smaller Chat Completions
/// caps are raised to it (a probe with `max_tokens: 1` still works, and stops at 16 tokens).
pub const MIN_OUTPUT_TOKENS: u32 = 16;

/// What the rendering side needs to know besides the response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatOptions {
    /// Answer with SSE chunks.
    pub stream: bool,
    /// Send the final usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
}

/// Translates a Chat Completions request; the result is stateless (`store: false`). Errors
/// come in parameter order: `n`, `functions`, `messages`, `tools`, `tool_choice`.
pub fn into_create_response(
    chat: ChatRequest,
) -> Result<(CreateResponse, ChatOptions), GatewayError> {
    reject_legacy(&chat)?;
    let input = input_items(chat.messages)?;
    let tools = chat
        .tools
        .map(|tools| {
            tools
                .into_iter()
                .enumerate()
                .map(tool)
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let tool_choice = chat.tool_choice.map(tool_choice).transpose()?;
    let options = options(chat.stream, chat.stream_options);
    let request = CreateResponse {
        model: chat.model,
        input: Some(Input::Items(input)),
        tools,
        tool_choice,
        parallel_tool_calls: chat.parallel_tool_calls,
        text: text_config(chat.response_format, chat.verbosity),
        temperature: chat.temperature,
        top_p: chat.top_p,
        presence_penalty: chat.presence_penalty,
        frequency_penalty: chat.frequency_penalty,
        top_logprobs: chat.top_logprobs.filter(|_| chat.logprobs == Some(true)),
        max_output_tokens: chat
            .max_completion_tokens
            .or(chat.max_tokens)
            .map(|n| n.max(MIN_OUTPUT_TOKENS)),
        reasoning: chat.reasoning_effort.map(|effort| ReasoningConfig {
            effort: Some(effort),
            summary: None,
        }),
        // Chat Completions is stateless: nothing to continue from, so nothing to store.
        store: Some(false),
        stream: Some(options.stream),
        metadata: chat.metadata,
        safety_identifier: chat.safety_identifier.or(chat.user),
        prompt_cache_key: chat.prompt_cache_key,
        service_tier: chat.service_tier,
        provider: chat.provider,
        ..CreateResponse::default()
    };
    Ok((request, options))
}

/// Parameters this front door refuses outright rather than half-honours.
fn reject_legacy(chat: &ChatRequest) -> Result<(), GatewayError> {
    if chat.n.is_some_and(|n| n != 1) {
        return Err(GatewayError::invalid(
            "Only `n: 1` is supported; send one request per choice.",
            Some("n"),
        ));
    }
    if chat.functions.is_some() {
        return Err(GatewayError::invalid(
            "The legacy `functions` parameter is not supported; use `tools`.",
            Some("functions"),
        ));
    }
    Ok(())
}

/// The conversation as input items; it must not be empty.
fn input_items(messages: Option<Vec<ChatMessage>>) -> Result<Vec<Item>, GatewayError> {
    let messages = messages.filter(|m| !m.is_empty()).ok_or_else(|| {
        GatewayError::invalid(
            "`messages` must hold at least one message.",
            Some("messages"),
        )
    })?;
    let mut input = Vec::with_capacity(messages.len());
    for (index, message) in messages.into_iter().enumerate() {
        push_message(&mut input, index, message)?;
    }
    Ok(input)
}

/// Streaming, and the usage chunk only when streaming and asked for.
fn options(stream: Option<bool>, stream_options: Option<StreamOptions>) -> ChatOptions {
    let stream = stream.unwrap_or(false);
    ChatOptions {
        stream,
        include_usage: stream
            && stream_options
                .and_then(|o| o.include_usage)
                .unwrap_or(false),
    }
}

/// `response_format` and `verbosity` as the text config (none when neither is set).
fn text_config(format: Option<ResponseFormat>, verbosity: Option<String>) -> Option<TextConfig> {
    let format = format.map(|format| match format {
        ResponseFormat::Text => TextFormat::Text,
        ResponseFormat::JsonObject => TextFormat::JsonObject,
        ResponseFormat::JsonSchema { json_schema } => TextFormat::JsonSchema {
            name: Some(json_schema.name),
            description: json_schema.description,
            schema: json_schema.schema,
            strict: json_schema.strict,
        },
    });
    (format.is_some() || verbosity.is_some()).then_some(TextConfig { format, verbosity })
}

fn message(role: Role, content: MessageContent) -> Item {
    Item::Message(MessageItem {
        id: None,
        status: None,
        role,
        content,
        phase: None,
    })
}

fn push_message(input: &mut Vec<Item>, index: usize, msg: ChatMessage) -> Result<(), GatewayError> {
    let at = |suffix: &str| format!("messages[{index}]{suffix}");
    match msg {
        ChatMessage::System { content } => {
            input.push(message(Role::System, text_only(content, &at)?))
        }
        ChatMessage::Developer { content } => {
            input.push(message(Role::Developer, text_only(content, &at)?));
        }
        ChatMessage::User { content } => {
            input.push(message(Role::User, user_content(content, &at)?))
        }
        ChatMessage::Assistant(AssistantMessage {
            content,
            refusal,
            tool_calls,
        }) => {
            let mut parts = Vec::new();
            if let Some(content) = content {
                parts.extend(assistant_parts(content, &at)?);
            }
            if let Some(refusal) = refusal.filter(|r| !r.is_empty()) {
                parts.push(ContentPart::Refusal { refusal });
            }
            let calls = tool_calls.unwrap_or_default();
            if !parts.is_empty() || calls.is_empty() {
                input.push(message(Role::Assistant, MessageContent::Parts(parts)));
            }
            input.extend(calls.into_iter().map(function_call));
        }
        ChatMessage::Tool {
            tool_call_id,
            content,
        } => {
            let output = match text_only(content, &at)? {
                MessageContent::Text(text) => text,
                parts @ MessageContent::Parts(_) => parts.joined_text(),
            };
            input.push(Item::FunctionCallOutput(FunctionCallOutputItem {
                id: None,
                call_id: tool_call_id,
                output: FunctionOutput::Text(output),
                status: None,
            }));
        }
        ChatMessage::Function {} => {
            return Err(GatewayError::invalid(
                "Legacy `function` messages are not supported; use `tool` messages.",
                Some(&at(".role")),
            ));
        }
    }
    Ok(())
}

fn function_call(call: ChatToolCall) -> Item {
    Item::FunctionCall(FunctionCallItem {
        id: None,
        call_id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
        namespace: None,
        status: None,
    })
}

fn unsupported(what: &str, param: String) -> GatewayError {
    GatewayError::invalid(format!("{what} is not supported here."), Some(&param))
}

/// System, developer and tool content: text parts only.
fn text_only(
    content: ChatContent,
    at: &dyn Fn(&str) -> String,
) -> Result<MessageContent, GatewayError> {
    match content {
        ChatContent::Text(text) => Ok(MessageContent::Text(text)),
        ChatContent::Parts(parts) => parts
            .into_iter()
            .enumerate()
            .map(|(j, part)| match part {
                ChatPart::Text { text } => Ok(ContentPart::InputText { text }),
                _ => Err(unsupported(
                    "Non-text content in this message",
                    at(&format!(".content[{j}]")),
                )),
            })
            .collect::<Result<_, _>>()
            .map(MessageContent::Parts),
    }
}

fn user_content(
    content: ChatContent,
    at: &dyn Fn(&str) -> String,
) -> Result<MessageContent, GatewayError> {
    let parts = match content {
        ChatContent::Text(text) => return Ok(MessageContent::Text(text)),
        ChatContent::Parts(parts) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.into_iter().enumerate() {
        out.push(match part {
            ChatPart::Text { text } => ContentPart::InputText { text },
            ChatPart::ImageUrl { image_url } => ContentPart::InputImage {
                image_url: Some(image_url.url),
                file_id: None,
                detail: image_url.detail,
            },
            ChatPart::File { file } => ContentPart::InputFile {
                filename: file.filename,
                file_data: file.file_data,
                file_url: None,
                file_id: file.file_id,
            },
            ChatPart::InputAudio {} => {
                return Err(unsupported("Audio input", at(&format!(".content[{j}]"))));
            }
            ChatPart::Refusal { .. } => {
                return Err(unsupported(
                    "A refusal part in a user message",
                    at(&format!(".content[{j}]")),
                ));
            }
        });
    }
    Ok(MessageContent::Parts(out))
}

fn assistant_parts(
    content: ChatContent,
    at: &dyn Fn(&str) -> String,
) -> Result<Vec<ContentPart>, GatewayError> {
    match content {
        ChatContent::Text(text) if text.is_empty() => Ok(Vec::new()),
        ChatContent::Text(text) => Ok(vec![ContentPart::output_text(&text)]),
        ChatContent::Parts(parts) => parts
            .into_iter()
            .enumerate()
            .map(|(j, part)| match part {
                ChatPart::Text { text } => Ok(ContentPart::output_text(&text)),
                ChatPart::Refusal { refusal } => Ok(ContentPart::Refusal { refusal }),
                _ => Err(unsupported(
                    "Non-text content in an assistant message",
                    at(&format!(".content[{j}]")),
                )),
            })
            .collect(),
    }
}

fn tool((index, tool): (usize, ChatTool)) -> Result<Tool, GatewayError> {
    match (tool.kind.as_ref(), tool.function) {
        ("function", Some(function)) => Ok(Tool::Function(FunctionTool {
            name: function.name,
            description: function.description,
            parameters: function.parameters,
            strict: function.strict,
        })),
        ("function", None) => Err(GatewayError::invalid(
            "A function tool needs `function`.",
            Some(&format!("tools[{index}].function")),
        )),
        (other, _) => Err(GatewayError::invalid(
            format!("Tool type `{other}` is not supported; only `function` tools are."),
            Some(&format!("tools[{index}].type")),
        )),
    }
}

/// `"none" | "auto" | "required"`, `{type:"function", function:{name}}`, or
/// `{type:"allowed_tools", allowed_tools:{mode, tools:[{type:"function", function:{name}}]}}`.
fn tool_choice(value: Value) -> Result<ToolChoice, GatewayError> {
    let converted = match &value {
        Value::String(_) => value.clone(),
        Value::Object(object) => match object.get("type").and_then(Value::as_str) {
            Some("function") => serde_json::json!({
                "type": "function",
                "name": value.pointer("/function/name").cloned().unwrap_or(Value::Null),
            }),
            Some("allowed_tools") => {
                let allowed = value.get("allowed_tools").cloned().unwrap_or(Value::Null);
                let tools: Vec<Value> = allowed
                    .get("tools")
                    .and_then(Value::as_array)
                    .map(|tools| {
                        tools
                            .iter()
                            .map(|t| serde_json::json!({"type": "function",
                                "name": t.pointer("/function/name").cloned().unwrap_or(Value::Null)}))
                            .collect()
                    })
                    .unwrap_or_default();
                serde_json::json!({"type": "allowed_tools", "tools": tools,
                    "mode": allowed.get("mode").cloned().unwrap_or_else(|| "auto".into())})
            }
            _ => Value::Null,
        },
        _ => Value::Null,
    };
    serde_json::from_value(converted).map_err(|_| {
        GatewayError::invalid(
            "`tool_choice` must be `none`, `auto`, `required`, a function choice or an \
             allowed_tools choice.",
            Some("tool_choice"),
        )
    })
}

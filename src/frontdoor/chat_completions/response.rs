//! Open Responses response → `chat.completion` (pure), plus the pieces the chunk translator
//! shares: ids, finish reasons and usage.

use std::borrow::Cow;

use serde_json::Value;

use crate::{
    api::{
        ContentPart, Item, MessageContent, ResponseResource, ResponseStatus, Role, Usage,
        chat_completions::{
            ChatCompletion, ChatUsage, Choice, CompletionDetails, Delta, FunctionDelta,
            PromptDetails, ToolCallDelta,
        },
    },
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
};

/// The completion id for a response: `chatcmpl-` + the response id's suffix.
pub fn completion_id(response_id: &str) -> String {
    format!(
        "chatcmpl-{}",
        response_id.strip_prefix("resp_").unwrap_or(response_id)
    )
}

/// How a finished response ends in Chat Completions terms.
pub fn finish_reason(response: &ResponseResource) -> &'static str {
    match response.status {
        ResponseStatus::Incomplete => match response.incomplete_details.as_ref() {
            Some(details) if details.reason == "content_filter" => "content_filter",
            _ => "length",
        },
        _ if response
            .output
            .iter()
            .any(|i| matches!(i, Item::FunctionCall(_))) =>
        {
            "tool_calls"
        }
        _ => "stop",
    }
}

/// Open Responses usage → Chat Completions usage.
pub fn usage(usage: Usage) -> ChatUsage {
    ChatUsage {
        prompt_tokens: usage.input_tokens,
        completion_tokens: usage.output_tokens,
        total_tokens: usage.total_tokens,
        prompt_tokens_details: PromptDetails {
            cached_tokens: usage.input_tokens_details.cached_tokens,
        },
        completion_tokens_details: CompletionDetails {
            reasoning_tokens: usage.output_tokens_details.reasoning_tokens,
        },
    }
}

/// The error a failed response becomes (Chat Completions has no failed status).
pub fn failure(response: &ResponseResource) -> GatewayError {
    let detail = response
        .error
        .as_ref()
        .map_or("no detail", |e| e.message.as_str());
    UpstreamError::new(
        &response.model,
        UpstreamErrorKind::Server,
        format!("The model failed to answer: {detail}"),
    )
    .into()
}

/// A finished response as a `chat.completion`; a failed one is an error. Reasoning items are
/// not part of Chat Completions and are dropped.
pub fn into_completion(response: &ResponseResource) -> Result<ChatCompletion, GatewayError> {
    if response.status == ResponseStatus::Failed {
        return Err(failure(response));
    }
    let mut text: Option<String> = None;
    let mut refusal: Option<String> = None;
    let mut calls = Vec::new();
    for item in &response.output {
        match item {
            Item::Message(message) if message.role == Role::Assistant => {
                for part in &parts(&message.content) {
                    match part {
                        ContentPart::Refusal { refusal: r } => {
                            refusal.get_or_insert_with(String::new).push_str(r);
                        }
                        other => {
                            if let Some(t) = other.text() {
                                text.get_or_insert_with(String::new).push_str(t);
                            }
                        }
                    }
                }
            }
            Item::FunctionCall(call) => calls.push(ToolCallDelta {
                index: None,
                id: Some(call.call_id.clone()),
                kind: Some("function"),
                function: FunctionDelta {
                    name: Some(call.name.clone()),
                    arguments: call.arguments.clone(),
                },
            }),
            _ => {}
        }
    }
    if text.is_none() && refusal.is_none() && calls.is_empty() {
        text = Some(String::new());
    }
    let message = Delta {
        role: Some("assistant"),
        // `null` on a message that only calls tools.
        content: Some(text.map_or(Value::Null, Value::String)),
        refusal: Some(refusal),
        reasoning_content: None,
        tool_calls: (!calls.is_empty()).then_some(calls),
    };
    Ok(ChatCompletion {
        id: completion_id(&response.id),
        object: "chat.completion",
        created: response.created_at,
        model: response.model.clone(),
        choices: vec![Choice {
            index: 0,
            message: Some(message),
            delta: None,
            logprobs: None,
            finish_reason: Some(Cow::Borrowed(finish_reason(response))),
        }],
        usage: Some(Some(usage(response.usage.unwrap_or_default()))),
        error: None,
    })
}

fn parts(content: &MessageContent) -> Vec<ContentPart> {
    content.to_parts(Role::Assistant)
}

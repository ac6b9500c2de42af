//! Open Responses response → `chat.completion` (pure), plus the pieces the chunk translator
//! shares: ids, finish reasons and usage.

use super::wire::{
    Completion, OutChoice, OutCompletionDetails, OutFunction, OutMessage, OutPromptDetails,
    OutToolCall, OutUsage,
};
use crate::{
    api::{ContentPart, Item, MessageContent, ResponseResource, ResponseStatus, Role, Usage},
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
pub fn usage(usage: Usage) -> OutUsage {
    OutUsage {
        prompt_tokens: usage.input_tokens,
        completion_tokens: usage.output_tokens,
        total_tokens: usage.total_tokens,
        prompt_tokens_details: OutPromptDetails {
            cached_tokens: usage.input_tokens_details.cached_tokens,
        },
        completion_tokens_details: OutCompletionDetails {
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
pub fn into_completion(response: &ResponseResource) -> Result<Completion, GatewayError> {
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
            Item::FunctionCall(call) => calls.push(OutToolCall {
                index: None,
                id: Some(call.call_id.clone()),
                kind: Some("function"),
                function: OutFunction {
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
    let message = OutMessage {
        role: Some("assistant"),
        content: Some(text),
        refusal: Some(refusal),
        tool_calls: (!calls.is_empty()).then_some(calls),
    };
    Ok(Completion {
        id: completion_id(&response.id),
        object: "chat.completion",
        created: response.created_at,
        model: response.model.clone(),
        choices: vec![OutChoice {
            index: 0,
            message: Some(message),
            delta: None,
            logprobs: None,
            finish_reason: Some(finish_reason(response)),
        }],
        usage: Some(Some(usage(response.usage.unwrap_or_default()))),
    })
}

fn parts(content: &MessageContent) -> Vec<ContentPart> {
    content.to_parts(Role::Assistant)
}

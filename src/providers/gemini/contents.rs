//! Open Responses input items → Gemini `systemInstruction` parts and `contents` turns: role
//! mapping, turn merging, media parts, call/result pairing and thought-signature restoration.

mod media;

use serde_json::{Value, json};

use self::media::content_part;
use super::wire::{
    GeminiContent, GeminiFunctionCall, GeminiFunctionResponse, GeminiPart, ROLE_MODEL, ROLE_USER,
};
use crate::{
    api::{
        FunctionCallItem, FunctionCallOutputItem, FunctionOutput, Item, MessageItem, ProviderKind,
        ReasoningItem, Role,
    },
    error::GatewayError,
    providers::Call,
    seal::Unsealed,
};

/// The signature Google documents for replaying function calls Gemini did not sign (history from
/// another provider or a client that dropped our reasoning items). Gemini 3 rejects unsigned calls.
const DUMMY_SIGNATURE: &str = "skip_thought_signature_validator";
/// The user turn inserted when the history starts with model output (Gemini wants `user` first).
const LEADING_USER_TEXT: &str = ".";
/// Prefixes of call ids that Gemini did not mint: ours (synthesized, `call_…`), OpenAI and Azure
/// (`call_…`), Anthropic (`toolu_…`). Only other ids are echoed upstream as `id`.
const FOREIGN_CALL_ID_PREFIXES: [&str; 3] = ["call_", "toolu_", "fc_"];

/// The translated conversation.
#[derive(Debug, Default)]
pub(super) struct Conversation {
    /// `systemInstruction.parts`.
    pub system: Vec<GeminiPart>,
    /// `contents`.
    pub contents: Vec<GeminiContent>,
}

/// Translates instructions and input items. `sign_calls` adds the documented dummy signature to
/// unsigned model turns with function calls (Gemini 3 enforces signatures).
pub(super) fn build_conversation(
    call: Call<'_>,
    sign_calls: bool,
) -> Result<Conversation, GatewayError> {
    let input = call.input;
    let mut system = Vec::new();
    if let Some(text) = call
        .request
        .instructions
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        system.push(text_part(text));
    }
    let mut turns = Turns::default();
    for (index, item) in input.iter().enumerate() {
        match item {
            Item::Message(message) => add_message(message, &mut system, &mut turns)?,
            Item::FunctionCall(function_call) => {
                turns.push(ROLE_MODEL, function_call_part(function_call));
            }
            Item::FunctionCallOutput(output) => {
                turns.push(ROLE_USER, function_response_part(output, input)?);
            }
            Item::Reasoning(reasoning) => {
                // Reasoning from other providers or models (or without state) has no Gemini
                // equivalent; an altered envelope is the caller's 400.
                if let Some(signature) = thought_signature(reasoning, call, index)? {
                    turns.signature(&signature);
                }
            }
            Item::Compaction(_) => {
                return Err(invalid(
                    "`compaction` items cannot be sent to a Gemini model.",
                ));
            }
            Item::ItemReference(reference) => {
                return Err(invalid(format!(
                    "Unresolved item_reference `{}`.",
                    reference.id
                )));
            }
            // Kept by `dialect::lower` only with web search on; `providers::web_search` says
            // why it is left out.
            Item::Other(_) if item.other_kind() == Some("web_search_call") => {}
            Item::CustomToolCall(_) | Item::CustomToolCallOutput(_) | Item::Other(_) => {
                return Err(crate::providers::dialect::not_lowered(item));
            }
        }
    }
    let mut contents = turns.finish();
    if sign_calls {
        add_missing_signatures(&mut contents);
    }
    match contents.first() {
        None => Err(invalid(
            "Gemini needs at least one user or assistant message in `input`.",
        )),
        Some(first) if first.role.as_deref() == Some(ROLE_MODEL) => {
            let lead = GeminiContent {
                role: Some(ROLE_USER.to_owned()),
                parts: vec![text_part(LEADING_USER_TEXT)],
            };
            contents.insert(0, lead);
            Ok(Conversation { system, contents })
        }
        Some(_) => Ok(Conversation { system, contents }),
    }
}

/// The thought signature sealed in input item `index` for this model, if any.
fn thought_signature(
    reasoning: &ReasoningItem,
    call: Call<'_>,
    index: usize,
) -> Result<Option<String>, GatewayError> {
    let Some(encrypted) = reasoning.encrypted_content.as_deref() else {
        return Ok(None);
    };
    let item = call.item_param(index);
    match call
        .sealer
        .open_item(ProviderKind::Gemini, call.model, encrypted, &item)?
    {
        Unsealed::Payload(bytes) => match String::from_utf8(bytes) {
            Ok(signature) if !signature.is_empty() => Ok(Some(signature)),
            Ok(_) | Err(_) => Err(crate::seal::forged_error(&item)),
        },
        Unsealed::Foreign | Unsealed::Elsewhere => Ok(None),
    }
}

/// Builds turns, merging consecutive same-role parts and placing restored signatures.
#[derive(Debug, Default)]
struct Turns {
    contents: Vec<GeminiContent>,
    /// A signature from a reasoning item: it belongs to the next model part of the same turn.
    pending_signature: Option<String>,
}

impl Turns {
    fn push(&mut self, role: &str, mut part: GeminiPart) {
        if role == ROLE_MODEL {
            if let Some(signature) = self.pending_signature.take() {
                part.thought_signature.get_or_insert(signature);
            }
        } else {
            self.flush_signature();
        }
        self.append(role, part);
    }

    fn signature(&mut self, signature: &str) {
        self.flush_signature();
        self.pending_signature = Some(signature.to_owned());
    }

    /// A signature with no following model part came on a trailing empty text part; replay it so.
    fn flush_signature(&mut self) {
        if let Some(signature) = self.pending_signature.take() {
            let part = GeminiPart {
                text: Some(String::new()),
                thought_signature: Some(signature),
                ..GeminiPart::default()
            };
            self.append(ROLE_MODEL, part);
        }
    }

    fn append(&mut self, role: &str, part: GeminiPart) {
        match self.contents.last_mut() {
            Some(last) if last.role.as_deref() == Some(role) => last.parts.push(part),
            _ => self.contents.push(GeminiContent {
                role: Some(role.to_owned()),
                parts: vec![part],
            }),
        }
    }

    fn finish(mut self) -> Vec<GeminiContent> {
        self.flush_signature();
        self.contents
    }
}

fn add_message(
    message: &MessageItem,
    system: &mut Vec<GeminiPart>,
    turns: &mut Turns,
) -> Result<(), GatewayError> {
    let parts = message.content.to_parts(message.role);
    match message.role {
        Role::System | Role::Developer => {
            for part in &parts {
                let Some(text) = part.text() else {
                    return Err(invalid("System and developer messages may hold only text."));
                };
                if !text.is_empty() {
                    system.push(text_part(text));
                }
            }
        }
        Role::User | Role::Assistant => {
            let role = if message.role == Role::User {
                ROLE_USER
            } else {
                ROLE_MODEL
            };
            for part in &parts {
                if let Some(part) = content_part(part)? {
                    turns.push(role, part);
                }
            }
        }
    }
    Ok(())
}

fn text_part(text: &str) -> GeminiPart {
    GeminiPart {
        text: Some(text.to_owned()),
        ..GeminiPart::default()
    }
}

/// Whether a call id was minted by Gemini (and so may be echoed back as `id`).
pub(super) fn is_gemini_call_id(call_id: &str) -> bool {
    !call_id.is_empty()
        && !FOREIGN_CALL_ID_PREFIXES
            .iter()
            .any(|p| call_id.starts_with(p))
}

fn function_call_part(call: &FunctionCallItem) -> GeminiPart {
    let args = match serde_json::from_str::<Value>(&call.arguments) {
        Ok(args @ Value::Object(_)) => args,
        _ => {
            if !call.arguments.trim().is_empty() {
                tracing::debug!(call_id = %call.call_id, "Function call arguments are not a JSON object; sending {{}}.");
            }
            json!({})
        }
    };
    GeminiPart {
        function_call: Some(GeminiFunctionCall {
            id: is_gemini_call_id(&call.call_id).then(|| call.call_id.clone()),
            name: call.name.clone(),
            args: Some(args),
        }),
        ..GeminiPart::default()
    }
}

/// `functionResponse` needs the function's name, which only the matching call carries.
fn function_response_part(
    output: &FunctionCallOutputItem,
    input: &[Item],
) -> Result<GeminiPart, GatewayError> {
    let name = input
        .iter()
        .find_map(|item| match item {
            Item::FunctionCall(call) if call.call_id == output.call_id => Some(call.name.clone()),
            _ => None,
        })
        .ok_or_else(|| {
            invalid(format!(
                "function_call_output `{}` has no matching function_call in the conversation; \
                 Gemini needs the function's name.",
                output.call_id
            ))
        })?;
    let text = match &output.output {
        FunctionOutput::Text(text) => text.clone(),
        FunctionOutput::Parts(parts) => {
            if parts.iter().any(|p| p.text().is_none()) {
                return Err(invalid(
                    "Gemini models accept only text in `function_call_output`.",
                ));
            }
            output.output.joined_text()
        }
    };
    // Structured (object/array) JSON results are passed as JSON; everything else as the string.
    let value = match serde_json::from_str::<Value>(&text) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => value,
        _ => Value::String(text),
    };
    Ok(GeminiPart {
        function_response: Some(GeminiFunctionResponse {
            id: is_gemini_call_id(&output.call_id).then(|| output.call_id.clone()),
            name,
            response: json!({ "output": value }),
        }),
        ..GeminiPart::default()
    })
}

/// Gives the first function call of every unsigned model turn the documented dummy signature.
fn add_missing_signatures(contents: &mut [GeminiContent]) {
    for turn in contents
        .iter_mut()
        .filter(|c| c.role.as_deref() == Some(ROLE_MODEL))
    {
        let calls = || turn.parts.iter().filter(|p| p.function_call.is_some());
        if calls().any(|p| p.thought_signature.is_some()) {
            continue;
        }
        if let Some(first) = turn.parts.iter_mut().find(|p| p.function_call.is_some()) {
            first.thought_signature = Some(DUMMY_SIGNATURE.to_owned());
        }
    }
}

fn invalid(message: impl Into<String>) -> GatewayError {
    GatewayError::invalid(message, Some("input"))
}

fn not_portable(field: &str) -> GatewayError {
    invalid(format!(
        "`{field}` refers to an OpenAI file and cannot be sent to a Gemini model; inline the content instead."
    ))
}

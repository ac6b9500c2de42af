//! Open Responses content → Anthropic blocks: text, images (data: URL → base64, http(s) → url),
//! PDF files → documents, tool arguments and results, and replayable thinking.

use serde_json::{Map, Value};

use super::{
    artifact::{self, Artifact},
    wire::{AnthropicBlock, AnthropicSource, AnthropicToolResultContent},
};
use crate::{
    api::{ContentPart, FunctionOutput, ReasoningItem},
    error::GatewayError,
    providers::Call,
};

/// A 400 blaming `input` (item positions there include stored history, so no index).
fn invalid_input(message: impl Into<String>) -> GatewayError {
    GatewayError::invalid(message, Some("input"))
}

/// Image media types Anthropic accepts.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

fn text_block(text: &str) -> Option<AnthropicBlock> {
    (!text.is_empty()).then(|| AnthropicBlock::Text {
        text: text.to_owned(),
    })
}

/// A user-side part (message or tool output) as a block; `None` for empty text.
pub(super) fn user_block(part: &ContentPart) -> Result<Option<AnthropicBlock>, GatewayError> {
    match part {
        ContentPart::InputImage {
            image_url, file_id, ..
        } => image_block(image_url.as_deref(), file_id.is_some()).map(Some),
        ContentPart::InputFile {
            filename,
            file_data,
            file_url,
            file_id,
        } => document_block(
            filename.as_deref(),
            file_data.as_deref(),
            file_url.as_deref(),
            file_id.is_some(),
        )
        .map(Some),
        ContentPart::InputVideo { .. } => Err(invalid_input(
            "input_video is not supported by Anthropic models",
        )),
        other => Ok(other.text().and_then(text_block)),
    }
}

/// An assistant message part: text and refusals become text; media cannot be assistant content.
pub(super) fn assistant_block(part: &ContentPart) -> Result<Option<AnthropicBlock>, GatewayError> {
    match part.text() {
        Some(text) => Ok(text_block(text)),
        None => Err(invalid_input(
            "assistant messages sent to an Anthropic model may only contain text",
        )),
    }
}

fn image_block(image_url: Option<&str>, has_file_id: bool) -> Result<AnthropicBlock, GatewayError> {
    let source = match image_url {
        Some(url) if url.starts_with("data:") => {
            let (media_type, data) = parse_data_url(url).ok_or_else(|| {
                invalid_input(
                    "input_image has a malformed data URL (expected data:<type>;base64,<data>)",
                )
            })?;
            let media_type = match media_type.as_str() {
                "image/jpg" => "image/jpeg".to_owned(),
                _ => media_type,
            };
            if !IMAGE_TYPES.contains(&media_type.as_str()) {
                return Err(invalid_input(format!(
                    "input_image type `{media_type}` is not supported by Anthropic models (use jpeg, png, gif or webp)"
                )));
            }
            AnthropicSource::Base64 { media_type, data }
        }
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            AnthropicSource::Url {
                url: url.to_owned(),
            }
        }
        Some(_) => {
            return Err(invalid_input(
                "input_image.image_url must be an http(s) or data: URL",
            ));
        }
        None if has_file_id => {
            return Err(invalid_input(
                "input_image.file_id is not supported by Anthropic models; send image_url",
            ));
        }
        None => {
            return Err(invalid_input("input_image needs an image_url"));
        }
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
    let not_pdf = || invalid_input("only PDF input_file content is supported by Anthropic models");
    let source = match (file_data, file_url) {
        (Some(data), _) if data.starts_with("data:") => {
            let (media_type, data) = parse_data_url(data).ok_or_else(|| {
                invalid_input(
                    "input_file has a malformed data URL (expected data:<type>;base64,<data>)",
                )
            })?;
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
            AnthropicSource::Base64 {
                media_type: "application/pdf".to_owned(),
                data: data.to_owned(),
            }
        }
        (None, Some(url)) => AnthropicSource::Url {
            url: url.to_owned(),
        },
        (None, None) if has_file_id => {
            return Err(invalid_input(
                "input_file.file_id is not supported by Anthropic models; send file_data or file_url",
            ));
        }
        (None, None) => {
            return Err(invalid_input("input_file needs file_data or file_url"));
        }
    };
    Ok(AnthropicBlock::Document {
        source,
        title: filename.map(str::to_owned),
    })
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
pub(super) fn parse_arguments(call_id: &str, arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) | Err(_) => {
            tracing::debug!(
                call_id,
                "Function call arguments are not a JSON object; sending {{}}."
            );
            Value::Object(Map::new())
        }
    }
}

pub(super) fn tool_result_content(
    output: &FunctionOutput,
) -> Result<Option<AnthropicToolResultContent>, GatewayError> {
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

/// A reasoning item (input item `index`) carrying an Anthropic artifact sealed for this model →
/// the block it came from; others → `None`; an altered envelope → a 400 naming the item.
pub(super) fn thinking_block(
    reasoning: &ReasoningItem,
    call: Call<'_>,
    index: usize,
) -> Result<Option<AnthropicBlock>, GatewayError> {
    let Some(encrypted) = reasoning.encrypted_content.as_deref() else {
        return Ok(None);
    };
    Ok(match artifact::open(call, encrypted, index)? {
        Some(Artifact::Signature(signature)) => Some(AnthropicBlock::Thinking {
            thinking: reasoning
                .summary
                .iter()
                .filter_map(ContentPart::text)
                .collect(),
            signature,
        }),
        Some(Artifact::Redacted(data)) => Some(AnthropicBlock::RedactedThinking { data }),
        None => None,
    })
}

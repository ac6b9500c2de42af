//! What OpenAI answers: response objects, stream events and error bodies, read tolerantly
//! (unknown fields ignored, unknown item types kept verbatim, fields of an unexpected type
//! read as absent where that was never worth failing an answer for).

use std::borrow::Cow;

use serde::{
    Deserialize, Deserializer,
    de::{DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor},
};
use serde_json::{Map, Value};

/// A response object (https://platform.openai.com/docs/api-reference/responses/object). `id`,
/// `status` and `output` are required: a body without them is not an answer.
#[derive(Debug, Deserialize)]
pub struct OpenAiResponse {
    /// Upstream id (not ours; only checked to be there).
    #[serde(rename = "id")]
    pub _id: String,
    /// `completed`, `incomplete`, `failed`, …
    pub status: String,
    /// The model that answered.
    #[serde(default, deserialize_with = "lenient")]
    pub model: Option<String>,
    /// Output items.
    pub output: Vec<OpenAiOutputItem>,
    /// Token counts (an object, or `null`).
    #[serde(default)]
    pub usage: Option<OpenAiUsage>,
    /// Why an incomplete response stopped.
    #[serde(default, deserialize_with = "lenient")]
    pub incomplete_details: Option<OpenAiIncompleteDetails>,
    /// Why a failed response failed.
    #[serde(default, deserialize_with = "lenient")]
    pub error: Option<OpenAiError>,
}

/// The terminal part of a response object, as stream events carry it (`output` is not read:
/// the items arrived as their own events).
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiResponseState {
    /// `completed`, `incomplete`, `failed`, …
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// The model that answers.
    #[serde(default, deserialize_with = "lenient")]
    pub model: Option<String>,
    /// Token counts.
    #[serde(default, deserialize_with = "lenient")]
    pub usage: Option<OpenAiUsage>,
    /// Why an incomplete response stopped.
    #[serde(default, deserialize_with = "lenient")]
    pub incomplete_details: Option<OpenAiIncompleteDetails>,
    /// Why a failed response failed.
    #[serde(default, deserialize_with = "lenient")]
    pub error: Option<OpenAiError>,
}

/// `incomplete_details`.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiIncompleteDetails {
    /// `max_output_tokens`, `content_filter`.
    #[serde(default, deserialize_with = "lenient")]
    pub reason: Option<String>,
}

/// An error object: a failed response's `error`, an error body's `error`, a stream `error`
/// event (flat). Every field is optional and read leniently: compatible servers send numbers
/// where OpenAI sends strings.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiError {
    /// `rate_limit_exceeded`, `context_length_exceeded`, …
    #[serde(default, deserialize_with = "lenient")]
    pub code: Option<String>,
    /// `invalid_request_error`, …
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    pub kind: Option<String>,
    /// Human-readable message.
    #[serde(default, deserialize_with = "lenient")]
    pub message: Option<String>,
    /// The offending parameter.
    #[serde(default, deserialize_with = "lenient")]
    pub param: Option<String>,
}

/// A non-2xx body: `{"error": {…}}`.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiErrorBody {
    /// The error.
    #[serde(default, deserialize_with = "lenient")]
    pub error: Option<OpenAiError>,
}

/// `usage`. Counts of another type read as 0.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiUsage {
    /// Input tokens, cached included.
    #[serde(default, deserialize_with = "lenient")]
    pub input_tokens: Option<u64>,
    /// Output tokens, reasoning included.
    #[serde(default, deserialize_with = "lenient")]
    pub output_tokens: Option<u64>,
    /// `cached_tokens`.
    #[serde(default, deserialize_with = "lenient")]
    pub input_tokens_details: Option<OpenAiInputDetails>,
    /// `reasoning_tokens`.
    #[serde(default, deserialize_with = "lenient")]
    pub output_tokens_details: Option<OpenAiOutputDetails>,
}

/// `usage.input_tokens_details`.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiInputDetails {
    /// Input tokens read from the prompt cache.
    #[serde(default, deserialize_with = "lenient")]
    pub cached_tokens: Option<u64>,
}

/// `usage.output_tokens_details`.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiOutputDetails {
    /// Output tokens spent reasoning.
    #[serde(default, deserialize_with = "lenient")]
    pub reasoning_tokens: Option<u64>,
}

/// An output item, by `type`. A known type must have its shape; any other type is kept
/// verbatim (hosted tools' items, `web_search_call`, …). A missing `type` is an error.
#[derive(Debug)]
pub enum OpenAiOutputItem {
    /// Assistant text or refusal.
    Message(OpenAiMessage),
    /// A function tool call.
    FunctionCall(OpenAiFunctionCall),
    /// Reasoning: summary, raw text, encrypted state.
    Reasoning(OpenAiReasoning),
    /// A freeform (`custom`) tool call.
    CustomToolCall(OpenAiCustomToolCall),
    /// Any other type, verbatim.
    Other(Map<String, Value>),
}

impl<'de> Deserialize<'de> for OpenAiOutputItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use crate::api::tagged::{parse, split};
        let (kind, map) = split(Map::<String, Value>::deserialize(deserializer)?)?;
        Ok(match kind.as_str() {
            "message" => Self::Message(parse(map)?),
            "function_call" => Self::FunctionCall(parse(map)?),
            "reasoning" => Self::Reasoning(parse(map)?),
            "custom_tool_call" => Self::CustomToolCall(parse(map)?),
            _ => Self::Other(map),
        })
    }
}

/// A `message` output item.
#[derive(Debug, Deserialize)]
pub struct OpenAiMessage {
    /// Content parts (required on a complete item).
    #[serde(default)]
    pub content: Option<Vec<OpenAiPart>>,
    /// `incomplete` when the response stopped inside it.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
}

/// A message content part: `output_text` or `refusal` (others carry no text we emit).
#[derive(Debug, Deserialize)]
pub struct OpenAiPart {
    /// The part type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `output_text`'s text.
    #[serde(default, deserialize_with = "lenient")]
    pub text: Option<String>,
    /// `refusal`'s text.
    #[serde(default, deserialize_with = "lenient")]
    pub refusal: Option<String>,
}

/// A `function_call` output item. The fields are optional here because a stream's
/// `output_item.added` may announce a call before they are all known; a complete item must
/// have them (checked by `parse_response`).
#[derive(Debug, Deserialize)]
pub struct OpenAiFunctionCall {
    /// The call id the caller answers with.
    #[serde(default)]
    pub call_id: Option<String>,
    /// The function name.
    #[serde(default)]
    pub name: Option<String>,
    /// JSON-encoded arguments.
    #[serde(default)]
    pub arguments: Option<String>,
    /// The namespace of a namespaced tool.
    #[serde(default, deserialize_with = "lenient")]
    pub namespace: Option<String>,
}

/// A `reasoning` output item.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiReasoning {
    /// Summary parts.
    #[serde(default, deserialize_with = "lenient_parts")]
    pub summary: Vec<OpenAiText>,
    /// Raw reasoning parts.
    #[serde(default, deserialize_with = "lenient_parts")]
    pub content: Vec<OpenAiText>,
    /// Opaque state to replay.
    #[serde(default, deserialize_with = "lenient")]
    pub encrypted_content: Option<String>,
}

/// A `summary_text` or `reasoning_text` part.
#[derive(Debug, Default, Deserialize)]
pub struct OpenAiText {
    /// The text.
    #[serde(default, deserialize_with = "lenient")]
    pub text: Option<String>,
}

/// A `custom_tool_call` output item.
#[derive(Debug, Deserialize)]
pub struct OpenAiCustomToolCall {
    /// The call id.
    #[serde(default, deserialize_with = "lenient")]
    pub call_id: Option<String>,
    /// The tool name.
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// The freeform input.
    #[serde(default, deserialize_with = "lenient")]
    pub input: Option<String>,
    /// The namespace of a namespaced tool.
    #[serde(default, deserialize_with = "lenient")]
    pub namespace: Option<String>,
}

// === stream ===

/// One stream event: only the fields the gateway reads. The type and the delta borrow from the
/// payload (a delta event allocates nothing unless its text has escapes); an event of a type we
/// do not read is skipped, whatever its other fields hold.
#[derive(Debug, Deserialize)]
pub struct OpenAiStreamEvent<'a> {
    /// `response.output_text.delta`, … (empty when absent: the event is skipped).
    #[serde(rename = "type", default, borrow, deserialize_with = "text_or_empty")]
    pub kind: Cow<'a, str>,
    /// A text, refusal, arguments or reasoning delta.
    #[serde(default, borrow, deserialize_with = "text_or_empty")]
    pub delta: Cow<'a, str>,
    /// The item of `output_item.added` / `output_item.done` (`None` when unreadable).
    #[serde(default, deserialize_with = "lenient")]
    pub item: Option<OpenAiOutputItem>,
    /// The response of `response.created`, `response.completed`, `response.failed`, …
    #[serde(default, deserialize_with = "lenient")]
    pub response: Option<OpenAiResponseState>,
    /// The error of an `error` event that nests it.
    #[serde(default, deserialize_with = "lenient")]
    pub error: Option<OpenAiError>,
    /// A flat `error` event's code.
    #[serde(default, deserialize_with = "lenient")]
    pub code: Option<String>,
    /// A flat `error` event's message.
    #[serde(default, deserialize_with = "lenient")]
    pub message: Option<String>,
}

// === lenient reading ===

/// An optional field of another type than expected counts as absent: OpenAI-compatible
/// servers send numbers or objects where OpenAI sends strings, and such a field was never
/// worth failing an answer for.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

/// Reasoning parts: a list whose unreadable parts are skipped.
fn lenient_parts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OpenAiText>, D::Error> {
    let parts = match Value::deserialize(d)? {
        Value::Array(parts) => parts,
        _ => Vec::new(),
    };
    Ok(parts
        .into_iter()
        .filter_map(|p| serde_json::from_value(p).ok())
        .collect())
}

/// A string field, borrowed where the payload allows; any other JSON value reads as empty.
fn text_or_empty<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Cow<'a, str>, D::Error> {
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(""))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(""))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(""))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(""))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(""))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Cow::Borrowed(""))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Cow::Borrowed(""))
        }
    }
    d.deserialize_any(Text)
}

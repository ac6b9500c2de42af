//! Open Responses wire types (spec 2026-04-24): request, items, response, stream events, error.
//! These are the gateway's one internal model; providers translate to and from them. Also the
//! Chat Completions wire model (`chat_completions`), spoken with clients and with upstreams.

pub mod chat_completions;
pub mod error;
pub mod events;
pub mod items;
pub mod request;
pub mod response;

/// Reading an object tagged by `type` whose known types must match their shape and whose
/// unknown types are kept verbatim (items and tools of OpenAI's dialect).
pub(crate) mod tagged {
    use serde::de::Error;
    use serde_json::{Map, Value};

    /// The object and its `type` (a missing `type` is an error).
    pub fn split<E: Error>(map: Map<String, Value>) -> Result<(String, Map<String, Value>), E> {
        match map.get("type").and_then(Value::as_str).map(str::to_owned) {
            Some(kind) => Ok((kind, map)),
            None => Err(E::missing_field("type")),
        }
    }

    /// The object as the shape of its known type.
    pub fn parse<T: serde::de::DeserializeOwned, E: Error>(
        map: Map<String, Value>,
    ) -> Result<T, E> {
        serde_json::from_value(Value::Object(map)).map_err(E::custom)
    }
}

pub use error::{ErrorBody, ErrorObject};
pub use events::{EventBody, StreamEvent};
pub use items::{
    ContentPart, CustomToolCallItem, CustomToolCallOutputItem, FunctionCallItem,
    FunctionCallOutputItem, FunctionOutput, Item, ItemStatus, MessageContent, MessageItem,
    ReasoningItem, Role,
};
pub use request::{
    CreateResponse, CustomTool, FunctionTool, Input, NamespaceTool, ProviderKind, ReasoningConfig,
    TextConfig, TextFormat, Tool, ToolChoice, ToolChoiceMode, ToolChoiceObject,
};
pub use response::{
    IncompleteDetails, InputTokensDetails, OutputTokensDetails, ResponseError, ResponseResource,
    ResponseStatus, Usage,
};

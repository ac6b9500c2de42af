//! Open Responses wire types (spec 2026-04-24): request, items, response, stream events, error.
//! These are the gateway's one internal model; providers translate to and from them.

pub mod error;
pub mod events;
pub mod items;
pub mod request;
pub mod response;

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

//! The emitter's side of OpenAI's tool dialect: custom tool calls (with their
//! `custom_tool_call_input` events), items kept verbatim, and the tool bookkeeping of one response.

use serde_json::{Map, Value};

use super::{OpenItem, ResponseEmitter};
use crate::{
    api::{CustomToolCallItem, EventBody, Item, ItemStatus},
    stream::ToolNames,
};

impl ResponseEmitter {
    /// Maps flattened function names back to namespaces and custom tools for this response.
    pub fn set_tool_names(&mut self, names: ToolNames) {
        self.tool_names = names;
    }

    /// Records the tool types left out upstream.
    pub fn set_dropped_tools(&mut self, dropped: Vec<String>) {
        self.dropped_tools = dropped;
    }

    /// The tool types left out upstream (`x-gateway-dropped-tools`).
    pub fn dropped_tools(&self) -> &[String] {
        &self.dropped_tools
    }

    /// A complete custom tool call whose `input` is the raw string (an OpenAI upstream's).
    pub fn custom_tool_call(
        &mut self,
        call_id: &str,
        name: &str,
        namespace: Option<&str>,
        input: &str,
    ) {
        self.open_custom_call(call_id, name, namespace, false);
        self.function_arguments_delta(input);
        self.close_item();
    }

    /// An output item of a type the gateway does not model (`web_search_call`, …) from an
    /// upstream that speaks the dialect, kept verbatim with our id.
    pub fn opaque_item(&mut self, item: &Map<String, Value>) {
        self.complete_item(item.clone(), "item");
    }

    /// A complete item the gateway does not model (e.g. `web_search_call`), under an id of its
    /// own (`prefix_…`), added and done at once.
    pub(super) fn complete_item(&mut self, mut item: Map<String, Value>, prefix: &str) {
        self.start();
        self.close_item();
        let index = self.response.output.len();
        item.insert("id".to_owned(), Value::String(self.item_id(prefix, index)));
        let item = Item::Other(item);
        self.response.output.push(item.clone());
        self.push(EventBody::OutputItemAdded {
            output_index: index,
            item: item.clone(),
        });
        self.push(EventBody::OutputItemDone {
            output_index: index,
            item,
        });
    }

    pub(super) fn open_custom_call(
        &mut self,
        call_id: &str,
        name: &str,
        namespace: Option<&str>,
        json_arguments: bool,
    ) {
        self.start();
        self.close_item();
        let index = self.response.output.len();
        let item = CustomToolCallItem {
            id: Some(self.item_id("ctc", index)),
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            namespace: namespace.map(str::to_owned),
            input: String::new(),
            status: Some(ItemStatus::InProgress),
        };
        self.response
            .output
            .push(Item::CustomToolCall(item.clone()));
        self.push(EventBody::OutputItemAdded {
            output_index: index,
            item: Item::CustomToolCall(item.clone()),
        });
        self.open = Some(OpenItem::CustomToolCall {
            index,
            item,
            json_arguments,
        });
    }

    /// The input is only known whole once a flattened call's JSON arguments are complete, so
    /// it goes out as one delta, then `done`.
    pub(super) fn close_custom_call(
        &mut self,
        index: usize,
        mut item: CustomToolCallItem,
        json_arguments: bool,
        status: ItemStatus,
    ) -> Item {
        if json_arguments {
            item.input = input_of(&item.input);
        }
        let item_id = item.id.clone().unwrap_or_default();
        if !item.input.is_empty() {
            self.push(EventBody::CustomToolCallInputDelta {
                item_id: item_id.clone(),
                output_index: index,
                delta: item.input.clone(),
            });
        }
        self.push(EventBody::CustomToolCallInputDone {
            item_id,
            output_index: index,
            input: item.input.clone(),
        });
        item.status = Some(status);
        Item::CustomToolCall(item)
    }
}

/// The `input` argument of a flattened custom tool; arguments that are not the expected
/// object are passed on as they came, so the caller sees what the model wrote.
fn input_of(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(map)) => match map.get("input") {
            Some(Value::String(input)) => input.clone(),
            Some(other) => other.to_string(),
            None => arguments.to_owned(),
        },
        _ => arguments.to_owned(),
    }
}

//! Function call items for `ResponseEmitter`: opening one (plain, in a namespace, or a flattened
//! dialect tool mapped back), its argument deltas, and closing it.

use super::{OpenItem, ResponseEmitter};
use crate::{
    api::{EventBody, FunctionCallItem, Item, ItemStatus},
    stream::ToolOrigin,
};

impl ResponseEmitter {
    /// Opens a function call item (closing whatever was open). A flattened name of a
    /// namespace child or custom tool opens the dialect's item instead (`set_tool_names`).
    pub fn start_function_call(&mut self, call_id: &str, name: &str) {
        match self.tool_names.origin(name).cloned() {
            None => self.start_namespaced_call(call_id, name, None),
            Some(ToolOrigin::Namespaced { namespace, name }) => {
                self.start_namespaced_call(call_id, &name, Some(&namespace));
            }
            Some(ToolOrigin::Custom { namespace, name }) => {
                self.open_custom_call(call_id, &name, namespace.as_deref(), true);
            }
        }
    }

    /// Opens a function call item with its `namespace` (OpenAI's dialect; `None` at top level).
    pub fn start_namespaced_call(&mut self, call_id: &str, name: &str, namespace: Option<&str>) {
        self.start();
        self.close_item();
        let index = self.response.output.len();
        let item = FunctionCallItem {
            id: Some(self.item_id("fc", index)),
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            arguments: String::new(),
            namespace: namespace.map(str::to_owned),
            status: Some(ItemStatus::InProgress),
        };
        self.response.output.push(Item::FunctionCall(item.clone()));
        self.push(EventBody::OutputItemAdded {
            output_index: index,
            item: Item::FunctionCall(item.clone()),
        });
        self.open = Some(OpenItem::FunctionCall { index, item });
    }

    /// Appends to the open function call's arguments.
    pub fn function_arguments_delta(&mut self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        if let Some(OpenItem::CustomToolCall { item, .. }) = &mut self.open {
            item.input.push_str(delta);
            return;
        }
        let Some(OpenItem::FunctionCall { index, item }) = &mut self.open else {
            return;
        };
        item.arguments.push_str(delta);
        let body = EventBody::FunctionCallArgumentsDelta {
            item_id: item.id.clone().unwrap_or_default(),
            output_index: *index,
            delta: delta.to_owned(),
        };
        self.push(body);
    }

    /// A complete function call in one step.
    pub fn function_call(&mut self, call_id: &str, name: &str, arguments: &str) {
        self.start_function_call(call_id, name);
        self.function_arguments_delta(arguments);
        self.close_item();
    }

    /// Sends the final arguments and gives the closed item its status.
    pub(super) fn close_function_call(
        &mut self,
        index: usize,
        mut item: FunctionCallItem,
        status: ItemStatus,
    ) -> Item {
        let done = EventBody::FunctionCallArgumentsDone {
            item_id: item.id.clone().unwrap_or_default(),
            output_index: index,
            arguments: item.arguments.clone(),
        };
        self.push(done);
        item.status = Some(status);
        Item::FunctionCall(item)
    }
}

//! What the router and the rate limits need to know about a request before it is sent: its
//! estimated size in tokens (about four characters per token, a flat charge per image or file;
//! corrected from the upstream's usage afterwards) and its conversation's sticky key.

use gateway_actors::Demand;

use crate::api::{ContentPart, CreateResponse, FunctionOutput, Item, MessageContent};

/// Characters per token in the estimate (the usual rule of thumb for English and code).
const CHARS_PER_TOKEN: usize = 4;

/// Tokens charged for one image or file before the real usage is known.
const ATTACHMENT_TOKENS: u64 = 1_000;

/// Expected output when the request sets no `max_output_tokens` (for the `cost` strategy).
const DEFAULT_OUTPUT_TOKENS: u64 = 1_000;

fn text_tokens(text: &str) -> u64 {
    text.len().div_ceil(CHARS_PER_TOKEN) as u64
}

fn part_tokens(part: &ContentPart) -> u64 {
    match part {
        ContentPart::InputImage { .. }
        | ContentPart::InputFile { .. }
        | ContentPart::InputVideo { .. } => ATTACHMENT_TOKENS,
        ContentPart::InputText { .. }
        | ContentPart::OutputText { .. }
        | ContentPart::Refusal { .. }
        | ContentPart::Text { .. }
        | ContentPart::SummaryText { .. }
        | ContentPart::ReasoningText { .. } => part.text().map_or(0, text_tokens),
    }
}

fn item_tokens(item: &Item) -> u64 {
    let parts = |parts: &[ContentPart]| parts.iter().map(part_tokens).sum::<u64>();
    match item {
        Item::Message(m) => match &m.content {
            MessageContent::Text(text) => text_tokens(text),
            MessageContent::Parts(p) => parts(p),
        },
        Item::FunctionCall(f) => text_tokens(&f.name) + text_tokens(&f.arguments),
        Item::FunctionCallOutput(f) => match &f.output {
            FunctionOutput::Text(text) => text_tokens(text),
            FunctionOutput::Parts(p) => parts(p),
        },
        Item::Reasoning(r) => parts(&r.summary) + r.content.as_deref().map_or(0, parts),
        Item::Compaction(c) => text_tokens(&c.encrypted_content),
        Item::CustomToolCall(c) => text_tokens(&c.name) + text_tokens(&c.input),
        Item::CustomToolCallOutput(c) => match &c.output {
            FunctionOutput::Text(text) => text_tokens(text),
            FunctionOutput::Parts(p) => parts(p),
        },
        Item::ItemReference(_) => 0,
        Item::Other(map) => text_tokens(&serde_json::Value::Object(map.clone()).to_string()),
    }
}

/// The request's estimated size: input (instructions, history, tools) and expected output.
pub fn demand(request: &CreateResponse, input: &[Item]) -> Demand {
    let instructions = request.instructions.as_deref().map_or(0, text_tokens);
    let tools = request.tools.as_ref().map_or(0, |tools| {
        serde_json::to_string(tools).map_or(0, |json| text_tokens(&json))
    });
    Demand {
        input_tokens: instructions + tools + input.iter().map(item_tokens).sum::<u64>(),
        output_tokens: request
            .max_output_tokens
            .map_or(DEFAULT_OUTPUT_TOKENS, u64::from),
    }
}

/// The key that keeps a conversation on one `weighted` target: the conversation's root. A
/// stored turn's first input item keeps the id `<kind>_<root>_in0` for the whole chain (or the
/// caller's own id), so later turns find the root from it; a first turn uses its own response
/// id, which is that root.
pub fn sticky_key(input: &[Item], response_id: &str) -> String {
    match input.first().and_then(Item::id) {
        Some(id) => root_of(id).unwrap_or(id).to_owned(),
        None => response_id
            .strip_prefix("resp_")
            .unwrap_or(response_id)
            .to_owned(),
    }
}

/// `msg_<root>_in0` → `<root>`.
fn root_of(id: &str) -> Option<&str> {
    let (_, rest) = id.split_once('_')?;
    let (root, index) = rest.rsplit_once("_in")?;
    (!root.is_empty() && !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()))
        .then_some(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::assign_input_ids;

    fn items(json: serde_json::Value) -> Vec<Item> {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_sticky_key_is_the_conversation_root_on_every_turn() {
        let mut first =
            items(serde_json::json!([{"type": "message", "role": "user", "content": "Hi"}]));
        assert_eq!(sticky_key(&first, "resp_root1"), "root1");
        assign_input_ids(&mut first, "resp_root1");
        // Turn two: the stored input (now with ids), the output, the new message.
        let mut second = first.clone();
        second.extend(items(
            serde_json::json!([{"type": "message", "role": "user", "content": "More"}]),
        ));
        assert_eq!(sticky_key(&second, "resp_two"), "root1");
        let own = items(
            serde_json::json!([{"type":"message","id":"msg_mine","role":"user","content":"Hi"}]),
        );
        assert_eq!(sticky_key(&own, "resp_x"), "msg_mine");
    }

    #[test]
    fn demand_counts_text_and_attachments() {
        let input = items(serde_json::json!([
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "12345678"},
                {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
            ]}
        ]));
        let request: CreateResponse = serde_json::from_value(
            serde_json::json!({"model": "m", "input": "x", "instructions": "1234", "max_output_tokens": 50}),
        )
        .unwrap();
        let d = demand(&request, &input);
        assert_eq!(d.input_tokens, 1 + 2 + ATTACHMENT_TOKENS);
        assert_eq!(d.output_tokens, 50);
    }
}

//! Compaction, in one place: the `POST /v1/responses/compact` pass (`compact`), the gateway's own
//! `compaction` items with the opaque `encrypted_content` it hands out, and the expansion of such
//! items back into a summary message before a request reaches any provider (none of them accepts
//! compaction items). The HTTP handler is `http::compact`.

pub mod compact;

use serde::{Deserialize, Serialize};

use crate::{
    api::{Item, MessageContent, MessageItem, Role, items::CompactionItem},
    error::GatewayError,
};

/// Prefix of every `encrypted_content` the gateway produces; anything else is left alone.
pub const COMPACTION_PREFIX: &str = "gateway:v1:";

/// What the summary message that replaces a compaction item starts with.
pub const SUMMARY_HEADING: &str = "Summary of the earlier conversation:";

/// The versioned payload behind [`COMPACTION_PREFIX`].
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    summary: String,
}

/// Encodes a summary as a compaction item's `encrypted_content`.
///
/// Not encrypted: the summary is the model's own text, and the value only has to be opaque to
/// clients and recognisable by this gateway (the prefix names the format version).
pub fn encode_summary(summary: &str) -> String {
    let payload = serde_json::to_string(&Payload {
        summary: summary.to_owned(),
    })
    .unwrap_or_else(|_| String::from("{\"summary\":\"\"}"));
    format!("{COMPACTION_PREFIX}{payload}")
}

/// Decodes `encrypted_content`: `Ok(None)` when it is not the gateway's (another server's
/// compaction item), an error when it carries the prefix but is damaged.
pub fn decode_summary(content: &str) -> Result<Option<String>, GatewayError> {
    let Some(payload) = content.strip_prefix(COMPACTION_PREFIX) else {
        return Ok(None);
    };
    serde_json::from_str::<Payload>(payload)
        .map(|p| Some(p.summary))
        .map_err(|_| {
            GatewayError::invalid(
                "A compaction item's `encrypted_content` is damaged; send the item exactly as \
                 `/v1/responses/compact` returned it.",
                Some("input"),
            )
        })
}

/// Replaces every gateway compaction item with a system message holding its summary, so the
/// window `/v1/responses/compact` returned works as input with every provider. Compaction items
/// from elsewhere are kept (the provider decides what to do with them).
pub fn expand_compaction(items: Vec<Item>) -> Result<Vec<Item>, GatewayError> {
    if !items.iter().any(|i| matches!(i, Item::Compaction(_))) {
        return Ok(items);
    }
    items
        .into_iter()
        .map(|item| match item {
            Item::Compaction(compaction) => expand_one(compaction),
            other => Ok(other),
        })
        .collect()
}

fn expand_one(compaction: CompactionItem) -> Result<Item, GatewayError> {
    Ok(match decode_summary(&compaction.encrypted_content)? {
        Some(summary) => Item::Message(MessageItem {
            id: None,
            status: None,
            role: Role::System,
            content: MessageContent::Text(format!("{SUMMARY_HEADING}\n\n{summary}")),
            phase: None,
        }),
        None => Item::Compaction(compaction),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn items(value: serde_json::Value) -> Vec<Item> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn summaries_round_trip_through_the_opaque_content() {
        let text = "User wants a \"landing page\";\nassistant drafted it.";
        let encoded = encode_summary(text);
        assert!(encoded.starts_with(COMPACTION_PREFIX));
        assert_eq!(decode_summary(&encoded).unwrap().as_deref(), Some(text));
        assert_eq!(decode_summary("gAAAAABpM0Yj").unwrap(), None);
        assert_eq!(
            decode_summary("gateway:v1:{oops").unwrap_err().code(),
            "invalid_request"
        );
    }

    #[test]
    fn gateway_compaction_items_become_system_messages_in_place() {
        let input = items(json!([
            {"type":"message","role":"user","content":"Build a page"},
            {"type":"compaction","id":"cmp_1","encrypted_content": encode_summary("Drafted it.")},
            {"type":"compaction","encrypted_content":"foreign-opaque"},
            {"type":"message","role":"user","content":"Now in blue"}
        ]));
        let expanded = expand_compaction(input).unwrap();
        assert_eq!(
            serde_json::to_value(&expanded).unwrap(),
            json!([
                {"type":"message","role":"user","content":"Build a page"},
                {"type":"message","role":"system",
                 "content": format!("{SUMMARY_HEADING}\n\nDrafted it.")},
                {"type":"compaction","encrypted_content":"foreign-opaque"},
                {"type":"message","role":"user","content":"Now in blue"}
            ])
        );
    }

    #[test]
    fn input_without_compaction_is_untouched() {
        let input = items(json!([{"type":"message","role":"user","content":"Hi"}]));
        assert_eq!(expand_compaction(input.clone()).unwrap(), input);
    }
}

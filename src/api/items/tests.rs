//! Item tests: the shorthand message, dialect types kept verbatim, malformed known types
//! rejected, round trips.

use serde_json::json;

use super::*;

#[derive(Deserialize)]
struct Wrapper(#[serde(deserialize_with = "deserialize_item_lenient")] Item);

#[test]
fn shorthand_message_without_type_is_a_message() {
    let Wrapper(item) = serde_json::from_value(json!({"role":"user","content":"hi"})).unwrap();
    assert!(matches!(
        item,
        Item::Message(MessageItem {
            role: Role::User,
            ..
        })
    ));
}

#[test]
fn dialect_item_types_are_kept_verbatim() {
    let value = json!({"type":"web_search_call","id":"ws_1","status":"completed",
        "action":{"type":"search","query":"rust"}});
    let Wrapper(item) = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(item.other_kind(), Some("web_search_call"));
    assert_eq!(serde_json::to_value(&item).unwrap(), value);
    let custom =
        json!({"type":"custom_tool_call","call_id":"c1","name":"apply_patch","input":"*** Begin"});
    let Wrapper(item) = serde_json::from_value(custom.clone()).unwrap();
    assert!(matches!(item, Item::CustomToolCall(_)));
    assert_eq!(serde_json::to_value(&item).unwrap(), custom);
}

#[test]
fn a_malformed_known_item_is_rejected() {
    let err = serde_json::from_value::<Wrapper>(json!({"type":"function_call","name":"f"}));
    assert!(err.is_err());
}

#[test]
fn output_message_round_trips() {
    let value = json!({"type":"message","id":"msg_1","status":"completed","role":"assistant",
        "content":[{"type":"output_text","text":"hello","annotations":[]}]});
    let item: Item = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&item).unwrap(), value);
}

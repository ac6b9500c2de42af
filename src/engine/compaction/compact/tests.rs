//! Compaction tests: the transcript, kept user messages and pending calls, and request checks.

use serde_json::json;

use super::*;

fn window() -> Vec<Item> {
    serde_json::from_value(json!([
        {"type":"message","role":"user","content":"Weather in Paris?"},
        {"type":"function_call","call_id":"c1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
        {"type":"function_call_output","call_id":"c1","output":"{\"temp\":21}"},
        {"type":"message","role":"assistant","content":"It is 21 °C."},
        {"type":"message","role":"user","content":[{"type":"input_text","text":"And Rome?"},
            {"type":"input_image","image_url":"https://x/y.png"}]},
        {"type":"function_call","call_id":"c2","name":"get_weather","arguments":"{\"city\":\"Rome\"}"}
    ]))
    .unwrap()
}

#[test]
fn transcript_names_every_turn_and_tool() {
    let text = render_transcript(&window(), Some("Be brief."));
    assert!(text.starts_with("The assistant works under these instructions:\nBe brief."));
    for needle in [
        "USER: Weather in Paris?",
        "ASSISTANT called tool `get_weather` (call c1) with arguments {\"city\":\"Paris\"}",
        "TOOL RESULT for call c1: {\"temp\":21}",
        "ASSISTANT: It is 21 °C.",
        "USER: And Rome? [image]",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
}

#[test]
fn user_messages_and_pending_calls_are_kept() {
    let kept = kept_items(&window(), "resp_ab");
    let value = serde_json::to_value(&kept).unwrap();
    assert_eq!(value[0]["id"], "msg_ab_k0");
    assert_eq!(value[0]["status"], "completed");
    assert_eq!(value[0]["content"][0]["type"], "input_text");
    assert_eq!(value[1]["content"][1]["type"], "input_image");
    assert_eq!(kept.len(), 2);
    let pending = pending_calls(&window(), "resp_ab");
    assert_eq!(pending.len(), 1);
    assert_eq!(serde_json::to_value(&pending[0]).unwrap()["call_id"], "c2");
}

#[test]
fn model_is_required_and_input_or_previous() {
    let err = validate(&CompactRequest::default()).unwrap_err();
    assert_eq!(err.param().as_deref(), Some("model"));
    let err = validate(&CompactRequest {
        model: Some("m".into()),
        ..CompactRequest::default()
    })
    .unwrap_err();
    assert_eq!(err.param().as_deref(), Some("input"));
    let err = validate(&CompactRequest {
        model: Some("m".into()),
        input: Some(Input::Text("x".into())),
        prompt_cache_key: Some("k".repeat(65)),
        ..CompactRequest::default()
    })
    .unwrap_err();
    assert_eq!(err.param().as_deref(), Some("prompt_cache_key"));
}

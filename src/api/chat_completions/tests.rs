//! The shared Chat Completions model reads what each side reads and writes what each side
//! writes: lenient completions and chunks, requests with unknown fields ignored, and nothing
//! written that the writing side did not set.
#![allow(clippy::unwrap_used, clippy::panic)]

use serde_json::{Value, json};

use super::{ChatCompletion, ChatContent, ChatMessage, ChatRequest, Delta};

#[test]
fn chunks_read_nulls_as_defaults_and_ignore_write_only_fields() {
    let chunk: ChatCompletion = serde_json::from_value(json!({
        "id": 5, "object": null, "created": "x", "model": null,
        "choices": [{"index": null, "logprobs": {"content": []}, "finish_reason": null,
            "delta": {"role": 7, "content": null, "refusal": null,
                "tool_calls": [{"type": 1, "function": {"name": "f", "arguments": null}}]}}],
        "usage": {"prompt_tokens": null, "completion_tokens": 3, "total_tokens": "n",
            "prompt_tokens_details": null}
    }))
    .unwrap();
    assert_eq!(chunk.model, "");
    let choice = &chunk.choices[0];
    assert_eq!(choice.index, 0);
    let delta = choice.delta.as_ref().unwrap();
    assert_eq!((&delta.content, &delta.refusal), (&None, &None));
    let call = &delta.tool_calls.as_ref().unwrap()[0];
    assert_eq!(
        (
            call.function.name.as_deref(),
            call.function.arguments.as_str()
        ),
        (Some("f"), "")
    );
    let usage = chunk.usage.flatten().unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (0, 3));
    assert_eq!(usage.prompt_tokens_details.cached_tokens, 0);
    let empty: ChatCompletion = serde_json::from_value(json!({"choices": null})).unwrap();
    assert!(empty.choices.is_empty() && empty.usage.is_none());
}

#[test]
fn a_written_delta_holds_only_what_was_set() {
    let delta = Delta {
        content: Some(Value::Null),
        ..Delta::default()
    };
    assert_eq!(
        serde_json::to_value(delta).unwrap(),
        json!({"content": null})
    );
}

#[test]
fn requests_ignore_unknown_fields_and_write_only_what_was_set() {
    let read: ChatRequest = serde_json::from_value(json!({
        "model": "m", "seed": 1, "messages": [{"role": "assistant", "content": null,
            "tool_calls": [{"id": "c", "type": 3, "function": {"name": "f"}}]}]
    }))
    .unwrap();
    let Some([ChatMessage::Assistant(turn)]) = read.messages.as_deref() else {
        panic!("one assistant turn: {read:?}");
    };
    assert_eq!(turn.tool_calls.as_ref().unwrap()[0].kind, "function");
    let written = ChatRequest {
        model: Some("m".to_owned()),
        messages: Some(vec![ChatMessage::User {
            content: ChatContent::Text("hi".to_owned()),
        }]),
        ..ChatRequest::default()
    };
    assert_eq!(
        serde_json::to_value(written).unwrap(),
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    );
}

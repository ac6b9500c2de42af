use super::*;
use crate::api::{CreateResponse, Item};

fn ctx() -> ResponseContext {
    ResponseContext {
        response_id: "resp_test".into(),
        created_at: 100,
        now: || 200,
    }
}

fn emitter() -> ResponseEmitter {
    let ctx = ctx();
    let skeleton =
        ResponseResource::in_progress(&CreateResponse::default(), &ctx.response_id, "m", 100);
    ResponseEmitter::new(skeleton, &ctx, true)
}

fn types(events: &[StreamEvent]) -> Vec<&'static str> {
    events.iter().map(StreamEvent::event_type).collect()
}

#[test]
fn text_then_tool_call_follows_the_grammar() {
    let mut e = emitter();
    e.text_delta("Hel");
    e.text_delta("lo");
    e.start_function_call("call_1", "get_weather");
    e.function_arguments_delta("{\"city\":");
    e.function_arguments_delta("\"Paris\"}");
    e.set_usage(Usage::new(10, 5, 0, 0));
    e.finish(Finish::Completed);
    let events = e.drain();
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(ev.sequence_number, i as u64);
    }
    let response = e.response();
    assert_eq!(response.status, ResponseStatus::Completed);
    assert_eq!(response.completed_at, Some(200));
    assert_eq!(response.output.len(), 2);
    let Item::FunctionCall(call) = &response.output[1] else {
        panic!("not a call")
    };
    assert_eq!(call.arguments, "{\"city\":\"Paris\"}");
    assert_eq!(call.id.as_deref(), Some("fc_test01"));
}

#[test]
fn incomplete_marks_the_open_item_incomplete() {
    let mut e = emitter();
    e.text_delta("partial");
    e.finish(Finish::Incomplete("max_output_tokens".into()));
    let response = e.response();
    assert_eq!(response.status, ResponseStatus::Incomplete);
    let Item::Message(msg) = &response.output[0] else {
        panic!("not a message")
    };
    assert_eq!(msg.status, Some(ItemStatus::Incomplete));
    assert_eq!(
        response.incomplete_details.as_ref().unwrap().reason,
        "max_output_tokens"
    );
}

#[test]
fn failure_emits_error_then_failed_once() {
    let mut e = emitter();
    e.text_delta("x");
    e.fail(ErrorObject {
        kind: "server_error".into(),
        code: Some("upstream_error".into()),
        message: "boom".into(),
        param: None,
    });
    e.finish(Finish::Completed);
    let events = e.drain();
    let tail: Vec<_> = types(&events).into_iter().rev().take(2).collect();
    assert_eq!(tail, ["response.failed", "error"]);
    assert_eq!(e.response().status, ResponseStatus::Failed);
}

#[test]
fn reasoning_then_text_closes_reasoning_first() {
    let mut e = emitter();
    e.reasoning_summary_delta("thinking");
    e.reasoning_encrypted("sig");
    e.text_delta("answer");
    e.finish(Finish::Completed);
    let response = e.response();
    let Item::Reasoning(r) = &response.output[0] else {
        panic!("not reasoning")
    };
    assert_eq!(r.encrypted_content.as_deref(), Some("sig"));
    assert_eq!(
        r.summary,
        vec![ContentPart::SummaryText {
            text: "thinking".into()
        }]
    );
    assert!(matches!(response.output[1], Item::Message(_)));
}

#[test]
fn silent_mode_records_no_events_but_builds_the_response() {
    let ctx = ctx();
    let skeleton =
        ResponseResource::in_progress(&CreateResponse::default(), &ctx.response_id, "m", 100);
    let mut e = ResponseEmitter::new(skeleton, &ctx, false);
    e.text_delta("hi");
    e.finish(Finish::Completed);
    assert!(e.drain().is_empty());
    assert_eq!(e.response().output.len(), 1);
}

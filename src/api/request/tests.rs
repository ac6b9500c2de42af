//! Request tests: what `CreateResponse` accepts, tolerates and rejects.

use serde_json::json;

use super::*;

#[test]
fn string_input_becomes_one_user_message() {
    let req: CreateResponse = serde_json::from_value(json!({"model":"m","input":"hi"})).unwrap();
    assert_eq!(req.input_items().len(), 1);
}

#[test]
fn unknown_top_level_fields_are_ignored() {
    let req: CreateResponse =
        serde_json::from_value(json!({"model":"m","input":"hi","frobnicate":1})).unwrap();
    assert_eq!(req.model.as_deref(), Some("m"));
}

#[test]
fn wrong_types_are_rejected() {
    assert!(serde_json::from_value::<CreateResponse>(json!({"temperature":"hot"})).is_err());
    assert!(serde_json::from_value::<CreateResponse>(json!({"input":5})).is_err());
    assert!(serde_json::from_value::<CreateResponse>(json!({"provider":"nope"})).is_err());
}

#[test]
fn tool_choice_forms_parse() {
    for tc in [
        json!("auto"),
        json!({"type":"function","name":"f"}),
        json!({"type":"allowed_tools","tools":[{"type":"function","name":"f"}]}),
    ] {
        let req: CreateResponse = serde_json::from_value(json!({"tool_choice": tc})).unwrap();
        assert!(req.tool_choice.is_some());
    }
}

#[test]
fn openai_dialect_tools_parse_and_round_trip() {
    let tools = json!([
        {"type":"function","name":"shell","parameters":{"type":"object"}},
        {"type":"namespace","name":"agents","description":"d","tools":[
            {"type":"function","name":"spawn_agent"},
            {"type":"custom","name":"apply_patch","format":{"type":"grammar","syntax":"lark","definition":"start: x"}}]},
        {"type":"web_search","external_web_access":false},
        {"type":"tool_search","execution":"client"},
        {"type":"image_generation"}
    ]);
    let req: CreateResponse = serde_json::from_value(json!({"tools": tools})).unwrap();
    let parsed = req.tools.as_deref().unwrap();
    let kinds: Vec<&str> = parsed.iter().map(Tool::kind).collect();
    assert_eq!(
        kinds,
        [
            "function",
            "namespace",
            "web_search",
            "tool_search",
            "image_generation"
        ]
    );
    assert!(matches!(&parsed[1], Tool::Namespace(ns) if ns.tools.len() == 2));
    let back = serde_json::to_value(&req.tools).unwrap();
    assert_eq!(back[2], tools[2]);
    assert_eq!(back[1]["tools"][1]["type"], "custom");
}

#[test]
fn a_malformed_function_tool_is_not_taken_for_another_type() {
    let req = serde_json::from_value::<CreateResponse>(
        json!({"tools":[{"type":"function","description":"no name"}]}),
    );
    assert!(req.is_err());
}

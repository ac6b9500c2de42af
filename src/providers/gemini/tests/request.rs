//! Golden request translation: Open Responses request → `generateContent` body.

use serde_json::{Value, json};

use super::{CALL_SIG, JOKE, TEXT_SIG, call, config, emitter, fixture, request};
use crate::{
    api::{CreateResponse, Item, ProviderKind},
    error::GatewayError,
    providers::{
        gemini::{build_request, parse_response},
        test_support::sealed,
    },
};

fn build(req: &CreateResponse, model: &str) -> Result<Value, GatewayError> {
    let input = req.input_items();
    build_request(call(req, &input, model), &config("http://unused"))
        .map(|r| serde_json::to_value(r).unwrap())
}

fn golden(req: Value, model: &str) -> Value {
    build(&request(req), model).unwrap()
}

fn rejected(req: Value) -> String {
    match build(&request(req), "gemini-2.5-flash") {
        Err(GatewayError::InvalidRequest { message, param, .. }) => {
            assert_eq!(param.as_deref(), Some("input"));
            message
        }
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[test]
fn text_input_is_one_user_turn() {
    let body = golden(
        json!({"model":"gemini-2.5-flash","input":"Hello"}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        body,
        json!({"contents":[{"role":"user","parts":[{"text":"Hello"}]}]})
    );
}

#[test]
fn instructions_and_system_messages_become_the_system_instruction() {
    let body = golden(
        json!({"instructions":"Be brief.","input":[
            {"role":"developer","content":"Answer in French."},
            {"role":"user","content":[{"type":"input_text","text":"Hi"},{"type":"input_text","text":""}]},
            {"type":"message","role":"system","content":[{"type":"input_text","text":"No emojis."}]},
            {"role":"user","content":"How are you?"}
        ]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        body,
        json!({
            "systemInstruction":{"parts":[{"text":"Be brief."},{"text":"Answer in French."},{"text":"No emojis."}]},
            "contents":[{"role":"user","parts":[{"text":"Hi"},{"text":"How are you?"}]}]
        })
    );
}

#[test]
fn multi_turn_tool_use_merges_turns_and_looks_up_names() {
    let body = golden(
        json!({"input":[
            {"role":"user","content":"Weather in Paris and London?"},
            {"type":"reasoning","summary":[],"encrypted_content":"anthropic:claude:xyz"},
            {"type":"reasoning","summary":[],"encrypted_content":
                sealed(ProviderKind::Gemini, "gemini-2.5-pro", "for another model")},
            {"type":"reasoning","summary":[],"encrypted_content":
                sealed(ProviderKind::Gemini, "gemini-2.5-flash", CALL_SIG)},
            {"type":"function_call","call_id":"call_req0_0","name":"get_weather","arguments":"{\"location\":\"Paris\"}"},
            {"type":"function_call","call_id":"call_req0_1","name":"get_time","arguments":"not json"},
            {"type":"function_call_output","call_id":"call_req0_0","output":"{\"temp\":20}"},
            {"type":"function_call_output","call_id":"call_req0_1","output":[{"type":"input_text","text":"noon"}]},
            {"role":"assistant","content":[{"type":"output_text","text":"20 degrees at noon.","annotations":[]}]},
            {"type":"function_call","call_id":"a1b2c3","name":"get_weather","arguments":"{}"},
            {"type":"function_call_output","call_id":"a1b2c3","output":"42"},
            {"role":"user","content":"Thanks"}
        ]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        body,
        json!({"contents":[
            {"role":"user","parts":[{"text":"Weather in Paris and London?"}]},
            {"role":"model","parts":[
                {"functionCall":{"name":"get_weather","args":{"location":"Paris"}},"thoughtSignature":CALL_SIG},
                {"functionCall":{"name":"get_time","args":{}}}
            ]},
            {"role":"user","parts":[
                {"functionResponse":{"name":"get_weather","response":{"output":{"temp":20}}}},
                {"functionResponse":{"name":"get_time","response":{"output":"noon"}}}
            ]},
            {"role":"model","parts":[
                {"text":"20 degrees at noon."},
                {"functionCall":{"id":"a1b2c3","name":"get_weather","args":{}}}
            ]},
            {"role":"user","parts":[
                {"functionResponse":{"id":"a1b2c3","name":"get_weather","response":{"output":"42"}}},
                {"text":"Thanks"}
            ]}
        ]})
    );
}

#[test]
fn media_parts_map_to_inline_and_file_data() {
    let body = golden(
        json!({"input":[{"role":"user","content":[
            {"type":"input_text","text":"Describe these."},
            {"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="},
            {"type":"input_image","image_url":"https://generativelanguage.googleapis.com/v1beta/files/abc123"},
            {"type":"input_file","filename":"report.pdf","file_data":"JVBERi0xLjQ="},
            {"type":"input_file","file_data":"data:application/pdf;base64,JVBERi0xLjU="},
            {"type":"input_file","file_url":"gs://bucket/doc.pdf"}
        ]}]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        body["contents"][0]["parts"],
        json!([
            {"text":"Describe these."},
            {"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}},
            {"fileData":{"fileUri":"https://generativelanguage.googleapis.com/v1beta/files/abc123"}},
            {"inlineData":{"mimeType":"application/pdf","data":"JVBERi0xLjQ="}},
            {"inlineData":{"mimeType":"application/pdf","data":"JVBERi0xLjU="}},
            {"fileData":{"mimeType":"application/pdf","fileUri":"gs://bucket/doc.pdf"}}
        ])
    );
}

#[test]
fn unfetchable_or_foreign_media_is_rejected() {
    let remote = rejected(json!({"input":[{"role":"user","content":[
        {"type":"input_image","image_url":"https://example.com/cat.png"}]}]}));
    assert!(remote.contains("does not fetch remote URLs"), "{remote}");
    let file_id = rejected(json!({"input":[{"role":"user","content":[
        {"type":"input_image","file_id":"file-abc"}]}]}));
    assert!(file_id.contains("file_id"), "{file_id}");
    let not_base64 = rejected(json!({"input":[{"role":"user","content":[
        {"type":"input_image","image_url":"data:image/png,rawbytes"}]}]}));
    assert!(not_base64.contains("base64"), "{not_base64}");
}

#[test]
fn conversation_shape_errors_are_400s() {
    let orphan = rejected(
        json!({"input":[{"type":"function_call_output","call_id":"call_x","output":"1"}]}),
    );
    assert!(orphan.contains("call_x"), "{orphan}");
    rejected(json!({"input":[{"role":"system","content":"only a system message"}]}));
    rejected(json!({"input":[{"type":"compaction","encrypted_content":"opaque"}]}));
}

#[test]
fn history_starting_with_model_output_gets_a_user_turn_first() {
    let body = golden(
        json!({"input":[{"role":"assistant","content":"Hello! How can I help?"},{"role":"user","content":"Hi"}]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        body["contents"],
        json!([
            {"role":"user","parts":[{"text":"."}]},
            {"role":"model","parts":[{"text":"Hello! How can I help?"}]},
            {"role":"user","parts":[{"text":"Hi"}]}
        ])
    );
}

#[test]
fn tools_settings_and_json_schema_map_to_generation_config() {
    let schema = json!({"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"],"additionalProperties":false});
    let params = json!({"type":"object","properties":{"location":{"type":"string"}},"required":["location"]});
    let body = golden(
        json!({"input":"Hi","max_output_tokens":256,"temperature":0.5,"top_p":0.9,
               "presence_penalty":0.1,"frequency_penalty":0.2,"parallel_tool_calls":false,
               "text":{"format":{"type":"json_schema","name":"answer","schema":schema,"strict":true},"verbosity":"low"},
               "tools":[
                   {"type":"function","name":"get_weather","description":"Weather.","parameters":params,"strict":true},
                   {"type":"function","name":"now","description":"","parameters":{"type":"object","properties":{}}}
               ],
               "tool_choice":"required"}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        body,
        json!({
            "contents":[{"role":"user","parts":[{"text":"Hi"}]}],
            "tools":[{"functionDeclarations":[
                {"name":"get_weather","description":"Weather.","parametersJsonSchema":params},
                {"name":"now"}
            ]}],
            "toolConfig":{"functionCallingConfig":{"mode":"ANY"}},
            "generationConfig":{
                "maxOutputTokens":256,"temperature":0.5,"topP":0.9,"presencePenalty":0.1,
                "frequencyPenalty":0.2,"responseMimeType":"application/json","responseJsonSchema":schema
            }
        })
    );
}

#[test]
fn tool_choice_forms_map_to_function_calling_config() {
    let allowed = json!([{"type":"function","name":"a"},{"type":"function","name":"b"}]);
    let cases = [
        (json!("auto"), json!({"mode":"AUTO"})),
        (json!("none"), json!({"mode":"NONE"})),
        (json!("required"), json!({"mode":"ANY"})),
        (
            json!({"type":"function","name":"b"}),
            json!({"mode":"ANY","allowedFunctionNames":["b"]}),
        ),
        (
            json!({"type":"allowed_tools","tools":allowed,"mode":"auto"}),
            json!({"mode":"VALIDATED","allowedFunctionNames":["a","b"]}),
        ),
        (
            json!({"type":"allowed_tools","tools":allowed,"mode":"required"}),
            json!({"mode":"ANY","allowedFunctionNames":["a","b"]}),
        ),
    ];
    let tools = json!([{"type":"function","name":"a"},{"type":"function","name":"b"}]);
    for (choice, expected) in cases {
        let body = golden(
            json!({"input":"x","tools":tools,"tool_choice":choice}),
            "gemini-2.5-flash",
        );
        assert_eq!(
            body["toolConfig"]["functionCallingConfig"], expected,
            "{choice}"
        );
        assert_eq!(
            body["tools"][0]["functionDeclarations"],
            json!([{"name":"a"},{"name":"b"}])
        );
    }
    // Without tools there is nothing to configure.
    let body = golden(
        json!({"input":"x","tool_choice":"required"}),
        "gemini-2.5-flash",
    );
    assert!(body.get("toolConfig").is_none() && body.get("tools").is_none());
}

#[test]
fn reasoning_effort_maps_to_budget_or_level() {
    let cases = [
        (
            "gemini-2.5-flash",
            "none",
            None,
            json!({"thinkingBudget":0}),
        ),
        (
            "gemini-2.5-pro",
            "none",
            None,
            json!({"thinkingBudget":128}),
        ),
        (
            "gemini-2.5-flash",
            "low",
            Some("auto"),
            json!({"includeThoughts":true,"thinkingBudget":1024}),
        ),
        (
            "gemini-2.5-flash-lite",
            "medium",
            None,
            json!({"thinkingBudget":8192}),
        ),
        (
            "gemini-2.5-pro",
            "xhigh",
            None,
            json!({"thinkingBudget":32768}),
        ),
        (
            "gemini-3-flash-preview",
            "minimal",
            None,
            json!({"thinkingLevel":"MINIMAL"}),
        ),
        (
            "gemini-3-flash-preview",
            "medium",
            Some("detailed"),
            json!({"includeThoughts":true,"thinkingLevel":"MEDIUM"}),
        ),
        (
            "gemini-3.1-pro-preview",
            "medium",
            None,
            json!({"thinkingLevel":"MEDIUM"}),
        ),
        (
            "gemini-3-pro-preview",
            "medium",
            None,
            json!({"thinkingLevel":"HIGH"}),
        ),
        (
            "gemini-3-pro-preview",
            "none",
            None,
            json!({"thinkingLevel":"LOW"}),
        ),
        (
            "models/gemini-3.5-flash",
            "xhigh",
            None,
            json!({"thinkingLevel":"HIGH"}),
        ),
    ];
    for (model, effort, summary, expected) in cases {
        let body = golden(
            json!({"input":"x","reasoning":{"effort":effort,"summary":summary}}),
            model,
        );
        assert_eq!(
            body["generationConfig"]["thinkingConfig"], expected,
            "{model} {effort}"
        );
    }
    // Models without thinking controls never get a thinkingConfig (it would be a 400).
    let body = golden(
        json!({"input":"x","reasoning":{"effort":"high","summary":"auto"}}),
        "gemini-2.0-flash",
    );
    assert!(body.get("generationConfig").is_none());
}

#[test]
fn gemini_3_gets_the_dummy_signature_for_unsigned_calls() {
    let input = json!([
        {"role":"user","content":"Weather?"},
        {"type":"function_call","call_id":"toolu_01","name":"get_weather","arguments":"{\"location\":\"Paris\"}"},
        {"type":"function_call","call_id":"toolu_02","name":"get_weather","arguments":"{\"location\":\"Rome\"}"},
        {"type":"function_call_output","call_id":"toolu_01","output":"sunny"},
        {"type":"function_call_output","call_id":"toolu_02","output":"rainy"}
    ]);
    let body = golden(json!({"input":input}), "gemini-3-flash-preview");
    let parts = &body["contents"][1]["parts"];
    assert_eq!(
        parts[0]["thoughtSignature"],
        "skip_thought_signature_validator"
    );
    assert!(parts[1].get("thoughtSignature").is_none());
    let body = golden(json!({"input":input}), "gemini-2.5-flash");
    assert!(
        body["contents"][1]["parts"][0]
            .get("thoughtSignature")
            .is_none()
    );
}

/// Output of one turn fed back as input must restore every signature on its original part.
#[test]
fn thought_signatures_round_trip_through_output_items() {
    let req = request(json!({"input":"Weather in Paris and London?"}));
    let input = req.input_items();
    let mut out = emitter(&req, false);
    let body = fixture("generate_content_parallel_function_calls.json");
    parse_response(
        &body,
        call(&req, &input, "gemini-2.5-flash"),
        &mut out,
        "google",
    )
    .unwrap();
    let mut history = input.clone();
    history.extend(out.response().output.iter().cloned());
    for (id, result) in [("call_req1_0", "sunny"), ("call_req1_1", "rainy")] {
        history.push(
            serde_json::from_value::<Item>(
                json!({"type":"function_call_output","call_id":id,"output":result}),
            )
            .unwrap(),
        );
    }
    let next = build_request(
        call(&req, &history, "gemini-2.5-flash"),
        &config("http://unused"),
    )
    .unwrap();
    let original: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        serde_json::to_value(&next.contents[1]).unwrap(),
        original["candidates"][0]["content"]
    );
    assert_eq!(
        serde_json::to_value(&next.contents[2]).unwrap(),
        json!({"role":"user","parts":[
            {"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}},
            {"functionResponse":{"name":"get_weather","response":{"output":"rainy"}}}
        ]})
    );
}

#[test]
fn a_trailing_stream_signature_is_replayed_on_an_empty_text_part() {
    let history: Vec<Item> = serde_json::from_value(json!([
        {"type":"message","role":"user","content":"Tell me a joke"},
        {"type":"message","role":"assistant","content":[{"type":"output_text","text":JOKE,"annotations":[]}]},
        {"type":"reasoning","summary":[],"encrypted_content":
            sealed(ProviderKind::Gemini, "gemini-2.5-flash", TEXT_SIG)},
        {"type":"message","role":"user","content":"Another"}
    ]))
    .unwrap();
    let req = CreateResponse::default();
    let next = build_request(
        call(&req, &history, "gemini-2.5-flash"),
        &config("http://unused"),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&next.contents).unwrap(),
        json!([
            {"role":"user","parts":[{"text":"Tell me a joke"}]},
            {"role":"model","parts":[{"text":JOKE},{"text":"","thoughtSignature":TEXT_SIG}]},
            {"role":"user","parts":[{"text":"Another"}]}
        ])
    );
}

#[test]
fn an_altered_signature_envelope_is_a_400_naming_the_item() {
    let envelope = sealed(ProviderKind::Gemini, "gemini-2.5-flash", CALL_SIG);
    let altered = format!("{}{}", &envelope[..envelope.len() - 4], "AAAA");
    let req = request(json!({"input":[
        {"role":"user","content":"Hi"},
        {"type":"reasoning","summary":[],"encrypted_content": altered}
    ]}));
    let input = req.input_items();
    let err = build_request(
        call(&req, &input, "gemini-2.5-flash"),
        &config("http://unused"),
    )
    .unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(err.param().as_deref(), Some("input[1].encrypted_content"));
}

#[test]
fn a_live_web_search_becomes_google_search_grounding_without_function_tools() {
    let body = golden(
        json!({"input":"Who won Euro 2024?","tools":[{"type":"web_search"}]}),
        "gemini-2.5-flash",
    );
    assert_eq!(body["tools"], json!([{"googleSearch":{}}]));
    let with_function = golden(
        json!({"input":"Who won Euro 2024?","tools":[
            {"type":"web_search"},
            {"type":"function","name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        with_function["tools"],
        json!([{"functionDeclarations":[{"name":"f","parametersJsonSchema":{"type":"object","properties":{"a":{"type":"string"}}}}]}])
    );
    let cached = golden(
        json!({"input":"q","tools":[{"type":"web_search","external_web_access":false}]}),
        "gemini-2.5-flash",
    );
    assert!(cached.get("tools").is_none(), "{cached}");
}

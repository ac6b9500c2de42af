//! The mock enforces the providers' structural rules, so translation bugs surface as 400s.

use serde_json::json;

use super::common::mock_upstream::MockUpstream;

async fn status(
    mock: &MockUpstream,
    path: &str,
    headers: &[(&str, &str)],
    body: serde_json::Value,
) -> u16 {
    let mut request = reqwest::Client::new().post(mock.url(path)).json(&body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap().status().as_u16()
}

#[actix_web::test]
async fn broken_structures_are_rejected_like_the_real_apis() {
    let mock = MockUpstream::start();
    let ant = [("x-api-key", "k"), ("anthropic-version", "2023-06-01")];
    let dangling = json!({"model":"claude","max_tokens":100,"messages":[
        {"role":"user","content":"hi"},
        {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]},
        {"role":"user","content":[{"type":"text","text":"no result"}]}]});
    assert_eq!(status(&mock, "/v1/messages", &ant, dangling).await, 400);
    let text_first = json!({"model":"claude","max_tokens":100,"messages":[
        {"role":"user","content":"hi"},
        {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]},
        {"role":"user","content":[{"type":"text","text":"x"},{"type":"tool_result","tool_use_id":"toolu_1","content":"r"}]}]});
    assert_eq!(status(&mock, "/v1/messages", &ant, text_first).await, 400);
    let same_role = json!({"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]});
    assert_eq!(status(&mock, "/v1/messages", &ant, same_role).await, 400);
    let ok = json!({"model":"claude","max_tokens":100,"messages":[
        {"role":"user","content":"hi"},
        {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"r"},{"type":"text","text":"x"}]}]});
    assert_eq!(status(&mock, "/v1/messages", &ant, ok).await, 200);

    let gem = [("x-goog-api-key", "k")];
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    let bad_role = json!({"contents":[{"role":"assistant","parts":[{"text":"x"}]}]});
    assert_eq!(status(&mock, path, &gem, bad_role).await, 400);
    let bad_schema = json!({"contents":[{"role":"user","parts":[{"text":"x"}]}],
        "tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","additionalProperties":false}}]}]});
    assert_eq!(status(&mock, path, &gem, bad_schema).await, 400);
    let json_schema_ok = json!({"contents":[{"role":"user","parts":[{"text":"x"}]}],
        "tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":{"type":"object","additionalProperties":false}}]}]});
    assert_eq!(status(&mock, path, &gem, json_schema_ok).await, 200);

    let chat = [("authorization", "Bearer k")];
    let orphan_tool = json!({"model":"gpt-4o","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"c1","content":"r"}]});
    assert_eq!(
        status(&mock, "/v1/chat/completions", &chat, orphan_tool).await,
        400
    );
    let orphan_output = json!({"model":"gpt-4o","input":[{"type":"function_call_output","call_id":"c9","output":"r"}]});
    assert_eq!(
        status(&mock, "/v1/responses", &chat, orphan_output).await,
        400
    );
}

#[actix_web::test]
async fn unknown_top_level_fields_are_rejected_like_the_real_apis() {
    let mock = MockUpstream::start();
    let ant = [("x-api-key", "k"), ("anthropic-version", "2023-06-01")];
    let base =
        json!({"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"hi"}]});
    assert_eq!(status(&mock, "/v1/messages", &ant, base.clone()).await, 200);
    let mut extra = base;
    extra["instructions"] = json!("be brief");
    assert_eq!(status(&mock, "/v1/messages", &ant, extra).await, 400);
    let gem = [("x-goog-api-key", "k")];
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    let base = json!({"contents":[{"role":"user","parts":[{"text":"hi"}]}]});
    assert_eq!(status(&mock, path, &gem, base.clone()).await, 200);
    let mut extra = base;
    extra["temperature"] = json!(0.5);
    assert_eq!(status(&mock, path, &gem, extra).await, 400);
}

#[actix_web::test]
async fn hosted_web_search_tools_are_checked_like_the_real_apis() {
    let mock = MockUpstream::start();
    let ant = [("x-api-key", "k"), ("anthropic-version", "2023-06-01")];
    let with_tool = |tool: serde_json::Value| json!({"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"tools":[tool]});
    let good = json!({"type":"web_search_20250305","name":"web_search","max_uses":3,
        "allowed_domains":["example.com"],"user_location":{"type":"approximate","country":"GB"}});
    assert_eq!(
        status(&mock, "/v1/messages", &ant, with_tool(good)).await,
        200
    );
    for bad in [
        json!({"type":"web_search_20250305","name":"search"}),
        json!({"type":"web_search_20250305","name":"web_search","max_uses":0}),
        json!({"type":"web_search_20250305","name":"web_search","filters":{}}),
        json!({"type":"web_search_20250305","name":"web_search","allowed_domains":["a.com"],"blocked_domains":["b.com"]}),
        json!({"type":"web_search_20250305","name":"web_search","user_location":{"type":"exact"}}),
        json!({"type":"web_search","name":"web_search"}),
    ] {
        assert_eq!(
            status(&mock, "/v1/messages", &ant, with_tool(bad.clone())).await,
            400,
            "{bad}"
        );
    }
    let gem = [("x-goog-api-key", "k")];
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    let with_tool = |tool: serde_json::Value| json!({"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[tool]});
    assert_eq!(
        status(&mock, path, &gem, with_tool(json!({"googleSearch":{}}))).await,
        200
    );
    for bad in [
        json!({"googleSearch": {"allowedDomains": ["a.com"]}}),
        json!({"googleSearch": true}),
        json!({"webSearch": {}}),
    ] {
        assert_eq!(
            status(&mock, path, &gem, with_tool(bad.clone())).await,
            400,
            "{bad}"
        );
    }
    let mixed = json!({"contents":[{"role":"user","parts":[{"text":"x"}]}],
        "tools":[{"functionDeclarations":[{"name":"f"}]},{"googleSearch":{}}]});
    assert_eq!(status(&mock, path, &gem, mixed).await, 400);
}

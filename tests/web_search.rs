//! OpenAI's hosted `web_search` tool on Anthropic (server web search) and Gemini (Google Search
//! grounding), end to end against the mock upstreams: the upstream gets its own search tool,
//! searches come back as `web_search_call` items and citations as `url_citation` annotations,
//! as JSON and streamed; a cached-only search is left out; past searches in the input are left
//! out for these upstreams.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{post_responses, providers_yaml, start_gateway},
    json::{pointer_between, pointers_to},
    mock_upstream::MockUpstream,
    spec::{assert_dialect_events, assert_valid_response, assert_valid_sse_stream},
};
use serde_json::{Value, json};

/// (provider, model, the search tool the upstream must receive)
const PROVIDERS: [(&str, &str, &str); 2] = [
    ("anthropic", "claude-sonnet-4-5", "/tools/0/type"),
    ("google", "gemini-2.5-flash", "/tools/0/googleSearch"),
];

/// Checks a `web_search_call` item for the fields OpenAI gives it (the spec's `ItemField` does
/// not list the type).
fn assert_search_item(item: &Value) {
    assert_eq!(item["type"], "web_search_call");
    assert!(
        item["id"].as_str().is_some_and(|id| id.starts_with("ws_")),
        "{item}"
    );
    assert_eq!(item["status"], "completed", "{item}");
    assert_eq!(item["action"]["type"], "search", "{item}");
    assert!(
        item["action"]["query"]
            .as_str()
            .is_some_and(|q| !q.is_empty()),
        "{item}"
    );
}

/// The response validated against the spec, `web_search_call` items checked by hand.
fn assert_valid_search_response(body: &Value) -> Vec<Value> {
    let mut standard = body.clone();
    let output = standard["output"].as_array_mut().unwrap();
    let searches: Vec<Value> = output
        .iter()
        .filter(|i| i["type"] == "web_search_call")
        .cloned()
        .collect();
    searches.iter().for_each(assert_search_item);
    output.retain(|i| i["type"] != "web_search_call");
    assert_valid_response(&standard);
    searches
}

/// Every `url_citation` in the response, checked against its text part.
fn citations(body: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    for item in body["output"].as_array().unwrap() {
        for part in item["content"].as_array().into_iter().flatten() {
            let text: Vec<char> = part["text"].as_str().unwrap_or("").chars().collect();
            for annotation in part["annotations"].as_array().into_iter().flatten() {
                assert_eq!(annotation["type"], "url_citation");
                let start = annotation["start_index"].as_u64().unwrap() as usize;
                let end = annotation["end_index"].as_u64().unwrap() as usize;
                assert!(
                    start < end && end <= text.len(),
                    "{annotation} over {text:?}"
                );
                found.push(annotation.clone());
            }
        }
    }
    found
}

#[actix_web::test]
async fn searches_and_citations_come_back_as_json() {
    for (provider, model, tool) in PROVIDERS {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        let reply = post_responses(
            &gw,
            &json!({"model": model, "input": "Look it up.", "tools": [{"type": "web_search"}]}),
        )
        .await;
        assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
        assert_eq!(reply.header("x-gateway-dropped-tools"), None, "{provider}");
        let upstream = mock.last_request().unwrap().body;
        assert!(upstream.pointer(tool).is_some(), "{provider}: {upstream}");
        let body = reply.json();
        let searches = assert_valid_search_response(&body);
        assert!(!searches.is_empty(), "{provider}: {body}");
        let cited = citations(&body);
        assert!(!cited.is_empty(), "{provider}: {body}");
        assert!(
            cited
                .iter()
                .all(|c| c["url"].as_str().unwrap().starts_with("https://"))
        );
    }
}

#[actix_web::test]
async fn searches_and_citations_stream() {
    for (provider, model, _) in PROVIDERS {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        let reply = post_responses(
            &gw,
            &json!({"model": model, "input": "Look it up.", "stream": true,
                    "tools": [{"type": "web_search", "external_web_access": true}]}),
        )
        .await;
        assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
        let events = assert_dialect_events(provider, &reply.text, |event| {
            event["item"]["type"] == "web_search_call" || event["type"] == "response.completed"
        });
        for event in &events {
            if event["item"]["type"] == "web_search_call" {
                assert_search_item(&event["item"]);
            }
        }
        let added: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "response.output_text.annotation.added")
            .collect();
        assert!(!added.is_empty(), "{provider}: {}", reply.text);
        let completed = events.last().unwrap();
        assert_eq!(completed["type"], "response.completed");
        let searches = assert_valid_search_response(&completed["response"]);
        assert!(!searches.is_empty(), "{provider}");
        let cited = citations(&completed["response"]);
        assert_eq!(
            cited.len(),
            added.len(),
            "{provider}: every annotation was announced"
        );
        for event in &added {
            assert!(cited.contains(&event["annotation"]), "{provider}: {event}");
        }
    }
}

#[actix_web::test]
async fn a_cached_only_search_is_left_out_and_named() {
    for (provider, model, _) in PROVIDERS {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        let reply = post_responses(
            &gw,
            &json!({"model": model, "input": "Hi", "stream": true,
                    "tools": [{"type": "web_search", "external_web_access": false}]}),
        )
        .await;
        assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
        assert_valid_sse_stream(&reply.text);
        assert_eq!(
            reply.header("x-gateway-dropped-tools"),
            Some("web_search"),
            "{provider}"
        );
        let upstream = mock.last_request().unwrap().body;
        assert!(upstream.get("tools").is_none(), "{provider}: {upstream}");
    }
}

#[actix_web::test]
async fn past_searches_in_the_input_are_left_out() {
    for (provider, model, _) in PROVIDERS {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        let reply = post_responses(
            &gw,
            &json!({"model": model, "input": [
                {"type": "message", "role": "user", "content": "Who won Euro 2024?"},
                {"type": "web_search_call", "id": "ws_1", "status": "completed",
                 "action": {"type": "search", "query": "euro 2024 winner"}},
                {"type": "message", "role": "assistant", "content": [
                    {"type": "output_text", "text": "Spain.", "annotations": [
                        {"type": "url_citation", "url": "https://uefa.com", "title": "UEFA",
                         "start_index": 0, "end_index": 6}]}]},
                {"type": "message", "role": "user", "content": "And in 2020?"}]}),
        )
        .await;
        assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
        assert_valid_response(&reply.json());
        let sent = mock.last_request().unwrap().body;
        let upstream = sent.to_string();
        assert!(
            !upstream.contains("euro 2024 winner"),
            "{provider}: {upstream}"
        );
        // The answer stays in the conversation, as the assistant's text.
        let spain = pointers_to(&sent, &json!("Spain."));
        let turn = if provider == "anthropic" {
            "/messages/"
        } else {
            "/contents/"
        };
        assert!(
            spain.len() == 1 && pointer_between(&spain[0], turn, "/text"),
            "{provider}: {spain:?} in {upstream}"
        );
    }
}

#[actix_web::test]
async fn gemini_leaves_the_search_out_when_function_tools_come_with_it() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["google"], ""));
    let reply = post_responses(
        &gw,
        &json!({"model": "gemini-2.5-flash", "input": "Weather?", "tools": [
            {"type": "web_search"},
            {"type": "function", "name": "get_weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("x-gateway-dropped-tools"), Some("web_search"));
    assert_valid_response(&reply.json());
    let upstream = mock.last_request().unwrap().body;
    assert_eq!(upstream["tools"].as_array().unwrap().len(), 1, "{upstream}");
    assert!(upstream["tools"][0]["functionDeclarations"].is_array());
}

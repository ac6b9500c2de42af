//! Owns request handling per provider: routing (incl. Gemini's `model:method` segment), auth and version checks,
//! choosing the behaviour (pushed queue, then model keywords), and writing the answer (see `answers` for which one).

use std::time::Duration;

use actix_web::HttpResponse;
use serde_json::{Value, json};

use super::answers::{Answer, cut, first_half, stream_error_frames, success};
use super::errors::{self, Api};
use super::fixtures::frame_json;
use super::reply::{self, End};
use super::{Behaviour, KEYWORDS, RecordedRequest, Shared};

/// What a routed request asks for.
#[derive(Clone)]
pub(super) struct Call {
    pub(super) api: Api,
    /// Body `model`, Azure deployment id, or Gemini model segment.
    pub(super) model: String,
    pub(super) stream: bool,
    /// Gemini `streamGenerateContent` without `alt=sse` answers one JSON array.
    pub(super) json_array: bool,
    /// The request has a non-empty `tools` array.
    pub(super) tools: bool,
    /// Anthropic request with a `thinking` field.
    pub(super) thinking: bool,
    /// Every tool is the provider's hosted web search (Anthropic's server tool, Gemini's
    /// `googleSearch`): the model searches and answers with citations.
    pub(super) web_search: bool,
}

pub(super) async fn handle(shared: &Shared, req: &RecordedRequest) -> HttpResponse {
    let Some(call) = route(req) else {
        let body = json!({"error": {"message": format!("Invalid URL ({} {})", req.method, req.path),
            "type": "invalid_request_error", "param": null, "code": null}});
        return reply::json(404, &body);
    };
    if let Some(rejection) = check_request(shared, &call, req) {
        return rejection;
    }
    let (behaviour, slow) = match shared.next_pushed() {
        Some(Behaviour::Slow) => (Behaviour::Ok, true),
        Some(pushed) => (pushed, false),
        None => keyword_behaviour(&call.model),
    };
    let options = shared.options();
    if slow {
        tokio::time::sleep(options.slow_delay).await;
    }
    let delay = if slow {
        options.slow_chunk_delay
    } else {
        options.chunk_delay
    };
    let api = call.api;
    let answer = match behaviour {
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return errors::server_error(api);
        }
        Behaviour::Status(code, body, headers) => {
            return reply::body(code, reply::JSON, body, &headers);
        }
        Behaviour::Fail429 => return errors::rate_limited(api, false),
        Behaviour::FailQuota => return errors::rate_limited(api, true),
        Behaviour::Fail500 => return errors::server_error(api),
        Behaviour::Fail503 => return errors::overloaded(api, 503),
        Behaviour::Fail529 => return errors::overloaded(api, 529),
        Behaviour::Fail400 => return errors::fixture_400(api),
        Behaviour::Fail401 => return errors::unauthorized(api),
        Behaviour::Fail404 => return errors::not_found(api, &call.model),
        Behaviour::StreamError if !call.stream => return errors::server_error(api),
        Behaviour::StreamError => {
            Answer::Stream(stream_error_frames(&call, options.cut_after), End::Clean)
        }
        Behaviour::CutStream => cut(success(&call, &Behaviour::Ok), options.cut_after),
        other => success(&call, &other),
    };
    let cancelled = shared.cancel_counter();
    match answer {
        Answer::Json(text) => reply::json_text(200, &text),
        Answer::Stream(frames, end) if call.json_array => {
            // Gemini without `alt=sse`: the chunks as one JSON array (what the real API answers).
            let items: Vec<Value> = frames.iter().filter_map(|f| frame_json(f)).collect();
            let text = serde_json::to_string_pretty(&items).unwrap_or_default();
            let chunks = if end == End::Abort {
                vec![first_half(&text)]
            } else {
                vec![text]
            };
            reply::stream(200, reply::JSON, chunks, end, delay, cancelled)
        }
        Answer::Stream(frames, end) => {
            let content_type = if call.stream { reply::SSE } else { reply::JSON };
            reply::stream(200, content_type, frames, end, delay, cancelled)
        }
    }
}

fn route(req: &RecordedRequest) -> Option<Call> {
    if req.method != "POST" {
        return None;
    }
    let body_model = req
        .body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let body_stream = req
        .body
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let non_empty = |key: &str| {
        req.body
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    let tools = non_empty("tools");
    let thinking = req.body.get("thinking").is_some_and(|t| !t.is_null());
    let web_search = tools
        && req.body["tools"].as_array().is_some_and(|all| {
            all.iter().all(|t| {
                t.get("googleSearch").is_some()
                    || t["type"]
                        .as_str()
                        .is_some_and(|k| k.starts_with("web_search_"))
            })
        });
    let mut call = Call {
        api: Api::Responses,
        model: body_model,
        stream: body_stream,
        json_array: false,
        tools,
        thinking,
        web_search,
    };
    let path = req.path.as_str();
    if path == "/v1/responses" {
        return Some(call);
    }
    if path == "/v1/chat/completions" {
        call.api = Api::Chat;
        return Some(call);
    }
    if path == "/v1/messages" {
        call.api = Api::Anthropic;
        return Some(call);
    }
    if let Some(rest) = path.strip_prefix("/openai/deployments/")
        && let Some(deployment) = rest.strip_suffix("/chat/completions")
        && !deployment.is_empty()
        && !deployment.contains('/')
    {
        call.api = Api::Azure;
        call.model = deployment.to_owned();
        return Some(call);
    }
    let (model, method) = path.strip_prefix("/v1beta/models/")?.rsplit_once(':')?;
    call.api = Api::Gemini;
    call.model = model.to_owned();
    call.thinking = false;
    match method {
        "generateContent" => call.stream = false,
        "streamGenerateContent" => {
            call.stream = true;
            call.json_array = req.query_param("alt") != Some("sse");
        }
        _ => return None,
    }
    Some(call)
}

/// Auth, version and minimal body checks, answered the way each provider does. `None` = accepted.
fn check_request(shared: &Shared, call: &Call, req: &RecordedRequest) -> Option<HttpResponse> {
    let bearer = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let key = match call.api {
        Api::Responses | Api::Chat => bearer,
        Api::Azure => req.header("api-key").or(bearer),
        Api::Anthropic => req.header("x-api-key"),
        Api::Gemini => req
            .header("x-goog-api-key")
            .or_else(|| req.query_param("key")),
    };
    match (key.filter(|k| !k.is_empty()), &shared.options().api_key) {
        (None, _) => return Some(errors::missing_key(call.api)),
        (Some(got), Some(want)) if got != want => return Some(errors::wrong_key(call.api)),
        _ => {}
    }
    if call.api == Api::Azure && req.query_param("api-version").is_none_or(str::is_empty) {
        return Some(reply::json(
            404,
            &json!({"error": {"code": "404", "message": "Resource not found"}}),
        ));
    }
    if call.api == Api::Anthropic && req.header("anthropic-version").is_none() {
        return Some(errors::bad_request(
            call.api,
            "anthropic-version: header is required",
        ));
    }
    if !req.body.is_object() {
        let message =
            "We could not parse the JSON body of your request. The API expects a JSON payload.";
        return Some(errors::bad_request(call.api, message));
    }
    let missing = |field: &str| req.body.get(field).is_none_or(Value::is_null);
    let required: &[&str] = match call.api {
        Api::Responses => &["model"],
        Api::Chat => &["model", "messages"],
        Api::Azure => &["messages"],
        Api::Anthropic => &["model", "messages", "max_tokens"],
        Api::Gemini => &["contents"],
    };
    let Some(field) = required.iter().find(|f| missing(f)) else {
        return super::rules::violation(call.api, &req.body)
            .map(|m| errors::bad_request(call.api, &m));
    };
    let message = match call.api {
        Api::Anthropic => format!("{field}: Field required"),
        Api::Gemini => format!("* GenerateContentRequest.{field}: {field} is not specified"),
        _ => format!("Missing required parameter: '{field}'."),
    };
    Some(errors::bad_request(call.api, &message))
}

fn keyword_behaviour(model: &str) -> (Behaviour, bool) {
    let behaviour = KEYWORDS
        .iter()
        .find(|(keyword, _)| model.contains(keyword))
        .map(|(_, b)| b.clone())
        .unwrap_or(Behaviour::Ok);
    (behaviour, model.contains("slow"))
}

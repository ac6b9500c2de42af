//! Owns request handling per provider: routing (incl. Gemini's `model:method` segment), auth and version checks,
//! choosing the behaviour (pushed queue, then model keywords) and picking / rewriting the fixture to serve.

use std::time::Duration;

use actix_web::HttpResponse;
use serde_json::{Value, json};

use super::errors::{self, Api};
use super::fixtures::{fixture, fixture_json, frame_json, sse_frames};
use super::reply::{self, End};
use super::{Behaviour, KEYWORDS, RecordedRequest, Shared};

/// What a routed request asks for.
struct Call {
    api: Api,
    /// Body `model`, Azure deployment id, or Gemini model segment.
    model: String,
    stream: bool,
    /// Gemini `streamGenerateContent` without `alt=sse` answers one JSON array.
    json_array: bool,
    tools: bool,
    thinking: bool,
}

/// A successful answer before the behaviour's transport tweaks (cut, delay).
enum Answer {
    Json(String),
    Stream(Vec<String>, End),
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
    let delay = if slow { options.slow_chunk_delay } else { options.chunk_delay };
    let api = call.api;
    let answer = match behaviour {
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return errors::server_error(api);
        }
        Behaviour::Status(code, body, headers) => return reply::body(code, reply::JSON, body, &headers),
        Behaviour::Fail429 => return errors::rate_limited(api, false),
        Behaviour::FailQuota => return errors::rate_limited(api, true),
        Behaviour::Fail500 => return errors::server_error(api),
        Behaviour::Fail503 => return errors::overloaded(api, 503),
        Behaviour::Fail529 => return errors::overloaded(api, 529),
        Behaviour::Fail400 => return errors::fixture_400(api),
        Behaviour::Fail401 => return errors::unauthorized(api),
        Behaviour::Fail404 => return errors::not_found(api, &call.model),
        Behaviour::StreamError if !call.stream => return errors::server_error(api),
        Behaviour::StreamError => Answer::Stream(stream_error_frames(&call, options.cut_after), End::Clean),
        Behaviour::CutStream => cut(success(&call, &Behaviour::Ok), options.cut_after),
        other => success(&call, &other),
    };
    let cancelled = shared.cancel_counter();
    match answer {
        Answer::Json(text) => reply::json_text(200, &text),
        Answer::Stream(frames, end) if call.json_array => {
            // Gemini without `alt=sse`: one JSON array of the chunks, streamed in pieces like the real API.
            let items: Vec<Value> = frames.iter().filter_map(|f| frame_json(f)).collect();
            let text = serde_json::to_string_pretty(&items).unwrap_or_default();
            let chunks = if end == End::Abort { vec![first_half(&text)] } else { vec![text] };
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
    let body_model = req.body.get("model").and_then(Value::as_str).unwrap_or_default().to_owned();
    let body_stream = req.body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let non_empty = |key: &str| req.body.get(key).and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    let tools = non_empty("tools");
    let thinking = req.body.get("thinking").is_some_and(|t| !t.is_null());
    let mut call = Call { api: Api::Responses, model: body_model, stream: body_stream, json_array: false, tools, thinking };
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
    let bearer = req.header("authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    let key = match call.api {
        Api::Responses | Api::Chat => bearer,
        Api::Azure => req.header("api-key").or(bearer),
        Api::Anthropic => req.header("x-api-key"),
        Api::Gemini => req.header("x-goog-api-key").or_else(|| req.query_param("key")),
    };
    match (key.filter(|k| !k.is_empty()), &shared.options().api_key) {
        (None, _) => return Some(errors::missing_key(call.api)),
        (Some(got), Some(want)) if got != want => return Some(errors::wrong_key(call.api)),
        _ => {}
    }
    if call.api == Api::Azure && req.query_param("api-version").is_none_or(str::is_empty) {
        return Some(reply::json(404, &json!({"error": {"code": "404", "message": "Resource not found"}})));
    }
    if call.api == Api::Anthropic && req.header("anthropic-version").is_none() {
        return Some(errors::bad_request(call.api, "anthropic-version: header is required"));
    }
    if !req.body.is_object() {
        let message = "We could not parse the JSON body of your request. The API expects a JSON payload.";
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
    let field = required.iter().find(|f| missing(f))?;
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

fn stream_fixture(name: &str) -> Answer {
    Answer::Stream(sse_frames(fixture(name)), End::Clean)
}

fn rewrite_stream(name: &str, from: &str, to: &str) -> Answer {
    Answer::Stream(sse_frames(&fixture(name).replace(from, to)), End::Clean)
}

fn json_with(name: &str, edit: impl FnOnce(&mut Value)) -> Answer {
    let mut value = fixture_json(name);
    edit(&mut value);
    Answer::Json(serde_json::to_string_pretty(&value).unwrap_or_default())
}

/// The 200 answer for `Ok` and the content variants (`MaxTokens`, `ContentFilter`, ...).
fn success(call: &Call, behaviour: &Behaviour) -> Answer {
    match call.api {
        Api::Responses => responses(call, behaviour),
        Api::Chat => chat(call, behaviour, "openai"),
        Api::Azure => chat(call, behaviour, "azure-openai"),
        Api::Anthropic => anthropic(call, behaviour),
        Api::Gemini => gemini(call, behaviour),
    }
}

fn responses(call: &Call, behaviour: &Behaviour) -> Answer {
    let kind = if call.tools { "tool_call" } else { "text" };
    match (behaviour, call.stream) {
        (Behaviour::MaxTokens, false) => Answer::Json(fixture("openai/responses_incomplete_max_tokens.json").to_owned()),
        (Behaviour::MaxTokens, true) => {
            // The text stream, with its terminal `response.completed` swapped for `response.incomplete`.
            let mut frames = sse_frames(fixture("openai/responses_text_stream.sse"));
            let last = frames.pop().and_then(|f| frame_json(&f)).unwrap_or_default();
            let event = json!({"type": "response.incomplete",
                "response": fixture_json("openai/responses_incomplete_max_tokens.json"),
                "sequence_number": last["sequence_number"]});
            frames.push(format!("event: response.incomplete\ndata: {event}\n\n"));
            Answer::Stream(frames, End::Clean)
        }
        (_, false) => Answer::Json(fixture(&format!("openai/responses_{kind}.json")).to_owned()),
        (_, true) => stream_fixture(&format!("openai/responses_{kind}_stream.sse")),
    }
}

fn chat(call: &Call, behaviour: &Behaviour, dir: &str) -> Answer {
    let kind = if call.tools { "tool_call" } else { "text" };
    let finish = match behaviour {
        Behaviour::MaxTokens => "length",
        Behaviour::ContentFilter if dir == "azure-openai" => "content_filter",
        _ => "stop",
    };
    match (finish, call.stream) {
        ("content_filter", false) => Answer::Json(fixture("azure-openai/chat_completion_output_filtered.json").to_owned()),
        ("stop", false) => Answer::Json(fixture(&format!("{dir}/chat_completion_{kind}.json")).to_owned()),
        (_, false) => json_with(&format!("{dir}/chat_completion_text.json"), |v| {
            v["choices"][0]["finish_reason"] = json!(finish);
        }),
        ("stop", true) => stream_fixture(&format!("{dir}/chat_completion_{kind}_stream.sse")),
        (_, true) => rewrite_stream(
            &format!("{dir}/chat_completion_text_stream.sse"),
            "\"finish_reason\":\"stop\"",
            &format!("\"finish_reason\":\"{finish}\""),
        ),
    }
}

fn anthropic(call: &Call, behaviour: &Behaviour) -> Answer {
    let kind = if call.thinking {
        "thinking"
    } else if call.tools {
        "tool_use"
    } else {
        "text"
    };
    match (behaviour, call.stream) {
        (Behaviour::MaxTokens, false) => Answer::Json(fixture("anthropic/message_max_tokens.json").to_owned()),
        (Behaviour::MaxTokens, true) => rewrite_stream(
            "anthropic/message_text_stream.sse",
            "\"stop_reason\":\"end_turn\"",
            "\"stop_reason\":\"max_tokens\"",
        ),
        (Behaviour::Refusal, true) => stream_fixture("anthropic/message_refusal_stream.sse"),
        (Behaviour::Refusal, false) => Answer::Json(accumulate_anthropic("anthropic/message_refusal_stream.sse")),
        (_, false) => Answer::Json(fixture(&format!("anthropic/message_{kind}.json")).to_owned()),
        (_, true) => stream_fixture(&format!("anthropic/message_{kind}_stream.sse")),
    }
}

/// The Message a simple Anthropic stream accumulates to (text blocks only; enough for the refusal fixture).
fn accumulate_anthropic(name: &str) -> String {
    let mut message = Value::Null;
    for event in sse_frames(fixture(name)).iter().filter_map(|f| frame_json(f)) {
        match event["type"].as_str().unwrap_or_default() {
            "message_start" => message = event["message"].clone(),
            "content_block_start" => {
                if let Some(content) = message["content"].as_array_mut() {
                    content.push(event["content_block"].clone());
                }
            }
            "content_block_delta" => {
                let index = event["index"].as_u64().unwrap_or_default() as usize;
                let text = event["delta"]["text"].as_str().unwrap_or_default();
                let block = &mut message["content"][index]["text"];
                *block = json!(format!("{}{text}", block.as_str().unwrap_or_default()));
            }
            "message_delta" => {
                if let (Some(msg), Some(delta)) = (message.as_object_mut(), event["delta"].as_object()) {
                    msg.extend(delta.clone());
                }
                message["usage"]["output_tokens"] = event["usage"]["output_tokens"].clone();
            }
            _ => {}
        }
    }
    serde_json::to_string_pretty(&message).unwrap_or_default()
}

fn gemini(call: &Call, behaviour: &Behaviour) -> Answer {
    let single = match behaviour {
        Behaviour::PromptBlocked => Some("gemini/generate_content_prompt_blocked.json"),
        Behaviour::ParallelCalls => Some("gemini/generate_content_parallel_function_calls.json"),
        Behaviour::MaxTokens if !call.stream => Some("gemini/generate_content_max_tokens.json"),
        _ => None,
    };
    let kind = if call.tools { "function_call" } else { "text" };
    match (single, call.stream) {
        (Some(name), false) => Answer::Json(fixture(name).to_owned()),
        (Some(name), true) => Answer::Stream(vec![format!("data: {}\r\n\r\n", fixture_json(name))], End::Clean),
        (None, true) if *behaviour == Behaviour::MaxTokens => rewrite_stream(
            "gemini/stream_generate_content_text.sse",
            "\"finishReason\":\"STOP\"",
            "\"finishReason\":\"MAX_TOKENS\"",
        ),
        (None, false) => Answer::Json(fixture(&format!("gemini/generate_content_{kind}.json")).to_owned()),
        (None, true) => stream_fixture(&format!("gemini/stream_generate_content_{kind}.sse")),
    }
}

/// The provider's mid-stream failure: a whole fixture where one exists, else a few frames plus an error frame.
fn stream_error_frames(call: &Call, cut_after: usize) -> Vec<String> {
    match call.api {
        Api::Responses => sse_frames(fixture("openai/responses_stream_failed.sse")),
        Api::Anthropic => sse_frames(fixture("anthropic/stream_error_overloaded.sse")),
        _ => {
            let Answer::Stream(mut frames, _) = success(call, &Behaviour::Ok) else { return Vec::new() };
            frames.truncate(cut_after.min(frames.len().saturating_sub(1)));
            frames.push(errors::stream_error_frame(call.api));
            frames
        }
    }
}

/// `cut-stream`: a few frames (never the last one), or half of a JSON body, then an aborted connection.
fn cut(answer: Answer, cut_after: usize) -> Answer {
    match answer {
        Answer::Stream(mut frames, _) => {
            frames.truncate(cut_after.min(frames.len().saturating_sub(1)));
            Answer::Stream(frames, End::Abort)
        }
        Answer::Json(text) => Answer::Stream(vec![first_half(&text)], End::Abort),
    }
}

fn first_half(text: &str) -> String {
    let mut end = text.len() / 2;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

//! Owns the 200 answers: which fixture each provider serves for a request shape and behaviour (text / tools /
//! thinking, max-tokens, content variants), and the rewrites for mid-stream errors and cut streams.

use serde_json::{Value, json};

use super::Behaviour;
use super::errors::{self, Api};
use super::fixtures::{fixture, fixture_json, frame_json, sse_frames};
use super::providers::Call;
use super::reply::End;

/// A successful answer before the behaviour's transport tweaks (cut, delay).
pub(super) enum Answer {
    Json(String),
    Stream(Vec<String>, End),
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
pub(super) fn success(call: &Call, behaviour: &Behaviour) -> Answer {
    match behaviour {
        Behaviour::CallTool(name) => return rename_tool(success(call, &Behaviour::Ok), name),
        Behaviour::CallToolWith(name, arguments) => {
            let answer = rename_tool(success(call, &Behaviour::Ok), name);
            return with_arguments(answer, arguments);
        }
        Behaviour::Text => {
            let plain = Call {
                tools: false,
                thinking: false,
                web_search: false,
                ..call.clone()
            };
            return success(&plain, &Behaviour::Ok);
        }
        _ => {}
    }
    match call.api {
        Api::Responses => responses(call, behaviour),
        Api::Chat => chat(call, behaviour, "openai"),
        Api::Azure => chat(call, behaviour, "azure-openai"),
        Api::Anthropic => anthropic(call, behaviour),
        Api::Gemini => gemini(call, behaviour),
    }
}

/// The tool-call answer calling `name` instead of the fixtures' `get_weather`.
fn rename_tool(answer: Answer, name: &str) -> Answer {
    let name = format!("\"name\":\"{name}\"");
    let rename = |text: &str| text.replace("\"name\":\"get_weather\"", &name);
    match answer {
        Answer::Json(text) => {
            Answer::Json(rename(&text.replace("\"name\": \"get_weather\"", &name)))
        }
        Answer::Stream(frames, end) => {
            Answer::Stream(frames.iter().map(|f| rename(f)).collect(), end)
        }
    }
}

/// The tool-call answer with `arguments` as the call's arguments, in every provider's shape:
/// whole values replaced, and of the streamed fragments the first carries all of it, the rest are
/// empty (so the concatenation a client builds is exactly `arguments`).
fn with_arguments(answer: Answer, arguments: &Value) -> Answer {
    let mut sent = false;
    match answer {
        Answer::Json(text) => {
            let mut value: Value = serde_json::from_str(&text).unwrap_or_default();
            set_arguments(&mut value, arguments, &mut sent);
            Answer::Json(serde_json::to_string_pretty(&value).unwrap_or_default())
        }
        Answer::Stream(frames, end) => {
            let frames = frames
                .into_iter()
                .map(|frame| match frame_json(&frame) {
                    Some(mut value) => {
                        set_arguments(&mut value, arguments, &mut sent);
                        replace_data(&frame, &value)
                    }
                    None => frame,
                })
                .collect();
            Answer::Stream(frames, end)
        }
    }
}

/// Walks one body or event. `sent`: whether a fragment already carried the arguments.
fn set_arguments(value: &mut Value, arguments: &Value, sent: &mut bool) {
    let text = arguments.to_string();
    let mut fragment = |slot: &mut Value| {
        if slot.as_str().is_some_and(|s| !s.is_empty()) {
            *slot = json!(if *sent { "" } else { text.as_str() });
            *sent = true;
        }
    };
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| set_arguments(v, arguments, sent)),
        Value::Object(object) => {
            match object.get("type").and_then(Value::as_str) {
                // OpenAI Responses: whole items and the `.done` event (an item just added has
                // `""`); deltas are fragments.
                Some("function_call" | "response.function_call_arguments.done")
                    if object.get("arguments").and_then(Value::as_str) != Some("") =>
                {
                    object.insert("arguments".into(), json!(text));
                }
                Some("response.function_call_arguments.delta") => {
                    object.get_mut("delta").into_iter().for_each(&mut fragment);
                }
                // Anthropic: the whole block (non-stream; a stream's start block has `{}`) and
                // `input_json_delta` fragments.
                Some("tool_use") if object.get("input") != Some(&json!({})) => {
                    object.insert("input".into(), arguments.clone());
                }
                Some("input_json_delta") => {
                    object
                        .get_mut("partial_json")
                        .into_iter()
                        .for_each(&mut fragment);
                }
                _ => {}
            }
            // Chat Completions (whole message or delta fragments) and Gemini.
            if let Some(function) = object.get_mut("function").and_then(Value::as_object_mut) {
                function
                    .get_mut("arguments")
                    .into_iter()
                    .for_each(&mut fragment);
            }
            if let Some(call) = object
                .get_mut("functionCall")
                .and_then(Value::as_object_mut)
            {
                call.insert("args".into(), arguments.clone());
            }
            object
                .values_mut()
                .for_each(|v| set_arguments(v, arguments, sent));
        }
        _ => {}
    }
}

/// `frame` with the JSON of its (single-line) `data:` line replaced by `value`.
fn replace_data(frame: &str, value: &Value) -> String {
    let Some(start) = frame.find("data:") else {
        return frame.to_owned();
    };
    let end = frame[start..]
        .find(['\r', '\n'])
        .map_or(frame.len(), |i| start + i);
    format!("{}data: {value}{}", &frame[..start], &frame[end..])
}

fn responses(call: &Call, behaviour: &Behaviour) -> Answer {
    let kind = if call.tools { "tool_call" } else { "text" };
    match (behaviour, call.stream) {
        (Behaviour::MaxTokens, false) => {
            Answer::Json(fixture("openai/responses_incomplete_max_tokens.json").to_owned())
        }
        (Behaviour::MaxTokens, true) => {
            // The text stream, with its terminal `response.completed` swapped for `response.incomplete`.
            let mut frames = sse_frames(fixture("openai/responses_text_stream.sse"));
            let last = frames
                .pop()
                .and_then(|f| frame_json(&f))
                .unwrap_or_default();
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
        ("content_filter", false) => {
            Answer::Json(fixture("azure-openai/chat_completion_output_filtered.json").to_owned())
        }
        ("stop", false) => {
            Answer::Json(fixture(&format!("{dir}/chat_completion_{kind}.json")).to_owned())
        }
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
    } else if call.web_search {
        "web_search"
    } else if call.tools {
        "tool_use"
    } else {
        "text"
    };
    match (behaviour, call.stream) {
        (Behaviour::MaxTokens, false) => {
            Answer::Json(fixture("anthropic/message_max_tokens.json").to_owned())
        }
        (Behaviour::MaxTokens, true) => rewrite_stream(
            "anthropic/message_text_stream.sse",
            "\"stop_reason\":\"end_turn\"",
            "\"stop_reason\":\"max_tokens\"",
        ),
        (Behaviour::Refusal, true) => stream_fixture("anthropic/message_refusal_stream.sse"),
        (Behaviour::Refusal, false) => {
            Answer::Json(accumulate_anthropic("anthropic/message_refusal_stream.sse"))
        }
        (_, false) => Answer::Json(fixture(&format!("anthropic/message_{kind}.json")).to_owned()),
        (_, true) => stream_fixture(&format!("anthropic/message_{kind}_stream.sse")),
    }
}

/// The Message a simple Anthropic stream accumulates to (text blocks only; enough for the refusal fixture).
fn accumulate_anthropic(name: &str) -> String {
    let mut message = Value::Null;
    for event in sse_frames(fixture(name))
        .iter()
        .filter_map(|f| frame_json(f))
    {
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
                if let (Some(msg), Some(delta)) =
                    (message.as_object_mut(), event["delta"].as_object())
                {
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
    let kind = match (call.web_search, call.tools) {
        (true, _) => "grounded",
        (false, true) => "function_call",
        (false, false) => "text",
    };
    match (single, call.stream) {
        (Some(name), false) => Answer::Json(fixture(name).to_owned()),
        (Some(name), true) => Answer::Stream(
            vec![format!("data: {}\r\n\r\n", fixture_json(name))],
            End::Clean,
        ),
        (None, true) if *behaviour == Behaviour::MaxTokens => rewrite_stream(
            "gemini/stream_generate_content_text.sse",
            "\"finishReason\":\"STOP\"",
            "\"finishReason\":\"MAX_TOKENS\"",
        ),
        (None, false) => {
            Answer::Json(fixture(&format!("gemini/generate_content_{kind}.json")).to_owned())
        }
        (None, true) => stream_fixture(&format!("gemini/stream_generate_content_{kind}.sse")),
    }
}

/// The provider's mid-stream failure: a whole fixture where one exists, else a few frames plus an error frame.
pub(super) fn stream_error_frames(call: &Call, cut_after: usize) -> Vec<String> {
    match call.api {
        Api::Responses => sse_frames(fixture("openai/responses_stream_failed.sse")),
        Api::Anthropic => sse_frames(fixture("anthropic/stream_error_overloaded.sse")),
        _ => {
            let Answer::Stream(mut frames, _) = success(call, &Behaviour::Ok) else {
                return Vec::new();
            };
            frames.truncate(cut_after.min(frames.len().saturating_sub(1)));
            frames.push(errors::stream_error_frame(call.api));
            frames
        }
    }
}

/// `cut-stream`: a few frames (never the last one), or half of a JSON body, then an aborted connection.
pub(super) fn cut(answer: Answer, cut_after: usize) -> Answer {
    match answer {
        Answer::Stream(mut frames, _) => {
            frames.truncate(cut_after.min(frames.len().saturating_sub(1)));
            Answer::Stream(frames, End::Abort)
        }
        Answer::Json(text) => Answer::Stream(vec![first_half(&text)], End::Abort),
    }
}

pub(super) fn first_half(text: &str) -> String {
    let mut end = text.len() / 2;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

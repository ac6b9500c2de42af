//! Reads the Open Responses stream events a turn needs: text deltas, the terminal response (id, model,
//! usage, incomplete reason) and in-stream errors. Every other event is skipped.

use serde_json::Value;

use crate::{error::ChatError, sse::Frame};

/// Token counts of one turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens (the whole conversation the gateway replayed, plus instructions).
    pub input: u64,
    /// Generated tokens.
    pub output: u64,
}

/// The end of a successful turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The response id, to send as `previous_response_id` next turn.
    pub id: String,
    /// The model that answered, as the provider reports it.
    pub model: String,
    /// Token usage, when the provider reported it.
    pub usage: Option<Usage>,
    /// `Some(reason)` for `response.incomplete` (e.g. `max_output_tokens`).
    pub incomplete: Option<String>,
}

/// What one frame means for the turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnEvent {
    /// Answer text to show (output text or a refusal).
    Text(String),
    /// The response finished (completed or incomplete).
    Done(Completion),
    /// Nothing to show.
    Skip,
}

/// Interprets one SSE frame; in-stream failures become errors.
pub fn interpret(frame: &Frame) -> Result<TurnEvent, ChatError> {
    if frame.data.trim() == "[DONE]" {
        return Ok(TurnEvent::Skip);
    }
    let value: Value = match serde_json::from_str(&frame.data) {
        Ok(value) => value,
        Err(_) if !is_handled(&frame.event) => return Ok(TurnEvent::Skip),
        Err(err) => {
            return Err(ChatError::Protocol(format!(
                "unreadable `{}` event: {err}",
                frame.event
            )));
        }
    };
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(&frame.event);
    match kind {
        "response.output_text.delta" | "response.refusal.delta" => Ok(TurnEvent::Text(
            value
                .get("delta")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        )),
        "response.completed" | "response.incomplete" => {
            completion(value.get("response").unwrap_or(&Value::Null)).map(TurnEvent::Done)
        }
        "response.failed" => {
            let error = value.pointer("/response/error").unwrap_or(&Value::Null);
            Err(if error.is_object() {
                ChatError::from_stream_error(error)
            } else {
                ChatError::Failed {
                    code: "response_failed".to_owned(),
                    message: "the gateway gave no reason".to_owned(),
                }
            })
        }
        "error" => Err(ChatError::from_stream_error(&value)),
        _ => Ok(TurnEvent::Skip),
    }
}

fn is_handled(event: &str) -> bool {
    matches!(
        event,
        "" | "error"
            | "response.output_text.delta"
            | "response.refusal.delta"
            | "response.completed"
            | "response.incomplete"
            | "response.failed"
    )
}

fn completion(response: &Value) -> Result<Completion, ChatError> {
    let id = response
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| ChatError::Protocol("the final response has no id".to_owned()))?;
    let usage = response
        .get("usage")
        .filter(|u| u.is_object())
        .map(|u| Usage {
            input: u.get("input_tokens").and_then(Value::as_u64).unwrap_or(0),
            output: u.get("output_tokens").and_then(Value::as_u64).unwrap_or(0),
        });
    let incomplete =
        (response.get("status").and_then(Value::as_str) == Some("incomplete")).then(|| {
            response
                .pointer("/incomplete_details/reason")
                .and_then(Value::as_str)
                .unwrap_or("unknown reason")
                .to_owned()
        });
    Ok(Completion {
        id: id.to_owned(),
        model: response
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        usage,
        incomplete,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn frame(event: &str, data: &Value) -> Frame {
        Frame {
            event: event.to_owned(),
            data: data.to_string(),
        }
    }

    #[test]
    fn reads_deltas_and_the_final_response() {
        let delta = frame(
            "response.output_text.delta",
            &json!({"type":"response.output_text.delta","delta":"Hi"}),
        );
        assert_eq!(interpret(&delta).unwrap(), TurnEvent::Text("Hi".into()));
        let done = frame(
            "response.completed",
            &json!({"type":"response.completed","response":{"id":"resp_1","model":"gpt-4o-mini",
                "status":"completed","usage":{"input_tokens":14,"output_tokens":50,"total_tokens":64}}}),
        );
        assert_eq!(
            interpret(&done).unwrap(),
            TurnEvent::Done(Completion {
                id: "resp_1".into(),
                model: "gpt-4o-mini".into(),
                usage: Some(Usage {
                    input: 14,
                    output: 50
                }),
                incomplete: None,
            })
        );
    }

    #[test]
    fn reads_incomplete_responses() {
        let done = frame(
            "response.incomplete",
            &json!({"type":"response.incomplete","response":{"id":"resp_2","status":"incomplete",
                "incomplete_details":{"reason":"max_output_tokens"},"usage":null}}),
        );
        let TurnEvent::Done(completion) = interpret(&done).unwrap() else {
            panic!("a terminal event");
        };
        assert_eq!(completion.incomplete.as_deref(), Some("max_output_tokens"));
        assert_eq!(completion.usage, None);
    }

    #[test]
    fn turns_failures_into_errors() {
        let failed = frame(
            "response.failed",
            &json!({"type":"response.failed","response":{"id":"r","status":"failed",
                "error":{"code":"upstream_error","message":"The upstream stream broke."}}}),
        );
        assert_eq!(
            interpret(&failed).unwrap_err().to_string(),
            "the answer failed: upstream_error: The upstream stream broke."
        );
        let bad = Frame {
            event: "response.completed".into(),
            data: "{oops".into(),
        };
        assert!(matches!(interpret(&bad), Err(ChatError::Protocol(_))));
    }

    #[test]
    fn skips_everything_else() {
        for (event, data) in [
            ("response.created", "{\"type\":\"response.created\"}"),
            ("", "[DONE]"),
            ("ping", "not json"),
        ] {
            let frame = Frame {
                event: event.into(),
                data: data.into(),
            };
            assert_eq!(interpret(&frame).unwrap(), TurnEvent::Skip);
        }
    }
}

//! WebSocket wire frames: parsing a client `response.create` frame (`WebSocketResponseCreateEvent`)
//! into a `CreateResponse`, and the one error envelope (`WebSocketErrorEvent`).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{
    api::{CreateResponse, ErrorObject},
    error::GatewayError,
};

/// The only client event type.
pub const CREATE_EVENT: &str = "response.create";

/// HTTP-only fields a `response.create` frame must not carry (the spec makes any value invalid).
const DISALLOWED: [&str; 2] = ["stream_options", "background"];

/// `{"type":"error","status":…,"error":{type,code,message,param}}`.
#[derive(Debug, Serialize)]
struct ErrorFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    status: u16,
    error: &'a ErrorObject,
}

fn invalid_frame(
    message: impl Into<String>,
    param: Option<String>,
    code: &'static str,
) -> GatewayError {
    GatewayError::InvalidRequest {
        message: message.into(),
        param,
        code,
    }
}

/// One parsed `response.create` frame.
#[derive(Debug)]
pub struct CreateFrame {
    /// The request, as over HTTP.
    pub request: CreateResponse,
    /// `false` (OpenAI's `generate: false`): prepare the turn's state and return a response id
    /// to chain from, without calling a model. Codex opens every socket with such a warm-up.
    pub generate: bool,
}

/// Parses one text frame; every failure is a 400 naming the offending field.
pub fn parse_create(text: &[u8]) -> Result<CreateFrame, GatewayError> {
    let value: Value = serde_json::from_slice(text).map_err(|e| {
        invalid_frame(
            format!("The frame is not valid JSON: {e}."),
            None,
            "invalid_json",
        )
    })?;
    let Value::Object(mut fields) = value else {
        return Err(invalid_frame(
            "A frame must be a JSON object.",
            None,
            "invalid_json",
        ));
    };
    match fields.remove("type") {
        Some(Value::String(kind)) if kind == CREATE_EVENT => {}
        Some(Value::String(kind)) => {
            return Err(invalid_frame(
                format!("Unsupported client event `{kind}`; send `{CREATE_EVENT}`."),
                Some("type".to_owned()),
                "unsupported_event_type",
            ));
        }
        _ => {
            return Err(GatewayError::invalid(
                format!("Missing required parameter: `type` (always `{CREATE_EVENT}`)."),
                Some("type"),
            ));
        }
    }
    // The spec forbids `stream` here, but OpenAI accepts it and the Codex CLI always sends
    // `"stream": true` (docs/providers/codex.md, WebSocket): every response streams anyway,
    // so it is accepted and ignored.
    fields.remove("stream");
    if let Some(field) = DISALLOWED.iter().find(|f| fields.contains_key(**f)) {
        return Err(GatewayError::invalid(
            format!("`{field}` must not be sent over WebSocket: every response streams as events."),
            Some(field),
        ));
    }
    let generate = match fields.remove("generate") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(generate)) => generate,
        Some(_) => {
            return Err(invalid_frame(
                "Invalid value for `generate`: expected a boolean.",
                Some("generate".to_owned()),
                "invalid_type",
            ));
        }
    };
    Ok(CreateFrame {
        request: typed(fields)?,
        generate,
    })
}

/// The remaining fields as a typed request, naming the path of a type error.
fn typed(fields: Map<String, Value>) -> Result<CreateResponse, GatewayError> {
    serde_path_to_error::deserialize(Value::Object(fields)).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let param = (path != ".").then_some(path);
        let message = match &param {
            Some(p) => format!("Invalid value for `{p}`: {inner}."),
            None => format!("Invalid frame: {inner}."),
        };
        invalid_frame(message, param, "invalid_type")
    })
}

/// The error envelope for a failure with a known `GatewayError`.
pub fn error_frame(err: &GatewayError) -> String {
    encode(err.status().as_u16(), &err.to_object())
}

/// The error envelope for a failure reported inside a stream (only its wire object is left).
pub fn stream_error_frame(error: &ErrorObject) -> String {
    encode(status_of(error), error)
}

fn encode(status: u16, error: &ErrorObject) -> String {
    let mut error = error.clone();
    // The envelope requires a string `code`.
    error.code.get_or_insert_with(|| error.kind.clone());
    let frame = ErrorFrame {
        kind: "error",
        status,
        error: &error,
    };
    serde_json::to_string(&frame).unwrap_or_else(|_| {
        String::from(
            r#"{"type":"error","status":500,"error":{"type":"server_error","code":"internal_error","message":"The gateway hit an internal error.","param":null}}"#,
        )
    })
}

/// The HTTP-like status of an error seen only as its wire object: the codes `GatewayError`
/// gives non-4xx statuses, then the error type.
pub fn status_of(error: &ErrorObject) -> u16 {
    match error.code.as_deref() {
        Some("upstream_timeout") => 504,
        Some("server_is_overloaded" | "no_healthy_provider" | "conversation_store_unavailable") => {
            503
        }
        Some(
            "upstream_error"
            | "upstream_unreachable"
            | "upstream_protocol_error"
            | "upstream_authentication_failed",
        ) => 502,
        Some("payload_too_large") => 413,
        _ => match error.kind.as_str() {
            "invalid_request_error" | "invalid_request" => 400,
            "not_found" => 404,
            "too_many_requests" => 429,
            _ => 500,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<CreateResponse, GatewayError> {
        parse_create(value.to_string().as_bytes()).map(|frame| frame.request)
    }

    #[test]
    fn create_frames_parse_into_requests() {
        let request = parse(json!({"type":"response.create","model":"m","input":"hi",
            "previous_response_id":"resp_1","store":false}))
        .unwrap();
        assert_eq!(request.model.as_deref(), Some("m"));
        assert_eq!(request.previous_response_id.as_deref(), Some("resp_1"));
        assert_eq!(request.store, Some(false));
        assert_eq!(request.stream, None);
        let codex = parse(
            json!({"type":"response.create","model":"m","input":[],"stream":true,
            "client_metadata":{"x":"y"}}),
        )
        .unwrap();
        assert_eq!(
            codex.stream, None,
            "accepted and ignored: every response streams"
        );
    }

    #[test]
    fn generate_false_is_a_warm_up() {
        let frame = |generate: Value| {
            let value =
                json!({"type":"response.create","model":"m","input":[],"generate":generate});
            parse_create(value.to_string().as_bytes())
        };
        assert!(!frame(json!(false)).unwrap().generate);
        assert!(frame(json!(true)).unwrap().generate);
        assert!(frame(Value::Null).unwrap().generate);
        let err = frame(json!("no")).unwrap_err();
        assert_eq!(
            (err.param().as_deref(), err.code()),
            (Some("generate"), "invalid_type")
        );
    }

    #[test]
    fn bad_frames_name_their_fault() {
        let cases = [
            (json!({"model":"m"}), Some("type"), "invalid_request"),
            (
                json!({"type":"response.cancel"}),
                Some("type"),
                "unsupported_event_type",
            ),
            (
                json!({"type":"response.create","stream_options":{}}),
                Some("stream_options"),
                "invalid_request",
            ),
            (
                json!({"type":"response.create","background":false}),
                Some("background"),
                "invalid_request",
            ),
            (
                json!({"type":"response.create","temperature":"hot"}),
                Some("temperature"),
                "invalid_type",
            ),
            (json!([1]), None, "invalid_json"),
        ];
        for (frame, param, code) in cases {
            let err = parse(frame.clone()).unwrap_err();
            assert_eq!(err.status().as_u16(), 400, "{frame}");
            assert_eq!(
                (err.param().as_deref(), err.code()),
                (param, code),
                "{frame}"
            );
        }
        assert_eq!(parse_create(b"{nope").unwrap_err().code(), "invalid_json");
    }

    #[test]
    fn error_frames_carry_status_and_the_error_object() {
        let err = GatewayError::NotFound {
            message: "gone".into(),
            param: Some("previous_response_id".into()),
            code: "previous_response_not_found",
        };
        let frame: Value = serde_json::from_str(&error_frame(&err)).unwrap();
        assert_eq!(
            frame,
            json!({"type":"error","status":404,"error":{"type":"not_found",
                "code":"previous_response_not_found","message":"gone","param":"previous_response_id"}})
        );
        let object = ErrorObject {
            kind: "server_error".into(),
            code: None,
            message: "m".into(),
            param: None,
        };
        let frame: Value = serde_json::from_str(&stream_error_frame(&object)).unwrap();
        assert_eq!(frame["status"], 500);
        assert_eq!(frame["error"]["code"], "server_error");
    }

    #[test]
    fn stream_statuses_follow_codes_then_types() {
        let object = |kind: &str, code: &str| ErrorObject {
            kind: kind.into(),
            code: Some(code.into()),
            message: String::new(),
            param: None,
        };
        assert_eq!(status_of(&object("server_error", "upstream_timeout")), 504);
        assert_eq!(status_of(&object("server_error", "upstream_error")), 502);
        assert_eq!(
            status_of(&object("too_many_requests", "rate_limit_exceeded")),
            429
        );
        assert_eq!(
            status_of(&object("invalid_request_error", "content_filter")),
            400
        );
        assert_eq!(status_of(&object("server_error", "internal_error")), 500);
    }
}

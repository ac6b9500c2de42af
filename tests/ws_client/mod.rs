//! A WebSocket test client for `/v1/responses` (awc): sends `response.create` frames and reads
//! whole turns, checking every event against the spec and the turn's grammar as it goes.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{pin::Pin, time::Duration};

use awc::{
    error::WsProtocolError,
    ws::{Frame, Message},
};
use futures::{Sink, SinkExt, Stream, StreamExt};
use serde_json::Value;

use crate::common::{
    gateway::TestGateway,
    spec::{SpecValidator, assert_valid_event},
};

/// How long a test waits for any one frame.
const FRAME_TIMEOUT: Duration = Duration::from_secs(15);

/// An open connection.
pub struct WsClient {
    sink: Pin<Box<dyn Sink<Message, Error = WsProtocolError>>>,
    stream: Pin<Box<dyn Stream<Item = Result<Frame, WsProtocolError>>>>,
}

/// One turn as the client saw it.
#[derive(Debug)]
pub struct Turn {
    /// The Open Responses events, in order.
    pub events: Vec<Value>,
    /// The error frame that ended the turn, if it failed.
    pub error: Option<Value>,
}

impl Turn {
    /// The terminal event's response (panics if the turn failed).
    pub fn response(&self) -> &Value {
        assert!(self.error.is_none(), "turn failed: {:?}", self.error);
        &self.events.last().expect("a finished turn has events")["response"]
    }

    /// The response id.
    pub fn id(&self) -> String {
        self.response()["id"].as_str().unwrap().to_owned()
    }

    /// The error frame (panics if the turn succeeded).
    pub fn error(&self) -> &Value {
        self.error.as_ref().expect("the turn should have failed")
    }

    /// The first `function_call` of the output.
    pub fn call(&self) -> Value {
        self.response()["output"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["type"] == "function_call")
            .cloned()
            .unwrap_or_else(|| panic!("no function call in {}", self.response()))
    }
}

/// Opens a WebSocket on the gateway's `/v1/responses`.
pub async fn connect(gw: &TestGateway) -> WsClient {
    try_connect(gw, None)
        .await
        .unwrap_or_else(|e| panic!("WebSocket connect failed: {e}"))
}

/// Opens a WebSocket with an optional bearer credential; the handshake error as text.
pub async fn try_connect(gw: &TestGateway, bearer: Option<&str>) -> Result<WsClient, String> {
    let url = format!("{}/v1/responses", gw.url.replacen("http://", "ws://", 1));
    let mut request = awc::Client::new().ws(url).max_frame_size(64 * 1024 * 1024);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let (response, conn) = request.connect().await.map_err(|e| format!("{e:?}"))?;
    assert_eq!(response.status().as_u16(), 101);
    let (sink, stream) = conn.split();
    Ok(WsClient {
        sink: Box::pin(sink),
        stream: Box::pin(stream),
    })
}

/// Panics unless `frame` is a spec-valid `WebSocketErrorEvent`.
pub fn assert_valid_error_frame(frame: &Value) {
    SpecValidator::get().assert_valid("WebSocketErrorEvent", frame);
}

impl WsClient {
    /// Sends any message.
    pub async fn send(&mut self, message: Message) {
        self.sink.send(message).await.expect("send a frame");
    }

    /// Sends a JSON text frame.
    pub async fn send_json(&mut self, frame: &Value) {
        self.send(Message::Text(frame.to_string().into())).await;
    }

    /// The next frame of any kind.
    pub async fn recv(&mut self) -> Frame {
        tokio::time::timeout(FRAME_TIMEOUT, self.stream.next())
            .await
            .expect("a frame within the timeout")
            .expect("the connection is open")
            .expect("a well-formed frame")
    }

    /// The next text frame as JSON (pings and pongs are skipped).
    pub async fn recv_json(&mut self) -> Value {
        loop {
            match self.recv().await {
                Frame::Text(bytes) => {
                    return serde_json::from_slice(&bytes).expect("JSON text frame");
                }
                Frame::Ping(_) | Frame::Pong(_) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Reads one turn: events until a terminal response event, or one error frame. Checks each
    /// event against its schema, gap-free sequence numbers from 0, and that neither the stream
    /// `error` event nor `response.failed` reaches a WebSocket client.
    pub async fn read_turn(&mut self) -> Turn {
        let mut events: Vec<Value> = Vec::new();
        loop {
            let frame = self.recv_json().await;
            let kind = frame["type"].as_str().unwrap_or_default().to_owned();
            if kind == "error" && frame.get("status").is_some() {
                assert_valid_error_frame(&frame);
                return Turn {
                    events,
                    error: Some(frame),
                };
            }
            assert_ne!(
                kind, "error",
                "a stream `error` event reached the client: {frame}"
            );
            assert_ne!(
                kind, "response.failed",
                "response.failed reached the client: {frame}"
            );
            assert_valid_event(&frame);
            assert_eq!(
                frame["sequence_number"].as_u64(),
                Some(events.len() as u64),
                "sequence numbers restart at 0 per turn and have no gaps: {frame}"
            );
            events.push(frame);
            if kind == "response.completed" || kind == "response.incomplete" {
                return Turn {
                    events,
                    error: None,
                };
            }
        }
    }

    /// Sends a `response.create` frame and reads its turn.
    pub async fn turn(&mut self, frame: Value) -> Turn {
        self.send_json(&frame).await;
        self.read_turn().await
    }
}

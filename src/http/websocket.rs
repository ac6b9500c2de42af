//! `GET /v1/responses` with `Upgrade: websocket`: the actix-ws glue around
//! `frontdoor::websocket::Connection`. A reader answers pings and queues text frames; the worker
//! runs them one at a time, in order; the connection ends on client close, a protocol error, or
//! after [`CONNECTION_LIFETIME`] with `websocket_connection_limit_reached`.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::request_id;
use crate::{
    auth::Caller,
    engine::Engine,
    error::GatewayError,
    frontdoor::websocket::{Connection, FrameSink, SinkClosed, frame},
};

/// How long one connection may live (spec: 60 minutes).
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Frames received while a turn runs wait here; past this the reader stops reading (backpressure).
const QUEUED_FRAMES: usize = 16;

/// Per-connection bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connection lifetime.
    pub lifetime: Duration,
    /// Largest client message (frame, or continuation frames together), in bytes.
    pub max_message: usize,
}

/// What the reader hands the worker.
enum Inbound {
    Text(Bytes),
    Binary,
}

/// Why the reader stopped.
enum ReadEnd {
    /// The client sent Close (or the stream ended).
    ClientClosed(Option<CloseReason>),
    /// A frame broke the protocol or the size limit.
    Protocol(actix_ws::ProtocolError),
    /// Our side of the socket is gone.
    SessionClosed,
}

impl FrameSink for Session {
    async fn send_text(&mut self, text: String) -> Result<(), SinkClosed> {
        self.text(text).await.map_err(|_| SinkClosed)
    }
}

/// Upgrades to a WebSocket; a plain GET keeps the POST-only 405.
pub async fn websocket(
    req: HttpRequest,
    payload: web::Payload,
    gateway: super::current::Current,
) -> HttpResponse {
    let limits = Limits {
        lifetime: CONNECTION_LIFETIME,
        max_message: gateway.config.server.max_body_bytes,
    };
    let caller = match Caller::of(&req) {
        Ok(caller) => caller,
        Err(err) => return actix_web::ResponseError::error_response(&err),
    };
    upgrade(&req, payload, (*gateway.0).clone(), caller, limits).await
}

/// Upgrades `req` for `caller` (who owns every turn) and spawns the connection task with `limits`.
pub async fn upgrade(
    req: &HttpRequest,
    payload: web::Payload,
    gateway: Engine,
    caller: Caller,
    limits: Limits,
) -> HttpResponse {
    let is_upgrade = req
        .headers()
        .get(actix_web::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return super::method_not_allowed(req.clone()).await;
    }
    let (response, session, stream) = match actix_ws::handle(req, payload) {
        Ok(parts) => parts,
        Err(err) => {
            let err = GatewayError::invalid(format!("WebSocket handshake failed: {err}."), None);
            return actix_web::ResponseError::error_response(&err);
        }
    };
    let stream = stream
        .max_frame_size(limits.max_message)
        .aggregate_continuations()
        .max_continuation_size(limits.max_message);
    let connection = Connection::new(gateway, request_id(req), caller);
    actix_web::rt::spawn(serve(connection, session, stream, limits));
    response
}

async fn serve(
    mut connection: Connection,
    session: Session,
    stream: AggregatedMessageStream,
    limits: Limits,
) {
    tracing::info!(connection = connection.id(), "WebSocket connection opened.");
    let (queue, mut frames) = mpsc::channel(QUEUED_FRAMES);
    let reader = read(stream, session.clone(), queue);
    let mut out = session.clone();
    let worker = async {
        while let Some(inbound) = frames.recv().await {
            let sent = match inbound {
                Inbound::Text(text) => connection.on_text(&text, &mut out).await,
                Inbound::Binary => {
                    let err = GatewayError::invalid(
                        "Binary frames are not supported; send JSON text frames.",
                        None,
                    );
                    out.send_text(frame::error_frame(&err)).await
                }
            };
            if sent.is_err() {
                break;
            }
        }
    };
    let (close, why) = tokio::select! {
        end = reader => match end {
            ReadEnd::ClientClosed(reason) => (reason, "client closed"),
            ReadEnd::SessionClosed => (None, "socket closed"),
            ReadEnd::Protocol(err) => (protocol_close(session.clone(), &err, limits).await, "protocol error"),
        },
        () = worker => (None, "socket closed"),
        () = tokio::time::sleep(limits.lifetime) => (limit_close(session.clone()).await, "lifetime limit"),
    };
    // Dropping the worker above cancelled any turn still running (and its upstream call).
    let _ = session.close(close).await;
    tracing::info!(
        connection = connection.id(),
        reason = why,
        "WebSocket connection closed."
    );
}

/// Reads client messages: pings are answered at once, data frames are queued in order.
async fn read(
    mut stream: AggregatedMessageStream,
    mut session: Session,
    queue: mpsc::Sender<Inbound>,
) -> ReadEnd {
    while let Some(message) = stream.recv().await {
        let inbound = match message {
            Ok(AggregatedMessage::Text(text)) => Inbound::Text(text.into_bytes()),
            Ok(AggregatedMessage::Binary(_)) => Inbound::Binary,
            Ok(AggregatedMessage::Ping(payload)) => {
                if session.pong(&payload).await.is_err() {
                    return ReadEnd::SessionClosed;
                }
                continue;
            }
            Ok(AggregatedMessage::Pong(_)) => continue,
            Ok(AggregatedMessage::Close(reason)) => return ReadEnd::ClientClosed(reason),
            Err(err) => return ReadEnd::Protocol(err),
        };
        if queue.send(inbound).await.is_err() {
            return ReadEnd::SessionClosed;
        }
    }
    ReadEnd::ClientClosed(None)
}

/// Sends the error for a broken frame and picks the close code.
async fn protocol_close(
    mut session: Session,
    err: &actix_ws::ProtocolError,
    limits: Limits,
) -> Option<CloseReason> {
    let too_big = matches!(err, actix_ws::ProtocolError::Overflow)
        || matches!(err, actix_ws::ProtocolError::Io(io) if io.to_string().contains("maximum continuation size"));
    let (error, code) = if too_big {
        (
            GatewayError::PayloadTooLarge {
                limit: limits.max_message,
            },
            CloseCode::Size,
        )
    } else {
        (
            GatewayError::InvalidRequest {
                message: format!("WebSocket protocol error: {err}."),
                param: None,
                code: "websocket_protocol_error",
            },
            CloseCode::Protocol,
        )
    };
    let _ = session.send_text(frame::error_frame(&error)).await;
    Some(CloseReason {
        code,
        description: Some(error.code().to_owned()),
    })
}

/// Sends `websocket_connection_limit_reached` and picks the close code.
async fn limit_close(mut session: Session) -> Option<CloseReason> {
    let minutes = CONNECTION_LIFETIME.as_secs() / 60;
    let error = GatewayError::InvalidRequest {
        message: format!(
            "This WebSocket reached its {minutes}-minute limit; open a new connection \
             (continue with `previous_response_id`)."
        ),
        param: None,
        code: "websocket_connection_limit_reached",
    };
    let _ = session.send_text(frame::error_frame(&error)).await;
    Some(CloseReason {
        code: CloseCode::Normal,
        description: Some(error.code().to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use actix_web::{App, HttpServer};
    use awc::ws::{CloseCode, Frame};
    use futures::StreamExt;

    use super::*;
    use crate::config::Config;

    #[actix_web::test]
    async fn the_lifetime_limit_sends_its_error_then_closes() {
        let config = Config::from_yaml("server:\n  address: \"127.0.0.1:0\"\n", &|_| None).unwrap();
        let gateway = Engine::start(config).unwrap();
        let limits = Limits {
            lifetime: Duration::from_millis(300),
            max_message: 1024,
        };
        let server = HttpServer::new(move || {
            let gateway = gateway.clone();
            App::new().route(
                "/ws",
                web::get().to(move |req: HttpRequest, payload: web::Payload| {
                    let gateway = gateway.clone();
                    async move {
                        upgrade(&req, payload, gateway, Caller::anonymous(), limits).await
                    }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let running = server.run();
        let handle = running.handle();
        actix_web::rt::spawn(running);

        let started = Instant::now();
        let (_, mut conn) = awc::Client::new()
            .ws(format!("ws://{addr}/ws"))
            .connect()
            .await
            .unwrap();
        let Some(Ok(Frame::Text(text))) = conn.next().await else {
            panic!("expected the limit error frame");
        };
        let frame: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(frame["type"], "error");
        assert_eq!(frame["status"], 400);
        assert_eq!(frame["error"]["code"], "websocket_connection_limit_reached");
        assert!(started.elapsed() >= Duration::from_millis(300));
        let Some(Ok(Frame::Close(Some(reason)))) = conn.next().await else {
            panic!("expected a close frame");
        };
        assert_eq!(reason.code, CloseCode::Normal);
        handle.stop(false).await;
    }
}

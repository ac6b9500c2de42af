//! Test harness for `gateway-chat`: a mock OpenAI + Anthropic upstream serving the root crate's
//! fixtures, the real gateway (in-process), and a recording proxy in front of it that shows exactly
//! what the client sent. Everything listens on 127.0.0.1 and runs in one background actix System.
//!
//! Mock keywords in the model name: `slow` (150 ms between stream frames), `broken` (the upstream
//! stream stops after a few frames).
#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use std::{
    io,
    net::SocketAddr,
    sync::{Arc, Mutex, mpsc},
    thread,
    time::Duration,
};

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    http::StatusCode,
    web::{self, Bytes},
};
use futures::StreamExt;
use llm_gateway::config::Config;
use serde_json::{Value, json};

const OPENAI_JSON: &str = include_str!("../../../tests/fixtures/openai/responses_text.json");
const OPENAI_SSE: &str = include_str!("../../../tests/fixtures/openai/responses_text_stream.sse");
const ANTHROPIC_JSON: &str = include_str!("../../../tests/fixtures/anthropic/message_text.json");
const ANTHROPIC_SSE: &str =
    include_str!("../../../tests/fixtures/anthropic/message_text_stream.sse");

/// Pause between stream frames for `slow` models.
const SLOW_FRAME_DELAY: Duration = Duration::from_millis(150);
/// Pause between stream frames for `broken` models.
const BROKEN_FRAME_DELAY: Duration = Duration::from_millis(20);
/// Frames a `broken` stream sends before it stops.
const BROKEN_AFTER_FRAMES: usize = 6;

/// The answer text of the OpenAI fixture.
pub fn openai_answer() -> String {
    let response: Value = serde_json::from_str(OPENAI_JSON).unwrap();
    response["output"][0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The answer text of the Anthropic fixture.
pub const ANTHROPIC_ANSWER: &str = "Hello there!";

/// One request as the mock upstream or the proxy received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Log {
    upstream: Mutex<Vec<Recorded>>,
    client: Mutex<Vec<Recorded>>,
    /// If set, the proxy answers 401 unless the client sends `Bearer <token>`.
    token: Option<String>,
}

/// Mock upstream + gateway + recording proxy. The servers live until the test process exits.
pub struct Harness {
    /// The proxy's URL: give this to `gateway-chat --url`.
    pub url: String,
    log: Arc<Log>,
}

impl Harness {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A harness whose proxy requires `Authorization: Bearer <token>`.
    pub fn with_token(token: &str) -> Self {
        Self::start_with(Some(token.to_owned()))
    }

    fn start_with(token: Option<String>) -> Self {
        let log = Arc::new(Log {
            token,
            ..Log::default()
        });
        let (tx, rx) = mpsc::channel();
        let server_log = log.clone();
        thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                tx.send(serve(server_log).await).unwrap();
                std::future::pending::<()>().await;
            });
        });
        let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Self {
            url: format!("http://{addr}"),
            log,
        }
    }

    /// Requests the gateway sent upstream, in order.
    pub fn upstream(&self) -> Vec<Recorded> {
        self.log.upstream.lock().unwrap().clone()
    }

    /// Requests `gateway-chat` sent, in order.
    pub fn client_requests(&self) -> Vec<Recorded> {
        self.log.client.lock().unwrap().clone()
    }

    /// The bodies of the client's `POST /v1/responses` requests.
    pub fn turns(&self) -> Vec<Value> {
        self.client_requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/v1/responses")
            .map(|r| r.body)
            .collect()
    }
}

/// Starts the three servers; returns the proxy's address.
async fn serve(log: Arc<Log>) -> SocketAddr {
    let data = web::Data::from(log);
    let upstream_data = data.clone();
    let upstream = HttpServer::new(move || {
        App::new()
            .app_data(upstream_data.clone())
            .default_service(web::to(upstream))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let upstream_addr = upstream.addrs()[0];
    actix_web::rt::spawn(upstream.run());

    let yaml = format!(
        r#"server:
  address: "127.0.0.1:0"
  workers: 1
  shutdown_timeout: "1s"
providers:
  openai:
    api_key: test-openai-key
    base_url: http://{upstream_addr}/v1
  anthropic:
    api_key: test-anthropic-key
    base_url: http://{upstream_addr}
"#
    );
    let config = Config::from_yaml(&yaml, &|_| None).unwrap();
    let gateway = llm_gateway::app::start(config).unwrap();
    let gateway_url = format!("http://{}", gateway.addr);
    actix_web::rt::spawn(gateway.server);

    let proxy = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::Data::new((
                reqwest::Client::new(),
                gateway_url.clone(),
            )))
            .default_service(web::to(proxy))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let proxy_addr = proxy.addrs()[0];
    actix_web::rt::spawn(proxy.run());
    proxy_addr
}

fn record(req: &HttpRequest, body: &[u8]) -> Recorded {
    Recorded {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        authorization: req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    }
}

/// The mock provider: OpenAI `POST /v1/responses` and Anthropic `POST /v1/messages`, JSON or SSE.
async fn upstream(req: HttpRequest, body: Bytes, log: web::Data<Log>) -> HttpResponse {
    let recorded = record(&req, &body);
    log.upstream.lock().unwrap().push(recorded.clone());
    let (json, sse) = match (req.method().as_str(), req.path()) {
        ("POST", "/v1/responses") => (OPENAI_JSON, OPENAI_SSE),
        ("POST", "/v1/messages") => (ANTHROPIC_JSON, ANTHROPIC_SSE),
        _ => return HttpResponse::NotFound().finish(),
    };
    if recorded.body["stream"] != json!(true) {
        return HttpResponse::Ok()
            .content_type("application/json")
            .body(json);
    }
    let model = recorded.body["model"].as_str().unwrap_or_default();
    // A broken stream paces its frames too, so they leave before the connection is cut.
    let delay = if model.contains("slow") {
        SLOW_FRAME_DELAY
    } else if model.contains("broken") {
        BROKEN_FRAME_DELAY
    } else {
        Duration::ZERO
    };
    let mut frames: Vec<io::Result<Bytes>> = sse
        .split_inclusive("\n\n")
        .map(|frame| Ok(Bytes::from(frame.to_owned())))
        .collect();
    if model.contains("broken") {
        frames.truncate(BROKEN_AFTER_FRAMES);
        frames.push(Err(io::Error::other("mock: stream cut")));
    }
    let stream = futures::stream::iter(frames).then(move |frame| async move {
        if !delay.is_zero() {
            actix_web::rt::time::sleep(delay).await;
        }
        frame
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(stream)
}

/// Records what the client sent, checks the token if one is required, and passes the request on to
/// the gateway, streaming its answer back.
async fn proxy(
    req: HttpRequest,
    body: Bytes,
    log: web::Data<Log>,
    target: web::Data<(reqwest::Client, String)>,
) -> HttpResponse {
    let recorded = record(&req, &body);
    log.client.lock().unwrap().push(recorded.clone());
    if let Some(token) = &log.token
        && recorded.authorization != Some(format!("Bearer {token}"))
    {
        return HttpResponse::Unauthorized().json(json!({"error": {"type": "authentication_error",
            "code": "invalid_token", "message": "Missing or invalid bearer token.", "param": null}}));
    }
    let (http, gateway) = target.get_ref();
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let answer = http
        .request(method, format!("{gateway}{}", req.uri()))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    HttpResponse::build(status)
        .content_type(content_type)
        .streaming(answer.bytes_stream())
}

/// A local port nothing listens on (bound, then released).
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// The `gateway-chat` binary with a clean environment for the client's variables.
pub fn chat_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gateway-chat"));
    command
        .env_remove("GATEWAY_URL")
        .env_remove("GATEWAY_TOKEN");
    command
}

//! Owns `MockUpstream`: a fake OpenAI / Azure OpenAI / Anthropic / Gemini server (actix-web on its own thread and
//! System) that serves the fixture files, scripts failures by model-name keyword or a pushed `Behaviour` queue, and
//! records every request.
//!
//! Keywords (matched as substrings of the model; for Azure the deployment id, for Gemini the model path segment):
//! `hang`, `fail-429`, `fail-quota`, `fail-500`, `fail-529`, `fail-503`, `fail-400`, `fail-401`, `fail-404`,
//! `max-tokens`, `cut-stream`, `stream-error`, `content-filter`, `prompt-blocked`, `parallel-calls`, `refusal`;
//! `slow` combines with any of them (300 ms before answering, 50 ms between stream chunks).

mod answers;
mod errors;
pub mod fixtures;
mod providers;
mod reply;
mod rules;
mod search;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

pub use fixtures::{HttpFixture, fixture, fixture_json, http_fixture};

/// What the mock does with one request. Pushed behaviours (`MockUpstream::push_behaviour`) are consumed one per
/// authenticated request, before the model-name keyword rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Serve the normal fixture (text, tool call or thinking, by request shape), ignoring keywords.
    Ok,
    /// The provider's 429 fixture (`.http`: status, retry headers, body).
    Fail429,
    /// OpenAI `insufficient_quota` 429 (non-retryable); other providers: same as `Fail429`.
    FailQuota,
    /// 500 with a provider-shaped error body.
    Fail500,
    /// 529 overloaded (Anthropic fixture; provider-shaped body elsewhere).
    Fail529,
    /// 503 (Gemini fixture `error_503_unavailable.json`; provider-shaped body elsewhere).
    Fail503,
    /// The provider's 400 fixture (Azure: content filter, Gemini: API_KEY_INVALID).
    Fail400,
    /// 401 with the provider's authentication error body.
    Fail401,
    /// 404 (Azure: `DeploymentNotFound` fixture; model-not-found shapes elsewhere).
    Fail404,
    /// The provider's incomplete / max-tokens answer (streams: the text stream with the stop reason rewritten).
    MaxTokens,
    /// Send the first few chunks, then abort the body (no terminal event). Non-stream: half of the JSON body.
    CutStream,
    /// The provider's in-band mid-stream error. Non-stream: 500.
    StreamError,
    /// Azure: `chat_completion_output_filtered.json` (200, `finish_reason: content_filter`).
    ContentFilter,
    /// Gemini: `generate_content_prompt_blocked.json`.
    PromptBlocked,
    /// Gemini: `generate_content_parallel_function_calls.json`.
    ParallelCalls,
    /// Anthropic: `message_refusal_stream.sse` (non-stream: the message it accumulates to).
    Refusal,
    /// Normal answer, but 300 ms late and 50 ms between stream chunks.
    Slow,
    /// Never answer (sleeps an hour).
    Hang,
    /// Exactly this status, body and headers.
    Status(u16, String, Vec<(String, String)>),
    /// The normal tool-call answer, but calling this function name (as the upstream knows it)
    /// instead of the fixture's `get_weather`: scripts "call this tool first, then answer".
    CallTool(String),
    /// `CallTool`, with these arguments (a JSON object) instead of the fixture's: drives a real
    /// client's tool (Codex's shell) with input it can run.
    CallToolWith(String, serde_json::Value),
    /// The text answer even when the request offers tools: an agent's final answer, which ends
    /// its loop (the normal fixture for a request with tools is a tool call).
    Text,
}

/// Keyword → behaviour, in priority order (first match wins). `slow` is a modifier handled separately.
pub const KEYWORDS: &[(&str, Behaviour)] = &[
    ("hang", Behaviour::Hang),
    ("fail-429", Behaviour::Fail429),
    ("fail-quota", Behaviour::FailQuota),
    ("fail-500", Behaviour::Fail500),
    ("fail-529", Behaviour::Fail529),
    ("fail-503", Behaviour::Fail503),
    ("fail-400", Behaviour::Fail400),
    ("fail-401", Behaviour::Fail401),
    ("fail-404", Behaviour::Fail404),
    ("max-tokens", Behaviour::MaxTokens),
    ("cut-stream", Behaviour::CutStream),
    ("stream-error", Behaviour::StreamError),
    ("content-filter", Behaviour::ContentFilter),
    ("prompt-blocked", Behaviour::PromptBlocked),
    ("parallel-calls", Behaviour::ParallelCalls),
    ("refusal", Behaviour::Refusal),
];

/// Tunables for `MockUpstream::start_with`.
#[derive(Clone, Debug)]
pub struct MockOptions {
    /// Pause between SSE chunks (not before the first). Default 0.
    pub chunk_delay: Duration,
    /// Wait before answering under `slow`. Default 300 ms.
    pub slow_delay: Duration,
    /// Pause between SSE chunks under `slow`. Default 50 ms.
    pub slow_chunk_delay: Duration,
    /// How many chunks `cut-stream` sends before aborting. Default 3.
    pub cut_after: usize,
    /// If set, the only API key accepted (any provider); otherwise any non-empty key is accepted.
    pub api_key: Option<String>,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            chunk_delay: Duration::ZERO,
            slow_delay: Duration::from_millis(300),
            slow_chunk_delay: Duration::from_millis(50),
            cut_after: 3,
            api_key: None,
        }
    }
}

/// One request as the mock received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Raw query string without `?` (empty if none).
    pub query: String,
    /// Lowercase header name → value (repeated headers joined with ", ").
    pub headers: BTreeMap<String, String>,
    /// The body as JSON; `Null` if empty, a JSON string holding the raw text if it is not JSON.
    pub body: serde_json::Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The first value of a query parameter (not percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .find_map(|kv| match kv.split_once('=') {
                Some((k, v)) if k == name => Some(v),
                None if kv == name => Some(""),
                _ => None,
            })
    }
}

pub(crate) struct Shared {
    options: MockOptions,
    requests: Mutex<Vec<RecordedRequest>>,
    queue: Mutex<VecDeque<Behaviour>>,
    cancelled: Arc<AtomicUsize>,
    /// Bumped whenever a request is recorded or a stream is cancelled: what `wait_until` waits on.
    changes: Arc<tokio::sync::watch::Sender<u64>>,
}

/// How long `MockUpstream::wait_until` waits for its condition before failing the test.
const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// A running mock upstream. Stops its server when dropped.
pub struct MockUpstream {
    shared: Arc<Shared>,
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl MockUpstream {
    /// Starts a mock with default options on 127.0.0.1 and an ephemeral port.
    pub fn start() -> Self {
        Self::start_with(MockOptions::default())
    }

    pub fn start_with(options: MockOptions) -> Self {
        let shared = Arc::new(Shared {
            options,
            requests: Mutex::new(Vec::new()),
            queue: Mutex::new(VecDeque::new()),
            cancelled: Arc::new(AtomicUsize::new(0)),
            changes: Arc::new(tokio::sync::watch::Sender::new(0)),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let server_shared = shared.clone();
        std::thread::Builder::new()
            .name("mock-upstream".into())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    let data = web::Data::from(server_shared);
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(data.clone())
                            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                            .default_service(web::to(dispatch))
                    })
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(0)
                    .bind(("127.0.0.1", 0))
                    .expect("mock upstream: bind 127.0.0.1:0");
                    let addr = server.addrs()[0];
                    let server = server.run();
                    tx.send((addr, server.handle()))
                        .expect("mock upstream: report address");
                    let _ = server.await;
                });
            })
            .expect("mock upstream: spawn thread");
        let (addr, handle) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("mock upstream did not start within 10 s");
        Self {
            shared,
            addr,
            handle,
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `base_url()` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a behaviour for the next authenticated request (FIFO; takes precedence over keywords).
    pub fn push_behaviour(&self, behaviour: Behaviour) {
        self.shared
            .queue
            .lock()
            .expect("queue lock")
            .push_back(behaviour);
    }

    /// How many pushed behaviours are still unconsumed.
    pub fn pending_behaviours(&self) -> usize {
        self.shared.queue.lock().expect("queue lock").len()
    }

    /// Every request received so far, in arrival order (including unauthenticated and unrouted ones).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().expect("requests lock").clone()
    }

    /// Number of requests whose path starts with `path_prefix`.
    pub fn hits(&self, path_prefix: &str) -> usize {
        let requests = self.shared.requests.lock().expect("requests lock");
        requests
            .iter()
            .filter(|r| r.path.starts_with(path_prefix))
            .count()
    }

    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .expect("requests lock")
            .last()
            .cloned()
    }

    /// Forgets recorded requests (not the behaviour queue or the cancel counter).
    pub fn clear_requests(&self) {
        self.shared.requests.lock().expect("requests lock").clear();
    }

    /// Streamed bodies dropped before they finished, i.e. the client went away mid-stream. Bodies the mock
    /// aborts on purpose (`cut-stream`) do not count.
    pub fn cancelled_streams(&self) -> usize {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// Stops the server and waits until it has: its port refuses connections from then on.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }

    /// Waits until `condition` holds, woken by each request the mock records and each stream
    /// it sees cancelled (no polling interval to guess); fails the test after `WAIT_LIMIT`.
    pub async fn wait_until(&self, what: &str, condition: impl Fn(&Self) -> bool) {
        // Subscribed before the first check, so a change between the check and the wait is seen.
        let mut changes = self.shared.changes.subscribe();
        let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
        while !condition(self) {
            let changed = tokio::time::timeout_at(deadline, changes.changed()).await;
            assert!(
                matches!(changed, Ok(Ok(()))),
                "mock upstream: {what} did not happen within {WAIT_LIMIT:?}"
            );
        }
    }

    /// Waits until `n` requests whose path starts with `path_prefix` have arrived.
    pub async fn wait_for_hits(&self, path_prefix: &str, n: usize) {
        let what = format!("{n} requests to {path_prefix}");
        self.wait_until(&what, |m| m.hits(path_prefix) >= n).await;
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        // `stop` sends the command synchronously; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

async fn dispatch(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let recorded = record(&req, &body);
    shared
        .requests
        .lock()
        .expect("requests lock")
        .push(recorded.clone());
    shared.changes.send_modify(|n| *n += 1);
    providers::handle(&shared, &recorded).await
}

fn record(req: &HttpRequest, body: &[u8]) -> RecordedRequest {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in req.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let body = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(body).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(body).into_owned())
        })
    };
    RecordedRequest {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        headers,
        body,
    }
}

impl Shared {
    pub(crate) fn options(&self) -> &MockOptions {
        &self.options
    }

    pub(crate) fn next_pushed(&self) -> Option<Behaviour> {
        self.queue.lock().expect("queue lock").pop_front()
    }

    pub(crate) fn cancel_counter(&self) -> reply::CancelCounter {
        reply::CancelCounter {
            count: self.cancelled.clone(),
            changes: self.changes.clone(),
        }
    }
}

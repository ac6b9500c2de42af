//! For `tests/tracing_otlp.rs`: a loopback OTLP/HTTP collector (actix-web on its own thread,
//! `POST /v1/traces` protobuf decoded with `opentelemetry-proto`), the one process-wide
//! subscriber (the gateway's OpenTelemetry layer plus a JSON log capture), and helpers to wait
//! for a trace. Used with `mod common; mod tracing_support;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeMap,
    io::Write,
    net::SocketAddr,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use actix_web::{App, HttpResponse, HttpServer, web};
use llm_gateway::{
    config::Config,
    telemetry::{Telemetry, hide_from_logs},
};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse},
    common::v1::{AnyValue, KeyValue, any_value},
};
use prost::Message;
use serde_json::{Value, json};
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// Set in the child process of the dead-collector test: export to a closed port instead.
pub const DEAD_COLLECTOR_ENV: &str = "TRACING_OTLP_DEAD_COLLECTOR";
/// `service.name` of every exported span.
pub const SERVICE: &str = "gateway-under-test";

/// OTLP span kinds and status codes (protobuf enum values).
pub const INTERNAL: i32 = 1;
pub const SERVER: i32 = 2;
pub const CLIENT: i32 = 3;
pub const STATUS_ERROR: i32 = 2;

/// One exported span, flattened.
#[derive(Clone, Debug)]
pub struct ExportedSpan {
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub name: String,
    pub kind: i32,
    pub status_code: i32,
    pub attributes: BTreeMap<String, Value>,
    pub service: String,
}

impl ExportedSpan {
    /// An attribute (`Null` when absent).
    pub fn attr(&self, key: &str) -> &Value {
        self.attributes.get(key).unwrap_or(&Value::Null)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json_of(value: Option<&AnyValue>) -> Value {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => json!(s),
        Some(any_value::Value::BoolValue(b)) => json!(b),
        Some(any_value::Value::IntValue(i)) => json!(i),
        Some(any_value::Value::DoubleValue(d)) => json!(d),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(|v| json_of(Some(v))).collect())
        }
        Some(other) => json!(format!("{other:?}")),
        None => Value::Null,
    }
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, Value> {
    list.iter()
        .map(|kv| (kv.key.clone(), json_of(kv.value.as_ref())))
        .collect()
}

/// The loopback collector: every span it received.
pub struct Collector {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<ExportedSpan>>>,
}

async fn receive(body: web::Bytes, spans: web::Data<Mutex<Vec<ExportedSpan>>>) -> HttpResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return HttpResponse::BadRequest().finish();
    };
    let mut received = Vec::new();
    for resource in request.resource_spans {
        let service = resource
            .resource
            .as_ref()
            .map(|r| attributes(&r.attributes))
            .and_then(|a| a.get("service.name").cloned())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        for scope in resource.scope_spans {
            for span in scope.spans {
                received.push(ExportedSpan {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    name: span.name,
                    kind: span.kind,
                    status_code: span.status.map_or(0, |s| s.code),
                    attributes: attributes(&span.attributes),
                    service: service.clone(),
                });
            }
        }
    }
    spans.lock().unwrap().extend(received);
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .body(ExportTraceServiceResponse::default().encode_to_vec())
}

impl Collector {
    /// Starts on 127.0.0.1 with an ephemeral port, on its own thread (the exporter blocks the
    /// flushing thread until the collector answers).
    pub fn start() -> Self {
        let spans: Arc<Mutex<Vec<ExportedSpan>>> = Arc::default();
        let data = web::Data::from(spans.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/v1/traces", web::post().to(receive))
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .unwrap();
                tx.send(server.addrs()[0]).unwrap();
                server.run().await.unwrap();
            });
        });
        let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Self { addr, spans }
    }

    /// The spans of `trace_id` received so far.
    pub fn trace(&self, trace_id: &str) -> Vec<ExportedSpan> {
        let spans = self.spans.lock().unwrap();
        spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }

    /// The root (HTTP server) span carrying `request_id`, if received.
    pub fn request_span(&self, request_id: &str) -> Option<ExportedSpan> {
        let spans = self.spans.lock().unwrap();
        spans
            .iter()
            .find(|s| s.kind == SERVER && s.attr("gateway.request.id") == request_id)
            .cloned()
    }
}

/// Captured JSON log lines.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Every line, parsed.
    pub fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// The process-wide tracing setup.
pub struct Tracing {
    pub telemetry: Telemetry,
    /// `None` in the dead-collector child process.
    pub collector: Option<Collector>,
    pub logs: Captured,
}

/// Installs (once per process) the subscriber: the gateway's OpenTelemetry layer exporting to
/// the loopback collector (or to a closed port, see [`DEAD_COLLECTOR_ENV`]), and a JSON log
/// layer filtered the way `main` filters it.
pub fn tracing() -> &'static Tracing {
    static TRACING: OnceLock<Tracing> = OnceLock::new();
    TRACING.get_or_init(|| {
        let (endpoint, collector) = if std::env::var_os(DEAD_COLLECTOR_ENV).is_some() {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            drop(listener);
            (format!("http://127.0.0.1:{port}"), None)
        } else {
            let collector = Collector::start();
            (format!("http://{}", collector.addr), Some(collector))
        };
        let yaml = format!("tracing:\n  otlp_endpoint: {endpoint}\n  service_name: {SERVICE}\n");
        let config = Config::from_yaml(&yaml, &|_| None).unwrap().tracing;
        let telemetry = Telemetry::start(&config)
            .unwrap()
            .expect("tracing is configured");
        let logs = Captured::default();
        let writer = logs.clone();
        let fmt = tracing_subscriber::fmt::layer()
            .json()
            .with_writer(move || writer.clone())
            .with_filter(hide_from_logs(EnvFilter::new("info")));
        tracing_subscriber::registry()
            .with(fmt)
            .with(telemetry.layer())
            .init();
        Tracing {
            telemetry,
            collector,
            logs,
        }
    })
}

/// Exports what is queued, off the test's runtime thread.
pub async fn flush() -> Result<(), String> {
    tokio::task::spawn_blocking(|| tracing().telemetry.flush().map_err(|e| e.to_string()))
        .await
        .unwrap()
}

fn collector() -> &'static Collector {
    tracing().collector.as_ref().expect("a live collector")
}

/// Waits until the trace of the request `request_id` has its root span (it ends last), and
/// returns all its spans.
pub async fn trace_of_request(request_id: &str) -> Vec<ExportedSpan> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        flush().await.unwrap();
        if let Some(root) = collector().request_span(request_id) {
            return collector().trace(&root.trace_id);
        }
        assert!(Instant::now() < deadline, "no trace for {request_id}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The one span called `name` in `spans`.
pub fn one<'a>(spans: &'a [ExportedSpan], name: &str) -> &'a ExportedSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "one `{name}` span in {spans:#?}");
    found[0]
}

/// The "Request finished." log line of `request_id` (waits for it: streams log at their end).
pub async fn finished_line(request_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let line = tracing().logs.lines().into_iter().find(|l| {
            l["fields"]["request_id"] == request_id && l["fields"]["message"] == "Request finished."
        });
        if let Some(line) = line {
            return line;
        }
        assert!(Instant::now() < deadline, "no log line for {request_id}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// POSTs `body` to `path` with extra headers; returns status, headers and the whole body.
pub async fn post(
    url: &str,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

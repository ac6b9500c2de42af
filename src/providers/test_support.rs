//! Shared helpers for the provider unit tests: fixture files, raw `.http` error responses, sealed
//! envelopes and a started emitter.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// A fixture file from `tests/fixtures/<provider>/<name>`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Splits a raw HTTP response (a `.http` fixture) into status, headers and body.
pub fn parse_http(raw: &[u8]) -> (u16, HeaderMap, Vec<u8>) {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    (status, headers, body.as_bytes().to_vec())
}

/// The sealer the provider unit tests seal and open reasoning envelopes with.
pub fn sealer() -> &'static crate::seal::Sealer {
    static SEALER: std::sync::LazyLock<crate::seal::Sealer> = std::sync::LazyLock::new(|| {
        crate::seal::Sealer::from_secret("provider unit tests' secret")
    });
    &SEALER
}

/// `payload` sealed for `kind` and `model` with [`sealer`], as a reasoning item carries it.
pub fn sealed(kind: crate::api::ProviderKind, model: &str, payload: &str) -> String {
    sealer().seal(kind, model, payload.as_bytes()).unwrap()
}

/// Replaces every gateway envelope in an `encrypted_content` under `value` by `sealed:<payload>`
/// (opened for `kind` and `model`), so golden expectations can name what was sealed. Panics on an
/// envelope that does not open for them.
pub fn reveal(value: &mut serde_json::Value, kind: crate::api::ProviderKind, model: &str) {
    use crate::seal::{Unsealed, is_envelope};
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(s) if key == "encrypted_content" && is_envelope(s) => {
                        let Ok(Unsealed::Payload(bytes)) = sealer().open(kind, model, s) else {
                            panic!("{s} does not open for {kind:?} {model}");
                        };
                        *s = format!("sealed:{}", String::from_utf8(bytes).unwrap());
                    }
                    other => reveal(other, kind, model),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| reveal(v, kind, model)),
        _ => {}
    }
}

/// An emitter for `request` as the gateway starts one (response `resp_test`, created at 1),
/// naming `model`; `record` keeps the events (streams) or not (JSON answers).
pub fn emitter(
    request: &crate::api::CreateResponse,
    model: &str,
    record: bool,
) -> crate::stream::ResponseEmitter {
    let ctx = crate::stream::ResponseContext {
        response_id: "resp_test".into(),
        created_at: 1,
        now: || 2,
    };
    let skeleton = crate::api::ResponseResource::in_progress(request, &ctx.response_id, model, 1);
    crate::stream::ResponseEmitter::new(skeleton, &ctx, record)
}

/// One request as a [`serve`] server read it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    /// `POST /path HTTP/1.1`.
    pub request_line: String,
    /// Header names lower-cased, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    /// The body, `content-length` bytes of it.
    pub body: Vec<u8>,
}

impl SeenRequest {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request target (path and query).
    pub fn target(&self) -> &str {
        self.request_line.split_whitespace().nth(1).unwrap_or("")
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A scripted server's requests, once it has served every reply.
pub struct Served(tokio::task::JoinHandle<Vec<SeenRequest>>);

impl Served {
    /// Waits until every reply was served; the requests in order.
    pub async fn requests(self) -> Vec<SeenRequest> {
        self.0.await.unwrap()
    }
}

/// A scripted HTTP/1.1 server on 127.0.0.1: each of `replies` (raw bytes, head and body) answers
/// one request on its own connection, in order. The base URL (`http://127.0.0.1:PORT`) and
/// what it was sent.
pub async fn serve(replies: Vec<Vec<u8>>) -> (String, Served) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for reply in replies {
            let (mut socket, _) = listener.accept().await.unwrap();
            seen.push(read_request(&mut socket).await);
            socket.write_all(&reply).await.unwrap();
            socket.shutdown().await.unwrap();
        }
        seen
    });
    (base, Served(task))
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> SeenRequest {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "client closed before sending a request");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "client closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    SeenRequest {
        request_line,
        headers,
        body: buf[head_end..head_end + length].to_vec(),
    }
}

/// A whole HTTP/1.1 reply with `content-length` and `connection: close`; `extra_headers` are
/// `name: value\r\n` lines.
pub fn http_reply(status: &str, extra_headers: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{extra_headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

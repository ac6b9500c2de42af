//! Starts the real gateway (actix-web on 127.0.0.1:0) inside the test's actix System, configured
//! from YAML that points providers at a `MockUpstream`, plus small HTTP client helpers.

use actix_web::dev::ServerHandle;
use llm_gateway::config::Config;
use serde_json::Value;

use super::mock_upstream::MockUpstream;

/// A running gateway; stopped when dropped.
pub struct TestGateway {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    handle: ServerHandle,
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
    }
}

impl TestGateway {
    /// Wraps a gateway started by hand (`app::start`) listening at `url`.
    pub fn adopt(url: String, handle: ServerHandle) -> Self {
        Self { url, handle }
    }
}

/// Where `provider`'s upstream request carries system text sent as message `message` of the
/// conversation (OpenAI and Azure keep it in place; Anthropic and Gemini lift it out), as a
/// JSON pointer.
pub fn system_text_at(provider: &str, message: usize) -> String {
    match provider {
        "openai" => format!("/input/{message}/content"),
        "azureopenai" => format!("/messages/{message}/content"),
        "anthropic" => "/system".to_owned(),
        _ => "/systemInstruction/parts/0/text".to_owned(),
    }
}

/// YAML provider blocks for `providers` (any of openai, azureopenai, anthropic, google) at `mock`.
pub fn providers_yaml(mock: &MockUpstream, providers: &[&str], extra: &str) -> String {
    let base = mock.base_url();
    let mut yaml = String::from("providers:\n");
    for p in providers {
        let block = match *p {
            "openai" => {
                format!("  openai:\n    api_key: test-openai-key\n    base_url: {base}/v1\n")
            }
            "azureopenai" => format!(
                "  azureopenai:\n    api_key: test-azure-key\n    endpoint: {base}\n    deployment_id: gpt-4o-dep\n"
            ),
            "anthropic" => {
                format!("  anthropic:\n    api_key: test-anthropic-key\n    base_url: {base}\n")
            }
            "google" => format!("  google:\n    api_key: test-google-key\n    base_url: {base}\n"),
            other => panic!("unknown provider {other}"),
        };
        yaml.push_str(&block);
        yaml.push_str(extra);
    }
    yaml
}

/// Starts a gateway from a full YAML config (the address is forced to 127.0.0.1:0).
pub fn start_gateway(yaml: &str) -> TestGateway {
    start_gateway_with_server(yaml, "")
}

/// `start_gateway` with extra `server:` keys (indented lines such as `"  keepalive: 1s\n"`).
pub fn start_gateway_with_server(yaml: &str, server: &str) -> TestGateway {
    let yaml = format!(
        "server:\n  address: \"127.0.0.1:0\"\n  workers: 1\n  shutdown_timeout: \"1s\"\n{server}{yaml}"
    );
    let config = Config::from_yaml(&yaml, &|_| None).expect("test config is valid");
    let running = llm_gateway::app::start(config).expect("gateway starts");
    let handle = running.server.handle();
    actix_web::rt::spawn(running.server);
    TestGateway {
        url: format!("http://{}", running.addr),
        handle,
    }
}

/// A plain HTTP reply.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// POSTs raw bytes to the gateway.
pub async fn post_raw(gw: &TestGateway, path: &str, body: impl Into<reqwest::Body>) -> Reply {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", gw.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Reply {
        status,
        headers,
        text,
    }
}

/// POSTs JSON to `/v1/responses`.
pub async fn post_responses(gw: &TestGateway, body: &Value) -> Reply {
    post_raw(gw, "/v1/responses", body.to_string()).await
}

/// GETs a path.
pub async fn get(gw: &TestGateway, path: &str) -> Reply {
    let response = reqwest::get(format!("{}{path}", gw.url))
        .await
        .expect("gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Reply {
        status,
        headers,
        text,
    }
}

//! Configuration reload on SIGHUP, through the real binary: a valid edit applies at once while
//! a stream started before it finishes on the old configuration; an invalid edit is refused
//! (the log names the path) and the running configuration stays.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use common::mock_upstream::{MockOptions, MockUpstream};
use serde_json::json;

/// The gateway binary on a config file, its log lines collected as they come.
struct Binary {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    url: String,
}

impl Binary {
    fn start(config: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args(["--config", config.to_str().unwrap()])
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut binary = Self {
            child,
            lines,
            url: String::new(),
        };
        let line = binary.wait_for_line("Gateway listening");
        let address = line
            .split("address=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap();
        binary.url = format!("http://{address}");
        binary
    }

    /// Waits (bounded) for a log line containing `needle`.
    fn wait_for_line(&self, needle: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return line.clone();
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no line with {needle:?} in:\n{}",
                self.lines.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn hangup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_yaml(mock: &MockUpstream, extra: &str) -> String {
    config_yaml_with(mock, "", extra)
}

fn config_yaml_with(mock: &MockUpstream, server: &str, extra: &str) -> String {
    format!(
        "server:\n  address: \"127.0.0.1:0\"\n  workers: 1\n{server}providers:\n  openai:\n    api_key: sk-test-reload-0000\n    base_url: {}/v1\n{extra}",
        mock.base_url()
    )
}

#[actix_web::test]
async fn sighup_applies_a_valid_edit_and_refuses_an_invalid_one() {
    let mock = MockUpstream::start_with(MockOptions {
        chunk_delay: Duration::from_millis(40),
        ..MockOptions::default()
    });
    let dir = std::env::temp_dir().join(format!("gw-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.yaml");
    std::fs::write(&path, config_yaml(&mock, "")).unwrap();
    let gateway = Binary::start(&path);
    let client = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        client
            .post(format!("{}/v1/responses", gateway.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    assert_eq!(
        post(json!({"model": "fast", "input": "hi"}))
            .await
            .unwrap()
            .status(),
        404,
        "no alias yet"
    );

    // A stream starts on the first configuration…
    let stream = post(json!({"model": "gpt-4o", "input": "hi", "stream": true}))
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    // … the file gains an alias, and SIGHUP applies it while the stream is still open.
    std::fs::write(
        &path,
        config_yaml(
            &mock,
            "routing:\n  aliases: { fast: \"openai/gpt-4o-mini\" }\n",
        ),
    )
    .unwrap();
    gateway.hangup();
    gateway.wait_for_line("Config reloaded");
    let alias = post(json!({"model": "fast", "input": "hi"})).await.unwrap();
    assert_eq!(alias.status(), 200, "the alias serves at once");
    let text = stream.text().await.unwrap();
    let events = common::spec::assert_valid_sse_stream(&text);
    assert_eq!(
        events.last().unwrap()["type"],
        "response.completed",
        "the stream in flight finished undisturbed"
    );

    // An invalid edit is refused with its path, and the running configuration stays.
    std::fs::write(&path, config_yaml(&mock, "log:\n  level: loud\n")).unwrap();
    gateway.hangup();
    let refused = gateway.wait_for_line("Config reload refused");
    assert!(refused.contains("log.level"), "{refused}");
    assert!(refused.contains("config.yaml"), "{refused}");
    let alias = post(json!({"model": "fast", "input": "hi"})).await.unwrap();
    assert_eq!(alias.status(), 200, "the old configuration still serves");

    let metrics = client
        .get(format!("{}/metrics", gateway.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "gateway_config_reloads_total{result=\"applied\"} 1",
        "gateway_config_reloads_total{result=\"invalid\"} 1",
    ] {
        assert!(metrics.contains(series), "{series} in\n{metrics}");
    }
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("gateway_config_info{hash=") && l.ends_with(" 1")),
        "{metrics}"
    );
    assert!(
        !gateway
            .lines
            .lock()
            .unwrap()
            .join("\n")
            .contains("sk-test-reload"),
        "no key in the log"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// With `server.watch_config`, saving the file is enough: no signal needed.
#[actix_web::test]
async fn a_watched_config_file_reloads_when_it_changes() {
    let mock = MockUpstream::start();
    let dir = std::env::temp_dir().join(format!("gw-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.yaml");
    let watched = "  watch_config: true\n";
    std::fs::write(&path, config_yaml_with(&mock, watched, "")).unwrap();
    let gateway = Binary::start(&path);
    std::fs::write(
        &path,
        config_yaml_with(
            &mock,
            watched,
            "routing:\n  aliases: { fast: \"openai/gpt-4o-mini\" }\n",
        ),
    )
    .unwrap();
    gateway.wait_for_line("The config file changed");
    gateway.wait_for_line("Config reloaded");
    let reply = reqwest::Client::new()
        .post(format!("{}/v1/responses", gateway.url))
        .header("content-type", "application/json")
        .body(json!({"model": "fast", "input": "hi"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    std::fs::remove_dir_all(dir).unwrap();
}

//! The gateway's HTTP API as the chat client uses it: one streamed turn (`POST /v1/responses` with
//! `stream: true`) and the model list (`GET /v1/models`).

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::{
    error::ChatError,
    events::{self, Completion, TurnEvent},
    sse::SseDecoder,
};

/// How long to wait for a TCP (and TLS) connection to the gateway.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One turn to send: only the new message, plus the conversation to continue.
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    /// Model (or gateway alias, or `provider/model`).
    pub model: &'a str,
    /// The new user message.
    pub input: &'a str,
    /// System / developer instructions (not carried over by `previous_response_id`, so sent every turn).
    pub instructions: Option<&'a str>,
    /// The response this turn continues.
    pub previous_response_id: Option<&'a str>,
}

impl Turn<'_> {
    /// The `POST /v1/responses` body.
    pub fn body(&self) -> Value {
        let mut body = json!({"model": self.model, "input": self.input, "stream": true});
        if let Some(instructions) = self.instructions {
            body["instructions"] = json!(instructions);
        }
        if let Some(previous) = self.previous_response_id {
            body["previous_response_id"] = json!(previous);
        }
        body
    }
}

/// One entry of `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The model id.
    pub id: String,
    /// The provider instance serving it.
    pub owned_by: String,
}

/// A client for one gateway.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    /// A client for the gateway at `url` (a trailing `/` or `/v1` is accepted), sending `token` as a
    /// bearer token when set.
    pub fn new(url: &str, token: Option<String>) -> Result<Self, ChatError> {
        let base = normalize_url(url);
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| ChatError::from_transport(&base, &e))?;
        Ok(Self {
            http,
            base,
            token: token.filter(|t| !t.is_empty()),
        })
    }

    /// The gateway's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Lists the models the gateway serves.
    pub async fn models(&self) -> Result<Vec<ModelInfo>, ChatError> {
        let request = self.http.get(format!("{}/v1/models", self.base));
        let response = self.send(request).await?;
        let list: Value = response
            .json()
            .await
            .map_err(|e| ChatError::Protocol(format!("unreadable model list: {e}")))?;
        let data = list.get("data").and_then(Value::as_array);
        Ok(data
            .into_iter()
            .flatten()
            .filter_map(|model| {
                let text = |name: &str| model.get(name).and_then(Value::as_str).map(str::to_owned);
                Some(ModelInfo {
                    id: text("id")?,
                    owned_by: text("owned_by").unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Sends one turn and streams its text to `on_text` as it arrives. Dropping the future cancels the
    /// request (the gateway then cancels the upstream call).
    pub async fn stream(
        &self,
        turn: &Turn<'_>,
        on_text: &mut dyn FnMut(&str) -> std::io::Result<()>,
    ) -> Result<Completion, ChatError> {
        let request = self
            .http
            .post(format!("{}/v1/responses", self.base))
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .json(&turn.body());
        let response = self.send(request).await?;
        let mut body = response.bytes_stream();
        let mut decoder = SseDecoder::default();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| ChatError::from_transport(&self.base, &e))?;
            for frame in decoder.feed(&chunk) {
                match events::interpret(&frame)? {
                    TurnEvent::Text(text) => on_text(&text)?,
                    TurnEvent::Done(completion) => return Ok(completion),
                    TurnEvent::Skip => {}
                }
            }
        }
        Err(ChatError::Broken(
            "the gateway closed the stream before the answer was complete".to_owned(),
        ))
    }

    /// Adds auth, sends, and turns transport failures and non-2xx statuses into errors.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ChatError> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| ChatError::from_transport(&self.base, &e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(ChatError::from_status(status.as_u16(), &body))
    }
}

/// `http://host:8080/`, `http://host:8080/v1` and `http://host:8080` all mean the same gateway.
fn normalize_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    url.strip_suffix("/v1").unwrap_or(url).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_up_turn_sends_only_the_new_message() {
        let turn = Turn {
            model: "claude-sonnet-4-5",
            input: "And in French?",
            instructions: Some("Be brief."),
            previous_response_id: Some("resp_1"),
        };
        assert_eq!(
            turn.body(),
            json!({"model":"claude-sonnet-4-5","input":"And in French?","stream":true,
                "instructions":"Be brief.","previous_response_id":"resp_1"})
        );
        let first = Turn {
            previous_response_id: None,
            instructions: None,
            ..turn
        };
        assert_eq!(
            first.body(),
            json!({"model":"claude-sonnet-4-5","input":"And in French?","stream":true})
        );
    }

    #[test]
    fn normalizes_base_urls() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/v1",
            " http://127.0.0.1:8080/v1/ ",
        ] {
            assert_eq!(normalize_url(url), "http://127.0.0.1:8080");
        }
    }
}

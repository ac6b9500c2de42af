//! async-openai as the upstream client for Azure OpenAI (Chat Completions), fed and read with our
//! own types (`*_byot`). Its built-in retry layer is replaced by [`CapturingService`], which keeps
//! status, `retry-after` and body of failures for our mapping (the SDK's own error path drops
//! headers and logs upstream bodies at warn level). It also sends the attempt's `traceparent`.

use std::{future::Future, pin::Pin, time::Duration};

use async_openai::{error::OpenAIError, middleware::HttpRequestFactory};
use futures::{Stream, StreamExt};
use reqwest::header::HeaderMap;
use serde_json::value::RawValue;

use super::{DataStream, http};
use crate::error::{GatewayError, UpstreamError, UpstreamErrorKind};

/// Largest upstream error body read.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Maps an upstream failure response to our error.
pub type ParseError = fn(&str, u16, &HeaderMap, &[u8]) -> UpstreamError;

/// A tower service for async-openai: one attempt with a timeout, failures captured whole.
#[derive(Clone)]
pub struct CapturingService {
    http: reqwest::Client,
    provider: String,
    timeout: Duration,
    parse_error: ParseError,
}

impl CapturingService {
    /// A service sending through `http` with `timeout` until the response head.
    pub fn new(
        http: reqwest::Client,
        provider: &str,
        timeout: Duration,
        parse_error: ParseError,
    ) -> Self {
        Self {
            http,
            provider: provider.to_owned(),
            timeout,
            parse_error,
        }
    }
}

impl tower::Service<HttpRequestFactory> for CapturingService {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), OpenAIError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let mut request = factory.build().await?;
            crate::telemetry::propagation::inject(request.headers_mut());
            let response =
                match tokio::time::timeout(this.timeout, this.http.execute(request)).await {
                    Err(_) => {
                        let kind = UpstreamErrorKind::Timeout;
                        let err = UpstreamError::new(
                            &this.provider,
                            kind,
                            http::generic_message(&this.provider, kind, 0),
                        );
                        return Err(OpenAIError::Boxed(Box::new(err)));
                    }
                    Ok(result) => result.map_err(OpenAIError::Reqwest)?,
                };
            crate::telemetry::propagation::record_upstream_status(response.status().as_u16());
            if response.status().is_success() {
                return Ok(response);
            }
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = read_capped(response).await;
            let err = (this.parse_error)(&this.provider, status, &headers, &body);
            Err(OpenAIError::Boxed(Box::new(err)))
        })
    }
}

async fn read_capped(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    body
}

/// Maps an async-openai error back to ours.
pub fn map_sdk_error(provider: &str, err: OpenAIError) -> GatewayError {
    match err {
        OpenAIError::Boxed(boxed) => match boxed.downcast::<UpstreamError>() {
            Ok(upstream) => GatewayError::Upstream(*upstream),
            Err(other) => protocol(provider, other.to_string()),
        },
        OpenAIError::Reqwest(e) => http::transport_error(provider, &e),
        OpenAIError::ApiError(api) => {
            let status = api.status_code.as_u16();
            let kind = http::classify_status(status);
            UpstreamError::new(
                provider,
                kind,
                http::generic_message(provider, kind, status),
            )
            .with_detail(api.api_error.message)
            .into()
        }
        other => protocol(provider, other.to_string()),
    }
}

fn protocol(provider: &str, detail: String) -> GatewayError {
    let kind = UpstreamErrorKind::Protocol;
    UpstreamError::new(provider, kind, http::generic_message(provider, kind, 0))
        .with_detail(detail)
        .into()
}

/// An upstream JSON body as the SDK checked it, unparsed: our translator parses it once.
pub fn raw_bytes(raw: Box<RawValue>) -> bytes::Bytes {
    bytes::Bytes::from(String::from(Box::<str>::from(raw)))
}

/// Adapts an SDK stream of raw JSON events into our `DataStream`, with an idle timeout.
pub fn into_data_stream<S>(stream: S, provider: String, idle: Duration) -> DataStream
where
    S: Stream<Item = Result<Box<RawValue>, OpenAIError>> + Send + Unpin + 'static,
{
    Box::pin(futures::stream::unfold(
        (stream, provider, false),
        move |(mut stream, provider, done)| async move {
            if done {
                return None;
            }
            match tokio::time::timeout(idle, stream.next()).await {
                Err(_) => {
                    let err = UpstreamError::new(
                        &provider,
                        UpstreamErrorKind::Timeout,
                        "The upstream stream stalled.",
                    );
                    Some((Err(err.into()), (stream, provider, true)))
                }
                Ok(None) => None,
                Ok(Some(Ok(raw))) => Some((
                    Ok(String::from(Box::<str>::from(raw))),
                    (stream, provider, false),
                )),
                Ok(Some(Err(e))) => {
                    let err = map_sdk_error(&provider, e);
                    Some((Err(err), (stream, provider, true)))
                }
            }
        },
    ))
}

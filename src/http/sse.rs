//! SSE answers: the response headers every SSE answer carries, and the `/v1/responses` body (and a
//! background response's): an [`EventStream`]'s batches as
//! SSE frames ending with `data: [DONE]`, and the keep-alive — while no event flows for
//! `server.keepalive`, an SSE comment (`: keep-alive`) goes out, so proxies and clients with read
//! timeouts keep a long-thinking stream open. WebSocket and Chat Completions renderings read the
//! event stream directly and are not affected.

use std::{pin::Pin, time::Duration};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

use crate::{
    engine::EventStream,
    stream::sse::{DONE_FRAME, write_event},
};

/// `builder`'s response streaming `body` as SSE: the content type, no caching, and no buffering
/// by a proxy in between (`x-accel-buffering`, which nginx honours).
pub fn respond<S, E>(
    builder: &mut actix_web::HttpResponseBuilder,
    body: S,
) -> actix_web::HttpResponse
where
    S: Stream<Item = Result<Bytes, E>> + 'static,
    E: Into<Box<dyn std::error::Error>> + 'static,
{
    builder
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body)
}

/// The events as SSE frames, ending with `data: [DONE]`, with a `: keep-alive` comment whenever
/// no event flowed for the engine's `server.keepalive`.
pub fn body(events: EventStream) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let keepalive = events.keepalive();
    let frames = events.into_batches().map(|batch| {
        let mut chunk = BytesMut::with_capacity(512 * batch.len());
        for event in &batch {
            write_event(event, &mut chunk);
        }
        Ok(chunk.freeze())
    });
    let frames = frames.chain(futures::stream::once(async {
        Ok(Bytes::from_static(DONE_FRAME))
    }));
    with_keepalive(frames, keepalive)
}

/// The comment frame (ignored by every SSE parser).
pub const KEEPALIVE_FRAME: &[u8] = b": keep-alive\n\n";

/// `frames`, with a keep-alive comment after every `period` of silence (`None`: unchanged).
pub fn with_keepalive<S>(
    frames: S,
    period: Option<Duration>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + 'static,
{
    let frames: Pin<Box<S>> = Box::pin(frames);
    futures::stream::unfold(frames, move |mut frames| async move {
        let Some(period) = period else {
            let next = frames.next().await?;
            return Some((next, frames));
        };
        // Dropping `next()` on a timeout is safe: the pending work lives in the stream itself.
        match tokio::time::timeout(period, frames.next()).await {
            Ok(next) => Some((next?, frames)),
            Err(_) => Some((Ok(Bytes::from_static(KEEPALIVE_FRAME)), frames)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delayed(delays_ms: &[u64]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + 'static {
        let delays: Vec<u64> = delays_ms.to_vec();
        futures::stream::iter(delays).then(|ms| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(Bytes::from(format!("data: {ms}\n\n")))
        })
    }

    async fn collect(s: impl Stream<Item = Result<Bytes, std::io::Error>>) -> Vec<String> {
        s.map(|b| String::from_utf8_lossy(&b.unwrap()).into_owned())
            .collect()
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn comments_fill_every_silent_period_and_events_are_untouched() {
        let out = collect(with_keepalive(
            delayed(&[0, 35_000, 1_000]),
            Some(Duration::from_secs(15)),
        ))
        .await;
        assert_eq!(
            out,
            [
                "data: 0\n\n",
                ": keep-alive\n\n",
                ": keep-alive\n\n",
                "data: 35000\n\n",
                "data: 1000\n\n"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn off_means_no_comments() {
        let out = collect(with_keepalive(delayed(&[60_000]), None)).await;
        assert_eq!(out, ["data: 60000\n\n"]);
    }
}

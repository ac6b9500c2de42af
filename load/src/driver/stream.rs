//! `bench-driver stream`: N streams (C at a time) against one URL. TTFT is the time from
//! sending the request to receiving the first stamped delta; per-chunk latency is the one-way
//! delay of every later delta, from the mock's stamp to its arrival here (same host clock).

use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;

use super::{Error, client, post};
use crate::{
    marker::{Scanner, now_micros},
    stats::Samples,
};

/// What to run.
#[derive(Debug, Clone)]
pub struct StreamArgs {
    /// Target URL (the mock, nginx, or the gateway).
    pub url: String,
    /// JSON request body (with `"stream": true` where the format needs it).
    pub body: Bytes,
    /// Measured streams.
    pub streams: usize,
    /// Streams in flight at once.
    pub concurrency: usize,
    /// Unmeasured streams first (connections, caches).
    pub warmup: usize,
    /// Deltas every stream must deliver (the mock's `--chunks`).
    pub chunks: usize,
}

/// The timings of one stream.
struct Timed {
    ttft_us: u64,
    chunk_us: Vec<u64>,
}

async fn one(client: &reqwest::Client, args: &StreamArgs) -> Result<Timed, String> {
    let started = Instant::now();
    let response = post(client, &args.url, &args.body)
        .send()
        .await
        .map_err(|e| format!("send: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let mut scanner = Scanner::new(args.chunks);
    let mut ttft_us = None;
    let mut chunk_us = Vec::with_capacity(args.chunks);
    let mut body = response.bytes_stream();
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| format!("body: {e}"))?;
        let (arrived, wall) = (Instant::now(), now_micros());
        for (k, stamp) in scanner.feed(&piece) {
            if k == 0 {
                let elapsed = arrived.duration_since(started).as_micros();
                ttft_us = Some(u64::try_from(elapsed).unwrap_or(u64::MAX));
            } else {
                chunk_us.push(wall.saturating_sub(stamp));
            }
        }
    }
    match ttft_us {
        Some(ttft_us) if scanner.seen() == args.chunks => Ok(Timed { ttft_us, chunk_us }),
        _ => Err(format!(
            "stream ended after {} of {} chunks",
            scanner.seen(),
            args.chunks
        )),
    }
}

/// Runs the streams; returns the report line.
pub async fn run(args: StreamArgs) -> Result<String, Error> {
    let concurrency = args.concurrency.max(1);
    let client = client(concurrency)?;
    let total = args.warmup + args.streams;
    let results: Vec<(usize, Result<Timed, String>)> = futures::stream::iter(0..total)
        .map(|i| {
            let (client, args) = (&client, &args);
            async move { (i, one(client, args).await) }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let (mut ttft, mut chunks, mut errors) = (Vec::new(), Vec::new(), 0usize);
    for (i, result) in results {
        match result {
            Ok(timed) if i >= args.warmup => {
                ttft.push(timed.ttft_us);
                chunks.extend(timed.chunk_us);
            }
            Ok(_) => {}
            Err(err) => {
                errors += 1;
                if errors <= 3 {
                    eprintln!("bench-driver stream: {}: {err}", args.url);
                }
            }
        }
    }
    Ok(format!(
        "{} {} errors={errors}",
        Samples::new(ttft).report("ttft"),
        Samples::new(chunks).report("chunk")
    ))
}

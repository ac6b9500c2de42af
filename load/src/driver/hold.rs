//! `bench-driver hold`: opens N slow streams over a ramp, keeps them open, and reports errors,
//! how long all N were open at once, and the memory of the proxy processes (`--pid`): the
//! sum of `VmRSS` before the first stream, the largest sampled sum of `VmRSS`, and the sum of
//! `VmHWM` (peak since process start) at the end.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures::StreamExt;
use tokio::task::JoinSet;

use super::{Error, client, post, proc};
use crate::marker::Scanner;

/// How often streams are started during the ramp, and memory is sampled.
const TICK: Duration = Duration::from_millis(10);
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// What to run.
#[derive(Debug, Clone)]
pub struct HoldArgs {
    /// Target URL.
    pub url: String,
    /// JSON request body.
    pub body: Bytes,
    /// Concurrent streams to open.
    pub streams: usize,
    /// Time over which they are opened.
    pub ramp: Duration,
    /// Deltas every stream must deliver.
    pub chunks: usize,
    /// Give up (and count the rest as errors) after this long.
    pub deadline: Duration,
    /// Processes whose memory is watched.
    pub pids: Vec<u32>,
}

/// Shared counters.
#[derive(Default)]
struct Counters {
    open: AtomicUsize,
    peak_open: AtomicUsize,
    /// Microseconds since start when all streams were first open (0 = never).
    full_at: AtomicU64,
    /// Microseconds since start when the first stream closed after that.
    full_until: AtomicU64,
    err_status: AtomicUsize,
    err_send: AtomicUsize,
    err_body: AtomicUsize,
    err_short: AtomicUsize,
}

#[derive(Debug, Clone, Copy)]
enum Failure {
    Status,
    Send,
    Body,
    Short,
}

fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

async fn one(
    client: reqwest::Client,
    args: Arc<HoldArgs>,
    counters: Arc<Counters>,
    start: Instant,
) -> Result<(), Failure> {
    let response = post(&client, &args.url, &args.body)
        .send()
        .await
        .map_err(|_| Failure::Send)?;
    if !response.status().is_success() {
        return Err(Failure::Status);
    }
    let open = counters.open.fetch_add(1, Relaxed) + 1;
    counters.peak_open.fetch_max(open, Relaxed);
    if open == args.streams {
        counters.full_at.store(micros_since(start).max(1), Relaxed);
    }
    let mut scanner = Scanner::new(args.chunks);
    let mut body = response.bytes_stream();
    let mut result = Ok(());
    while let Some(piece) = body.next().await {
        match piece {
            Ok(piece) => drop(scanner.feed(&piece)),
            Err(_) => {
                result = Err(Failure::Body);
                break;
            }
        }
    }
    if counters.open.fetch_sub(1, Relaxed) == args.streams {
        counters.full_until.store(micros_since(start), Relaxed);
    }
    if result.is_ok() && scanner.seen() < args.chunks {
        result = Err(Failure::Short);
    }
    result
}

fn count(counters: &Counters, failure: Failure) {
    let counter = match failure {
        Failure::Status => &counters.err_status,
        Failure::Send => &counters.err_send,
        Failure::Body => &counters.err_body,
        Failure::Short => &counters.err_short,
    };
    counter.fetch_add(1, Relaxed);
}

/// Samples the summed `VmRSS` of `pids` until aborted, keeping the peak.
async fn sample(pids: Vec<u32>, peak: Arc<AtomicU64>) {
    loop {
        peak.fetch_max(proc::sum_kb(&pids, "VmRSS"), Relaxed);
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}

/// Runs the scenario; returns the report line.
pub async fn run(args: HoldArgs) -> Result<String, Error> {
    let client = client(0)?;
    let args = Arc::new(args);
    let counters = Arc::new(Counters::default());
    let rss_start = proc::sum_kb(&args.pids, "VmRSS");
    let rss_peak = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn(sample(args.pids.clone(), rss_peak.clone()));
    let start = Instant::now();
    let ticks = (args.ramp.as_micros() / TICK.as_micros()).max(1);
    let per_tick = (args.streams as u128).div_ceil(ticks).max(1);
    let per_tick = usize::try_from(per_tick).unwrap_or(args.streams);
    let mut tasks = JoinSet::new();
    let mut ticker = tokio::time::interval(TICK);
    while tasks.len() < args.streams {
        ticker.tick().await;
        for _ in 0..per_tick.min(args.streams - tasks.len()) {
            let task = one(client.clone(), args.clone(), counters.clone(), start);
            tasks.spawn(task);
        }
    }
    let deadline = tokio::time::sleep(args.deadline.saturating_sub(start.elapsed()));
    tokio::pin!(deadline);
    let (mut ok, mut timed_out) = (0usize, 0usize);
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => break,
                Some(Ok(Ok(()))) => ok += 1,
                Some(Ok(Err(failure))) => count(&counters, failure),
                Some(Err(_)) => {
                    counters.err_body.fetch_add(1, Relaxed);
                }
            },
            () = &mut deadline => {
                timed_out = tasks.len();
                tasks.abort_all();
                break;
            }
        }
    }
    sampler.abort();
    rss_peak.fetch_max(proc::sum_kb(&args.pids, "VmRSS"), Relaxed);
    let hwm = proc::sum_kb(&args.pids, "VmHWM");
    let c = &counters;
    let errors = c.err_status.load(Relaxed)
        + c.err_send.load(Relaxed)
        + c.err_body.load(Relaxed)
        + c.err_short.load(Relaxed)
        + timed_out;
    let (full_at, full_until) = (c.full_at.load(Relaxed), c.full_until.load(Relaxed));
    let held_ms = match (full_at, full_until) {
        (0, _) => 0,
        (at, 0) => micros_since(start).saturating_sub(at) / 1000,
        (at, until) => until.saturating_sub(at) / 1000,
    };
    Ok(format!(
        "streams={} ok={ok} errors={errors} err_status={} err_send={} err_body={} err_short={} err_timeout={timed_out} peak_open={} held_ms={held_ms} rss_start_kb={rss_start} rss_peak_kb={} hwm_kb={hwm} elapsed_ms={}",
        args.streams,
        c.err_status.load(Relaxed),
        c.err_send.load(Relaxed),
        c.err_body.load(Relaxed),
        c.err_short.load(Relaxed),
        c.peak_open.load(Relaxed),
        rss_peak.load(Relaxed),
        start.elapsed().as_millis(),
    ))
}

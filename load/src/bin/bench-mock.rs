//! `bench-mock`: the benchmark's mock upstream (see `gateway_bench::mock`).

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use clap::Parser;
use gateway_bench::mock::{self, Timing};

/// A fast mock LLM upstream: OpenAI Responses and Chat Completions, Azure OpenAI, Anthropic and
/// Gemini, JSON and SSE. Every streamed text delta carries a `~c<k>t<µs>~` stamp.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "MOCK_LISTEN", default_value = "127.0.0.1:18500")]
    listen: SocketAddr,
    /// HTTP worker threads (0 = one per core).
    #[arg(long, env = "MOCK_WORKERS", default_value_t = 0)]
    workers: usize,
    /// Delay before a JSON answer or the first stream chunk, in milliseconds.
    #[arg(long, env = "MOCK_LATENCY_MS", default_value_t = 0.0)]
    latency_ms: f64,
    /// Text deltas per stream.
    #[arg(long, env = "MOCK_CHUNKS", default_value_t = 20)]
    chunks: usize,
    /// Pause between stream deltas, in milliseconds (timer resolution is 1 ms).
    #[arg(long, env = "MOCK_INTERVAL_MS", default_value_t = 10.0)]
    interval_ms: f64,
}

fn millis(name: &str, ms: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(ms / 1000.0).map_err(|e| format!("--{name}: {e}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let timing = millis("latency-ms", args.latency_ms).and_then(|latency| {
        Ok(Timing {
            latency,
            chunks: args.chunks,
            interval: millis("interval-ms", args.interval_ms)?,
        })
    });
    let result = timing
        .and_then(|timing| mock::run(args.listen, args.workers, timing).map_err(|e| e.to_string()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-mock: {err}");
            ExitCode::FAILURE
        }
    }
}

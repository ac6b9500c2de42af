//! `bench-driver`: streaming TTFT / per-chunk latency, many concurrent streams, startup time
//! (see `gateway_bench::driver`). Prints one `key=value` line per run for `load/bench.sh`.

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use bytes::Bytes;
use clap::{Parser, Subcommand};
use gateway_bench::{
    driver::{
        Error,
        hold::{self, HoldArgs},
        startup::{self, StartupArgs},
        stream::{self, StreamArgs},
    },
    stats,
};

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Streams one at a time (or C at a time): TTFT and per-chunk latency percentiles (µs).
    Stream {
        /// Target URL.
        #[arg(long)]
        url: String,
        /// JSON request body.
        #[arg(long)]
        body: String,
        /// Measured streams.
        #[arg(long, default_value_t = 200)]
        streams: usize,
        /// Streams in flight at once.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// Unmeasured warm-up streams.
        #[arg(long, default_value_t = 20)]
        warmup: usize,
        /// Deltas per stream (the mock's --chunks).
        #[arg(long)]
        chunks: usize,
    },
    /// Many concurrent slow streams: errors, time all were open, peak RSS of --pid processes.
    Hold {
        /// Target URL.
        #[arg(long)]
        url: String,
        /// JSON request body.
        #[arg(long)]
        body: String,
        /// Concurrent streams.
        #[arg(long, default_value_t = 10_000)]
        streams: usize,
        /// Seconds over which the streams are opened.
        #[arg(long, default_value_t = 8.0)]
        ramp_secs: f64,
        /// Deltas per stream (the mock's --chunks).
        #[arg(long)]
        chunks: usize,
        /// Seconds after which unfinished streams count as errors.
        #[arg(long, default_value_t = 120.0)]
        deadline_secs: f64,
        /// Processes whose memory is watched (repeat for a master and its workers).
        #[arg(long = "pid")]
        pids: Vec<u32>,
    },
    /// Spawns a server N times: time from spawn to listening, idle RSS of the last instance.
    Startup {
        /// Address the server listens on.
        #[arg(long)]
        addr: SocketAddr,
        /// Number of starts.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Milliseconds of idling before RSS is read.
        #[arg(long, default_value_t = 1000)]
        idle_ms: u64,
        /// The server command.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

fn seconds(value: f64) -> Result<Duration, Error> {
    Ok(Duration::try_from_secs_f64(value)?)
}

fn block_on<F: Future<Output = Result<String, Error>>>(future: F) -> Result<String, Error> {
    // One thread: the driver shares two cores with the proxy under test and the mock.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

fn run(cli: Cli) -> Result<String, Error> {
    match cli.command {
        Command::Stream {
            url,
            body,
            streams,
            concurrency,
            warmup,
            chunks,
        } => block_on(stream::run(StreamArgs {
            url,
            body: Bytes::from(body),
            streams,
            concurrency,
            warmup,
            chunks,
        })),
        Command::Hold {
            url,
            body,
            streams,
            ramp_secs,
            chunks,
            deadline_secs,
            pids,
        } => {
            let args = HoldArgs {
                url,
                body: Bytes::from(body),
                streams,
                ramp: seconds(ramp_secs)?,
                chunks,
                deadline: seconds(deadline_secs)?,
                pids,
            };
            block_on(hold::run(args))
        }
        Command::Startup {
            addr,
            runs,
            idle_ms,
            command,
        } => startup::run(&StartupArgs {
            addr,
            runs,
            idle: Duration::from_millis(idle_ms),
            command,
        }),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()).and_then(|line| Ok(stats::emit(&line)?)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-driver: {err}");
            ExitCode::FAILURE
        }
    }
}

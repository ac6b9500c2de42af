//! `bench-driver startup`: spawns a server command several times, measures the time from spawn
//! until its port accepts a TCP connection, and reads the last instance's idle `VmRSS`.

use std::{
    net::{SocketAddr, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::{Error, proc};
use crate::stats::Samples;

/// Longest wait for one start.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between connection attempts.
const POLL: Duration = Duration::from_micros(200);

/// What to run.
#[derive(Debug, Clone)]
pub struct StartupArgs {
    /// The address the command listens on.
    pub addr: SocketAddr,
    /// Number of starts.
    pub runs: usize,
    /// Idle time before the last instance's RSS is read.
    pub idle: Duration,
    /// The command and its arguments.
    pub command: Vec<String>,
}

fn spawn(command: &[String]) -> Result<Child, Error> {
    let (program, args) = command.split_first().ok_or("startup: no command given")?;
    Ok(Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?)
}

fn stop(child: &mut Child) {
    // Our own child, by its handle: SIGKILL, then reap it.
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until `addr` accepts a connection; the elapsed time since `spawned`.
fn wait_listening(
    child: &mut Child,
    addr: SocketAddr,
    spawned: Instant,
) -> Result<Duration, Error> {
    loop {
        if TcpStream::connect(addr).is_ok() {
            return Ok(spawned.elapsed());
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("startup: the command exited early ({status})").into());
        }
        if spawned.elapsed() > START_TIMEOUT {
            return Err(
                format!("startup: nothing listened on {addr} within {START_TIMEOUT:?}").into(),
            );
        }
        std::thread::sleep(POLL);
    }
}

/// Runs the starts; returns the report line.
pub fn run(args: &StartupArgs) -> Result<String, Error> {
    if TcpStream::connect(args.addr).is_ok() {
        return Err(format!("startup: {} is already in use", args.addr).into());
    }
    let mut times = Vec::with_capacity(args.runs);
    let mut idle_rss = 0;
    for run in 0..args.runs.max(1) {
        let spawned = Instant::now();
        let mut child = spawn(&args.command)?;
        let waited = wait_listening(&mut child, args.addr, spawned);
        if waited.is_ok() && run + 1 == args.runs.max(1) {
            std::thread::sleep(args.idle);
            idle_rss = proc::status_kb(child.id(), "VmRSS").unwrap_or(0);
        }
        stop(&mut child);
        times.push(u64::try_from(waited?.as_micros()).unwrap_or(u64::MAX));
        // Let the port close before the next start.
        let stopped = Instant::now();
        while TcpStream::connect(args.addr).is_ok() {
            if stopped.elapsed() > START_TIMEOUT {
                return Err(format!("startup: {} still answers after stopping", args.addr).into());
            }
            std::thread::sleep(POLL);
        }
    }
    let samples = Samples::new(times);
    Ok(format!(
        "startup_p50_us={} startup_min_us={} startup_max_us={} runs={} idle_rss_kb={idle_rss}",
        samples.percentile(50.0),
        samples.percentile(0.0),
        samples.percentile(100.0),
        samples.len(),
    ))
}

//! The `gateway` binary: parse flags, load config, set up logging (and OpenTelemetry tracing
//! when configured), run the server.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use llm_gateway::{
    config::Config,
    observability::sink::{LogFlush, LogSink},
    telemetry::Telemetry,
};
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

// glibc's malloc was a fifth of the gateway's CPU under load (BENCHMARKS.md, issue 8).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The example config, embedded so the binary runs with no files at all.
const EMBEDDED_CONFIG: &str = include_str!("../config/config.example.yaml");

/// llm-gateway: one Open Responses endpoint in front of OpenAI, Azure OpenAI, Anthropic and Gemini.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Config file (YAML). Default: ./config.yaml when present, else the embedded example config.
    #[arg(long, short, env = "GATEWAY_CONFIG")]
    config: Option<PathBuf>,
}

fn load(args: &Args) -> Result<Config, llm_gateway::config::ConfigError> {
    let env = |name: &str| std::env::var(name).ok();
    let default_path = PathBuf::from("config.yaml");
    match &args.config {
        Some(path) => Config::load(Some(path), &env),
        None if default_path.exists() => Config::load(Some(&default_path), &env),
        None => Config::from_yaml(EMBEDDED_CONFIG, &env),
    }
}

/// What logging keeps alive until the process ends: the OpenTelemetry pipeline (exports what is
/// left when it drops) and the log sink's flush.
struct Logging {
    telemetry: Option<Telemetry>,
    flush: LogFlush,
}

/// Installs the log layer (lines written to stdout by the log-writer thread) and, when
/// `tracing` is configured, the OpenTelemetry layer (none at all otherwise).
fn init_logging(config: &Config) -> Result<Logging, llm_gateway::GatewayError> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let (sink, flush) = LogSink::start(std::io::stdout())
        .map_err(|e| llm_gateway::GatewayError::Internal(format!("cannot start logging: {e}")))?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_writer(sink);
    let fmt = if config.log.json {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    };
    let telemetry = Telemetry::start(&config.tracing)?;
    tracing_subscriber::registry()
        .with(fmt.with_filter(llm_gateway::telemetry::hide_from_logs(filter)))
        .with(telemetry.as_ref().map(Telemetry::layer))
        .init();
    Ok(Logging { telemetry, flush })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match load(&args) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("gateway: {err}");
            return ExitCode::from(2);
        }
    };
    let Logging { telemetry, flush } = match init_logging(&config) {
        Ok(logging) => logging,
        Err(err) => {
            eprintln!("gateway: {err}");
            return ExitCode::from(2);
        }
    };
    if let Some(endpoint) = telemetry
        .as_ref()
        .and(config.tracing.otlp_endpoint.as_ref())
    {
        tracing::info!(endpoint = %endpoint, service = %config.tracing.service_name, "Exporting traces over OTLP/HTTP.");
    }
    let providers: Vec<_> = config.providers.iter().map(|p| p.name.clone()).collect();
    if providers.is_empty() {
        tracing::warn!(
            "No provider is configured: set OPENAI_API_KEY, AZURE_OPENAI_API_KEY (+ endpoint, deployment), ANTHROPIC_API_KEY or GOOGLE_API_KEY."
        );
    }
    let grace = config.server.shutdown_timeout;
    let result = actix_web::rt::System::new().block_on(async move {
        let running = llm_gateway::app::start(config)?;
        tracing::info!(address = %running.addr, providers = ?providers, "Gateway listening.");
        // SIGTERM/SIGINT: not ready at once, stop accepting, drain for `shutdown_timeout`.
        actix_web::rt::spawn(
            running
                .drain
                .clone()
                .on_signals(running.server.handle(), grace),
        );
        running
            .server
            .await
            .map_err(|e| llm_gateway::GatewayError::Internal(e.to_string()))
    });
    // Exports the spans still queued (bounded by the export timeout), then writes the last lines.
    drop(telemetry);
    drop(flush);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gateway: {err}");
            ExitCode::FAILURE
        }
    }
}

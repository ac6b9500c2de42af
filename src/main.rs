//! The `gateway` binary: parse flags, load config, set up logging (and OpenTelemetry tracing
//! when configured), run the server.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Parser, Subcommand};
use llm_gateway::{
    config::Config,
    observability::sink::{LogFlush, LogSink},
    telemetry::Telemetry,
};
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

// glibc's malloc was a fifth of the gateway's CPU under load (BENCHMARKS.md, second pass).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The example config, embedded so the binary runs with no files at all.
const EMBEDDED_CONFIG: &str = include_str!("../config/config.example.yaml");

/// llm-gateway: one Open Responses endpoint in front of OpenAI, Azure OpenAI, Anthropic and Gemini.
///
/// With no subcommand, serves: loads the config, then answers on `server.address` until SIGTERM
/// or SIGINT (then drains). An invalid config stops the start with exit code 2.
#[derive(Parser)]
#[command(version = llm_gateway::cli::VERSION, about, after_help = llm_gateway::cli::ENVIRONMENT)]
struct Args {
    /// Config file (YAML). Default: ./config.yaml when present, else the embedded example config.
    #[arg(long, short, env = "GATEWAY_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the config and print what it resolved (exit 0 when valid, 2 when not).
    ///
    /// Reads the config exactly as a start would (same file, same environment, same RUST_LOG
    /// check) and prints the providers (key source, never the key), the routing table (each
    /// public model's candidates in order), auth, stores and limits. An invalid config prints
    /// its error, which names the offending key, to stderr.
    #[command(after_help = llm_gateway::cli::ENVIRONMENT)]
    Check,
}

/// The config file to read: `--config` (or `GATEWAY_CONFIG`), else ./config.yaml when present;
/// `None` means the embedded example config.
fn config_path(args: &Args) -> Option<PathBuf> {
    let default_path = PathBuf::from("config.yaml");
    args.config
        .clone()
        .or_else(|| default_path.exists().then_some(default_path))
}

fn load(path: Option<&Path>) -> Result<Config, llm_gateway::config::ConfigError> {
    let env = |name: &str| std::env::var(name).ok();
    match path {
        Some(path) => Config::load(Some(path), &env),
        None => Config::from_yaml(EMBEDDED_CONFIG, &env),
    }
}

/// Loads the config and hashes the bytes it came from (for `gateway_config_info`); errors as
/// text, naming the file and the offending key.
fn load_hashed(path: Option<&Path>) -> Result<(Config, String), String> {
    let bytes = match path {
        Some(path) => {
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
        }
        None => EMBEDDED_CONFIG.as_bytes().to_vec(),
    };
    let config = load(path).map_err(|e| match path {
        Some(path) => format!("{} ({})", e, path.display()),
        None => e.to_string(),
    })?;
    log_filter(std::env::var("RUST_LOG").ok(), &config.log.level)?;
    Ok((config, llm_gateway::engine::reload::config_hash(&bytes)))
}

/// `gateway check`: the same load and log filter as a start, so it passes when a start would.
fn check(path: Option<&Path>) -> ExitCode {
    let checked = load(path).map_err(|e| e.to_string()).and_then(|config| {
        log_filter(std::env::var("RUST_LOG").ok(), &config.log.level).map_err(|e| e.to_string())?;
        Ok(config)
    });
    llm_gateway::cli::check(path, checked)
}

/// What logging keeps alive until the process ends: the OpenTelemetry pipeline (exports what is
/// left when it drops) and the log sink's flush.
struct Logging {
    telemetry: Option<Telemetry>,
    flush: LogFlush,
    /// Applies a reloaded `log.level` (`RUST_LOG`, when set, still wins).
    set_level: llm_gateway::engine::reload::SetLogLevel,
}

/// The log filter: `RUST_LOG` when set to something (an empty one is ignored: it would silence
/// every line), else the config's `log.level` (already checked when the config was read). An
/// unparsable `RUST_LOG` stops the start rather than logging nothing.
fn log_filter(rust_log: Option<String>, level: &str) -> Result<EnvFilter, String> {
    let directives = rust_log
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| level.to_owned());
    llm_gateway::config::check_log_filter(&directives)
        .map_err(|why| format!("config error at `RUST_LOG`: {why}"))?;
    EnvFilter::builder()
        .parse(&directives)
        .map_err(|e| format!("config error at `RUST_LOG`: {e}"))
}

/// Installs the log layer (lines written to stdout by the log-writer thread) and, when
/// `tracing` is configured, the OpenTelemetry layer (none at all otherwise).
fn init_logging(config: &Config) -> Result<Logging, String> {
    let filter = log_filter(std::env::var("RUST_LOG").ok(), &config.log.level)?;
    let (sink, flush) =
        LogSink::start(std::io::stdout()).map_err(|e| format!("cannot start logging: {e}"))?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        // Colours only for a terminal: piped into a file or a collector, escape codes are noise.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_writer(sink);
    let fmt = if config.log.json {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    };
    let telemetry = Telemetry::start(&config.tracing).map_err(|e| e.to_string())?;
    let (filter, reload) =
        tracing_subscriber::reload::Layer::new(llm_gateway::telemetry::hide_from_logs(filter));
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(telemetry.as_ref().map(Telemetry::layer))
        .init();
    let set_level = Box::new(move |level: &str| {
        let filter = log_filter(std::env::var("RUST_LOG").ok(), level)?;
        reload
            .reload(llm_gateway::telemetry::hide_from_logs(filter))
            .map_err(|e| e.to_string())
    });
    Ok(Logging {
        telemetry,
        flush,
        set_level,
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let path = config_path(&args);
    if let Some(Command::Check) = args.command {
        return check(path.as_deref());
    }
    let (config, hash) = match load_hashed(path.as_deref()) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("gateway: {err}");
            return ExitCode::from(2);
        }
    };
    let Logging {
        telemetry,
        flush,
        set_level,
    } = match init_logging(&config) {
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
    log_startup(&config);
    let result = serve(config, path, hash, set_level);
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

/// What an operator should know at start: each provider (where its key came from, never the
/// key) and the settings that are surprising or unsafe.
fn log_startup(config: &Config) {
    for provider in &config.providers {
        // The source only (`config` or the variable's name): never the key itself.
        tracing::info!(provider = %provider.name, kind = provider.kind.as_str(), base_url = %provider.base_url, key_source = %provider.key_source, "Provider configured.");
    }
    if config.server.reasoning_key_random {
        tracing::info!(
            "No server.secret (or GATEWAY_SECRET): reasoning state in encrypted_content is sealed with a random per-process key, so it does not survive a restart and other replicas cannot open it. Set a shared secret to keep it."
        );
    }
    if config.providers.is_empty() {
        tracing::warn!(
            "No provider is configured: set OPENAI_API_KEY, AZURE_OPENAI_API_KEY (+ endpoint, deployment), ANTHROPIC_API_KEY or GOOGLE_API_KEY. /readyz answers 503 until one is."
        );
    }
    if !config.auth.enabled && !config.server.address.ip().is_loopback() {
        tracing::warn!(
            address = %config.server.address,
            "AUTHENTICATION IS OFF on a non-loopback address: anyone who can reach this port can spend the configured providers' keys. Set auth.enabled with api_keys or an OIDC issuer, or listen on 127.0.0.1."
        );
    }
}

/// Serves until the drain after SIGTERM/SIGINT ends it; SIGHUP re-reads the config at `path`.
fn serve(
    config: Config,
    path: Option<PathBuf>,
    hash: String,
    set_level: llm_gateway::engine::reload::SetLogLevel,
) -> Result<(), String> {
    let providers: Vec<_> = config.providers.iter().map(|p| p.name.clone()).collect();
    let grace = config.server.shutdown_timeout;
    let delay = config.server.shutdown_delay;
    let watch_config = config.server.watch_config;
    actix_web::rt::System::new().block_on(async move {
        let running = llm_gateway::app::start(config)?;
        llm_gateway::engine::reload::publish_config_hash(None, &hash);
        let config_hash = hash.clone();
        // SIGHUP: re-read and validate the file; a valid one is applied at once. Installed
        // before the line below, so whoever waits for it may signal or edit at once.
        #[cfg(unix)]
        {
            let watch = path.clone().filter(|_| watch_config);
            actix_web::rt::spawn(llm_gateway::engine::reload::on_sighup(
                running.engine.clone(),
                move || load_hashed(path.as_deref()),
                hash,
                set_level,
                watch,
            ));
        }
        #[cfg(not(unix))]
        drop((set_level, path, hash));
        tracing::info!(address = %running.addr, providers = ?providers, config_hash = %config_hash, "Gateway listening.");
        // SIGTERM/SIGINT: not ready at once, stop accepting, drain for `shutdown_timeout`.
        actix_web::rt::spawn(running.drain.clone().on_signals(
            running.server.handle(),
            delay,
            grace,
        ));
        running
            .server
            .await
            .map_err(|e| llm_gateway::GatewayError::Internal(e.to_string()))
    })
    // As text: the caller only prints it, and the error itself is large to pass around.
    .map_err(|err: llm_gateway::GatewayError| err.to_string())
}

//! The `gateway` binary: parse flags, load config, set up logging, run the server.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use llm_gateway::config::Config;
use tracing_subscriber::EnvFilter;

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

fn init_logging(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if config.log.json {
        builder.json().init();
    } else {
        builder.init();
    }
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
    init_logging(&config);
    let providers: Vec<_> = config.providers.iter().map(|p| p.name.clone()).collect();
    if providers.is_empty() {
        tracing::warn!(
            "No provider is configured: set OPENAI_API_KEY, AZURE_OPENAI_API_KEY (+ endpoint, deployment), ANTHROPIC_API_KEY or GOOGLE_API_KEY."
        );
    }
    let result = actix_web::rt::System::new().block_on(async move {
        let running = llm_gateway::app::start(config)?;
        tracing::info!(address = %running.addr, providers = ?providers, "Gateway listening.");
        running
            .server
            .await
            .map_err(|e| llm_gateway::GatewayError::Internal(e.to_string()))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gateway: {err}");
            ExitCode::FAILURE
        }
    }
}

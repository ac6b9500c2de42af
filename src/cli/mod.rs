//! The binary's command line beyond its flags: the `--version` text, the environment `--help`
//! lists, and `gateway check` (validate the config, print what it resolved, exit 0 or 2).

mod report;
mod routes;

use std::{io::Write, path::Path, process::ExitCode};

use crate::config::Config;

/// `gateway --version`: the crate version and the git commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("GATEWAY_GIT_COMMIT"),
    ")"
);

/// The exit code of `gateway check` (and of a start) on an invalid config.
const INVALID_CONFIG: u8 = 2;

/// `--help`'s last section: every environment variable the binary reads.
pub const ENVIRONMENT: &str = "\
Environment:
  GATEWAY_CONFIG                      Config file, as --config.
  RUST_LOG                            Log filter (e.g. `info,llm_gateway=debug`); overrides log.level.
  OPENAI_API_KEY                      OpenAI key: configures the `openai` provider.
  AZURE_OPENAI_API_KEY                Azure OpenAI key: configures the `azureopenai` provider...
  AZURE_OPENAI_ENDPOINT               ...with its resource endpoint (https://NAME.openai.azure.com)...
  AZURE_OPENAI_DEPLOYMENT_ID          ...and the deployment used for models without a mapping.
  ANTHROPIC_API_KEY                   Anthropic key: configures the `anthropic` provider.
  GOOGLE_API_KEY                      Gemini API key: configures the `google` provider.
  GATEWAY_SECRET                      server.secret: seals reasoning state in encrypted_content
                                      (shared by replicas; unset: a random key per process).
  REDIS_URL                           Conversation store URL in the example config
                                      (conversations.redis_url: ${REDIS_URL:-redis://127.0.0.1:6379}).
  REDIS_USERNAME, REDIS_PASSWORD      Redis credentials when the `redis:` block names none.
  OTEL_EXPORTER_OTLP_ENDPOINT         OTLP/HTTP base URL for traces when tracing.otlp_endpoint is unset.
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  Full OTLP/HTTP traces URL (wins over the one above).
  OTEL_EXPORTER_OTLP_HEADERS          Headers sent to the collector (`key=value,...`; also
                                      OTEL_EXPORTER_OTLP_TRACES_HEADERS).
  OTEL_SERVICE_NAME                   service.name of spans when tracing.service_name is unset.
  OTEL_RESOURCE_ATTRIBUTES            Extra resource attributes of spans (`deployment.environment=prod`).
  OTEL_SDK_DISABLED                   `true` turns trace export off.
A key or endpoint given in the config file wins over these variables; they fill what it leaves
empty. The config file may also name any variable as ${VAR} or ${VAR:-default}.";

/// `gateway check`: on a valid config (`checked`), prints what it resolved to stdout and
/// returns 0; otherwise prints the error (which names the offending path) to stderr and
/// returns 2. `path` is the file read, `None` for the embedded example config.
pub fn check(path: Option<&Path>, checked: Result<Config, String>) -> ExitCode {
    let source = path.map_or_else(
        || "the embedded example config (no --config, GATEWAY_CONFIG or ./config.yaml)".to_owned(),
        |p| p.display().to_string(),
    );
    let config = match checked {
        Ok(config) => config,
        Err(err) => {
            eprintln!("gateway: {err} (config: {source})");
            return ExitCode::from(INVALID_CONFIG);
        }
    };
    let rust_log = std::env::var("RUST_LOG").ok();
    let mut stdout = std::io::stdout().lock();
    match report::write(&mut stdout, &config, &source, rust_log.as_deref())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gateway: cannot write the report: {err}");
            ExitCode::FAILURE
        }
    }
}

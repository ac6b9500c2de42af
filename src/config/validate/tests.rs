use super::*;
use crate::{api::ProviderKind, config::Secret};

fn no_env(_: &str) -> Option<String> {
    None
}

const ISSUE_SCHEMA: &str = r#"
server:
  address: ":8080"
providers:
  openai:
    api_key: "${OPENAI_API_KEY}"
    base_url: "https://api.openai.com/v1"
  azureopenai:
    api_key: "${AZURE_OPENAI_API_KEY}"
    endpoint: "https://your-resource.openai.azure.com"
    deployment_id: "gpt-4o"
    api_version: "2024-10-21"
  anthropic:
    api_key: "${ANTHROPIC_API_KEY}"
    base_url: "https://api.anthropic.com"
  google:
    api_key: "${GOOGLE_API_KEY}"
    base_url: "https://generativelanguage.googleapis.com"
auth:
  enabled: false
  issuer: "https://accounts.google.com"
  audience: "YOUR-CLIENT-ID"
conversations:
  ttl: "1h"
"#;

#[test]
fn issue_schema_without_keys_configures_no_provider() {
    let config = Config::from_yaml(ISSUE_SCHEMA, &no_env).unwrap();
    assert!(config.providers.is_empty());
    assert_eq!(config.server.address.port(), 8080);
    assert_eq!(config.conversations.ttl, Duration::from_secs(3600));
}

#[test]
fn env_keys_configure_providers() {
    let env = |name: &str| match name {
        "OPENAI_API_KEY" | "ANTHROPIC_API_KEY" => Some("k".to_owned()),
        _ => None,
    };
    let config = Config::from_yaml(ISSUE_SCHEMA, &env).unwrap();
    let names: Vec<_> = config.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["anthropic", "openai"]);
    assert_eq!(format!("{:?}", config.providers[0].api_key), "*****");
}

#[test]
fn env_override_creates_azure_block() {
    let env = |name: &str| match name {
        "AZURE_OPENAI_API_KEY" => Some("k".to_owned()),
        "AZURE_OPENAI_ENDPOINT" => Some("https://x.openai.azure.com/".to_owned()),
        "AZURE_OPENAI_DEPLOYMENT_ID" => Some("dep".to_owned()),
        _ => None,
    };
    let config = Config::from_yaml("", &env).unwrap();
    let azure = config.provider("azureopenai").unwrap();
    assert_eq!(azure.base_url, "https://x.openai.azure.com");
    assert_eq!(azure.deployment_id.as_deref(), Some("dep"));
    assert_eq!(azure.api_version.as_deref(), Some("2024-10-21"));
}

#[test]
fn errors_name_the_path() {
    let bad = [
        ("server:\n  address: \"nope\"\n", "server.address"),
        ("conversations:\n  ttl: \"soon\"\n", "conversations.ttl"),
        (
            "providers:\n  openai:\n    api_key: k\n    bogus: 1\n",
            "providers.openai",
        ),
        ("providers:\n  mine:\n    api_key: k\n", "providers.mine"),
        (
            "providers:\n  azureopenai:\n    api_key: k\n",
            "providers.azureopenai.endpoint",
        ),
        ("log:\n  format: xml\n", "log.format"),
        ("conversations:\n  store: disk\n", "conversations.store"),
        (
            "conversations:\n  store: redis\n  redis_url: \"http://x\"\n",
            "conversations.redis_url",
        ),
    ];
    for (yaml, path) in bad {
        let err = Config::from_yaml(yaml, &no_env).unwrap_err().to_string();
        assert!(err.contains(path), "{err} should name {path}");
    }
}

#[test]
fn custom_instance_with_type() {
    let yaml = "providers:\n  azure-eu:\n    type: azureopenai\n    api_key: k\n    endpoint: https://eu.example\n    deployment_id: d\n";
    let config = Config::from_yaml(yaml, &no_env).unwrap();
    assert_eq!(config.providers[0].kind, ProviderKind::Azure);
}

#[test]
fn conversation_store_defaults_to_memory_and_redis_has_defaults() {
    let config = Config::from_yaml("", &no_env).unwrap();
    assert_eq!(config.conversations.backend, ConversationBackend::Memory);
    let config = Config::from_yaml("conversations:\n  store: redis\n", &no_env).unwrap();
    let ConversationBackend::Redis(redis) = config.conversations.backend else {
        panic!("expected the Redis store");
    };
    assert_eq!(redis.url.expose(), "redis://127.0.0.1:6379");
    assert_eq!(redis.key_prefix, "llm-gateway:");
    assert_eq!(
        format!("{:?}", redis.url),
        "*****",
        "the URL may hold a password"
    );
    let yaml = "conversations:\n  store: redis\n  redis_url: \"redis://:pw@10.0.0.5:6380/2\"\n  key_prefix: \"gw-a:\"\n";
    let config = Config::from_yaml(yaml, &no_env).unwrap();
    let ConversationBackend::Redis(redis) = config.conversations.backend else {
        panic!("expected the Redis store");
    };
    assert_eq!(redis.url.expose(), "redis://:pw@10.0.0.5:6380/2");
    assert_eq!(redis.key_prefix, "gw-a:");
}

#[test]
fn one_redis_block_serves_conversations_usage_and_the_fleet() {
    let env = |name: &str| match name {
        "REDIS_USERNAME" => Some("gw".to_owned()),
        "REDIS_PASSWORD" => Some("s3cret".to_owned()),
        _ => None,
    };
    let yaml = "redis:\n  url: \"rediss://cache.example:6380\"\n  key_prefix: \"fleet-a:\"\n  command_timeout: 100ms\n";
    let config = Config::from_yaml(yaml, &env).unwrap();
    let redis = config.redis.clone().unwrap();
    assert_eq!(redis.key_prefix, "fleet-a:");
    assert_eq!(redis.command_timeout, Duration::from_millis(100));
    assert_eq!(redis.username.as_ref().map(Secret::expose), Some("gw"));
    assert_eq!(redis.password.as_ref().map(Secret::expose), Some("s3cret"));
    assert_eq!(
        config.conversations.backend,
        ConversationBackend::Redis(redis),
        "conversations default to the shared Redis"
    );
    assert!(config.fleet.enabled && config.fleet.share_breakers);

    let yaml = "redis: {}\nfleet:\n  enabled: false\nconversations:\n  store: memory\n";
    let config = Config::from_yaml(yaml, &no_env).unwrap();
    assert!(!config.fleet.enabled);
    assert_eq!(config.conversations.backend, ConversationBackend::Memory);
    assert!(config.redis.is_some(), "usage totals still go to Redis");
}

#[test]
fn the_old_conversation_redis_keys_still_configure_redis() {
    let yaml = "conversations:\n  store: redis\n  redis_url: \"redis://10.0.0.5\"\n  key_prefix: \"old:\"\n";
    let config = Config::from_yaml(yaml, &no_env).unwrap();
    let redis = config.redis.unwrap();
    assert_eq!(redis.url.expose(), "redis://10.0.0.5");
    assert_eq!(redis.key_prefix, "old:");
    assert!(
        !config.fleet.enabled,
        "fleet mode is asked for with `redis:`"
    );
    assert_eq!(
        error_path("fleet:\n  enabled: true\n", &no_env),
        "fleet.enabled"
    );
    assert_eq!(
        error_path("redis:\n  url: \"http://x\"\n", &no_env),
        "redis.url"
    );
}

#[test]
fn the_example_config_is_valid_and_uses_the_memory_store() {
    let example = include_str!("../../../config/config.example.yaml");
    let config = Config::from_yaml(example, &no_env).unwrap();
    assert_eq!(config.conversations.backend, ConversationBackend::Memory);
    assert_eq!(config.conversations.ttl, Duration::from_secs(3600));
}

fn error_path(yaml: &str, env: EnvLookup<'_>) -> String {
    match Config::from_yaml(yaml, env).unwrap_err() {
        ConfigError::Invalid { path, .. } => path,
        other => panic!("not an invalid-value error: {other}"),
    }
}

#[test]
fn a_key_written_in_the_file_wins_over_the_environment() {
    let env = |name: &str| (name == "OPENAI_API_KEY").then(|| "sk-from-shell".to_owned());
    let yaml =
        "providers:\n  openai:\n    api_key: sk-in-file\n    base_url: https://proxy.internal/v1\n";
    let config = Config::from_yaml(yaml, &env).unwrap();
    assert_eq!(config.providers[0].api_key.expose(), "sk-in-file");
    assert_eq!(config.providers[0].key_source, "config");
    // The environment fills a provider the file leaves without a key, and says so.
    let config = Config::from_yaml("providers:\n  openai: {}\n", &env).unwrap();
    assert_eq!(config.providers[0].api_key.expose(), "sk-from-shell");
    assert_eq!(config.providers[0].key_source, "OPENAI_API_KEY");
    let config = Config::from_yaml("{}", &env).unwrap();
    assert_eq!(config.providers[0].key_source, "OPENAI_API_KEY");
}

#[test]
fn mistakes_that_used_to_pass_silently_are_refused_with_their_path() {
    assert_eq!(error_path("log:\n  level: loud\n", &no_env), "log.level");
    assert_eq!(
        error_path(
            "routing:\n  aliases: { fast: nowhere/claude-3-5-haiku }\n",
            &no_env
        ),
        "routing.aliases.fast"
    );
    assert_eq!(
        error_path(
            "routing:\n  fallbacks: { gpt-4o: [\"antropic/claude\"] }\n",
            &no_env
        ),
        "routing.fallbacks.gpt-4o[0]"
    );
    assert_eq!(
        error_path("server:\n  body_timeout: 0s\n", &no_env),
        "server.body_timeout"
    );
    assert_eq!(
        error_path(
            "server:\n  max_body_bytes: 1000\n  max_pending_body_bytes: 10\n",
            &no_env
        ),
        "server.max_pending_body_bytes"
    );
    assert_eq!(
        error_path(
            "providers:\n  openai:\n    api_key: k\n    max_response_bytes: 0\n",
            &no_env
        ),
        "providers.openai.max_response_bytes"
    );
    // Known provider types (configured or not), declared blocks and bare model names pass.
    let ok = "providers:\n  eu: { type: anthropic, api_key: k }\nrouting:\n  aliases: { a: anthropic/claude-x, b: eu/claude-y, c: gpt-4o }\n  fallbacks: { gpt-4o: [google, \"eu/claude-y\", gemini-2.5-flash] }\nlog:\n  level: \"info,llm_gateway=debug\"\n";
    assert!(Config::from_yaml(ok, &no_env).is_ok());
}

#[test]
fn the_example_config_enables_no_issuer_when_only_api_keys_are_uncommented() {
    let example = include_str!("../../../config/config.example.yaml");
    let uncommented = example
        .replace("  # api_keys:", "  api_keys:")
        .replace("  #   - name: ci", "    - name: ci")
        .replace(
            "  #     key: \"${GATEWAY_KEY_CI}\"",
            "      key: \"0123456789abcdef0123\"",
        )
        .replace("  enabled: false", "  enabled: true");
    let config = Config::from_yaml(&uncommented, &no_env).unwrap();
    assert!(config.auth.enabled);
    assert_eq!(
        config.auth.api_keys.len(),
        1,
        "the edit above found the lines"
    );
    assert!(
        config.auth.issuer.is_empty(),
        "a live issuer with a placeholder audience"
    );
}

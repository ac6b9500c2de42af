//! The routing table `gateway check` prints: every public model name the config knows, resolved
//! by the same `RoutingRules` the router actor runs, so what is printed is what runs.

use std::{
    collections::BTreeSet,
    io::{self, Write},
};

use gateway_actors::{Candidate, Plan, Resolve, Strategy, Target};

use crate::{config::Config, routing::RoutingRules};

/// Names no rule mentions are routed by prefix: one probe name per family stands for it
/// (the prefixes of `RoutingRules::by_name`).
const PREFIX_PROBES: [(&str, &str); 3] = [
    ("gpt-*, o1*, o3*, o4*, chatgpt-*, text-embedding-*", "gpt-*"),
    ("claude-*", "claude-*"),
    ("gemini-*, gemma-*", "gemini-*"),
];

/// Every public model name the config knows: model groups, aliases, fallback keys and each
/// provider's listed models.
pub fn public_names(config: &Config) -> BTreeSet<&str> {
    let routing = &config.routing;
    routing
        .models
        .keys()
        .chain(routing.aliases.keys())
        .chain(routing.fallbacks.keys())
        .chain(config.providers.iter().flat_map(|p| p.models.iter()))
        .map(String::as_str)
        .collect()
}

/// Writes the retry settings, then one line per public name (strategy and ordered candidates,
/// then its fallbacks), then how other names are routed by prefix.
pub fn write(out: &mut impl Write, config: &Config) -> io::Result<()> {
    let rules = RoutingRules::new(config);
    let retry = &config.routing.retry;
    writeln!(
        out,
        "routing: retries={} retry_backoff={} max_retry_wait={} deadline={}",
        retry.retries,
        humantime::format_duration(retry.backoff),
        humantime::format_duration(retry.max_wait),
        humantime::format_duration(retry.deadline),
    )?;
    writeln!(
        out,
        "routing table (public model [strategy]: candidates in order, provider → upstream model):"
    )?;
    for name in public_names(config) {
        let alias = config
            .routing
            .aliases
            .get(name)
            .map(|target| format!(" (alias of {target})"))
            .unwrap_or_default();
        match rules.resolve(name, None) {
            Ok(plan) => write_plan(out, name, &alias, &plan, config)?,
            Err(err) => writeln!(out, "  {name}{alias}: NOT ROUTABLE: {err}")?,
        }
    }
    writeln!(out, "  other names, by prefix:")?;
    for (prefixes, probe) in PREFIX_PROBES {
        let providers = match rules.resolve(probe, None) {
            Ok(plan) => plan
                .targets
                .iter()
                .map(|t| t.candidate.provider.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Err(_) => "no provider configured".to_owned(),
        };
        writeln!(out, "    {prefixes} → {providers}")?;
    }
    writeln!(
        out,
        "  provider/model → that provider instance (or every instance of that kind)"
    )
}

fn write_plan(
    out: &mut impl Write,
    name: &str,
    alias: &str,
    plan: &Plan,
    config: &Config,
) -> io::Result<()> {
    let mut strategy = strategy_name(plan.strategy).to_owned();
    if let Some(retries) = config.routing.models.get(name).and_then(|g| g.retries) {
        strategy.push_str(&format!(", retries={retries}"));
    }
    let targets: Vec<String> = plan
        .targets
        .iter()
        .map(|t| target(t, plan.strategy))
        .collect();
    let targets = if targets.is_empty() {
        "(none: only fallbacks)".to_owned()
    } else {
        targets.join(", ")
    };
    writeln!(out, "  {name}{alias} [{strategy}]: {targets}")?;
    if !plan.fallbacks.is_empty() {
        let fallbacks: Vec<String> = plan.fallbacks.iter().map(candidate).collect();
        writeln!(out, "      fallbacks: {}", fallbacks.join(", "))?;
    }
    Ok(())
}

fn strategy_name(strategy: Strategy) -> &'static str {
    Strategy::ALL
        .iter()
        .find(|(_, s)| *s == strategy)
        .map_or("?", |(name, _)| name)
}

fn candidate(c: &Candidate) -> String {
    format!("{} → {}", c.provider, c.model)
}

/// A target with what its strategy uses: the weight under `weighted`, the price under `cost`.
fn target(t: &Target, strategy: Strategy) -> String {
    let c = candidate(&t.candidate);
    match strategy {
        Strategy::Weighted => format!("{c} (weight {})", t.weight),
        Strategy::Cost => match t.price {
            Some(p) => format!("{c} (${}/${} per 1M in/out)", p.input, p.output),
            None => format!("{c} (no price: tried last)"),
        },
        Strategy::Priority | Strategy::LeastBusy | Strategy::Latency => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_aliases_fallbacks_and_prefixes_are_listed_as_resolved() {
        let yaml = r#"
providers:
  openai: { api_key: k, models: [gpt-4o] }
  anthropic: { api_key: k, models: [claude-x] }
models:
  smart:
    strategy: weighted
    targets:
      - { provider: openai, model: gpt-4o, weight: 3 }
      - { provider: anthropic, model: claude-x, weight: 1 }
routing:
  aliases: { fast: "anthropic/claude-y" }
  fallbacks: { gpt-4o: ["anthropic/claude-x"] }
"#;
        let config = Config::from_yaml(yaml, &|_| None).unwrap();
        let mut out = Vec::new();
        write(&mut out, &config).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(
                "  smart [weighted]: openai → gpt-4o (weight 3), anthropic → claude-x (weight 1)"
            ),
            "{text}"
        );
        assert!(
            text.contains("  fast (alias of anthropic/claude-y) [priority]: anthropic → claude-y"),
            "{text}"
        );
        assert!(
            text.contains(
                "  gpt-4o [priority]: openai → gpt-4o\n      fallbacks: anthropic → claude-x"
            ),
            "{text}"
        );
        assert!(text.contains("    claude-* → anthropic"), "{text}");
        assert!(
            text.contains("    gemini-*, gemma-* → no provider configured"),
            "{text}"
        );
    }

    #[test]
    fn a_group_without_a_configured_provider_is_flagged() {
        let yaml = "providers:\n  anthropic: { api_key: k }\n  openai: {}\nmodels:\n  m:\n    targets: [{ provider: openai }]\n";
        let config = Config::from_yaml(yaml, &|_| None).unwrap();
        let mut out = Vec::new();
        write(&mut out, &config).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("  m: NOT ROUTABLE: "), "{text}");
    }
}

//! Routing rule tests: prefixes, pins, aliases, fallbacks and model groups.

use super::*;

fn rules(yaml: &str, keys: &[&str]) -> RoutingRules {
    let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    let env = move |name: &str| match name {
        "AZURE_OPENAI_ENDPOINT" => Some("https://r.example".to_owned()),
        "AZURE_OPENAI_DEPLOYMENT_ID" => Some("dep".to_owned()),
        n if keys.iter().any(|k| k == n) => Some("k".to_owned()),
        _ => None,
    };
    RoutingRules::new(&Config::from_yaml(yaml, &env).unwrap())
}

/// Every candidate of a plan in declared order (targets, then fallbacks).
fn all(plan: Plan) -> Vec<Candidate> {
    plan.targets
        .into_iter()
        .map(|t| t.candidate)
        .chain(plan.fallbacks)
        .collect()
}

fn providers(plan: Plan) -> Vec<String> {
    all(plan).into_iter().map(|c| c.provider).collect()
}

#[test]
fn gpt_prefers_azure_then_openai() {
    let r = rules("", &["OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"]);
    assert_eq!(
        providers(r.resolve("gpt-4o-mini", None).unwrap()),
        ["azureopenai", "openai"]
    );
    let only = rules("", &["OPENAI_API_KEY"]);
    assert_eq!(
        providers(only.resolve("o3-mini", None).unwrap()),
        ["openai"]
    );
}

#[test]
fn pins_by_field_and_by_prefix() {
    let r = rules(
        "",
        &[
            "OPENAI_API_KEY",
            "AZURE_OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
        ],
    );
    assert_eq!(
        providers(r.resolve("gpt-4o", Some("openai")).unwrap()),
        ["openai"]
    );
    let c = all(r.resolve("anthropic/claude-x", None).unwrap());
    assert_eq!(
        (c[0].provider.as_str(), c[0].model.as_str()),
        ("anthropic", "claude-x")
    );
}

#[test]
fn unknown_model_names_configured_providers() {
    let r = rules("", &["ANTHROPIC_API_KEY"]);
    let RouteError::UnknownModel(msg) = r.resolve("gemini-2.0-flash", None).unwrap_err() else {
        panic!("wrong error")
    };
    assert!(msg.contains("anthropic"), "{msg}");
    let none = rules("", &[]);
    let RouteError::UnknownModel(msg) = none.resolve("gpt-4o", None).unwrap_err() else {
        panic!()
    };
    assert!(msg.contains("OPENAI_API_KEY"), "{msg}");
}

#[test]
fn aliases_and_fallbacks_add_candidates() {
    let yaml = "routing:\n  aliases:\n    fast: anthropic/claude-haiku\n  fallbacks:\n    fast: [\"openai/gpt-4o-mini\"]\n";
    let r = rules(yaml, &["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]);
    let c = all(r.resolve("fast", None).unwrap());
    assert_eq!(
        c.iter().map(|c| c.provider.as_str()).collect::<Vec<_>>(),
        ["anthropic", "openai"]
    );
    assert_eq!(c[1].model, "gpt-4o-mini");
}

const GROUPS: &str = r#"
providers:
  azure-eu: { type: azureopenai, api_key: k, endpoint: "https://eu.example", deployment_id: d }
  azure-us: { type: azureopenai, api_key: "", endpoint: "https://us.example", deployment_id: d }
models:
  gpt-4o:
    strategy: weighted
    targets:
      - { provider: azure-us, weight: 50 }
      - { provider: azure-eu, model: eu-4o, weight: 40 }
      - { provider: openai, weight: 10, price: { input: 1, output: 2 } }
  smart:
    strategy: cost
    targets: [{ provider: anthropic, model: claude-sonnet-4-5 }, { provider: openai, model: gpt-4o-mini }]
routing:
  aliases: { default: smart }
  fallbacks: { smart: ["google/gemini-2.5-flash"] }
"#;

#[test]
fn a_group_lists_its_configured_targets_with_weights_and_prices() {
    let r = rules(GROUPS, &["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]);
    let plan = r.resolve("gpt-4o", None).unwrap();
    assert_eq!(plan.strategy, Strategy::Weighted);
    let got: Vec<(&str, &str, u32)> = plan
        .targets
        .iter()
        .map(|t| {
            (
                t.candidate.provider.as_str(),
                t.candidate.model.as_str(),
                t.weight,
            )
        })
        .collect();
    assert_eq!(
        got,
        [("azure-eu", "eu-4o", 40), ("openai", "gpt-4o", 10)],
        "azure-us has no key"
    );
    assert_eq!(
        plan.targets[0].price, None,
        "a deployment name has no default price"
    );
    assert_eq!(
        plan.targets[1].price.unwrap().input,
        1.0,
        "the config price wins"
    );
}

#[test]
fn aliases_reach_groups_and_fallbacks_follow_them() {
    let r = rules(
        GROUPS,
        &["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY"],
    );
    let plan = r.resolve("default", None).unwrap();
    assert_eq!(plan.strategy, Strategy::Cost);
    assert_eq!(plan.targets[0].price, r.price("claude-sonnet-4-5"));
    assert!(
        plan.targets[0].price.is_some(),
        "priced by the shared table"
    );
    assert_eq!(
        providers(plan),
        ["anthropic", "openai"],
        "fallbacks are keyed by the requested name"
    );
    assert_eq!(
        providers(r.resolve("smart", None).unwrap()),
        ["anthropic", "openai", "google"]
    );
}

#[test]
fn pinning_a_group_keeps_the_pinned_targets_or_routes_the_name() {
    let r = rules(GROUPS, &["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]);
    let pinned = all(r.resolve("gpt-4o", Some("azure-eu")).unwrap());
    assert_eq!(
        (pinned[0].provider.as_str(), pinned[0].model.as_str()),
        ("azure-eu", "eu-4o")
    );
    let by_kind = all(r.resolve("smart", Some("openai")).unwrap());
    assert_eq!(by_kind[0].model, "gpt-4o-mini");
    let elsewhere = all(r.resolve("gpt-4o", Some("anthropic")).unwrap());
    assert_eq!(
        (elsewhere[0].provider.as_str(), elsewhere[0].model.as_str()),
        ("anthropic", "gpt-4o")
    );
}

#[test]
fn a_group_without_any_configured_target_is_unknown() {
    let yaml = "providers:\n  openai: { api_key: \"\" }\nmodels:\n  mine:\n    targets: [{ provider: openai }]\n";
    let r = rules(yaml, &["ANTHROPIC_API_KEY"]);
    let RouteError::UnknownModel(msg) = r.resolve("mine", None).unwrap_err() else {
        panic!("wrong error")
    };
    assert!(msg.contains("served by openai"), "{msg}");
}

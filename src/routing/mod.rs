//! The routing rules the router actor applies: pinned provider, `provider/model` names,
//! config aliases, name prefixes (gpt-*/o*/chatgpt-* → Azure then OpenAI, claude-* → Anthropic,
//! gemini-* → Google) and `routing.fallbacks`. Pure: no actor, no I/O.

use gateway_actors::{Candidate, Resolve, RouteError};

use crate::{api::ProviderKind, config::Config};

/// Routing rules derived from the config.
pub struct RoutingRules {
    providers: Vec<(String, ProviderKind)>,
    aliases: std::collections::BTreeMap<String, String>,
    fallbacks: std::collections::BTreeMap<String, Vec<String>>,
}

impl RoutingRules {
    /// Rules for `config`.
    pub fn new(config: &Config) -> Self {
        Self {
            providers: config
                .providers
                .iter()
                .map(|p| (p.name.clone(), p.kind))
                .collect(),
            aliases: config.routing.aliases.clone(),
            fallbacks: config.routing.fallbacks.clone(),
        }
    }

    fn configured_names(&self) -> String {
        if self.providers.is_empty() {
            return "none (set OPENAI_API_KEY, AZURE_OPENAI_API_KEY, ANTHROPIC_API_KEY or GOOGLE_API_KEY, or add keys to the config)".to_owned();
        }
        self.providers
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Instances matching a provider name: an instance name, or every instance of a kind.
    fn instances(&self, name: &str) -> Vec<&str> {
        if let Some((n, _)) = self.providers.iter().find(|(n, _)| n == name) {
            return vec![n.as_str()];
        }
        match ProviderKind::parse(name) {
            Some(kind) => self.instances_of(kind),
            None => Vec::new(),
        }
    }

    fn instances_of(&self, kind: ProviderKind) -> Vec<&str> {
        self.providers
            .iter()
            .filter(|(_, k)| *k == kind)
            .map(|(n, _)| n.as_str())
            .collect()
    }

    fn is_provider_name(&self, name: &str) -> bool {
        ProviderKind::parse(name).is_some() || self.providers.iter().any(|(n, _)| n == name)
    }

    /// Family candidates for a bare model name, by prefix.
    fn by_name(&self, model: &str) -> Vec<&str> {
        let openai_family = ["gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-"]
            .iter()
            .any(|p| model.starts_with(p));
        if openai_family {
            let mut found = self.instances_of(ProviderKind::AzureOpenAi);
            found.extend(self.instances_of(ProviderKind::OpenAi));
            return found;
        }
        if model.starts_with("claude-") {
            return self.instances_of(ProviderKind::Anthropic);
        }
        if model.starts_with("gemini-") || model.starts_with("gemma-") {
            return self.instances_of(ProviderKind::Google);
        }
        Vec::new()
    }

    /// Splits `provider/model` when the prefix names a provider.
    fn split_pinned<'a>(&self, model: &'a str) -> (Option<&'a str>, &'a str) {
        match model.split_once('/') {
            Some((provider, rest)) if self.is_provider_name(provider) && !rest.is_empty() => {
                (Some(provider), rest)
            }
            _ => (None, model),
        }
    }

    fn primary(&self, model: &str, pinned: Option<&str>) -> Result<Vec<Candidate>, RouteError> {
        let (name_pin, bare) = self.split_pinned(model);
        let pin = pinned.or(name_pin);
        let found: Vec<&str> = match pin {
            Some(provider) => {
                let found = self.instances(provider);
                if found.is_empty() {
                    return Err(RouteError::UnknownModel(format!(
                        "Provider `{provider}` is not configured. Configured providers: {}.",
                        self.configured_names()
                    )));
                }
                found
            }
            None => self.by_name(bare),
        };
        Ok(found
            .into_iter()
            .map(|p| Candidate {
                provider: p.to_owned(),
                model: bare.to_owned(),
            })
            .collect())
    }
}

impl Resolve for RoutingRules {
    fn resolve(&self, model: &str, pinned: Option<&str>) -> Result<Vec<Candidate>, RouteError> {
        let target = self.aliases.get(model).map_or(model, String::as_str);
        let mut candidates = self.primary(target, pinned)?;
        for fallback in self.fallbacks.get(model).into_iter().flatten() {
            let extra = match self.split_pinned(fallback) {
                (Some(_), _) => self.primary(fallback, None).unwrap_or_default(),
                // A bare provider name keeps the model; a bare model is routed by its name.
                (None, bare) if self.is_provider_name(bare) => self
                    .instances(bare)
                    .into_iter()
                    .map(|p| Candidate {
                        provider: p.to_owned(),
                        model: target.to_owned(),
                    })
                    .collect(),
                (None, bare) => self.primary(bare, None).unwrap_or_default(),
            };
            for candidate in extra {
                if !candidates.contains(&candidate) {
                    candidates.push(candidate);
                }
            }
        }
        if candidates.is_empty() {
            return Err(RouteError::UnknownModel(format!(
                "No configured provider serves model `{model}`. Configured providers: {}. Use a model name starting with gpt-/o1/o3/o4/chatgpt- (OpenAI, Azure OpenAI), claude- (Anthropic) or gemini- (Google), a `provider/model` name, or the `provider` field.",
                self.configured_names()
            )));
        }
        Ok(candidates)
    }
}

#[cfg(test)]
mod tests {
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

    fn providers(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.provider.as_str()).collect()
    }

    #[test]
    fn gpt_prefers_azure_then_openai() {
        let r = rules("", &["OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"]);
        assert_eq!(
            providers(&r.resolve("gpt-4o-mini", None).unwrap()),
            ["azureopenai", "openai"]
        );
        let only = rules("", &["OPENAI_API_KEY"]);
        assert_eq!(
            providers(&only.resolve("o3-mini", None).unwrap()),
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
            providers(&r.resolve("gpt-4o", Some("openai")).unwrap()),
            ["openai"]
        );
        let c = r.resolve("anthropic/claude-x", None).unwrap();
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
        let c = r.resolve("fast", None).unwrap();
        assert_eq!(providers(&c), ["anthropic", "openai"]);
        assert_eq!(c[1].model, "gpt-4o-mini");
    }
}

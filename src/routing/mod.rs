//! The routing rules the router actor applies: `models:` groups (targets + strategy), pinned
//! provider, `provider/model` names, config aliases, name prefixes (gpt-*/o*/chatgpt-* → Azure
//! then OpenAI, claude-* → Anthropic, gemini-* → Google) and `routing.fallbacks`. Pure: no
//! actor, no I/O. Also the request estimates. Prices for the
//! `cost` strategy come from a target's `price:` or the shared price table (`prices:`).

mod estimate;

use std::collections::BTreeMap;

use gateway_actors::{Candidate, Plan, Price, Resolve, RouteError, Strategy, Target};

pub use estimate::{demand, sticky_key};

use crate::{
    api::ProviderKind,
    config::{Config, ModelGroup},
    observability::PriceTable,
};

/// Routing rules derived from the config.
pub struct RoutingRules {
    providers: Vec<(String, ProviderKind)>,
    aliases: BTreeMap<String, String>,
    fallbacks: BTreeMap<String, Vec<String>>,
    models: BTreeMap<String, ModelGroup>,
    prices: PriceTable,
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
            models: config.routing.models.clone(),
            prices: PriceTable::new(&config.prices),
        }
    }

    /// The price table's price for `model` (USD per million tokens).
    fn price(&self, model: &str) -> Option<Price> {
        self.prices.price(model).map(|p| Price {
            input: p.input,
            output: p.output,
        })
    }

    /// A plain target: weight 1, the table's price.
    fn target(&self, candidate: Candidate) -> Target {
        Target {
            price: self.price(&candidate.model),
            candidate,
            weight: 1,
        }
    }

    /// The plan for a model group: its targets on configured instances (only those on the
    /// pinned provider, when pinned). `None` when pinning leaves none (the pin then routes
    /// the public name as usual).
    fn group_plan(
        &self,
        name: &str,
        group: &ModelGroup,
        pinned: Option<&str>,
    ) -> Result<Option<Plan>, RouteError> {
        let pinned_instances = pinned.map(|p| self.instances(p));
        let targets: Vec<Target> = group
            .targets
            .iter()
            .filter(|t| self.providers.iter().any(|(n, _)| *n == t.provider))
            .filter(|t| {
                pinned_instances
                    .as_ref()
                    .is_none_or(|found| found.contains(&t.provider.as_str()))
            })
            .map(|t| Target {
                candidate: Candidate {
                    provider: t.provider.clone(),
                    model: t.model.clone(),
                },
                weight: t.weight,
                price: t.price.or_else(|| self.price(&t.model)),
            })
            .collect();
        if targets.is_empty() {
            if pinned.is_some() {
                return Ok(None);
            }
            let providers: Vec<&str> = group.targets.iter().map(|t| t.provider.as_str()).collect();
            return Err(RouteError::UnknownModel(format!(
                "Model `{name}` is served by {}, and none of them is configured (no API key). Configured providers: {}.",
                providers.join(", "),
                self.configured_names()
            )));
        }
        Ok(Some(Plan {
            strategy: group.strategy,
            targets,
            fallbacks: Vec::new(),
        }))
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
        // A `/` left in a bare name was not a provider pin: never an upstream model name.
        if model.contains('/') {
            return Vec::new();
        }
        let openai_family = ["gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-"]
            .iter()
            .any(|p| model.starts_with(p));
        if openai_family {
            let mut found = self.instances_of(ProviderKind::Azure);
            found.extend(self.instances_of(ProviderKind::OpenAi));
            return found;
        }
        if model.starts_with("claude-") {
            return self.instances_of(ProviderKind::Anthropic);
        }
        if model.starts_with("gemini-") || model.starts_with("gemma-") {
            return self.instances_of(ProviderKind::Gemini);
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
    fn resolve(&self, model: &str, pinned: Option<&str>) -> Result<Plan, RouteError> {
        let target = self.aliases.get(model).map_or(model, String::as_str);
        let group = self
            .models
            .get(model)
            .map(|g| (model, g))
            .or_else(|| self.models.get(target).map(|g| (target, g)));
        let planned = match group {
            Some((name, group)) => self.group_plan(name, group, pinned)?,
            None => None,
        };
        let mut plan = match planned {
            Some(plan) => plan,
            None => Plan {
                strategy: Strategy::Priority,
                targets: self
                    .primary(target, pinned)?
                    .into_iter()
                    .map(|c| self.target(c))
                    .collect(),
                fallbacks: Vec::new(),
            },
        };
        let candidates = &mut plan.fallbacks;
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
        if plan.targets.is_empty() && plan.fallbacks.is_empty() {
            return Err(RouteError::UnknownModel(format!(
                "No configured provider serves model `{model}`. Configured providers: {}. Use a model name starting with gpt-/o1/o3/o4/chatgpt- (OpenAI, Azure OpenAI), claude- (Anthropic) or gemini- (Google), a `provider/model` name, or the `provider` field.",
                self.configured_names()
            )));
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests;

//! The price table: list prices (USD per million tokens) for common models, overridable from the
//! `prices:` config block, and the cost of one request's usage. Pure: no I/O, no clock.

use std::collections::BTreeMap;

use crate::{api::Usage, config::ModelPrice};

/// Built-in list prices as `(model, input, cached input, output)` in USD per million tokens,
/// taken from the providers' public price pages; `prices:` in the config overrides or extends
/// them. Anthropic cache writes are billed as input here (our usage counts them as input).
const DEFAULT_PRICES: &[(&str, f64, f64, f64)] = &[
    // OpenAI (https://platform.openai.com/docs/pricing)
    ("gpt-5", 1.25, 0.125, 10.0),
    ("gpt-5-mini", 0.25, 0.025, 2.0),
    ("gpt-5-nano", 0.05, 0.005, 0.4),
    ("gpt-4.1", 2.0, 0.5, 8.0),
    ("gpt-4.1-mini", 0.4, 0.1, 1.6),
    ("gpt-4.1-nano", 0.1, 0.025, 0.4),
    ("gpt-4o", 2.5, 1.25, 10.0),
    ("gpt-4o-mini", 0.15, 0.075, 0.6),
    ("o1", 15.0, 7.5, 60.0),
    ("o3", 2.0, 0.5, 8.0),
    ("o3-mini", 1.1, 0.55, 4.4),
    ("o4-mini", 1.1, 0.275, 4.4),
    // Anthropic (https://www.anthropic.com/pricing#api)
    ("claude-opus-4-1", 15.0, 1.5, 75.0),
    ("claude-opus-4", 15.0, 1.5, 75.0),
    ("claude-sonnet-4-5", 3.0, 0.3, 15.0),
    ("claude-sonnet-4", 3.0, 0.3, 15.0),
    ("claude-3-7-sonnet", 3.0, 0.3, 15.0),
    ("claude-haiku-4-5", 1.0, 0.1, 5.0),
    ("claude-3-5-haiku", 0.8, 0.08, 4.0),
    ("claude-3-opus", 15.0, 1.5, 75.0),
    ("claude-3-haiku", 0.25, 0.03, 1.25),
    // Google (https://ai.google.dev/gemini-api/docs/pricing; prompts up to 200k tokens)
    ("gemini-2.5-pro", 1.25, 0.125, 10.0),
    ("gemini-2.5-flash", 0.3, 0.03, 2.5),
    ("gemini-2.5-flash-lite", 0.1, 0.01, 0.4),
    ("gemini-2.0-flash", 0.1, 0.025, 0.4),
    ("gemini-2.0-flash-lite", 0.075, 0.075, 0.3),
];

/// Model name → price; lookups accept dated and provider-prefixed names.
#[derive(Debug, Clone)]
pub struct PriceTable {
    prices: BTreeMap<String, ModelPrice>,
}

impl PriceTable {
    /// The defaults with `overrides` (from config) applied on top.
    pub fn new(overrides: &BTreeMap<String, ModelPrice>) -> Self {
        let mut prices: BTreeMap<String, ModelPrice> = DEFAULT_PRICES
            .iter()
            .map(|&(model, input, cached_input, output)| {
                (
                    model.to_owned(),
                    ModelPrice {
                        input,
                        cached_input,
                        output,
                    },
                )
            })
            .collect();
        prices.extend(overrides.iter().map(|(m, p)| (m.clone(), *p)));
        Self { prices }
    }

    /// Every priced model name.
    pub fn models(&self) -> impl Iterator<Item = &str> {
        self.prices.keys().map(String::as_str)
    }

    /// The price of `model`: an exact entry, else the longest entry that `model` extends with a
    /// `-` suffix (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-3-5-haiku-latest` →
    /// `claude-3-5-haiku`). A `provider/` or `models/` prefix is ignored.
    pub fn price(&self, model: &str) -> Option<ModelPrice> {
        let model = model.rsplit('/').next().unwrap_or(model);
        if let Some(price) = self.prices.get(model) {
            return Some(*price);
        }
        self.prices
            .iter()
            .filter(|(name, _)| {
                model
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, price)| *price)
    }

    /// The cost of `usage` on `model` in USD; `None` when the model has no price.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.price(model).map(|price| cost_of(price, usage))
    }
}

/// Cached input tokens at the cached rate, the rest of the input at the input rate, output
/// (reasoning included) at the output rate.
pub fn cost_of(price: ModelPrice, usage: &Usage) -> f64 {
    let cached = usage
        .input_tokens_details
        .cached_tokens
        .min(usage.input_tokens);
    let uncached = usage.input_tokens - cached;
    #[expect(
        clippy::cast_precision_loss,
        reason = "token counts stay far below 2^52"
    )]
    let (uncached, cached, output) = (uncached as f64, cached as f64, usage.output_tokens as f64);
    (uncached * price.input + cached * price.cached_input + output * price.output) / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn dated_and_prefixed_names_find_the_longest_entry() {
        let table = PriceTable::new(&BTreeMap::new());
        let mini = table.price("gpt-4o-mini").unwrap();
        assert_eq!(table.price("gpt-4o-mini-2024-07-18"), Some(mini));
        assert_eq!(table.price("openai/gpt-4o-mini"), Some(mini));
        assert!(close(table.price("gpt-4o-2024-08-06").unwrap().input, 2.5));
        assert!(close(
            table.price("claude-3-5-haiku-latest").unwrap().output,
            4.0
        ));
        assert!(close(
            table.price("models/gemini-2.5-flash").unwrap().input,
            0.3
        ));
        assert_eq!(table.price("gpt-4oo"), None, "a prefix must end at a dash");
        assert_eq!(table.price("unknown-model"), None);
    }

    #[test]
    fn cost_splits_cached_input_and_counts_reasoning_as_output() {
        let table = PriceTable::new(&BTreeMap::new());
        // gpt-4o: 2.5 in, 1.25 cached, 10 out per 1M.
        let usage = Usage::new(1_000_000, 500_000, 400_000, 100_000);
        let cost = table.cost("gpt-4o", &usage).unwrap();
        assert!(close(cost, 0.6 * 2.5 + 0.4 * 1.25 + 0.5 * 10.0), "{cost}");
        assert_eq!(table.cost("nope", &usage), None);
    }

    #[test]
    fn config_overrides_and_extends_the_defaults() {
        let overrides = BTreeMap::from([
            (
                "gpt-4o".to_owned(),
                ModelPrice {
                    input: 1.0,
                    cached_input: 0.5,
                    output: 2.0,
                },
            ),
            (
                "house-model".to_owned(),
                ModelPrice {
                    input: 0.0,
                    cached_input: 0.0,
                    output: 0.0,
                },
            ),
        ]);
        let table = PriceTable::new(&overrides);
        assert!(close(table.price("gpt-4o-2024-08-06").unwrap().input, 1.0));
        assert_eq!(
            table.cost("house-model", &Usage::new(10, 10, 0, 0)),
            Some(0.0)
        );
    }
}

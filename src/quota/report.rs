//! The caller limits `GET /v1/usage` shows: per-minute windows and the budget.

use serde::Serialize;

use super::{Checked, Subject, window};

/// One caller's limits in `GET /v1/usage`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QuotaRow {
    /// The quota subject.
    pub caller: String,
    /// Requests per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<WindowRow>,
    /// Tokens per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<WindowRow>,
    /// The spending budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetRow>,
}

/// A per-minute limit's state.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WindowRow {
    /// Per minute.
    pub limit: u64,
    /// Left now.
    pub remaining: u64,
    /// Seconds until whole again.
    pub reset_seconds: f64,
}

/// A budget's state.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BudgetRow {
    /// USD per period.
    pub limit_usd: f64,
    /// Spent in this window.
    pub spent_usd: f64,
    /// Left in this window.
    pub remaining_usd: f64,
    /// `day` or `month` (UTC).
    pub period: &'static str,
    /// The window (`2026-12-03`, `2026-12`).
    pub window: String,
    /// Seconds until the next window.
    pub reset_seconds: f64,
}

impl QuotaRow {
    pub(super) fn new(subject: &Subject, checked: &Checked, window: &window::BudgetWindow) -> Self {
        let row = |w: crate::rate_limits::Window| WindowRow {
            limit: w.limit,
            remaining: w.remaining,
            reset_seconds: w.reset.as_secs_f64(),
        };
        let spent = checked.spent_nanos as f64 / 1e9;
        Self {
            caller: subject.id.clone(),
            requests: checked.limits.requests.map(row),
            tokens: checked.limits.tokens.map(row),
            budget: subject.limits.budget_usd.map(|limit| BudgetRow {
                limit_usd: limit,
                spent_usd: spent,
                remaining_usd: (limit - spent).max(0.0),
                period: subject.limits.budget_period.as_str(),
                window: window.name.clone(),
                reset_seconds: window.ends_in.as_secs_f64(),
            }),
        }
    }
}

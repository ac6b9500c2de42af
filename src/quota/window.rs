//! Budget windows: the UTC calendar day or month a spend counts in, its name (part of the
//! Redis key, so a new window starts from zero) and how long until it ends (the retry-after of
//! a `budget_exceeded`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::BudgetPeriod;

const DAY_SECS: u64 = 86_400;

/// One window of a budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetWindow {
    /// `2026-12-03` or `2026-12`.
    pub name: String,
    /// Until the next window starts.
    pub ends_in: Duration,
}

/// The window of `period` containing now.
pub fn current(period: BudgetPeriod) -> BudgetWindow {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    at(period, now)
}

/// The window of `period` containing `since_epoch`.
pub fn at(period: BudgetPeriod, since_epoch: Duration) -> BudgetWindow {
    let secs = since_epoch.as_secs();
    let day = secs / DAY_SECS;
    let (year, month, dom) = civil_from_days(day);
    let into_day = since_epoch.saturating_sub(Duration::from_secs(day * DAY_SECS));
    let to_midnight = Duration::from_secs(DAY_SECS).saturating_sub(into_day);
    match period {
        BudgetPeriod::Day => BudgetWindow {
            name: format!("{year:04}-{month:02}-{dom:02}"),
            ends_in: to_midnight,
        },
        BudgetPeriod::Month => {
            let left_days = u64::from(days_in_month(year, month) - dom);
            BudgetWindow {
                name: format!("{year:04}-{month:02}"),
                ends_in: to_midnight + Duration::from_secs(left_days * DAY_SECS),
            }
        }
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`, public domain: <https://howardhinnant.github.io/date_algorithms.html>).
fn civil_from_days(days: u64) -> (u64, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: u64, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_day_and_the_wait_to_midnight() {
        // 2026-12-03T05:53:48Z
        let t = Duration::from_secs(1_796_277_228);
        let day = at(BudgetPeriod::Day, t);
        assert_eq!(day.name, "2026-12-03");
        assert_eq!(
            day.ends_in,
            Duration::from_secs(86_400 - (5 * 3600 + 53 * 60 + 48))
        );
        let month = at(BudgetPeriod::Month, t);
        assert_eq!(month.name, "2026-12");
        assert_eq!(
            month.ends_in,
            day.ends_in + Duration::from_secs(28 * 86_400)
        );
    }

    #[test]
    fn knows_leap_years_and_month_ends() {
        // 2028-02-29T00:00:00Z
        let t = Duration::from_secs(1_835_395_200);
        assert_eq!(at(BudgetPeriod::Day, t).name, "2028-02-29");
        assert_eq!(
            at(BudgetPeriod::Month, t).ends_in,
            Duration::from_secs(86_400)
        );
        assert_eq!(at(BudgetPeriod::Day, Duration::ZERO).name, "1970-01-01");
    }
}

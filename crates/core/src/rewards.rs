//! Reward rules: an amount per category and severity for the first
//! reporter of a confirmed case, cut to fit monthly caps. The caps are
//! applied by the store inside the transaction that grants the reward, so
//! two confirmations at once cannot both slip under one cap.

use crate::Category;
use crate::config::RewardsConfig;

/// Monthly limits to apply when a reward is granted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RewardCaps {
    /// Most one reporter may be granted since `since_ms`.
    pub per_reporter: Option<i64>,
    /// Most everyone may be granted since `since_ms`.
    pub per_all: Option<i64>,
    /// The start of the month (UTC), in Unix milliseconds.
    pub since_ms: i64,
}

/// The rule's amount for a confirmed case of `category` (in the currency's
/// smallest unit); `severe` when the engine also blocked it or it involves
/// minors. `None` when rewards are off or the category has no rule.
pub fn base_amount(cfg: &RewardsConfig, category: Category, severe: bool) -> Option<i64> {
    if !cfg.enabled {
        return None;
    }
    let rule = cfg.amounts.get(category.as_str())?;
    Some(if severe { rule.severe } else { rule.standard }.max(0))
}

/// `amount` cut to what the caps leave, given what this reporter and
/// everyone were granted this month; and whether it was cut.
pub fn apply_caps(
    amount: i64,
    caps: &RewardCaps,
    reporter_so_far: i64,
    all_so_far: i64,
) -> (i64, bool) {
    let mut out = amount.max(0);
    for (cap, used) in [
        (caps.per_reporter, reporter_so_far),
        (caps.per_all, all_so_far),
    ] {
        if let Some(cap) = cap {
            out = out.min(cap.saturating_sub(used).max(0));
        }
    }
    (out, out < amount.max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RewardRule;

    #[test]
    fn amounts_follow_category_severity_and_caps() {
        let mut cfg = RewardsConfig {
            enabled: true,
            ..Default::default()
        };
        cfg.amounts.insert(
            "sexual.explicit".into(),
            RewardRule {
                standard: 50,
                severe: 200,
            },
        );
        assert_eq!(base_amount(&cfg, Category::SexualExplicit, false), Some(50));
        assert_eq!(base_amount(&cfg, Category::SexualExplicit, true), Some(200));
        assert_eq!(
            base_amount(&cfg, Category::LinkBlocked, true),
            None,
            "no rule"
        );
        let caps = RewardCaps {
            per_reporter: Some(300),
            per_all: Some(1000),
            since_ms: 0,
        };
        assert_eq!(apply_caps(200, &caps, 0, 0), (200, false));
        assert_eq!(apply_caps(200, &caps, 250, 0), (50, true));
        assert_eq!(apply_caps(200, &caps, 0, 990), (10, true));
        assert_eq!(apply_caps(200, &caps, 400, 0), (0, true));
        assert_eq!(
            apply_caps(200, &RewardCaps::default(), i64::MAX, i64::MAX),
            (200, false)
        );
        assert_eq!(
            apply_caps(200, &caps, i64::MIN, 0),
            (200, false),
            "no overflow"
        );
        cfg.enabled = false;
        assert_eq!(base_amount(&cfg, Category::SexualExplicit, true), None);
    }
}

/// An amount in minor units (cents, fen) as major units with two decimals:
/// `1250` reads `12.50`, `-5` reads `-0.05`.
pub fn format_amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod amount_tests {
    use super::format_amount;

    #[test]
    fn amounts_read_in_major_units() {
        assert_eq!(format_amount(1250), "12.50");
        assert_eq!(format_amount(7), "0.07");
        assert_eq!(format_amount(-5), "-0.05");
        assert_eq!(format_amount(-1250), "-12.50");
        assert_eq!(format_amount(i64::MIN), "-92233720368547758.08");
    }
}

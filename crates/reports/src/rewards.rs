//! Reward rules: an amount per category and severity for the first
//! reporter of a confirmed case, within monthly caps.

use cleanweb_core::Category;
use cleanweb_core::config::RewardsConfig;

/// A computed reward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewardCalc {
    /// In the currency's smallest unit.
    pub amount: i64,
    /// The rule's amount was cut to fit a cap.
    pub capped: bool,
}

/// The reward for a confirmed case of `category`; `severe` when the engine
/// also blocked it. `reporter_month` and `all_month` are what this
/// reporter, and everyone, were granted this calendar month.
pub fn reward_amount(
    cfg: &RewardsConfig,
    category: Category,
    severe: bool,
    reporter_month: i64,
    all_month: i64,
) -> Option<RewardCalc> {
    if !cfg.enabled {
        return None;
    }
    let rule = cfg.amounts.get(category.as_str())?;
    let want = if severe { rule.severe } else { rule.standard }.max(0);
    let mut amount = want;
    if let Some(cap) = cfg.per_reporter_month {
        amount = amount.min((cap - reporter_month).max(0));
    }
    if let Some(cap) = cfg.per_month {
        amount = amount.min((cap - all_month).max(0));
    }
    Some(RewardCalc {
        amount,
        capped: amount < want,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::config::RewardRule;

    #[test]
    fn amounts_follow_category_severity_and_caps() {
        let mut cfg = RewardsConfig {
            enabled: true,
            per_reporter_month: Some(300),
            per_month: Some(1000),
            ..Default::default()
        };
        cfg.amounts.insert(
            "sexual.explicit".into(),
            RewardRule {
                standard: 50,
                severe: 200,
            },
        );
        let r = |sev, mine, all| reward_amount(&cfg, Category::SexualExplicit, sev, mine, all);
        assert_eq!(
            r(false, 0, 0),
            Some(RewardCalc {
                amount: 50,
                capped: false
            })
        );
        assert_eq!(
            r(true, 0, 0),
            Some(RewardCalc {
                amount: 200,
                capped: false
            })
        );
        assert_eq!(
            r(true, 250, 0),
            Some(RewardCalc {
                amount: 50,
                capped: true
            })
        );
        assert_eq!(
            r(true, 0, 990),
            Some(RewardCalc {
                amount: 10,
                capped: true
            })
        );
        assert_eq!(
            r(true, 400, 0),
            Some(RewardCalc {
                amount: 0,
                capped: true
            })
        );
        assert_eq!(
            reward_amount(&cfg, Category::LinkBlocked, true, 0, 0),
            None,
            "no rule"
        );
        cfg.enabled = false;
        assert_eq!(
            reward_amount(&cfg, Category::SexualExplicit, true, 0, 0),
            None
        );
    }
}

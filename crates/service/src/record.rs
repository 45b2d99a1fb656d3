//! Recording a decision: which decisions the store keeps, written once for
//! every door (the API, `check` and `check --jsonl`).

use cleanweb_core::{Decision, Item, Source, Verdict};
use cleanweb_store::DecisionRecord;

/// Whether a decision is kept: everything that is not `allow`, and `allow`
/// too when the deployment asks for it (`[store] store_allow`).
pub fn keeps(decision: &Decision, store_allow: bool) -> bool {
    decision.verdict != Verdict::Allow || store_allow
}

/// Turns a door's decisions into the records the store keeps.
#[derive(Clone, Copy, Debug)]
pub struct Keeper {
    /// The door the decisions came through.
    pub source: Source,
    /// Keep `allow` decisions too.
    pub store_allow: bool,
}

impl Keeper {
    /// The record to save for this decision, or `None` when it is not kept.
    /// The record's decision carries the id the store will know it by, so
    /// the door answers with it.
    pub fn keep(&self, item: &Item, decision: &Decision) -> Option<DecisionRecord> {
        keeps(decision, self.store_allow).then(|| DecisionRecord::new(self.source, item, decision))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(verdict: Verdict) -> Decision {
        Decision {
            id: None,
            verdict,
            labels: Vec::new(),
            elapsed_us: 0,
            warnings: Vec::new(),
            meta: None,
            decision_id: None,
        }
    }

    #[test]
    fn allow_is_kept_only_when_asked() {
        let item = Item::default();
        let keeper = Keeper {
            source: Source::Api,
            store_allow: false,
        };
        assert!(keeper.keep(&item, &decision(Verdict::Allow)).is_none());
        let kept = keeper.keep(&item, &decision(Verdict::Review)).unwrap();
        assert!(kept.decision.decision_id.is_some());
        let all = Keeper {
            store_allow: true,
            ..keeper
        };
        assert!(all.keep(&item, &decision(Verdict::Allow)).is_some());
    }
}

//! Human review: what a reviewer can decide, and how the queue orders work.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Category, Decision, Verdict};

/// A reviewer's decision on an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The item breaks the rules; actions (takedown webhooks) follow.
    Violation,
    /// The item is fine; on a machine `block` this is a false positive.
    NotViolation,
    /// Someone more senior (an admin) must decide.
    Escalate,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Violation, Outcome::NotViolation, Outcome::Escalate];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Violation => "violation",
            Outcome::NotViolation => "not_violation",
            Outcome::Escalate => "escalate",
        }
    }

    /// The item's review state after this outcome.
    pub fn state(self) -> ReviewState {
        match self {
            Outcome::Violation => ReviewState::Violation,
            Outcome::NotViolation => ReviewState::NotViolation,
            Outcome::Escalate => ReviewState::Escalated,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| {
                format!("unknown outcome {s:?} (expected violation, not_violation or escalate)")
            })
    }
}

/// Where an item stands in review. Unreviewed items have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Violation,
    NotViolation,
    /// Waiting in the escalation queue; only an admin decides it.
    Escalated,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Violation => "violation",
            ReviewState::NotViolation => "not_violation",
            ReviewState::Escalated => "escalated",
        }
    }

    /// Whether the item still waits for a decision.
    pub fn is_open(self) -> bool {
        self == ReviewState::Escalated
    }
}

impl FromStr for ReviewState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "violation" => Ok(ReviewState::Violation),
            "not_violation" => Ok(ReviewState::NotViolation),
            "escalated" => Ok(ReviewState::Escalated),
            other => Err(format!("unknown review state {other:?}")),
        }
    }
}

/// Where a public-report case stands, as its reporters see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Reported, not yet decided by a person.
    Received,
    /// In the review queue: triaged, or escalated to an admin.
    InReview,
    /// A reviewer found a violation.
    Confirmed,
    /// A reviewer found no violation.
    NotConfirmed,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 4] = [
        CaseStatus::Received,
        CaseStatus::InReview,
        CaseStatus::Confirmed,
        CaseStatus::NotConfirmed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Received => "received",
            CaseStatus::InReview => "in_review",
            CaseStatus::Confirmed => "confirmed",
            CaseStatus::NotConfirmed => "not_confirmed",
        }
    }

    /// A case's status after a reviewer's outcome on its item.
    pub fn after(outcome: Outcome) -> CaseStatus {
        match outcome {
            Outcome::Violation => CaseStatus::Confirmed,
            Outcome::NotViolation => CaseStatus::NotConfirmed,
            Outcome::Escalate => CaseStatus::InReview,
        }
    }

    /// Whether a new report of this case's target reopens it for a fresh
    /// triage and review: a page found fine before may have changed.
    pub fn reopens(self) -> bool {
        self == CaseStatus::NotConfirmed
    }

    /// One status for a report that named several targets (one case each):
    /// confirmed if any target was, then in review, then not confirmed when
    /// every target was found clean, else received.
    pub fn overall(cases: impl IntoIterator<Item = CaseStatus>) -> CaseStatus {
        let (mut any, mut confirmed, mut in_review, mut all_clean) = (false, false, false, true);
        for c in cases {
            any = true;
            confirmed |= c == CaseStatus::Confirmed;
            in_review |= c == CaseStatus::InReview;
            all_clean &= c == CaseStatus::NotConfirmed;
        }
        if confirmed {
            CaseStatus::Confirmed
        } else if in_review {
            CaseStatus::InReview
        } else if any && all_clean {
            CaseStatus::NotConfirmed
        } else {
            CaseStatus::Received
        }
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CaseStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown case status {s:?}"))
    }
}

/// Why a reviewer's decision is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The item is escalated: only an admin decides it.
    Escalated,
    /// The item is already decided: only an admin decides it again.
    AlreadyDecided,
}

/// What one reviewer decision changes. The store persists it as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The item's review state afterwards.
    pub state: ReviewState,
    /// Whether takedown deliveries go out: a violation already acted on is
    /// not taken down twice.
    pub act: bool,
    /// The status of the public-report case behind the item, if any.
    pub case: CaseStatus,
    /// Whether an unpaid reward for that case lapses (the case was not
    /// confirmed after all; a paid reward stays on record).
    pub void_rewards: bool,
}

/// The one rule for review decisions: from the item's current state and a
/// reviewer's outcome to what changes, or why it is refused. Reviewers
/// decide open items; escalated and decided items are an admin's.
pub fn apply(
    current: Option<ReviewState>,
    outcome: Outcome,
    by_admin: bool,
) -> Result<Transition, Refusal> {
    match current {
        Some(ReviewState::Escalated) if !by_admin => return Err(Refusal::Escalated),
        Some(ReviewState::Violation | ReviewState::NotViolation) if !by_admin => {
            return Err(Refusal::AlreadyDecided);
        }
        _ => {}
    }
    let case = CaseStatus::after(outcome);
    Ok(Transition {
        state: outcome.state(),
        act: outcome == Outcome::Violation && current != Some(ReviewState::Violation),
        case,
        void_rewards: case != CaseStatus::Confirmed,
    })
}

/// The one `sexual.minors` rule: whether anything said about an item (its
/// machine labels, a reviewer's category, a report's category, a bank
/// match) names minors. Such media is escalated and never shown.
pub fn names_minors(categories: impl IntoIterator<Item = Category>) -> bool {
    categories.into_iter().any(|c| c == Category::SexualMinors)
}

/// How urgent a category is: minors first, then explicit content and
/// services (real-world harm), then links and suggestive content.
pub fn severity(c: Category) -> i64 {
    match c {
        Category::SexualMinors => 100,
        Category::SexualExplicit => 60,
        Category::SexualServices => 50,
        Category::LinkBlocked => 30,
        Category::SexualSuggestive => 20,
    }
}

/// Waiting this long raises a queued item's priority by one point.
pub const AGING_MS: i64 = 3_600_000;

/// Public reports age this many times faster: the public waits on them,
/// and their machine scores (often nothing was flagged) would otherwise
/// keep them at the bottom of the queue.
pub const REPORT_AGING: i64 = 2;

/// A decision's place in the review queue: the severity of its worst label
/// plus up to 9 points for confidence. Each report adds 2 to the stored
/// value; the queue adds a point per hour waited ([`AGING_MS`]), so no
/// item waits forever behind a stream of more severe ones.
pub fn priority(d: &Decision) -> i64 {
    d.labels
        .iter()
        .map(|l| severity(l.category) + (f64::from(l.score) * 9.0).round() as i64)
        .max()
        .unwrap_or(0)
}

/// Whether a decision carries `sexual.minors`: its media is never sent to a
/// browser.
pub fn is_minors(d: &Decision) -> bool {
    names_minors(d.labels.iter().map(|l| l.category))
}

/// Whether a machine decision enters the review queue: every `review`, and
/// `block` decisions in the quality-control sample (`bucket` is a stable
/// 0..10,000 number derived from the decision id; see [`qc_bucket`]).
pub fn in_queue(verdict: Verdict, bucket: u32, block_sample_per_10k: u32) -> bool {
    match verdict {
        Verdict::Review => true,
        Verdict::Block => bucket < block_sample_per_10k,
        Verdict::Allow => false,
    }
}

/// A stable sampling bucket (0..10,000) for a decision id.
pub fn qc_bucket(id: &str) -> u32 {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(id.as_bytes());
    u32::from_be_bytes([h[0], h[1], h[2], h[3]]) % 10_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Label;

    fn decision(labels: &[(Category, f32)]) -> Decision {
        Decision {
            id: None,
            verdict: Verdict::Review,
            labels: labels
                .iter()
                .map(|(c, s)| Label::new(*c, *s, "test"))
                .collect(),
            elapsed_us: 0,
            warnings: vec![],
            meta: None,
            decision_id: None,
        }
    }

    #[test]
    fn reviewers_decide_open_items_and_admins_decide_again() {
        use Outcome::*;
        use ReviewState as S;
        for o in Outcome::ALL {
            let t = apply(None, o, false).unwrap();
            assert_eq!(t.state, o.state());
            assert_eq!(t.act, o == Violation, "{o}: only a violation acts");
            assert_eq!(t.case, CaseStatus::after(o));
            assert_eq!(t.void_rewards, o != Violation);
            assert_eq!(apply(Some(S::Escalated), o, false), Err(Refusal::Escalated));
            for done in [S::Violation, S::NotViolation] {
                assert_eq!(apply(Some(done), o, false), Err(Refusal::AlreadyDecided));
            }
        }
        // An admin overturns a violation: no takedown, an owed reward lapses.
        let t = apply(Some(S::Violation), NotViolation, true).unwrap();
        assert_eq!(
            (t.state, t.act, t.case, t.void_rewards),
            (S::NotViolation, false, CaseStatus::NotConfirmed, true)
        );
        // Confirming a violation again does not take it down twice.
        let again = apply(Some(S::Violation), Violation, true).unwrap();
        assert!(!again.act && !again.void_rewards);
        // An escalated item an admin confirms is acted on.
        assert!(apply(Some(S::Escalated), Violation, true).unwrap().act);
        assert!(apply(Some(S::NotViolation), Violation, true).unwrap().act);
    }

    #[test]
    fn a_report_status_sums_its_cases() {
        use CaseStatus::*;
        assert_eq!(CaseStatus::overall([]), Received);
        assert_eq!(CaseStatus::overall([Received, Confirmed]), Confirmed);
        assert_eq!(CaseStatus::overall([NotConfirmed, InReview]), InReview);
        assert_eq!(
            CaseStatus::overall([NotConfirmed, NotConfirmed]),
            NotConfirmed
        );
        assert_eq!(CaseStatus::overall([NotConfirmed, Received]), Received);
        for c in CaseStatus::ALL {
            assert_eq!(c.as_str().parse::<CaseStatus>().unwrap(), c);
        }
        assert!("closed".parse::<CaseStatus>().is_err());
        assert!(NotConfirmed.reopens());
        assert!(!Confirmed.reopens() && !InReview.reopens() && !Received.reopens());
    }

    #[test]
    fn minors_rule_is_one_function() {
        assert!(names_minors([
            Category::SexualExplicit,
            Category::SexualMinors
        ]));
        assert!(!names_minors([Category::SexualExplicit]));
        assert!(!names_minors([]));
    }

    #[test]
    fn minors_outrank_everything_and_confidence_breaks_ties() {
        let minors = priority(&decision(&[(Category::SexualMinors, 0.1)]));
        let explicit = priority(&decision(&[(Category::SexualExplicit, 1.0)]));
        let explicit_low = priority(&decision(&[(Category::SexualExplicit, 0.5)]));
        let mixed = priority(&decision(&[
            (Category::SexualSuggestive, 1.0),
            (Category::SexualExplicit, 0.5),
        ]));
        assert!(minors > explicit && explicit > explicit_low);
        assert_eq!(mixed, explicit_low, "the worst label counts");
        assert_eq!(priority(&decision(&[])), 0);
    }

    #[test]
    fn outcomes_round_trip_and_sampling_is_stable() {
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
            assert_eq!(
                o.state().as_str().parse::<ReviewState>().unwrap(),
                o.state()
            );
        }
        assert!("delete".parse::<Outcome>().is_err());
        assert_eq!(qc_bucket("abc"), qc_bucket("abc"));
        let sampled = (0..10_000)
            .filter(|i| in_queue(Verdict::Block, qc_bucket(&i.to_string()), 500))
            .count();
        assert!((400..600).contains(&sampled), "{sampled} of 10,000 at 5%");
        assert!(in_queue(Verdict::Review, 9_999, 0));
        assert!(!in_queue(Verdict::Allow, 0, 10_000));
    }
}

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
    d.labels
        .iter()
        .any(|l| l.category == Category::SexualMinors)
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

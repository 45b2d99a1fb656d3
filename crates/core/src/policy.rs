use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Category, Evidence, Label, Verdict};

/// At most this many evidence entries are kept per label, so that a text full
/// of matches cannot blow up the decision.
pub const MAX_EVIDENCE_PER_LABEL: usize = 64;

/// Score thresholds for one category: a label scoring at least `review` is
/// sent to review, at least `block` is blocked. No `block` means never block.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub review: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<f32>,
}

impl Thresholds {
    pub fn verdict(&self, score: f32) -> Verdict {
        if self.block.is_some_and(|b| score >= b) {
            Verdict::Block
        } else if score >= self.review {
            Verdict::Review
        } else {
            Verdict::Allow
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "policy for {category}: thresholds must lie in 0..=1 with review <= block (got review {review}, block {block:?})"
    )]
    BadThresholds {
        category: Category,
        review: f32,
        block: Option<f32>,
    },
}

/// Turns labels into a verdict. Loaded from the `[policy]` table of the config;
/// categories it does not name keep their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    from = "BTreeMap<Category, Thresholds>",
    into = "BTreeMap<Category, Thresholds>"
)]
pub struct Policy {
    thresholds: BTreeMap<Category, Thresholds>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            thresholds: Category::ALL
                .into_iter()
                .map(|c| (c, Self::default_thresholds(c)))
                .collect(),
        }
    }
}

impl From<BTreeMap<Category, Thresholds>> for Policy {
    fn from(overrides: BTreeMap<Category, Thresholds>) -> Self {
        let mut p = Policy::default();
        p.thresholds.extend(overrides);
        p
    }
}

impl From<Policy> for BTreeMap<Category, Thresholds> {
    fn from(p: Policy) -> Self {
        p.thresholds
    }
}

impl Policy {
    /// The shipped defaults, documented in `config/cleanweb.example.toml`.
    pub fn default_thresholds(category: Category) -> Thresholds {
        match category {
            // Suggestive content is for people to judge; it is never blocked
            // automatically by default.
            Category::SexualSuggestive => Thresholds {
                review: 0.5,
                block: None,
            },
            // Any credible minors signal goes to a person; strong ones block.
            Category::SexualMinors => Thresholds {
                review: 0.2,
                block: Some(0.6),
            },
            Category::SexualExplicit | Category::SexualServices | Category::LinkBlocked => {
                Thresholds {
                    review: 0.5,
                    block: Some(0.85),
                }
            }
        }
    }

    pub fn thresholds(&self, category: Category) -> Thresholds {
        self.thresholds
            .get(&category)
            .copied()
            .unwrap_or_else(|| Self::default_thresholds(category))
    }

    pub fn validate(&self) -> Result<(), PolicyError> {
        for (&category, t) in &self.thresholds {
            let in_range = |x: f32| (0.0..=1.0).contains(&x);
            let ok = in_range(t.review) && t.block.is_none_or(|b| in_range(b) && b >= t.review);
            if !ok {
                return Err(PolicyError::BadThresholds {
                    category,
                    review: t.review,
                    block: t.block,
                });
            }
        }
        Ok(())
    }

    /// The verdict for one label.
    pub fn label_verdict(&self, label: &Label) -> Verdict {
        self.thresholds(label.category).verdict(label.score)
    }

    /// The verdict for an item: the most severe verdict of its labels.
    pub fn verdict(&self, labels: &[Label]) -> Verdict {
        labels
            .iter()
            .map(|l| self.label_verdict(l))
            .max()
            .unwrap_or(Verdict::Allow)
    }

    /// Merges raw detector labels into one label per (category, source): the
    /// highest score wins and the evidence is pooled (bounded). The result is
    /// sorted most severe first, so the first label explains the verdict.
    pub fn merge(&self, raw: Vec<Label>) -> Vec<Label> {
        let mut merged: Vec<Label> = Vec::new();
        for label in raw {
            match merged
                .iter_mut()
                .find(|m| m.category == label.category && m.source == label.source)
            {
                Some(m) => {
                    m.score = m.score.max(label.score);
                    let room = MAX_EVIDENCE_PER_LABEL.saturating_sub(m.evidence.len());
                    m.evidence.extend(label.evidence.into_iter().take(room));
                }
                None => {
                    let mut label = label;
                    label.evidence.truncate(MAX_EVIDENCE_PER_LABEL);
                    merged.push(label);
                }
            }
        }
        for m in &mut merged {
            m.evidence.sort_by_key(evidence_order);
        }
        merged.sort_by(|a, b| {
            self.label_verdict(b)
                .cmp(&self.label_verdict(a))
                .then(b.score.total_cmp(&a.score))
                .then(a.category.cmp(&b.category))
        });
        merged
    }
}

fn evidence_order(e: &Evidence) -> (usize, usize) {
    match e {
        Evidence::Span { start, end, .. } => (*start, *end),
        _ => (usize::MAX, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_category() {
        let p = Policy::default();
        p.validate().unwrap();
        assert_eq!(p.verdict(&[]), Verdict::Allow);
        let l = |c, s| Label::new(c, s, "t");
        assert_eq!(
            p.verdict(&[l(Category::SexualExplicit, 0.4)]),
            Verdict::Allow
        );
        assert_eq!(
            p.verdict(&[l(Category::SexualExplicit, 0.6)]),
            Verdict::Review
        );
        assert_eq!(
            p.verdict(&[l(Category::SexualExplicit, 0.9)]),
            Verdict::Block
        );
        assert_eq!(
            p.verdict(&[l(Category::SexualSuggestive, 1.0)]),
            Verdict::Review,
            "suggestive never blocks by default"
        );
    }

    #[test]
    fn toml_overrides_one_category_and_keeps_the_rest() {
        let p: Policy =
            toml::from_str("[\"sexual.suggestive\"]\nreview = 0.3\nblock = 0.9\n").unwrap();
        assert_eq!(p.thresholds(Category::SexualSuggestive).block, Some(0.9));
        assert_eq!(
            p.thresholds(Category::SexualExplicit),
            Policy::default_thresholds(Category::SexualExplicit)
        );
    }

    #[test]
    fn bad_thresholds_are_refused() {
        let p: Policy =
            toml::from_str("[\"sexual.explicit\"]\nreview = 0.9\nblock = 0.5\n").unwrap();
        assert!(p.validate().is_err());
        assert!(toml::from_str::<Policy>("[\"sexual.violence\"]\nreview = 0.9\n").is_err());
    }

    #[test]
    fn merge_pools_evidence_and_sorts_by_severity() {
        let p = Policy::default();
        let span = |s| Evidence::Span {
            field: "text".into(),
            start: s,
            end: s + 1,
            matched: "x".into(),
            term: "x".into(),
        };
        let raw = vec![
            Label::new(Category::SexualSuggestive, 0.6, "a").with_evidence(span(5)),
            Label::new(Category::SexualExplicit, 0.7, "a").with_evidence(span(9)),
            Label::new(Category::SexualExplicit, 0.95, "a").with_evidence(span(2)),
        ];
        let merged = p.merge(raw);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].category, Category::SexualExplicit);
        assert_eq!(merged[0].score, 0.95);
        assert_eq!(merged[0].evidence, vec![span(2), span(9)]);
    }
}

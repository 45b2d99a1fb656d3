//! The labelled dev set (`tests/data/devset.jsonl`) through the detector and
//! the default policy: recall of at least 0.97 in every positive bucket, and
//! at most 1% of benign texts blocked.

use std::collections::BTreeMap;

use cleanweb_core::{Detector, Input, Item, Policy, Verdict};
use cleanweb_text::LexiconDetector;

#[derive(serde::Deserialize)]
struct Example {
    bucket: String,
    expected: Verdict,
    text: String,
}

#[test]
fn dev_set_meets_the_recall_and_false_positive_targets() {
    let detector = LexiconDetector::default();
    let policy = Policy::default();
    let mut per_bucket: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut benign, mut benign_blocked) = (0usize, 0usize);
    for line in include_str!("data/devset.jsonl").lines() {
        let ex: Example = serde_json::from_str(line).expect("dev set line");
        let item = Item::text(ex.text.clone());
        let mut labels = Vec::new();
        detector
            .detect(&Input::from_item(&item), &mut labels)
            .expect("detect");
        let verdict = policy.verdict(&policy.merge(labels));
        if ex.expected == Verdict::Allow {
            benign += 1;
            benign_blocked += usize::from(verdict == Verdict::Block);
        } else {
            let e = per_bucket.entry(ex.bucket).or_default();
            e.0 += 1;
            e.1 += usize::from(verdict != Verdict::Allow);
        }
    }
    assert!(per_bucket.len() >= 10, "the dev set lost its buckets");
    for (bucket, (n, flagged)) in &per_bucket {
        let recall = *flagged as f64 / *n as f64;
        assert!(
            recall >= 0.97,
            "{bucket}: recall {recall:.3} ({flagged}/{n})"
        );
    }
    let rate = benign_blocked as f64 / benign as f64;
    assert!(
        rate <= 0.01,
        "benign blocked {rate:.3} ({benign_blocked}/{benign})"
    );
}

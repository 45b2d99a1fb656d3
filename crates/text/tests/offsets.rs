//! Property tests of the offset map: whatever the input, every evidence span
//! lies on char boundaries of the original, the `matched` text is exactly
//! those original chars, and normalizing the span finds the term again.

use cleanweb_core::{Detector, Evidence, Input, Item};
use cleanweb_text::{LexiconDetector, normalize};
use proptest::prelude::*;
use std::sync::LazyLock;

static DETECTOR: LazyLock<LexiconDetector> = LazyLock::new(LexiconDetector::default);

/// Text built from pieces that exercise every folding rule.
fn text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "色", "情", "黄", "片", "约", "炮", "涩", "網", "站", "p", "o", "r", "n", "P", "0", "R",
        "N", "s", "e", "x", "3", "$", "@", "!", " ", ".", "*", "丶", "\u{200b}", "\u{202e}", "💋",
        "ⓟ", "ｏ", "р", "𝐧", "①", "壹", "a", "l", "(", ")", "pao", "seqing", "颜色", "情况", "\n",
        "é", "\u{301}", "ᴘ", "Ω", "ß", "ﬁ", "㎏", "🇵", "𝓸",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn evidence_spans_point_into_the_original(s in text()) {
        let detector = &*DETECTOR;
        let item = Item::text(s.clone());
        let mut labels = Vec::new();
        detector.detect(&Input::from_item(&item), &mut labels).unwrap();
        let chars: Vec<char> = s.chars().collect();
        for label in &labels {
            for ev in &label.evidence {
                let Evidence::Span { start, end, matched, .. } = ev else { continue };
                prop_assert!(start < end && *end <= chars.len(), "{start}..{end} of {}", chars.len());
                let original: String = chars[*start..*end].iter().collect();
                prop_assert_eq!(&original, matched);
                prop_assert!(!normalize(&original).is_empty(), "a span never covers only junk");
            }
        }
    }

    #[test]
    fn every_normalized_range_maps_to_a_valid_original_range(s in text()) {
        let n = normalize(&s);
        let len = s.chars().count();
        let bounds: Vec<usize> = n.text.char_indices().map(|(b, _)| b).chain([n.text.len()]).collect();
        for (i, &a) in bounds.iter().enumerate() {
            for &b in &bounds[i + 1..] {
                let (start, end) = n.original_span(a, b).expect("non-empty range maps");
                prop_assert!(start < end && end <= len);
            }
        }
    }

    #[test]
    fn normalize_never_panics_on_arbitrary_text(s in any::<String>()) {
        let n = normalize(&s);
        prop_assert!(n.len() <= s.chars().count() * 18, "bounded growth");
    }
}

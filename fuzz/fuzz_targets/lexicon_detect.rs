//! The whole text detector on arbitrary input: no panic, and every evidence
//! span is a valid char range of the original whose text it repeats.
#![no_main]

use std::sync::LazyLock;

use cleanweb_core::{Detector, Evidence, Input, Item};
use cleanweb_text::LexiconDetector;
use libfuzzer_sys::fuzz_target;

static DETECTOR: LazyLock<LexiconDetector> = LazyLock::new(LexiconDetector::default);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let item = Item::text(text);
    let mut labels = Vec::new();
    DETECTOR
        .detect(&Input::from_item(&item), &mut labels)
        .expect("the lexicon detector does not fail");
    let chars: Vec<char> = text.chars().collect();
    for l in &labels {
        for e in &l.evidence {
            if let Evidence::Span { start, end, matched, .. } = e {
                assert!(start < end && *end <= chars.len());
                assert_eq!(&chars[*start..*end].iter().collect::<String>(), matched);
            }
        }
    }
});

//! The normalizer on arbitrary input: it must not panic, and its offset map
//! must stay inside the original text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let n = cleanweb_text::normalize(text);
    let len = text.chars().count();
    if !n.text.is_empty() {
        let (start, end) = n
            .original_span(0, n.text.len())
            .expect("the whole normalized text maps back");
        assert!(start < end && end <= len);
    }
});

//! Charset detection and subtitle parsing on any bytes: no panic, and the
//! subtitle text never longer than its input's text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = cleanweb_extract::decode_text(data) {
        let words = cleanweb_extract::subtitle_text(&text);
        assert!(words.len() <= text.len() + text.lines().count() + 1);
    }
});

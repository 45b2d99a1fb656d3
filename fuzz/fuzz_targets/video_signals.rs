//! What the video path parses itself, on hostile bytes: container sniffing
//! and HMA's vPDQ signal text (bank imports). Any input gives an answer or
//! an error, never a panic; a parsed signal writes back to the same frames.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cleanweb_video::is_video(data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(frames) = cleanweb_match::vpdq::parse_signal(text)
    {
        assert!(frames.len() <= cleanweb_match::vpdq::MAX_FEATURES);
        let again = cleanweb_match::vpdq::parse_signal(&cleanweb_match::vpdq::signal_text(&frames))
            .expect("our own signal text parses");
        assert_eq!(again.len(), frames.len());
        for (a, b) in again.iter().zip(&frames) {
            assert_eq!((a.hash, a.quality), (b.hash, b.quality));
        }
    }
});

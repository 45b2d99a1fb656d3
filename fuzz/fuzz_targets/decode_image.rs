//! Image decoding on hostile bytes: any input gives an image within the
//! limits or an error, never a panic or an allocation past the budget.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = cleanweb_vision::DecodeLimits {
        max_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_side: 4096,
        max_frames: 4,
        max_frames_read: 64,
        max_animation_pixels: 1 << 22,
        max_animation_screen: 1 << 20,
        max_kept_side: 512,
        max_time: std::time::Duration::from_secs(2),
    };
    if let Ok(d) = cleanweb_vision::decode_image(data, &limits) {
        assert!(!d.frames.is_empty() && d.frames.len() <= 4);
        for f in &d.frames {
            assert_eq!(f.pixels.len() as u64, u64::from(f.width) * u64::from(f.height) * 3);
            assert!(u64::from(f.width) * u64::from(f.height) <= 1 << 20);
        }
    }
});

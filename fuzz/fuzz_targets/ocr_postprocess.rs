//! OCR post-processing on hostile model output: any probability map (of
//! any size, with NaN and infinities) gives bounded boxes inside the
//! picture, and any recogniser output decodes without panicking.
#![no_main]

use cleanweb_ocr::{det, rec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let w = usize::from(data[0] % 64) + 1;
    let h = usize::from(data[1] % 64) + 1;
    let dest = (usize::from(data[2]) * 4 + 1, usize::from(data[3]) * 4 + 1);
    let body = &data[4..];
    let map: Vec<f32> = (0..w * h)
        .map(|i| match body.get(i).copied().unwrap_or(0) {
            255 => f32::NAN,
            254 => f32::INFINITY,
            v => f32::from(v) / 200.0,
        })
        .collect();
    let boxes = det::boxes(&map, w, h, dest, &det::DbParams::default());
    assert!(boxes.len() <= 1000);
    for b in &boxes {
        for p in b.quad {
            assert!(p[0] >= 0.0 && p[0] < dest.0 as f32 && p[1] >= 0.0 && p[1] < dest.1 as f32);
        }
    }
    let alphabet = rec::Alphabet::from_metadata(&String::from_utf8_lossy(body));
    let classes = alphabet.len();
    let _ = rec::ctc_decode(&map, classes, &alphabet);
});

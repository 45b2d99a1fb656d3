//! PDQ speed: luma, hash and quality of a 1024x768 RGB image, per image, one
//! core. The RGB bytes come from a file the script also gives pdqhash, so both
//! hash the same pixels.
//!
//! Usage: bench-pdq RGB_FILE WIDTH HEIGHT

use std::time::Instant;

use cleanweb_vision::{luma_from_rgb, pdq};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, w, h] = args.as_slice() else {
        eprintln!("usage: bench-pdq RGB_FILE WIDTH HEIGHT");
        std::process::exit(2);
    };
    let (w, h): (usize, usize) = (w.parse().expect("width"), h.parse().expect("height"));
    let rgb = std::fs::read(file).expect("rgb file");
    assert_eq!(rgb.len(), w * h * 3);
    let runs = 200;
    let mut best = f64::MAX;
    let mut hash = String::new();
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..runs {
            let (hsh, _q) = pdq(&luma_from_rgb(&rgb, w, h), h, w);
            hash = hsh.to_string();
        }
        best = best.min(t.elapsed().as_secs_f64() / runs as f64);
    }
    println!("{}", serde_json::json!({"name": "cleanweb", "ms_per_image": best * 1e3, "pdq": hash}));
}

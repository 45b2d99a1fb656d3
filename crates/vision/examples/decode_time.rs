//! Times decoding of every file in a directory (for BENCHMARKS.md).
//! Run: cargo run --release -p cleanweb-vision --example decode_time DIR
fn main() {
    let dir = std::env::args().nth(1).expect("DIR");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let limits = cleanweb_vision::DecodeLimits::default();
    let (mut jpeg, mut png) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    let (mut nj, mut np) = (0, 0);
    for f in &files {
        let bytes = std::fs::read(f).expect("read");
        let t = std::time::Instant::now();
        let ok = cleanweb_vision::decode_rgb(&bytes, &limits).is_ok();
        let e = t.elapsed();
        if f.extension().is_some_and(|x| x == "png") {
            png += e;
            np += 1;
        } else {
            jpeg += e;
            nj += 1;
        }
        assert!(ok, "{}", f.display());
    }
    println!(
        "jpeg: {nj} files {:.1} ms each; png: {np} files {:.1} ms each; total {:.2} s",
        jpeg.as_secs_f64() * 1e3 / nj.max(1) as f64,
        png.as_secs_f64() * 1e3 / np.max(1) as f64,
        (jpeg + png).as_secs_f64()
    );
}

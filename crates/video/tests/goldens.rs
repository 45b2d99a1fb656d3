//! vPDQ parity with Meta's reference: every clip in tests/data has a golden
//! written by the reference `vpdq` 0.2.5 (scripts/vpdq-goldens), and our
//! frames, qualities, hashes and timestamps must equal it line for line.

use std::path::Path;

use cleanweb_video::{Decoder, VideoLimits, vpdq};

#[test]
fn hashes_equal_the_reference_frame_for_frame() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let decoder = Decoder::locate(2).expect("ffmpeg and ffprobe are installed");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for golden in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "vpdq"))
    {
        let clip = ["mp4", "webm"]
            .iter()
            .map(|ext| golden.with_extension(ext))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no clip for {}", golden.display()));
        let want = std::fs::read_to_string(golden).unwrap();
        let video = decoder.decode_file(&clip, &VideoLimits::default()).unwrap();
        let got: Vec<String> = video.hashes.iter().map(vpdq::line).collect();
        let want: Vec<&str> = want.lines().collect();
        assert_eq!(got, want, "{}", clip.display());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} goldens");
}

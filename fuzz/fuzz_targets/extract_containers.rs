//! Any bytes, under any container name, read as members: no panic, no
//! member past its limit, and the member count within its bound. The names
//! steer the readers that sniff by name (playlists, subtitles); the bytes
//! steer the rest (zip, tar, gz, bz2, xz, PDF, EPUB, OOXML, ODF, APK, IPA).
#![no_main]

use std::ops::ControlFlow;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 6] = ["f.zip", "f.tar.gz", "f.m3u", "f.srt", "f.pdf", "f.epub"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let limits = cleanweb_extract::Limits {
        max_member_bytes: 1 << 20,
        max_total_bytes: 4 << 20,
        max_entries: 64,
        max_depth: 3,
        max_pdf_pages: 8,
        time: Duration::from_secs(5),
        ..cleanweb_extract::Limits::default()
    };
    let name = NAMES[pick as usize % NAMES.len()];
    let mut members = 0u64;
    cleanweb_extract::read_bytes(name, bytes.to_vec(), &limits, &mut |m| {
        members += 1;
        if let Ok(item) = &m.item {
            for b in [&item.image, &item.video].into_iter().flatten() {
                assert!(b.len() <= limits.max_member_bytes);
            }
        }
        ControlFlow::Continue(())
    });
    assert!(members <= limits.max_entries + 1);
});

//! Compression bombs: 3 GiB of zeros in a zip (with an honest and a lying
//! header) and in a tar.gz, built here in a few megabytes. Each must be an
//! error member, read in bounded memory. One test in its own binary, so
//! the resident-memory reading sees no other test's allocations.

use std::ops::ControlFlow;

use cleanweb_extract::{Limits, Member, read_file};
use flate2::{Compress, Compression, FlushCompress};

const GIB3: u64 = 3 << 30;
const CHUNK: usize = 1 << 20;

/// Raw deflate of `input`, ended by a sync flush so copies can follow it.
fn deflate_sync(input: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(input.len() / 100 + 1024);
    c.compress_vec(input, &mut out, FlushCompress::Sync)
        .unwrap();
    out
}

/// A raw deflate stream of `head` then zeros up to `total` bytes: the
/// zero chunk's deflate refers only to itself, so copies of it concatenate.
fn deflated_zeros(head: &[u8], total: u64) -> Vec<u8> {
    let zeros = vec![0u8; CHUNK];
    let mut out = deflate_sync(head);
    let chunk = deflate_sync(&zeros);
    let mut left = total - head.len() as u64;
    while left >= CHUNK as u64 {
        out.extend_from_slice(&chunk);
        left -= CHUNK as u64;
    }
    out.extend_from_slice(&deflate_sync(&zeros[..left as usize]));
    // A final, empty fixed-Huffman block.
    out.extend_from_slice(&[0x03, 0x00]);
    out
}

fn zip_with(data: &[u8], declared: u32) -> Vec<u8> {
    let name = b"zeros.bin";
    let mut z = Vec::new();
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    le32(&mut z, 0x04034b50);
    for x in [20u16, 0, 8, 0, 0x21] {
        le16(&mut z, x);
    }
    for x in [0u32, data.len() as u32, declared] {
        le32(&mut z, x);
    }
    le16(&mut z, name.len() as u16);
    le16(&mut z, 0);
    z.extend_from_slice(name);
    z.extend_from_slice(data);
    let cd = z.len() as u32;
    le32(&mut z, 0x02014b50);
    for x in [20u16, 20, 0, 8, 0, 0x21] {
        le16(&mut z, x);
    }
    for x in [0u32, data.len() as u32, declared] {
        le32(&mut z, x);
    }
    for x in [name.len() as u16, 0, 0, 0, 0] {
        le16(&mut z, x);
    }
    le32(&mut z, 0);
    le32(&mut z, 0);
    z.extend_from_slice(name);
    let cd_size = z.len() as u32 - cd;
    le32(&mut z, 0x06054b50);
    for x in [0u16, 0, 1, 1] {
        le16(&mut z, x);
    }
    le32(&mut z, cd_size);
    le32(&mut z, cd);
    le16(&mut z, 0);
    z
}

fn tar_gz_bomb() -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_path("zeros.bin").unwrap();
    h.set_size(GIB3);
    h.set_mode(0o644);
    h.set_cksum();
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gz.extend_from_slice(&deflated_zeros(h.as_bytes(), GIB3 + 512));
    gz.extend_from_slice(&[0; 8]);
    gz
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn bombs_are_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let data = deflated_zeros(b"", GIB3);
    assert!(data.len() < 8 << 20, "{} bytes", data.len());
    let files = [
        ("honest.zip", zip_with(&data, GIB3 as u32)),
        ("lying.zip", zip_with(&data, 1000)),
        ("bomb.tar.gz", tar_gz_bomb()),
    ];
    drop(data);
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    drop(files);
    let before = resident_kib();
    for name in ["honest.zip", "lying.zip", "bomb.tar.gz"] {
        let mut members = Vec::new();
        read_file(
            &dir.path().join(name),
            name,
            &Limits::default(),
            &mut |m: Member| {
                members.push((m.path, m.item.err()));
                ControlFlow::Continue(())
            },
        );
        assert!(!members.is_empty(), "{name}");
        assert!(
            members.iter().all(|(_, e)| e.is_some()),
            "{name}: {members:?}"
        );
        if name == "bomb.tar.gz" {
            // The stream's ratio stops it, not a skip through 3 GiB.
            assert!(
                members
                    .iter()
                    .any(|(_, e)| e.as_deref().is_some_and(|e| e.contains("bomb")))
            );
        }
        let grown = resident_kib().saturating_sub(before);
        assert!(
            grown < 64 << 10,
            "{name}: resident memory grew by {grown} KiB"
        );
        eprintln!("{name}: {members:?}; resident +{grown} KiB");
    }
}

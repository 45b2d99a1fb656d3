//! PDQ index: N hashes (uniform, or clustered around centres), queries with
//! planted near-duplicates at 0..31 bits, threshold 31. Reports queries per
//! second, recall against brute force on a sample, and resident memory.
//!
//! Usage: bench-mih N uniform|clustered [--dump DIR]
//! (`--dump` writes hashes.bin and queries.bin, 32 bytes per hash, for the
//! FAISS peer.)

use std::time::Instant;

use cleanweb_match::PdqIndex;
use cleanweb_vision::PdqHash;

#[path = "common.rs"]
mod common;
use common::rss_kb;

/// SplitMix64: every output well mixed. (xorshift64's consecutive outputs
/// are linearly related, which correlates neighbouring 16-bit words and
/// skews the index's long slots: real PDQ hashes have no such structure.)
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

trait Hashes {
    fn hash(&mut self) -> PdqHash;
    fn flip(&mut self, h: PdqHash, bits: u32) -> PdqHash;
}

impl Hashes for Rng {
    fn hash(&mut self) -> PdqHash {
        let w: [u64; 4] = std::array::from_fn(|_| self.next());
        PdqHash(std::array::from_fn(|i| (w[i / 4] >> (16 * (i % 4))) as u16))
    }
    fn flip(&mut self, mut h: PdqHash, bits: u32) -> PdqHash {
        for _ in 0..bits {
            let b = (self.next() % 256) as usize;
            h.0[b / 16] ^= 1 << (b % 16);
        }
        h
    }
}

fn rss_mb() -> f64 {
    rss_kb() as f64 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).expect("N");
    let clustered = args.get(2).map(String::as_str) == Some("clustered");
    let mut rng = Rng(0x5eed);
    let centres: Vec<PdqHash> = (0..n / 1000 + 1).map(|_| rng.hash()).collect();
    let hashes: Vec<PdqHash> = (0..n)
        .map(|i| {
            if clustered {
                let c = centres[i % centres.len()];
                let bits = (rng.next() % 40) as u32;
                rng.flip(c, bits)
            } else {
                rng.hash()
            }
        })
        .collect();
    let base = rss_mb();
    let t = Instant::now();
    let index = PdqIndex::from_hashes(hashes.clone());
    let build_s = t.elapsed().as_secs_f64();
    let index_mb = rss_mb() - base;
    let queries: Vec<PdqHash> = (0..2000)
        .map(|i| {
            let target = hashes[(rng.next() as usize) % n];
            let bits = (rng.next() % 32) as u32;
            if i % 2 == 0 { rng.flip(target, bits) } else { rng.hash() }
        })
        .collect();
    // `--dump DIR`: the same hashes and queries for the FAISS peer.
    if let Some(dir) = args.iter().position(|a| a == "--dump").and_then(|i| args.get(i + 1)) {
        let bytes = |hs: &[PdqHash]| -> Vec<u8> {
            hs.iter().flat_map(|h| h.0.iter().flat_map(|w| w.to_le_bytes())).collect()
        };
        std::fs::create_dir_all(dir).expect("dump dir");
        std::fs::write(format!("{dir}/hashes.bin"), bytes(&hashes)).expect("write hashes");
        std::fs::write(format!("{dir}/queries.bin"), bytes(&queries)).expect("write queries");
    }
    let t = Instant::now();
    let mut found = 0usize;
    for q in &queries {
        found += index.range_search(q, 31).len();
    }
    let qps = queries.len() as f64 / t.elapsed().as_secs_f64();
    // Recall against brute force on a sample of the queries.
    let sample = &queries[..50];
    let t = Instant::now();
    let mut expected = 0usize;
    let mut got = 0usize;
    for q in sample {
        expected += hashes.iter().filter(|h| h.distance(q) <= 31).count();
        got += index.range_search(q, 31).len();
    }
    let brute_qps = sample.len() as f64 / t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "n": n, "data": if clustered { "clustered" } else { "uniform" },
            "build_s": build_s, "index_rss_mb": index_mb, "raw_mb": n as f64 * 32.0 / 1048576.0,
            "queries_per_s": qps, "brute_force_queries_per_s": brute_qps,
            "recall": if expected == 0 { 1.0 } else { got as f64 / expected as f64 },
            "matches": found
        })
    );
}

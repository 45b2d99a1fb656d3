//! Splits a PDQ index query into its two phases (gathering candidates,
//! verifying them) at N random hashes. Run:
//! cargo run --release -p cleanweb-match --example mih_profile 10000000
use std::time::Instant;

use cleanweb_match::PdqIndex;
use cleanweb_vision::PdqHash;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    // SplitMix64, so neighbouring words are independent as in real hashes.
    let mut state = 0u64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let hashes: Vec<PdqHash> = (0..n)
        .map(|_| PdqHash(std::array::from_fn(|_| next() as u16)))
        .collect();
    let index = PdqIndex::from_hashes(hashes);
    let queries: Vec<PdqHash> = (0..2000)
        .map(|_| PdqHash(std::array::from_fn(|_| next() as u16)))
        .collect();
    let t = Instant::now();
    let mut total = 0usize;
    for q in &queries {
        total += index.candidates(q, 31).len();
    }
    let gather = t.elapsed().as_secs_f64() / queries.len() as f64;
    let t = Instant::now();
    for q in &queries {
        std::hint::black_box(index.range_search(q, 31));
    }
    let all = t.elapsed().as_secs_f64() / queries.len() as f64;
    println!(
        "n={n}: {} candidates per query; gather {:.0} us, whole query {:.0} us ({:.0} q/s)",
        total / queries.len(),
        gather * 1e6,
        all * 1e6,
        1.0 / all
    );
}

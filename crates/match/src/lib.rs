//! Exact PDQ range search by multi-index hashing, and hash banks.
//!
//! A 256-bit hash is cut into 11 slots (three of 24 bits, eight of 23). By
//! the generalised pigeonhole principle, if two hashes differ in at most `t`
//! bits and every slot is searched within radius `r` with
//! `11 × (r + 1) ≥ t + 1`, some slot of a true match is within its radius:
//! recall is 1.0. For the usual `t = 31` that is `r = 2`. Long slots keep
//! buckets nearly empty at ten million hashes, so a query verifies a few
//! thousand candidates instead of tens of thousands.
//!
//! Each slot is a static, compact table: entries grouped by the slot value's
//! high bits (a dense directory of offsets), holding the low 4 bits (one
//! byte, scanned) and the id. A query visits every group whose high bits are
//! within the radius and scans its low bytes for the remaining budget. About
//! 91 bytes per hash in all (2.85× the raw 32), on huge pages where the
//! kernel allows.
//!
//! Hashes added after the build go to a small dynamic index (16 slots of 16
//! bits, radius ⌊t/16⌋) searched alongside, and removals are tombstones, so
//! an update never rebuilds anything and matches at once; a full load (start
//! or reload) folds them into the static tables.
//!
//! ```
//! use cleanweb_match::PdqIndex;
//! use cleanweb_vision::PdqHash;
//! let mut index = PdqIndex::new();
//! let h = PdqHash([7; 16]);
//! let id = index.insert(h);
//! let mut near = h;
//! near.0[3] ^= 0b101; // two bits away
//! assert_eq!(index.range_search(&near, 31), vec![(id, 2)]);
//! ```
#![deny(missing_docs)]

mod banks;
mod huge;
mod index;
pub mod vpdq;
pub use banks::{
    BankMatch, Banks, HashDetector, ImageHashes, MIN_PDQ_QUALITY, SharedBanks, entry_for_image,
    entry_for_video,
};
pub use index::PdqIndex;

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_vision::PdqHash;
    use rand::{Rng, SeedableRng};

    fn random(rng: &mut impl Rng) -> PdqHash {
        PdqHash(std::array::from_fn(|_| rng.random()))
    }

    fn flip(h: PdqHash, bits: u32, rng: &mut impl Rng) -> PdqHash {
        let mut out = h;
        let mut flipped = std::collections::HashSet::new();
        while flipped.len() < bits as usize {
            let b: usize = rng.random_range(0..256);
            if flipped.insert(b) {
                out.0[b / 16] ^= 1 << (b % 16);
            }
        }
        out
    }

    #[test]
    fn range_search_equals_brute_force_on_uniform_and_clustered_data() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut all = Vec::new();
        // Uniform hashes, plus clusters of near-identical ones.
        for _ in 0..3000 {
            all.push(random(&mut rng));
        }
        for _ in 0..20 {
            let centre = random(&mut rng);
            for _ in 0..100 {
                let bits = rng.random_range(0..20);
                all.push(flip(centre, bits, &mut rng));
            }
        }
        let index = PdqIndex::from_hashes(all.clone());
        for q in 0..120 {
            let base = all[rng.random_range(0..all.len())];
            let query = flip(base, q % 48, &mut rng);
            for threshold in [0, 15, 31, 47, 63] {
                let got = index.range_search(&query, threshold);
                let mut want: Vec<(u32, u32)> = all
                    .iter()
                    .enumerate()
                    .filter_map(|(i, h)| {
                        let d = h.distance(&query);
                        (d <= threshold).then_some((i as u32, d))
                    })
                    .collect();
                want.sort_unstable_by_key(|&(id, d)| (d, id));
                assert_eq!(got, want, "query {q}, threshold {threshold}");
            }
        }
    }

    #[test]
    fn static_and_live_parts_answer_together() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let first: Vec<PdqHash> = (0..2000).map(|_| random(&mut rng)).collect();
        let mut index = PdqIndex::from_hashes(first.clone());
        let mut all = first;
        for _ in 0..500 {
            let base = all[rng.random_range(0..all.len())];
            let h = flip(base, rng.random_range(0..30), &mut rng);
            assert_eq!(index.insert(h) as usize, all.len());
            all.push(h);
        }
        let mut gone = std::collections::HashSet::new();
        for _ in 0..300 {
            let id = rng.random_range(0..all.len() as u32);
            assert_eq!(index.remove(id), gone.insert(id));
        }
        assert_eq!(index.len(), all.len() - gone.len());
        for q in 0..100 {
            let query = flip(all[rng.random_range(0..all.len())], q % 40, &mut rng);
            let mut want: Vec<(u32, u32)> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| !gone.contains(&(*i as u32)))
                .filter_map(|(i, h)| {
                    let d = h.distance(&query);
                    (d <= 31).then_some((i as u32, d))
                })
                .collect();
            want.sort_unstable_by_key(|&(id, d)| (d, id));
            assert_eq!(index.range_search(&query, 31), want);
        }
    }

    #[test]
    fn updates_are_incremental() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let mut index = PdqIndex::new();
        let a = index.insert(random(&mut rng));
        let h = random(&mut rng);
        let b = index.insert(h);
        assert_eq!(index.range_search(&h, 0), vec![(b, 0)]);
        assert!(index.remove(b));
        assert!(!index.remove(b));
        assert!(index.range_search(&h, 31).is_empty());
        assert_eq!(index.len(), 1);
        assert!(index.get(a).is_some() && index.get(b).is_none());
    }
}

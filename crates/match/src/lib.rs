//! Exact PDQ range search by multi-index hashing.
//!
//! A 256-bit hash is cut into 16 slots of 16 bits. If two hashes differ in at
//! most `t` bits, then by pigeonhole some slot differs in at most ⌊t/16⌋ bits,
//! so probing every slot's bucket for the query's slot value and all values
//! within ⌊t/16⌋ bits of it finds every hash within `t`: recall 1.0. Each
//! candidate is then verified with the full distance.
//!
//! Adding or removing a hash touches 16 buckets; nothing is ever rebuilt.
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

use cleanweb_vision::PdqHash;

mod banks;
pub use banks::{BankMatch, Banks, HashDetector, ImageHashes, SharedBanks, entry_for_image};

const SLOTS: usize = 16;
const BUCKETS: usize = 1 << 16;

/// The index: hashes by id, and per slot a bucket of ids per 16-bit value.
pub struct PdqIndex {
    hashes: Vec<PdqHash>,
    live: Vec<bool>,
    live_count: usize,
    /// `slots[s][v]`: ids whose slot `s` holds value `v`.
    slots: Vec<Vec<Vec<u32>>>,
}

impl Default for PdqIndex {
    fn default() -> Self {
        PdqIndex::new()
    }
}

impl PdqIndex {
    pub fn new() -> PdqIndex {
        PdqIndex {
            hashes: Vec::new(),
            live: Vec::new(),
            live_count: 0,
            slots: (0..SLOTS).map(|_| vec![Vec::new(); BUCKETS]).collect(),
        }
    }

    /// Builds an index from many hashes at once, sizing every bucket exactly
    /// (no growth slack), so memory stays near 3× the raw hashes: the hash
    /// itself (32 bytes) plus its id in 16 buckets (64 bytes).
    pub fn from_hashes(hashes: Vec<PdqHash>) -> PdqIndex {
        let mut counts = vec![[0u32; SLOTS]; BUCKETS];
        for h in &hashes {
            for (s, &v) in h.0.iter().enumerate() {
                counts[usize::from(v)][s] += 1;
            }
        }
        let slots: Vec<Vec<Vec<u32>>> = (0..SLOTS)
            .map(|s| {
                (0..BUCKETS)
                    .map(|v| Vec::with_capacity(counts[v][s] as usize))
                    .collect()
            })
            .collect();
        let n = hashes.len();
        let mut index = PdqIndex {
            hashes: Vec::with_capacity(n),
            live: Vec::with_capacity(n),
            live_count: 0,
            slots,
        };
        for h in hashes {
            index.insert(h);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.live_count
    }

    pub fn is_empty(&self) -> bool {
        self.live_count == 0
    }

    /// Adds a hash; returns its id. Ids are never reused.
    pub fn insert(&mut self, hash: PdqHash) -> u32 {
        let id = u32::try_from(self.hashes.len()).unwrap_or(u32::MAX);
        self.hashes.push(hash);
        self.live.push(true);
        self.live_count += 1;
        for (s, buckets) in self.slots.iter_mut().enumerate() {
            buckets[usize::from(hash.0[s])].push(id);
        }
        id
    }

    /// Removes a hash by id; false if there was none.
    pub fn remove(&mut self, id: u32) -> bool {
        let i = id as usize;
        if !self.live.get(i).copied().unwrap_or(false) {
            return false;
        }
        let hash = self.hashes[i];
        for (s, buckets) in self.slots.iter_mut().enumerate() {
            let bucket = &mut buckets[usize::from(hash.0[s])];
            if let Some(p) = bucket.iter().position(|&x| x == id) {
                bucket.swap_remove(p);
            }
        }
        self.live[i] = false;
        self.live_count -= 1;
        true
    }

    pub fn get(&self, id: u32) -> Option<PdqHash> {
        let i = id as usize;
        self.live
            .get(i)
            .copied()
            .unwrap_or(false)
            .then(|| self.hashes[i])
    }

    /// Every live hash within `threshold` bits of `query`, as (id, distance),
    /// nearest first. Exact for any threshold up to 256.
    pub fn range_search(&self, query: &PdqHash, threshold: u32) -> Vec<(u32, u32)> {
        let radius = (threshold / SLOTS as u32) as usize;
        let mut seen: Vec<u32> = Vec::new();
        for s in 0..SLOTS {
            let value = query.0[s];
            for_each_within(value, radius, &mut |v| {
                seen.extend_from_slice(&self.slots[s][usize::from(v)]);
            });
        }
        seen.sort_unstable();
        seen.dedup();
        let mut out: Vec<(u32, u32)> = seen
            .into_iter()
            .filter_map(|id| {
                let d = self.hashes[id as usize].distance(query);
                (d <= threshold).then_some((id, d))
            })
            .collect();
        out.sort_unstable_by_key(|&(id, d)| (d, id));
        out
    }
}

/// Calls `f` with every 16-bit value within `radius` bits of `value`.
fn for_each_within(value: u16, radius: usize, f: &mut impl FnMut(u16)) {
    fn rec(value: u16, from: u32, left: usize, f: &mut impl FnMut(u16)) {
        f(value);
        if left == 0 {
            return;
        }
        for bit in from..16 {
            rec(value ^ (1 << bit), bit + 1, left - 1, f);
        }
    }
    rec(value, 0, radius.min(16), f);
}

#[cfg(test)]
mod tests {
    use super::*;
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

//! The PDQ index: static multi-index tables plus a dynamic delta.

use cleanweb_vision::PdqHash;

use crate::huge::HugeBuf;

/// (first bit, length) of each static slot; 3 × 24 + 8 × 23 = 256.
const SLOTS: [(u32, u32); 11] = [
    (0, 24),
    (24, 24),
    (48, 24),
    (72, 23),
    (95, 23),
    (118, 23),
    (141, 23),
    (164, 23),
    (187, 23),
    (210, 23),
    (233, 23),
];
/// Low bits of a slot value kept in the scanned byte; the rest index the
/// directory. Measured best at 10M hashes: many small groups, each one
/// cache line of low bytes. (Packing the low bits into the id's top bits
/// saves 10 MB per slot but was 25% slower: the scan then reads 4× the
/// bytes.)
const LOW: u32 = 4;

/// The hash as four little-endian words: bit k is hash bit k.
fn words(h: &PdqHash) -> [u64; 4] {
    std::array::from_fn(|w| (0..4).fold(0u64, |acc, j| acc | u64::from(h.0[w * 4 + j]) << (16 * j)))
}

/// `len` bits (≤ 32) of the hash starting at bit `from`.
fn bits(w: &[u64; 4], from: u32, len: u32) -> u32 {
    let (i, off) = ((from / 64) as usize, from % 64);
    let mut v = w[i] >> off;
    if off + len > 64 && i + 1 < 4 {
        v |= w[i + 1] << (64 - off);
    }
    (v & ((1u64 << len) - 1)) as u32
}

/// One static slot: ids grouped by the high bits of their slot value.
struct Slot {
    from: u32,
    len: u32,
    /// `dir[g]..dir[g + 1]`: the entries of group g.
    dir: HugeBuf<u32>,
    /// Each entry's low bits (scanned) and id (read only for those that pass).
    low: HugeBuf<u8>,
    ids: HugeBuf<u32>,
}

impl Slot {
    fn build(from: u32, len: u32, keys: &[u32]) -> Slot {
        let groups = 1usize << (len - LOW);
        let mut dir = vec![0u32; groups + 1];
        for &k in keys {
            dir[(k >> LOW) as usize + 1] += 1;
        }
        for g in 0..groups {
            dir[g + 1] += dir[g];
        }
        let mut next: Vec<u32> = dir[..groups].to_vec();
        let mut low = HugeBuf::<u8>::zeroed(keys.len());
        let mut ids = HugeBuf::<u32>::zeroed(keys.len());
        let (lows, idss) = (low.as_mut_slice(), ids.as_mut_slice());
        for (id, &k) in keys.iter().enumerate() {
            let g = (k >> LOW) as usize;
            let at = next[g] as usize;
            next[g] += 1;
            lows[at] = (k & ((1 << LOW) - 1)) as u8;
            idss[at] = id as u32;
        }
        Slot {
            from,
            len,
            dir: HugeBuf::from_slice(&dir),
            low,
            ids,
        }
    }
}

/// Calls `f(v, d)` for every `bits`-bit value `v` within `radius` bits of
/// `value`, with its distance `d`.
fn for_each_within(value: u32, bits: u32, radius: u32, f: &mut impl FnMut(u32, u32)) {
    fn rec(v: u32, from: u32, bits: u32, used: u32, left: u32, f: &mut impl FnMut(u32, u32)) {
        f(v, used);
        if left == 0 {
            return;
        }
        for b in from..bits {
            rec(v ^ (1 << b), b + 1, bits, used + 1, left - 1, f);
        }
    }
    rec(value, 0, bits, 0, radius.min(bits), f);
}

/// The dynamic part: 16 slots of 16 bits with growable buckets, for hashes
/// added after the build.
struct Delta {
    /// `buckets[s][v]`: delta ids (offsets from `first`) whose slot s is v.
    buckets: Vec<Vec<Vec<u32>>>,
}

impl Delta {
    fn new() -> Delta {
        Delta {
            buckets: (0..16).map(|_| vec![Vec::new(); 1 << 16]).collect(),
        }
    }

    fn insert(&mut self, h: &PdqHash, id: u32) {
        for (s, buckets) in self.buckets.iter_mut().enumerate() {
            buckets[usize::from(h.0[s])].push(id);
        }
    }

    fn probe(&self, q: &PdqHash, threshold: u32, f: &mut impl FnMut(u32)) {
        let radius = threshold / 16;
        for (s, buckets) in self.buckets.iter().enumerate() {
            for_each_within(u32::from(q.0[s]), 16, radius, &mut |v, _| {
                for &id in &buckets[v as usize] {
                    f(id);
                }
            });
        }
    }
}

/// Exact range search over PDQ hashes; see the crate documentation.
pub struct PdqIndex {
    /// The hashes built into the static slots, as words (ids below `built`).
    words: HugeBuf<[u64; 4]>,
    /// Hashes inserted since (id `built + i`).
    extra: Vec<PdqHash>,
    live: Vec<bool>,
    live_count: usize,
    /// Ids below this are in the static slots, the rest in `delta`.
    built: usize,
    slots: Vec<Slot>,
    delta: Option<Box<Delta>>,
}

impl Default for PdqIndex {
    fn default() -> Self {
        PdqIndex::new()
    }
}

impl PdqIndex {
    /// An empty index.
    pub fn new() -> PdqIndex {
        PdqIndex::from_hashes(Vec::new())
    }

    /// Builds the static tables for many hashes at once; ids are positions.
    pub fn from_hashes(hashes: Vec<PdqHash>) -> PdqIndex {
        let n = hashes.len();
        let mut table = HugeBuf::<[u64; 4]>::zeroed(n);
        for (w, h) in table.as_mut_slice().iter_mut().zip(&hashes) {
            *w = words(h);
        }
        drop(hashes);
        let slots = SLOTS
            .iter()
            .map(|&(from, len)| {
                let keys: Vec<u32> = table.iter().map(|w| bits(w, from, len)).collect();
                Slot::build(from, len, &keys)
            })
            .collect();
        PdqIndex {
            words: table,
            extra: Vec::new(),
            live: vec![true; n],
            live_count: n,
            built: n,
            slots,
            delta: None,
        }
    }

    /// Number of live hashes (removed ones not counted).
    pub fn len(&self) -> usize {
        self.live_count
    }

    /// Whether no live hashes remain.
    pub fn is_empty(&self) -> bool {
        self.live_count == 0
    }

    /// Adds a hash; returns its id. Ids are never reused. Nothing is rebuilt:
    /// the hash goes to the dynamic part and matches at once.
    pub fn insert(&mut self, hash: PdqHash) -> u32 {
        let id = u32::try_from(self.live.len()).unwrap_or(u32::MAX);
        self.extra.push(hash);
        self.live.push(true);
        self.live_count += 1;
        self.delta
            .get_or_insert_with(|| Box::new(Delta::new()))
            .insert(&hash, id);
        id
    }

    /// Removes a hash by id (a tombstone); false if there was none.
    pub fn remove(&mut self, id: u32) -> bool {
        match self.live.get_mut(id as usize) {
            Some(live) if *live => {
                *live = false;
                self.live_count -= 1;
                true
            }
            _ => false,
        }
    }

    /// The hash with this id, unless it was removed or never existed.
    pub fn get(&self, id: u32) -> Option<PdqHash> {
        let i = id as usize;
        self.live
            .get(i)
            .copied()
            .unwrap_or(false)
            .then(|| self.hash(i))
    }

    fn hash(&self, i: usize) -> PdqHash {
        match self.words.get(i) {
            Some(w) => PdqHash(std::array::from_fn(|k| (w[k / 4] >> (16 * (k % 4))) as u16)),
            None => self.extra[i - self.built],
        }
    }

    /// Distance from the query's words to hash `i`.
    fn distance(&self, i: usize, q: &[u64; 4], query: &PdqHash) -> u32 {
        match self.words.get(i) {
            Some(w) => (0..4).map(|k| (w[k] ^ q[k]).count_ones()).sum(),
            None => self.extra[i - self.built].distance(query),
        }
    }

    fn prefetch_hash(&self, i: usize) {
        if let Some(w) = self.words.get(i) {
            prefetch(w);
        }
    }

    /// Every live hash within `threshold` bits of `query`, as (id, distance),
    /// nearest first. Exact for any threshold up to 256.
    pub fn range_search(&self, query: &PdqHash, threshold: u32) -> Vec<(u32, u32)> {
        // Candidates are gathered first (sequential writes), then verified
        // with the hashes they need prefetched a few ahead: the verification
        // reads are random over the whole table, and overlapping their cache
        // misses is most of the speed. Candidates are not deduplicated: a
        // false one rarely shows up in two slots, and the few true matches
        // are deduplicated at the end.
        let candidates = self.candidates(query, threshold);
        const AHEAD: usize = 16;
        for &id in candidates.iter().take(AHEAD) {
            self.prefetch_hash(id as usize);
        }
        let q = words(query);
        let mut out: Vec<(u32, u32)> = Vec::new();
        for (k, &id) in candidates.iter().enumerate() {
            if let Some(&next) = candidates.get(k + AHEAD) {
                self.prefetch_hash(next as usize);
            }
            let i = id as usize;
            let d = self.distance(i, &q, query);
            // Liveness only for hits: most candidates are not, and the check
            // would be one more random read each.
            if d <= threshold && self.live[i] {
                out.push((id, d));
            }
        }
        out.sort_unstable_by_key(|&(id, d)| (d, id));
        out.dedup();
        out
    }

    /// The ids a query must verify (with repeats).
    ///
    /// Every step is a random read into a large table (a group's directory
    /// entry, its entries, the hashes that pass), so the groups go through a
    /// software pipeline: the directory entry is prefetched `2·D` groups
    /// ahead, the entries `D` ahead, so the misses overlap instead of
    /// queueing; the hashes are prefetched when they are verified.
    #[doc(hidden)]
    pub fn candidates(&self, query: &PdqHash, threshold: u32) -> Vec<u32> {
        const D: usize = 24;
        let mut candidates: Vec<u32> = Vec::with_capacity(4096);
        if self.built > 0 {
            let w = words(query);
            // The flips to visit depend only on (high bits, radius): a few
            // distinct pairs, so each is enumerated once per query.
            let mut balls: Vec<(BallKey, Ball)> = Vec::new();
            // (slot, group, low budget, query low bits)
            let mut visits: Vec<(u8, u32, u32, u8)> = Vec::with_capacity(2560);
            for (s, slot) in self.slots.iter().enumerate() {
                let Some(radius) = slot_radius(s, threshold) else {
                    continue;
                };
                let high_bits = slot.len - LOW;
                let ball = match balls.iter().position(|(k, _)| *k == (high_bits, radius)) {
                    Some(i) => &balls[i].1,
                    None => {
                        let mut flips = Vec::new();
                        for_each_within(0, high_bits, radius, &mut |m, used| {
                            flips.push((m, radius - used));
                        });
                        balls.push(((high_bits, radius), flips));
                        &balls[balls.len() - 1].1
                    }
                };
                let key = bits(&w, slot.from, slot.len);
                let (qhigh, qlow) = (key >> LOW, (key & ((1 << LOW) - 1)) as u8);
                visits.extend(
                    ball.iter()
                        .map(|&(m, budget)| (s as u8, qhigh ^ m, budget, qlow)),
                );
            }
            let mut hits: Vec<(u8, u32)> = Vec::with_capacity(4096);
            let n = visits.len();
            let mut ranges: Vec<(u32, u32)> = vec![(0, 0); n];
            let dir_entry = |i: usize| {
                let (s, g, _, _) = visits[i];
                &self.slots[s as usize].dir[g as usize]
            };
            for i in 0..(2 * D).min(n) {
                prefetch(dir_entry(i));
            }
            for i in 0..n + D {
                if i + 2 * D < n {
                    prefetch(dir_entry(i + 2 * D));
                }
                if i < n {
                    let (s, g, _, _) = visits[i];
                    let slot = &self.slots[s as usize];
                    let (a, b) = (slot.dir[g as usize], slot.dir[g as usize + 1]);
                    if a < b {
                        prefetch(&slot.low[a as usize]);
                    }
                    ranges[i] = (a, b);
                }
                if i >= D {
                    let j = i - D;
                    let (s, _, budget, qlow) = visits[j];
                    let slot = &self.slots[s as usize];
                    let (a, b) = (ranges[j].0 as usize, ranges[j].1 as usize);
                    for (k, &l) in slot.low[a..b].iter().enumerate() {
                        if (l ^ qlow).count_ones() <= budget {
                            prefetch(&slot.ids[a + k]);
                            hits.push((s, (a + k) as u32));
                        }
                    }
                }
            }
            candidates.extend(
                hits.iter()
                    .map(|&(s, at)| self.slots[s as usize].ids[at as usize]),
            );
        }
        if let Some(delta) = &self.delta {
            delta.probe(query, threshold, &mut |id| candidates.push(id));
        }
        candidates
    }
}

/// (high bits, radius) of a Hamming ball.
type BallKey = (u32, u32);
/// The ball's flips with the low-bit budget each leaves: (mask, budget).
type Ball = Vec<(u32, u32)>;

/// The search radius of static slot `s` for `threshold`, by the generalised
/// pigeonhole principle: radii with Σ(rᵢ + 1) ≥ threshold + 1 guarantee
/// that a hash within the threshold is within the radius in some slot. The
/// units are spread evenly; a slot that gets none is not searched.
fn slot_radius(s: usize, threshold: u32) -> Option<u32> {
    let units = threshold as usize + 1;
    let n = SLOTS.len();
    let mine = units / n + usize::from(s < units % n);
    (mine > 0).then(|| mine as u32 - 1)
}

/// A hint to start loading `x` into the cache; no effect on results.
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of the x86_64 baseline, and a prefetch is a
        // hint: it reads nothing architecturally and cannot fault, whatever
        // the address (here a valid reference anyway).
        unsafe { _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radii_cover_the_threshold() {
        for t in 0..=256u32 {
            let units: u32 = (0..SLOTS.len())
                .filter_map(|s| slot_radius(s, t))
                .map(|r| r + 1)
                .sum();
            assert_eq!(units, t + 1, "threshold {t}");
        }
        assert_eq!(slot_radius(10, 31), Some(1));
        assert_eq!(slot_radius(0, 31), Some(2));
        assert_eq!(slot_radius(5, 3), None);
    }

    #[test]
    fn slots_tile_the_hash_and_bits_are_read_across_words() {
        let mut next = 0;
        for (from, len) in SLOTS {
            assert_eq!(from, next);
            next += len;
        }
        assert_eq!(next, 256);
        let mut h = PdqHash::default();
        h.0[3] = 0x8000; // bit 63
        h.0[4] = 0x0001; // bit 64
        let w = words(&h);
        assert_eq!(bits(&w, 62, 4), 0b0110);
        assert_eq!(bits(&w, 48, 24), 0x01_8000);
    }
}

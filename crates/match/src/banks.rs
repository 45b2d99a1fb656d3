//! Banks in memory, and the `image.hash` detector that matches every image
//! item against them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cleanweb_core::{
    Action, Bank, BankEntry, Category, DecodedVideo, DetectError, Detector, Evidence, FrameHash,
    Input, Label, Rgb, Signal,
};
use cleanweb_vision::{
    DecodeLimits, PdqHash, decode_rgb, luma_from_rgb, md5_hex, pdq_dihedral, sha256_hex,
};

use crate::PdqIndex;
use crate::vpdq::{self, Shares};

pub const SOURCE: &str = "image.hash";
/// PDQ hashes of lower quality (flat or tiny images) are not matched: they
/// collide with each other.
pub const MIN_PDQ_QUALITY: u8 = 50;

/// What an image is matched by.
#[derive(Clone, Debug)]
pub struct ImageHashes {
    /// The image's PDQ hash and its seven rotations and flips.
    pub pdq: [PdqHash; 8],
    /// PDQ quality, 0 to 100; below [`MIN_PDQ_QUALITY`] PDQ banks are not searched.
    pub quality: u8,
    /// MD5 of the file bytes, lowercase hex, for exact-file banks.
    pub md5: String,
    /// SHA-256 of the file bytes, lowercase hex, for exact-file banks.
    pub sha256: String,
}

impl ImageHashes {
    /// Decodes an image within `limits` and hashes it; the error is the decoder's message.
    pub fn of_bytes(bytes: &[u8], limits: &DecodeLimits) -> Result<ImageHashes, String> {
        let rgb = decode_rgb(bytes, limits).map_err(|e| e.to_string())?;
        Ok(Self::of_decoded(bytes, &rgb))
    }

    /// The hashes of an image already decoded (its first frame for PDQ).
    pub fn of_decoded(bytes: &[u8], rgb: &Rgb) -> ImageHashes {
        let (w, h) = (rgb.width as usize, rgb.height as usize);
        let (pdq, quality) = pdq_dihedral(&luma_from_rgb(&rgb.pixels, w, h), h, w);
        ImageHashes {
            pdq,
            quality,
            md5: md5_hex(bytes),
            sha256: sha256_hex(bytes),
        }
    }
}

/// A bank hit.
#[derive(Clone, Debug, PartialEq)]
pub struct BankMatch {
    /// Name of the bank that matched.
    pub bank: String,
    /// The bank's action for its hits.
    pub action: Action,
    /// The bank's label category.
    pub category: cleanweb_core::Category,
    /// The entry's external id, or its hash.
    pub entry: String,
    /// PDQ bits that differ from the entry (the best of the variants searched); 0 for exact-file
    /// and video banks.
    pub distance: u32,
    /// For a video bank: how much of each video matched.
    pub shares: Option<Shares>,
}

struct Loaded {
    bank: Bank,
    entries: Vec<BankEntry>,
    pdq: PdqIndex,
    /// PDQ index id → entry position.
    pdq_entries: Vec<usize>,
    /// PDQ hash (hex) → index id, for removal.
    pdq_ids: HashMap<String, u32>,
    exact: HashMap<String, usize>,
    /// vPDQ entry hash → its frames' index ids, for removal.
    video_ids: HashMap<String, Vec<u32>>,
    /// vPDQ entry position → its prepared frame count.
    video_frames: HashMap<usize, usize>,
}

impl Loaded {
    fn empty(bank: Bank) -> Loaded {
        Loaded {
            bank,
            entries: Vec::new(),
            pdq: PdqIndex::new(),
            pdq_entries: Vec::new(),
            pdq_ids: HashMap::new(),
            exact: HashMap::new(),
            video_ids: HashMap::new(),
            video_frames: HashMap::new(),
        }
    }

    /// The index hashes an entry contributes: its PDQ hash, or its video's
    /// prepared frames; empty if it holds none.
    fn entry_hashes(signal: Signal, entry: &BankEntry) -> Vec<PdqHash> {
        match signal {
            Signal::Pdq => PdqHash::parse(&entry.hash).into_iter().collect(),
            Signal::Vpdq => entry
                .frames
                .as_deref()
                .and_then(|t| vpdq::parse_signal(t).ok())
                .map(|f| vpdq::prepare(&f))
                .unwrap_or_default(),
            Signal::Md5 | Signal::Sha256 => Vec::new(),
        }
    }

    /// Records that entry `position` owns index ids `ids`.
    fn own(&mut self, hash: &str, position: usize, ids: Vec<u32>) {
        if self.bank.signal == Signal::Vpdq {
            self.video_frames.insert(position, ids.len());
            self.video_ids.insert(hash.to_owned(), ids);
        } else if let Some(&id) = ids.first() {
            self.pdq_ids.insert(hash.to_owned(), id);
        }
    }

    fn indexed(&self, hash: &str) -> bool {
        self.pdq_ids.contains_key(hash) || self.video_ids.contains_key(hash)
    }

    /// Adds one entry to the index in place; false if the hash is already
    /// there or is not a valid hash of the bank's signal.
    fn add(&mut self, mut entry: BankEntry) -> bool {
        entry.hash = entry.hash.to_ascii_lowercase();
        let position = self.entries.len();
        match self.bank.signal {
            Signal::Pdq | Signal::Vpdq => {
                let hashes = Self::entry_hashes(self.bank.signal, &entry);
                if hashes.is_empty() || self.indexed(&entry.hash) {
                    return false;
                }
                let ids: Vec<u32> = hashes
                    .into_iter()
                    .map(|h| {
                        let id = self.pdq.insert(h);
                        debug_assert_eq!(id as usize, self.pdq_entries.len());
                        self.pdq_entries.push(position);
                        id
                    })
                    .collect();
                self.own(&entry.hash, position, ids);
            }
            Signal::Md5 | Signal::Sha256 => {
                if self.exact.contains_key(&entry.hash) {
                    return false;
                }
                self.exact.insert(entry.hash.clone(), position);
            }
        }
        self.entries.push(entry);
        true
    }

    /// Removes a hash from the index; its entry's slot stays until the next
    /// full load (ids are never reused, so nothing else moves).
    fn remove(&mut self, hash: &str) -> bool {
        let hash = hash.to_ascii_lowercase();
        match self.bank.signal {
            Signal::Pdq => match self.pdq_ids.remove(&hash) {
                Some(id) => self.pdq.remove(id),
                None => false,
            },
            Signal::Vpdq => match self.video_ids.remove(&hash) {
                // Every frame goes, so none of them can match any more.
                Some(ids) => ids
                    .into_iter()
                    .fold(false, |any, id| self.pdq.remove(id) | any),
                None => false,
            },
            Signal::Md5 | Signal::Sha256 => self.exact.remove(&hash).is_some(),
        }
    }
}

/// Every bank, indexed for matching.
#[derive(Default)]
pub struct Banks {
    banks: Vec<Loaded>,
}

impl Banks {
    /// Indexes the given banks and their entries; entries with invalid or duplicate hashes are
    /// skipped.
    pub fn new(banks: Vec<(Bank, Vec<BankEntry>)>) -> Banks {
        let banks = banks
            .into_iter()
            .map(|(bank, entries)| {
                let mut loaded = Loaded::empty(bank);
                let signal = loaded.bank.signal;
                if matches!(signal, Signal::Pdq | Signal::Vpdq) {
                    // Bulk load: one presized index instead of n inserts.
                    let mut hashes = Vec::with_capacity(entries.len());
                    for (i, e) in entries.iter().enumerate() {
                        let hex = e.hash.to_ascii_lowercase();
                        let frames = Loaded::entry_hashes(signal, e);
                        if frames.is_empty() || loaded.indexed(&hex) {
                            continue;
                        }
                        let ids = (hashes.len() as u32..).take(frames.len()).collect();
                        for h in frames {
                            hashes.push(h);
                            loaded.pdq_entries.push(i);
                        }
                        loaded.own(&hex, i, ids);
                    }
                    loaded.pdq = PdqIndex::from_hashes(hashes);
                    loaded.entries = entries;
                } else {
                    for e in entries {
                        loaded.add(e);
                    }
                }
                loaded
            })
            .collect();
        Banks { banks }
    }

    /// Adds a bank (empty) or replaces its settings, keeping its entries.
    pub fn upsert_bank(&mut self, bank: Bank) {
        match self.banks.iter_mut().find(|b| b.bank.name == bank.name) {
            Some(b) if b.bank.signal == bank.signal => b.bank = bank,
            Some(b) => *b = Loaded::empty(bank),
            None => self.banks.push(Loaded::empty(bank)),
        }
    }

    /// Drops a bank and its entries; false if there was no such bank.
    pub fn remove_bank(&mut self, name: &str) -> bool {
        let before = self.banks.len();
        self.banks.retain(|b| b.bank.name != name);
        self.banks.len() != before
    }

    /// Adds entries to a bank in place (no rebuild); returns how many were
    /// new. Unknown banks add nothing.
    pub fn add_entries(&mut self, bank: &str, entries: &[BankEntry]) -> usize {
        match self.banks.iter_mut().find(|b| b.bank.name == bank) {
            Some(b) => entries.iter().filter(|e| b.add((*e).clone())).count(),
            None => 0,
        }
    }

    /// Removes one hash from a bank (case-insensitive); false if it was not there.
    pub fn remove_entry(&mut self, bank: &str, hash: &str) -> bool {
        self.banks
            .iter_mut()
            .find(|b| b.bank.name == bank)
            .is_some_and(|b| b.remove(hash))
    }

    /// Whether there are no banks at all (entries are not counted).
    pub fn is_empty(&self) -> bool {
        self.banks.is_empty()
    }

    /// Exact-file bank hits for bytes that could not be decoded (or are a
    /// video).
    pub fn match_bytes(&self, bytes: &[u8]) -> Vec<BankMatch> {
        // Quality 0 skips the PDQ banks.
        self.match_image(&ImageHashes {
            pdq: [PdqHash::default(); 8],
            quality: 0,
            md5: md5_hex(bytes),
            sha256: sha256_hex(bytes),
        })
    }

    /// Every bank hit for an image, nearest first per bank. A hit in an
    /// `allow` bank suppresses the others (a known benign image), except
    /// `sexual.minors` hits: an allow entry, added by a reviewer or matched
    /// by a near PDQ hash, must never silence a CSAM list.
    pub fn match_image(&self, h: &ImageHashes) -> Vec<BankMatch> {
        let mut out = Vec::new();
        for b in &self.banks {
            let hit = |i: usize, distance: u32| BankMatch {
                bank: b.bank.name.clone(),
                action: b.bank.action,
                category: b.bank.category,
                entry: b.entries[i]
                    .external_id
                    .clone()
                    .unwrap_or_else(|| b.entries[i].hash.clone()),
                distance,
                shares: None,
            };
            match b.bank.signal {
                Signal::Md5 => out.extend(b.exact.get(&h.md5).map(|&i| hit(i, 0))),
                Signal::Sha256 => out.extend(b.exact.get(&h.sha256).map(|&i| hit(i, 0))),
                Signal::Pdq if h.quality >= MIN_PDQ_QUALITY => {
                    let variants = if b.bank.dihedral {
                        &h.pdq[..]
                    } else {
                        &h.pdq[..1]
                    };
                    let best = variants
                        .iter()
                        .flat_map(|v| b.pdq.range_search(v, b.bank.threshold))
                        .min_by_key(|&(_, d)| d);
                    if let Some((id, d)) = best {
                        out.push(hit(b.pdq_entries[id as usize], d));
                    }
                }
                Signal::Pdq | Signal::Vpdq => {}
            }
        }
        allow_silences(&mut out);
        out
    }

    /// Every bank hit for a video: its bytes against exact-file banks, its
    /// frames against video banks (HMA's rule, mirrored and rotated copies
    /// included where the bank says so) and against picture banks (a known
    /// picture shown in a video).
    pub fn match_video(&self, bytes: &[u8], frames: &[FrameHash]) -> Vec<BankMatch> {
        let mut out = self.match_bytes(bytes);
        // HMA's preparation of the query: quality floor, then duplicates.
        let mut seen = std::collections::HashSet::new();
        let query: Vec<[PdqHash; 8]> = frames
            .iter()
            .filter(|f| f.quality >= MIN_PDQ_QUALITY && seen.insert(f.hash()))
            .map(|f| f.variants.map(PdqHash))
            .collect();
        if query.is_empty() {
            allow_silences(&mut out);
            return out;
        }
        for b in &self.banks {
            let entry_name = |i: usize| {
                b.entries[i]
                    .external_id
                    .clone()
                    .unwrap_or_else(|| b.entries[i].hash.clone())
            };
            let search = |v: &PdqHash| -> Vec<(usize, u32)> {
                b.pdq
                    .range_search(v, b.bank.threshold)
                    .into_iter()
                    .map(|(id, _)| (b.pdq_entries[id as usize], id))
                    .collect()
            };
            match b.bank.signal {
                Signal::Vpdq => {
                    let found = vpdq::shares(&query, b.bank.dihedral, search, |i| {
                        b.video_frames.get(&i).copied().unwrap_or(1)
                    });
                    let mut hits: Vec<(usize, vpdq::Shares)> = found
                        .into_iter()
                        .filter(|(_, s)| {
                            s.query_pct >= b.bank.query_pct as f32
                                && s.compared_pct >= b.bank.compared_pct as f32
                        })
                        .collect();
                    hits.sort_by(|a, b| {
                        b.1.query_pct.total_cmp(&a.1.query_pct).then(a.0.cmp(&b.0))
                    });
                    out.extend(hits.into_iter().map(|(i, s)| BankMatch {
                        bank: b.bank.name.clone(),
                        action: b.bank.action,
                        category: b.bank.category,
                        entry: entry_name(i),
                        distance: 0,
                        shares: Some(s),
                    }));
                }
                Signal::Pdq => {
                    let tried = if b.bank.dihedral { 8 } else { 1 };
                    let best = query
                        .iter()
                        .flat_map(|v| &v[..tried])
                        .flat_map(|v| b.pdq.range_search(v, b.bank.threshold))
                        .min_by_key(|&(_, d)| d);
                    if let Some((id, d)) = best {
                        let i = b.pdq_entries[id as usize];
                        out.push(BankMatch {
                            bank: b.bank.name.clone(),
                            action: b.bank.action,
                            category: b.bank.category,
                            entry: entry_name(i),
                            distance: d,
                            shares: None,
                        });
                    }
                }
                Signal::Md5 | Signal::Sha256 => {}
            }
        }
        allow_silences(&mut out);
        out
    }
}

/// A hit in an `allow` bank suppresses the others (a known benign file),
/// except `sexual.minors` hits: an allow entry must never silence a CSAM
/// list.
fn allow_silences(out: &mut Vec<BankMatch>) {
    if out.iter().any(|m| m.action == Action::Allow) {
        out.retain(|m| m.action == Action::Allow || m.category == Category::SexualMinors);
    }
}

/// Banks shared between the detector and the writers (HTTP, review), so
/// an added hash matches at once, without an engine rebuild.
pub type SharedBanks = Arc<RwLock<Banks>>;

/// The `image.hash` detector: matches the item's image against the banks.
pub struct HashDetector {
    banks: SharedBanks,
}

impl HashDetector {
    /// The engine decodes images (with its limits) before detectors run.
    pub fn new(banks: SharedBanks) -> Self {
        HashDetector { banks }
    }
}

impl Detector for HashDetector {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn fields(&self) -> &'static [&'static str] {
        &["image", "video"]
    }

    fn detect(&self, input: &Input<'_>, out: &mut Vec<Label>) -> Result<(), DetectError> {
        let banks = self.banks.read().unwrap_or_else(|p| p.into_inner());
        if banks.is_empty() {
            return Ok(());
        }
        if let Some(bytes) = input.item.video.as_deref() {
            let matches = match &input.video {
                Some(Ok(video)) => banks.match_video(bytes, &video.hashes),
                _ => banks.match_bytes(bytes),
            };
            push_labels(matches, out);
        }
        let Some(bytes) = input.item.image.as_deref() else {
            return Ok(());
        };
        let matches = match &input.image {
            Some(Ok(decoded)) => match decoded.frames.first() {
                Some(first) => banks.match_image(&ImageHashes::of_decoded(bytes, first)),
                None => Vec::new(),
            },
            // The engine did not decode it (or could not): the file's bytes
            // still match exact-file banks.
            _ => banks.match_bytes(bytes),
        };
        push_labels(matches, out);
        Ok(())
    }
}

fn push_labels(matches: Vec<BankMatch>, out: &mut Vec<Label>) {
    for m in matches {
        let score = match m.action {
            Action::Block => 0.95,
            Action::Review => 0.6,
            Action::Allow => continue,
        };
        let evidence = match m.shares {
            Some(s) => Evidence::VideoHash {
                bank: m.bank,
                entry: m.entry,
                query_pct: s.query_pct,
                compared_pct: s.compared_pct,
            },
            None => Evidence::Hash {
                bank: m.bank,
                distance: m.distance,
                entry: m.entry,
            },
        };
        out.push(Label::new(m.category, score, SOURCE).with_evidence(evidence));
    }
}

/// The entry a confirmed video becomes in `bank`: its frames (vPDQ, keyed
/// by the SHA-256 of their signal text) or the MD5/SHA-256 of its bytes.
/// A video with no frame of quality 50 or more is refused for vPDQ.
pub fn entry_for_video(
    bank: &Bank,
    bytes: &[u8],
    video: &DecodedVideo,
    template: BankEntry,
) -> Result<BankEntry, String> {
    let (hash, frames) = match bank.signal {
        Signal::Md5 => (md5_hex(bytes), None),
        Signal::Sha256 => (sha256_hex(bytes), None),
        Signal::Vpdq => {
            let features: Vec<vpdq::Feature> = video
                .hashes
                .iter()
                .map(|f| vpdq::Feature {
                    hash: PdqHash(f.hash()),
                    quality: f.quality,
                    time: f.time,
                })
                .collect();
            if vpdq::prepare(&features).is_empty() {
                return Err(format!(
                    "no frame of the video has PDQ quality {MIN_PDQ_QUALITY} or more: too flat to bank"
                ));
            }
            let text = vpdq::signal_text(&features);
            (sha256_hex(text.as_bytes()), Some(text))
        }
        Signal::Pdq => {
            return Err(format!(
                "bank {:?} holds pictures (pdq); a video goes into a vpdq, md5 or sha256 bank",
                bank.name
            ));
        }
    };
    Ok(BankEntry {
        hash,
        frames,
        ..template
    })
}

/// The entry a confirmed image becomes in `bank`: the hash of the bank's
/// signal (PDQ of the decoded image, or MD5/SHA-256 of the bytes). This is
/// the call a reviewer's "violation, add to bank" makes; the caller stores
/// the entry and adds it to the shared banks. A PDQ hash below
/// [`MIN_PDQ_QUALITY`] is refused: it would collide with unrelated images.
pub fn entry_for_image(
    bank: &Bank,
    bytes: &[u8],
    limits: &DecodeLimits,
    template: BankEntry,
) -> Result<BankEntry, String> {
    let hash = match bank.signal {
        Signal::Md5 => md5_hex(bytes),
        Signal::Sha256 => sha256_hex(bytes),
        Signal::Vpdq => {
            return Err(format!(
                "bank {:?} holds videos (vpdq); a picture goes into a pdq, md5 or sha256 bank",
                bank.name
            ));
        }
        Signal::Pdq => {
            let h = ImageHashes::of_bytes(bytes, limits)?;
            if h.quality < MIN_PDQ_QUALITY {
                return Err(format!(
                    "the image's PDQ quality is {} (below {MIN_PDQ_QUALITY}): too flat to bank",
                    h.quality
                ));
            }
            h.pdq[0].to_string()
        }
    };
    Ok(BankEntry { hash, ..template })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(
        name: &str,
        category: Category,
        action: Action,
        bytes: &[u8],
    ) -> (Bank, Vec<BankEntry>) {
        let bank = Bank {
            name: name.into(),
            signal: Signal::Md5,
            category,
            action,
            threshold: 31,
            dihedral: true,
            query_pct: 80,
            compared_pct: 0,
        };
        let entry = BankEntry {
            hash: md5_hex(bytes),
            ..BankEntry::default()
        };
        (bank, vec![entry])
    }

    #[test]
    fn allow_banks_silence_other_hits_but_never_minors_lists() {
        let file = b"the same file".as_slice();
        let banks = Banks::new(vec![
            bank("benign", Category::SexualExplicit, Action::Allow, file),
            bank("porn", Category::SexualExplicit, Action::Block, file),
            bank("csam", Category::SexualMinors, Action::Block, file),
        ]);
        let mut hit: Vec<String> = banks
            .match_bytes(file)
            .into_iter()
            .map(|m| m.bank)
            .collect();
        hit.sort();
        assert_eq!(hit, ["benign", "csam"]);
    }

    #[test]
    fn a_known_picture_shown_in_a_video_matches_a_picture_bank() {
        let known = PdqHash([0x1234; 16]);
        let bank = Bank {
            name: "pictures".into(),
            signal: Signal::Pdq,
            category: Category::SexualExplicit,
            action: Action::Block,
            threshold: 31,
            dihedral: true,
            query_pct: 80,
            compared_pct: 0,
        };
        let entry = BankEntry {
            hash: known.to_string(),
            ..BankEntry::default()
        };
        let banks = Banks::new(vec![(bank, vec![entry])]);
        let frame = |variants: [[u16; 16]; 8], quality| FrameHash {
            index: 0,
            time: 0.0,
            variants,
            quality,
        };
        let other = [[0xf0f0; 16]; 8];
        // The picture, mirrored, in the second frame (a frame of its own,
        // so its own hash differs from the first's).
        let mut mirrored = [[0x0f0f; 16]; 8];
        mirrored[4] = known.0;
        let hits = banks.match_video(b"video", &[frame(other, 90), frame(mirrored, 90)]);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].bank.as_str(), hits[0].distance), ("pictures", 0));
        // Too flat a frame is not matched.
        assert!(
            banks
                .match_video(b"video", &[frame([known.0; 8], 10)])
                .is_empty()
        );
    }
}

//! Banks in memory, and the `image.hash` detector that matches every image
//! item against them.

use std::collections::HashMap;

use cleanweb_core::{
    Action, Bank, BankEntry, DetectError, Detector, Evidence, Input, Label, Rgb, Signal,
};
use cleanweb_vision::{
    DecodeLimits, PdqHash, decode_rgb, luma_from_rgb, md5_hex, pdq_dihedral, sha256_hex,
};

use crate::PdqIndex;

pub const SOURCE: &str = "image.hash";
/// PDQ hashes of lower quality (flat or tiny images) are not matched: they
/// collide with each other.
pub const MIN_PDQ_QUALITY: u8 = 50;

/// What an image is matched by.
#[derive(Clone, Debug)]
pub struct ImageHashes {
    /// The image's PDQ hash and its seven rotations and flips.
    pub pdq: [PdqHash; 8],
    pub quality: u8,
    pub md5: String,
    pub sha256: String,
}

impl ImageHashes {
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
    pub bank: String,
    pub action: Action,
    pub category: cleanweb_core::Category,
    /// The entry's external id, or its hash.
    pub entry: String,
    pub distance: u32,
}

struct Loaded {
    bank: Bank,
    entries: Vec<BankEntry>,
    pdq: PdqIndex,
    /// PDQ index id → entry position.
    pdq_entries: Vec<usize>,
    exact: HashMap<String, usize>,
}

/// Every bank, indexed for matching.
#[derive(Default)]
pub struct Banks {
    banks: Vec<Loaded>,
}

impl Banks {
    pub fn new(banks: Vec<(Bank, Vec<BankEntry>)>) -> Banks {
        let banks = banks
            .into_iter()
            .map(|(bank, entries)| {
                let mut exact = HashMap::new();
                let mut pdq_hashes = Vec::new();
                let mut pdq_entries = Vec::new();
                for (i, e) in entries.iter().enumerate() {
                    match bank.signal {
                        Signal::Pdq => {
                            if let Some(h) = PdqHash::parse(&e.hash) {
                                pdq_hashes.push(h);
                                pdq_entries.push(i);
                            }
                        }
                        Signal::Md5 | Signal::Sha256 => {
                            exact.insert(e.hash.to_ascii_lowercase(), i);
                        }
                    }
                }
                Loaded {
                    pdq: PdqIndex::from_hashes(pdq_hashes),
                    pdq_entries,
                    exact,
                    bank,
                    entries,
                }
            })
            .collect();
        Banks { banks }
    }

    pub fn is_empty(&self) -> bool {
        self.banks.is_empty()
    }

    /// Exact-file bank hits for bytes that could not be decoded as an image.
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
    /// `allow` bank suppresses the others (a known benign image).
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
                Signal::Pdq => {}
            }
        }
        if out.iter().any(|m| m.action == Action::Allow) {
            out.retain(|m| m.action == Action::Allow);
        }
        out
    }
}

/// Matches the item's image against the banks.
pub struct HashDetector {
    banks: Banks,
}

impl HashDetector {
    /// The engine decodes images (with its limits) before detectors run.
    pub fn new(banks: Banks) -> Self {
        HashDetector { banks }
    }
}

impl Detector for HashDetector {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn fields(&self) -> &'static [&'static str] {
        &["image"]
    }

    fn detect(&self, input: &Input<'_>, out: &mut Vec<Label>) -> Result<(), DetectError> {
        let Some(bytes) = input.item.image.as_deref() else {
            return Ok(());
        };
        let matches = match &input.image {
            Some(Ok(decoded)) => match decoded.frames.first() {
                Some(first) => self
                    .banks
                    .match_image(&ImageHashes::of_decoded(bytes, first)),
                None => Vec::new(),
            },
            // The engine did not decode it (or could not): the file's bytes
            // still match exact-file banks.
            _ => self.banks.match_bytes(bytes),
        };
        for m in matches {
            let score = match m.action {
                Action::Block => 0.95,
                Action::Review => 0.6,
                Action::Allow => continue,
            };
            out.push(
                Label::new(m.category, score, SOURCE).with_evidence(Evidence::Hash {
                    bank: m.bank,
                    distance: m.distance,
                    entry: m.entry,
                }),
            );
        }
        Ok(())
    }
}

//! vPDQ video matching by HMA's rule (python-threatexchange's `VPDQIndex`):
//! each side's frames are filtered to quality ≥ 50 and deduplicated by
//! exact hash; a frame matches if a frame of the other video is within the
//! bank's threshold (31); a video matches when the share of its matched
//! frames reaches the bank's `query_pct` (80) and the banked video's share
//! of hit frames reaches `compared_pct` (0).
//!
//! Beyond the reference, the query's frames are also tried in their seven
//! rotations and flips, so a mirrored or rotated copy matches, and every
//! banked video's frames live in one exact PDQ index, so the search costs
//! per frame what an image search costs, whatever the number of videos.

use std::collections::{HashMap, HashSet};

use cleanweb_vision::PdqHash;

use crate::banks::MIN_PDQ_QUALITY;

/// One hashed frame of a video.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Feature {
    /// PDQ of the frame.
    pub hash: PdqHash,
    /// PDQ quality, 0 to 100.
    pub quality: u8,
    /// Seconds from the start.
    pub time: f64,
}

/// Most frames a banked video may hold (three hours at one a second).
pub const MAX_FEATURES: usize = 3 * 3600 + 1;

/// Parses HMA's vPDQ signal: a JSON list of `"pdq_hex,quality,timestamp"`
/// strings (an empty text is an empty list).
pub fn parse_signal(text: &str) -> Result<Vec<Feature>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<String> = serde_json::from_str(text).map_err(|e| {
        format!("not a vPDQ signal (a JSON list of \"hex,quality,timestamp\"): {e}")
    })?;
    if items.len() > MAX_FEATURES {
        return Err(format!("{} frames, at most {MAX_FEATURES}", items.len()));
    }
    items.iter().map(|s| parse_feature(s)).collect()
}

fn parse_feature(s: &str) -> Result<Feature, String> {
    let bad = || format!("{s:?} is not \"pdq_hex,quality,timestamp\"");
    let mut parts = s.split(',');
    let (Some(hex), Some(q), Some(t), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let hash = PdqHash::parse(hex.trim()).ok_or_else(bad)?;
    let quality: u8 = q.trim().parse().map_err(|_| bad())?;
    let time: f64 = t.trim().parse().map_err(|_| bad())?;
    if quality > 100 || !time.is_finite() || time < 0.0 {
        return Err(bad());
    }
    Ok(Feature {
        hash,
        quality,
        time,
    })
}

/// Writes features as HMA's vPDQ signal (timestamps with three decimals,
/// which HMA reads back as the same floats it would have written).
pub fn signal_text(features: &[Feature]) -> String {
    let items: Vec<String> = features
        .iter()
        .map(|f| format!("{},{},{:.3}", f.hash, f.quality, f.time))
        .collect();
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".into())
}

/// HMA's preparation: frames below the quality floor dropped, then exact
/// duplicates (the first kept).
pub fn prepare(features: &[Feature]) -> Vec<PdqHash> {
    let mut seen = HashSet::new();
    features
        .iter()
        .filter(|f| f.quality >= MIN_PDQ_QUALITY)
        .filter(|f| seen.insert(f.hash))
        .map(|f| f.hash)
        .collect()
}

/// How much of two videos matched, in percent of each side's prepared frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shares {
    /// The query's frames that matched a frame of the banked video.
    pub query_pct: f32,
    /// The banked video's frames that some query frame hit.
    pub compared_pct: f32,
}

/// Counts, per banked video, which query frames matched and which of its
/// frames were hit; `search` answers the banked frames (entry, frame id)
/// within the threshold of one hash.
pub(crate) fn shares(
    query: &[[PdqHash; 8]],
    dihedral: bool,
    mut search: impl FnMut(&PdqHash) -> Vec<(usize, u32)>,
    frames_of: impl Fn(usize) -> usize,
) -> HashMap<usize, Shares> {
    let mut matched: HashMap<usize, (HashSet<usize>, HashSet<u32>)> = HashMap::new();
    for (qi, variants) in query.iter().enumerate() {
        let tried = if dihedral {
            &variants[..]
        } else {
            &variants[..1]
        };
        for v in tried {
            for (entry, frame) in search(v) {
                let m = matched.entry(entry).or_default();
                m.0.insert(qi);
                m.1.insert(frame);
            }
        }
    }
    let q = query.len().max(1) as f32;
    matched
        .into_iter()
        .map(|(entry, (qs, fs))| {
            let c = frames_of(entry).max(1) as f32;
            let shares = Shares {
                query_pct: qs.len() as f32 * 100.0 / q,
                compared_pct: fs.len() as f32 * 100.0 / c,
            };
            (entry, shares)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(seed: u16) -> PdqHash {
        PdqHash([seed.wrapping_mul(40503) ^ 0x5a5a; 16])
    }

    #[test]
    fn signals_round_trip_and_bad_ones_are_refused() {
        let f = vec![
            Feature {
                hash: h(1),
                quality: 100,
                time: 0.0,
            },
            Feature {
                hash: h(2),
                quality: 49,
                time: 0.968,
            },
        ];
        let text = signal_text(&f);
        assert!(text.starts_with("[\""), "{text}");
        assert_eq!(parse_signal(&text).unwrap(), f);
        // HMA writes timestamps with three significant digits.
        let hma = format!("[\"{},100,1e+02\"]", h(3));
        assert_eq!(parse_signal(&hma).unwrap()[0].time, 100.0);
        assert!(parse_signal("[\"abc,100,0\"]").is_err());
        assert!(parse_signal(&format!("[\"{},101,0\"]", h(1))).is_err());
        assert!(parse_signal(&format!("[\"{},100\"]", h(1))).is_err());
        assert!(parse_signal("{}").is_err());
        assert_eq!(parse_signal("").unwrap(), []);
    }

    #[test]
    fn preparation_filters_quality_then_drops_duplicates() {
        let f = |hash, quality| Feature {
            hash,
            quality,
            time: 0.0,
        };
        let p = prepare(&[f(h(1), 90), f(h(1), 90), f(h(2), 10), f(h(3), 50)]);
        assert_eq!(p, [h(1), h(3)]);
    }

    #[test]
    fn shares_count_distinct_frames_on_both_sides() {
        let q: Vec<[PdqHash; 8]> = (0..5).map(|i| [h(i); 8]).collect();
        // Query frames 0 to 3 hit banked frames 0 to 3 of entry 7; frame 4
        // matches nothing.
        let s = shares(
            &q,
            false,
            |v| match (0..4).find(|&i| h(i) == *v) {
                Some(i) => vec![(7, i.min(3) as u32)],
                None => vec![],
            },
            |_| 10,
        );
        assert_eq!(
            s[&7],
            Shares {
                query_pct: 80.0,
                compared_pct: 40.0
            }
        );
    }
}

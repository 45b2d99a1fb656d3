//! Sound-alike matching for Chinese: full pinyin ("seqing"), hanzi mixed with
//! pinyin (约pao), and same-sound substitutions (涩情 for 色情).
//!
//! The normalized text is spelled out phonetically: each hanzi becomes its
//! toneless pinyin syllable, and Latin letters and digits stay. Lexicon terms
//! of two or more hanzi are spelled out in every reading (heteronyms
//! included), and both meet in this phonetic stream. A hit must start and end
//! on syllable boundaries, and Latin edges must be whole words.

use pinyin::ToPinyin;

use crate::fold::is_cjk;
use crate::normalize::Normalized;

/// Fewer letters than this is too collision-prone to match by sound.
pub(crate) const MIN_LETTERS: usize = 4;

/// The phonetic spelling of a normalized text, with a map to the original.
#[derive(Debug, Default)]
pub(crate) struct Phonetic {
    pub text: String,
    /// Per byte of `text` (all ASCII or kept chars): index into `units`.
    byte_unit: Vec<u32>,
    /// Units: one per normalized char.
    units: Vec<Unit>,
}

#[derive(Debug, Clone, Copy)]
struct Unit {
    origin: u32,
    origin_last: u32,
    /// Spelled out from a hanzi (so its edges are syllable boundaries).
    hanzi: bool,
    /// Byte range of the unit in `text`.
    start: u32,
    end: u32,
}

/// A hit in the phonetic stream, mapped back.
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub latin_start: bool,
    pub latin_end: bool,
}

impl Phonetic {
    pub(crate) fn new(norm: &Normalized) -> Phonetic {
        let mut p = Phonetic {
            text: String::with_capacity(norm.text.len() * 2),
            byte_unit: Vec::with_capacity(norm.text.len() * 2),
            units: Vec::with_capacity(norm.len()),
        };
        for (c, origin, origin_last) in norm.chars_with_origin() {
            let start = p.text.len();
            let hanzi = match is_cjk(c).then(|| c.to_pinyin()).flatten() {
                Some(py) => {
                    p.text.push_str(py.plain());
                    true
                }
                None => {
                    p.text.push(c);
                    false
                }
            };
            let idx = u32::try_from(p.units.len()).unwrap_or(u32::MAX);
            p.byte_unit.resize(p.text.len(), idx);
            p.units.push(Unit {
                origin,
                origin_last,
                hanzi,
                start: u32::try_from(start).unwrap_or(u32::MAX),
                end: u32::try_from(p.text.len()).unwrap_or(u32::MAX),
            });
        }
        p
    }

    /// True when the text has any hanzi, i.e. the phonetic pass can add anything
    /// beyond full-pinyin Latin text.
    pub(crate) fn has_units(&self) -> bool {
        !self.units.is_empty()
    }

    /// Maps a byte range of `text` back, or None when it cuts a syllable.
    pub(crate) fn span(&self, start: usize, end: usize) -> Option<Span> {
        let first = *self.units.get(*self.byte_unit.get(start)? as usize)?;
        let last = *self
            .units
            .get(*self.byte_unit.get(end.checked_sub(1)?)? as usize)?;
        if first.start as usize != start || last.end as usize != end {
            return None;
        }
        Some(Span {
            start: first.origin as usize,
            end: last.origin_last as usize + 1,
            latin_start: !first.hanzi,
            latin_end: !last.hanzi,
        })
    }
}

/// The phonetic spellings of a normalized term, or none when the term is not
/// a candidate (fewer than two hanzi unless Latin letters go with one, as in
/// a片; or too short to match safely). Only the
/// common reading of each hanzi is used: rare heteronym readings (射 as "yi")
/// made ordinary words (演义) collide with terms.
pub(crate) fn readings(pattern: &str) -> Vec<String> {
    let hanzi = pattern.chars().filter(|&c| is_cjk(c)).count();
    let latin = pattern.chars().any(|c| c.is_ascii_alphabetic());
    if hanzi < 2 && !(hanzi == 1 && latin) {
        return Vec::new();
    }
    let mut out = vec![String::new()];
    for c in pattern.chars() {
        let options: Vec<&'static str> = match is_cjk(c).then(|| c.to_pinyin()).flatten() {
            Some(py) => vec![py.plain()],
            None if is_cjk(c) => return Vec::new(),
            None => {
                for s in &mut out {
                    s.push(c);
                }
                continue;
            }
        };
        let mut next = Vec::with_capacity(out.len() * options.len());
        for s in &out {
            for o in &options {
                next.push(format!("{s}{o}"));
            }
        }
        out = next;
    }
    out.sort();
    out.dedup();
    out.retain(|r| r.chars().filter(char::is_ascii_alphabetic).count() >= MIN_LETTERS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    #[test]
    fn spells_hanzi_and_keeps_latin() {
        let p = Phonetic::new(&normalize("约pao 涩情"));
        assert_eq!(p.text, "yuepaoseqing");
        let at = p.text.find("seqing").unwrap();
        let s = p.span(at, at + 6).unwrap();
        assert_eq!((s.start, s.end, s.latin_start), (5, 7, false));
        assert!(p.span(1, 6).is_none(), "cuts the syllable yue");
    }

    #[test]
    fn term_readings_use_the_common_reading() {
        assert_eq!(readings("色情"), vec!["seqing".to_owned()]);
        assert!(readings("色").is_empty(), "one hanzi is too little");
        assert!(readings("porn").is_empty());
    }
}

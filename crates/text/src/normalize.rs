//! Folding text into a canonical stream for matching, with an offset map.
//!
//! Each normalized char remembers the span of original chars it came from,
//! so a match in the normalized stream maps back to a span of the original.
//! Steps: per-char folding (see `fold`), leetspeak decided from context, and
//! runs of one char collapsed to a single char that remembers its run length
//! (so "pooorn" meets "porn", while the matcher can still tell "as" from
//! "ass").

use crate::fold::{fold, is_leet_candidate, leet_letter};

/// A normalized text and its map back to the original.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Normalized {
    /// The folded text: junk removed, runs collapsed.
    pub text: String,
    /// Per char of `text`: its byte offset in `text`.
    byte_starts: Vec<u32>,
    /// Per char of `text`: the first original char (index in chars) it came from.
    origin: Vec<u32>,
    /// Per char of `text`: the last original char it came from.
    origin_last: Vec<u32>,
    /// Per char of `text`: how many folded chars the run held (saturating).
    run: Vec<u8>,
}

impl Normalized {
    /// Number of normalized chars.
    pub fn len(&self) -> usize {
        self.origin.len()
    }

    /// Whether nothing is left after normalizing.
    pub fn is_empty(&self) -> bool {
        self.origin.is_empty()
    }

    /// The normalized char index at a byte offset of `text` (a char boundary).
    pub fn char_index(&self, byte: usize) -> usize {
        self.byte_starts.partition_point(|&b| (b as usize) < byte)
    }

    /// Maps a byte range of `text` to the original char range `[start, end)`.
    pub fn original_span(&self, byte_start: usize, byte_end: usize) -> Option<(usize, usize)> {
        let (s, e) = (self.char_index(byte_start), self.char_index(byte_end));
        if s >= e || e > self.origin.len() {
            return None;
        }
        Some((
            self.origin[s] as usize,
            self.origin_last[e - 1] as usize + 1,
        ))
    }

    /// Run lengths of the chars in a byte range.
    pub fn runs(&self, byte_start: usize, byte_end: usize) -> &[u8] {
        let (s, e) = (self.char_index(byte_start), self.char_index(byte_end));
        self.run.get(s..e).unwrap_or_default()
    }

    /// How many folded chars (before collapsing) a byte range covers.
    pub fn folded_len(&self, byte_start: usize, byte_end: usize) -> usize {
        self.runs(byte_start, byte_end)
            .iter()
            .map(|&r| r as usize)
            .sum()
    }

    /// The normalized chars with their original spans, for the phonetic pass.
    pub(crate) fn chars_with_origin(&self) -> impl Iterator<Item = (char, u32, u32)> + '_ {
        self.text
            .chars()
            .zip(self.origin.iter().zip(&self.origin_last))
            .map(|(c, (&o, &l))| (c, o, l))
    }

    fn push(&mut self, c: char, origin: u32, spelled: bool) {
        let last = origin;
        // Only touching or spelled-out repeats collapse ("pooorn", "x x x",
        // not "escort tonight"), and digits never do: phone numbers and ids
        // must survive.
        if !c.is_ascii_digit()
            && (spelled || self.origin_last.last().is_some_and(|&l| l + 1 >= origin))
            && let Some(prev) = self.text.chars().next_back()
            && prev == c
            && let Some(r) = self.run.last_mut()
        {
            *r = r.saturating_add(1);
            if let Some(l) = self.origin_last.last_mut() {
                *l = last;
            }
            return;
        }
        self.byte_starts
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        self.origin.push(origin);
        self.origin_last.push(last);
        self.run.push(1);
        self.text.push(c);
    }
}

/// Normalizes `text`.
pub fn normalize(text: &str) -> Normalized {
    // Folded chars with their original index, before leet and collapsing.
    let mut folded: Vec<(char, u32)> = Vec::with_capacity(text.len());
    let mut has_leet = false;
    let mut prev = '\0';
    for (i, c) in text.chars().enumerate() {
        let origin = u32::try_from(i).unwrap_or(u32::MAX);
        // "()" reads as the letter o ("p()rn").
        if prev == '(' && c == ')' {
            folded.push(('0', origin.saturating_sub(1)));
            has_leet = true;
        }
        prev = c;
        fold(c, &mut |f| {
            has_leet |= is_leet_candidate(f);
            folded.push((f, origin));
        });
    }
    if has_leet {
        resolve_leet(&mut folded);
    }
    let mut out = Normalized {
        text: String::with_capacity(folded.len()),
        byte_starts: Vec::with_capacity(folded.len()),
        origin: Vec::with_capacity(folded.len()),
        origin_last: Vec::with_capacity(folded.len()),
        run: Vec::with_capacity(folded.len()),
    };
    folded.retain(|&(c, _)| c != '\0');
    // A letter standing alone between junk ("x x x", "p o o o r n") is spelled
    // out; its repeats collapse like touching ones.
    let alone = |i: usize| {
        let o = folded[i].1;
        let before = i == 0 || folded[i - 1].1 + 1 < o;
        let after = folded.get(i + 1).is_none_or(|n| n.1 > o + 1);
        before && after
    };
    for (i, &(c, o)) in folded.iter().enumerate() {
        let spelled = i > 0 && alone(i) && alone(i - 1);
        out.push(c, o, spelled);
    }
    out
}

/// Decides each run of digits and leet symbols. A run reads as letters when it
/// is short, every char in it has a letter reading, and it sits inside a Latin
/// word: touching a letter in the original ("s3x", "p0rn"), or spelled out one
/// char at a time between junk ("p.0.r.n"). Otherwise digits stay digits
/// (phone numbers, "call 123") and symbols are dropped as junk (marked '\0').
fn resolve_leet(chars: &mut [(char, u32)]) {
    const MAX_LEET_RUN: usize = 4;
    let gap = |chars: &[(char, u32)], i: usize| i == 0 || chars[i].1 > chars[i - 1].1 + 1;
    let latin = |chars: &[(char, u32)], j: Option<usize>| {
        j.and_then(|j| chars.get(j))
            .is_some_and(|c| c.0.is_ascii_lowercase())
    };
    let mut i = 0;
    while i < chars.len() {
        if !is_leet_candidate(chars[i].0) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_leet_candidate(chars[i].0) {
            i += 1;
        }
        let end = i;
        let left = latin(chars, start.checked_sub(1));
        let right = latin(chars, Some(end));
        let touches_right = right && !gap(chars, end);
        // Punctuation ends sentences ("cat!"), so a run with '!', '|' or '+'
        // must lead into a letter; digits, '$' and '@' may also close a word
        // ("s3x", "a$$").
        let has_symbol = chars[start..end]
            .iter()
            .any(|c| matches!(c.0, '!' | '|' | '+'));
        let touches = touches_right || (!has_symbol && left && !gap(chars, start));
        // A lone char between junk; a lone symbol must still lead into a letter.
        let spelled = end - start == 1 && if has_symbol { right } else { left || right };
        let all_letters = chars[start..end].iter().all(|c| leet_letter(c.0).is_some());
        let as_letters = all_letters && end - start <= MAX_LEET_RUN && (touches || spelled);
        for c in &mut chars[start..end] {
            if as_letters {
                c.0 = leet_letter(c.0).unwrap_or(c.0);
            } else if !c.0.is_ascii_digit() {
                c.0 = '\0';
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s).text
    }

    #[test]
    fn folds_disguises() {
        assert_eq!(norm("ＰＯＲＮ"), "porn", "full-width");
        assert_eq!(norm("Р0rn"), "porn", "Cyrillic Р and leet 0");
        assert_eq!(norm("p.o.r.n"), "porn", "junk inside");
        assert_eq!(norm("pörn"), "porn", "diacritics");
        assert_eq!(norm("𝐩𝐨𝐫𝐧"), "porn", "mathematical bold");
        assert_eq!(norm("ⓟⓞⓡⓝ"), "porn", "circled");
        assert_eq!(norm("s3x"), "sex");
        assert_eq!(norm("$ex"), "sex");
        assert_eq!(norm("色\u{200b}情"), "色情", "zero-width");
        assert_eq!(norm("色丶情"), "色情", "CJK filler");
        assert_eq!(norm("色💋情"), "色情", "emoji");
        assert_eq!(norm("①②"), "12");
        assert_eq!(
            norm("call 123"),
            "cal123",
            "digits stay digits outside words; runs collapse"
        );
        assert_eq!(
            norm("escort tonight"),
            "escorttonight",
            "repeats across junk stay"
        );
        assert_eq!(
            norm("vx 13800138000"),
            "vx13800138000",
            "long runs are numbers, never collapsed"
        );
        assert_eq!(norm("5h1t"), "shit");
        assert_eq!(
            norm("c@t!"),
            "cat",
            "a trailing symbol touching nothing is junk"
        );
        assert_eq!(norm("色色色情情"), "色情");
        assert_eq!(norm("免費看黃片"), "免费看黄片");
    }

    #[test]
    fn offsets_and_runs_point_into_the_original() {
        let n = normalize("看 色 情!");
        assert_eq!(n.text, "看色情");
        let start = n.text.find("色情").unwrap();
        assert_eq!(n.original_span(start, n.text.len()), Some((2, 5)));
        let n = normalize("pooorn!");
        assert_eq!(n.text, "porn");
        assert_eq!(n.runs(0, n.text.len()), &[1, 3, 1, 1]);
        assert_eq!(n.original_span(0, n.text.len()), Some((0, 6)));
        assert_eq!(n.folded_len(0, n.text.len()), 6);
    }
}

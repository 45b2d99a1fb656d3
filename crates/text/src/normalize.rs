//! Folding text into a canonical stream for matching, with an offset map.
//!
//! Each normalized char remembers the original char index it came from, so a
//! match in the normalized stream maps back to a span of the original.
//! Folds: compatibility forms (NFKD without marks, which also covers
//! full-width, circled and mathematical letters), case, Cyrillic and Greek
//! look-alikes, leetspeak inside Latin words, and inserted junk (spaces,
//! punctuation, symbols, emoji, zero-width and bidi controls, CJK fillers).

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A normalized text and its map back to the original.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Normalized {
    /// The folded text, junk removed.
    pub text: String,
    /// For each char of `text`: its byte offset in `text`.
    byte_starts: Vec<u32>,
    /// For each char of `text`: the index (in chars) of the original char it came from.
    origin: Vec<u32>,
}

impl Normalized {
    /// Number of normalized chars.
    pub fn len(&self) -> usize {
        self.origin.len()
    }

    pub fn is_empty(&self) -> bool {
        self.origin.is_empty()
    }

    /// The normalized char index at a byte offset of `text` (a char boundary).
    pub fn char_index(&self, byte: usize) -> usize {
        self.byte_starts.partition_point(|&b| (b as usize) < byte)
    }

    /// Maps a byte range of `text` to the original char range `[start, end)`.
    pub fn original_span(&self, byte_start: usize, byte_end: usize) -> Option<(usize, usize)> {
        let s = self.char_index(byte_start);
        let e = self.char_index(byte_end);
        if s >= e || e > self.origin.len() {
            return None;
        }
        Some((self.origin[s] as usize, self.origin[e - 1] as usize + 1))
    }
}

/// A char's fate in the normalized stream.
enum Fold {
    /// Removed: junk between letters.
    Junk,
    /// Kept as these chars.
    Keep,
    /// A digit or leet symbol: decided once its neighbours are known.
    Leet,
}

/// Normalizes `text`. Runs in one pass plus a leet fix-up over the output.
pub fn normalize(text: &str) -> Normalized {
    let mut out = Normalized {
        text: String::with_capacity(text.len()),
        byte_starts: Vec::with_capacity(text.len()),
        origin: Vec::with_capacity(text.len()),
    };
    let mut has_leet = false;
    let mut buf: Vec<char> = Vec::with_capacity(4);
    for (i, c) in text.chars().enumerate() {
        let origin = u32::try_from(i).unwrap_or(u32::MAX);
        buf.clear();
        fold_char(c, &mut buf);
        for &f in &buf {
            match classify(f) {
                Fold::Junk => {}
                Fold::Keep => push(&mut out, f, origin),
                Fold::Leet => {
                    has_leet = true;
                    push(&mut out, f, origin);
                }
            }
        }
    }
    if has_leet {
        resolve_leet(&mut out);
    }
    out
}

fn push(out: &mut Normalized, c: char, origin: u32) {
    out.byte_starts
        .push(u32::try_from(out.text.len()).unwrap_or(u32::MAX));
    out.origin.push(origin);
    out.text.push(c);
}

/// Compatibility decomposition without combining marks, lowercased, with
/// look-alike letters folded to Latin.
fn fold_char(c: char, buf: &mut Vec<char>) {
    if c.is_ascii() {
        buf.push(c.to_ascii_lowercase());
        return;
    }
    if let Some(l) = homoglyph(c) {
        buf.push(l);
        return;
    }
    decompose_compatible(c, |d| {
        if is_combining_mark(d) {
            return;
        }
        if let Some(l) = homoglyph(d) {
            buf.push(l);
        } else {
            buf.extend(d.to_lowercase());
        }
    });
}

fn classify(c: char) -> Fold {
    if c.is_ascii_lowercase() {
        return Fold::Keep;
    }
    if c.is_ascii_digit() || leet_letter(c).is_some() {
        return Fold::Leet;
    }
    if c.is_alphanumeric() {
        // CJK fillers used as junk inside terms are letters to Unicode.
        if matches!(c, '丶' | '丿' | '乀' | '乁' | '〃') {
            return Fold::Junk;
        }
        return Fold::Keep;
    }
    Fold::Junk
}

/// Decides each run of digits and leet symbols. A run reads as letters when it
/// is short, every char in it has a letter reading, and it sits inside a Latin
/// word: touching a letter in the original ("s3x", "p0rn"), or spelled out one
/// char at a time between junk ("p.0.r.n"). Otherwise digits stay digits
/// (phone numbers, "call 123") and symbols are junk.
fn resolve_leet(out: &mut Normalized) {
    const MAX_LEET_RUN: usize = 4;
    let chars: Vec<char> = out.text.chars().collect();
    let is_run_char = |c: char| c.is_ascii_digit() || leet_letter(c).is_some();
    let gap = |i: usize| i == 0 || out.origin[i] != out.origin[i - 1] + 1;
    let mut decided: Vec<Option<char>> = chars.iter().map(|&c| Some(c)).collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_run_char(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_run_char(chars[i]) {
            i += 1;
        }
        let end = i;
        let letters: Option<Vec<char>> =
            chars[start..end].iter().map(|&c| leet_letter(c)).collect();
        let latin = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_ascii_lowercase())
        };
        let left = latin(start.checked_sub(1));
        let right = latin(Some(end));
        let touches_right = right && end < chars.len() && !gap(end);
        // Symbols end sentences ("cat!"), so a run with symbols must lead into
        // a letter; pure digits may touch on either side ("s3x", "ana1").
        let has_symbol = chars[start..end].iter().any(|c| !c.is_ascii_digit());
        let touches = touches_right || (!has_symbol && left && !gap(start));
        // A lone char between junk; a lone symbol must still lead into a letter.
        let spelled = end - start == 1 && if has_symbol { right } else { left || right };
        match letters {
            Some(letters) if end - start <= MAX_LEET_RUN && (touches || spelled) => {
                for (k, l) in letters.into_iter().enumerate() {
                    decided[start + k] = Some(l);
                }
            }
            _ => {
                for k in start..end {
                    if !chars[k].is_ascii_digit() {
                        decided[k] = None;
                    }
                }
            }
        }
    }
    let mut rebuilt = Normalized {
        text: String::with_capacity(out.text.len()),
        byte_starts: Vec::with_capacity(chars.len()),
        origin: Vec::with_capacity(chars.len()),
    };
    for (k, d) in decided.into_iter().enumerate() {
        if let Some(c) = d {
            push(&mut rebuilt, c, out.origin[k]);
        }
    }
    *out = rebuilt;
}

fn leet_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '8' => 'b',
        _ => return None,
    })
}

/// Cyrillic and Greek letters that look like Latin ones. CJK is never folded.
fn homoglyph(c: char) -> Option<char> {
    Some(match c {
        'а' | 'А' | 'α' | 'Α' => 'a',
        'в' | 'В' | 'β' | 'Β' => 'b',
        'с' | 'С' | 'ϲ' => 'c',
        'е' | 'Е' | 'ё' | 'Ё' | 'ε' | 'Ε' => 'e',
        'н' | 'Н' | 'η' | 'Η' => 'h',
        'і' | 'І' | 'ї' | 'ι' | 'Ι' => 'i',
        'ј' | 'Ј' => 'j',
        'к' | 'К' | 'κ' | 'Κ' => 'k',
        'м' | 'М' | 'Μ' => 'm',
        'п' | 'ո' => 'n',
        'Ν' | 'ν' => 'v',
        'о' | 'О' | 'ο' | 'Ο' | 'σ' => 'o',
        'р' | 'Р' | 'ρ' | 'Ρ' => 'p',
        'ѕ' | 'Ѕ' => 's',
        'т' | 'Т' | 'τ' | 'Τ' => 't',
        'у' | 'У' | 'γ' => 'y',
        'х' | 'Х' | 'χ' | 'Χ' => 'x',
        'ԁ' => 'd',
        'ɡ' => 'g',
        'ⅼ' => 'l',
        'ω' => 'w',
        'Ζ' => 'z',
        _ => return None,
    })
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
            "call123",
            "digits stay digits outside words"
        );
        assert_eq!(
            norm("vx 13800138000"),
            "vx13800138000",
            "long runs are numbers"
        );
        assert_eq!(norm("5h1t"), "shit");
        assert_eq!(
            norm("c@t!"),
            "cat",
            "a trailing symbol touching nothing is junk"
        );
    }

    #[test]
    fn offsets_point_into_the_original() {
        let n = normalize("看 色 情!");
        assert_eq!(n.text, "看色情");
        let start = n.text.find("色情").unwrap();
        assert_eq!(n.original_span(start, n.text.len()), Some((2, 5)));
    }
}

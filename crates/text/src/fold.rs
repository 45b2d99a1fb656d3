//! The per-char folding table behind the normalizer.
//!
//! Every char of the Basic Multilingual Plane is folded once, at first use,
//! into a table of 65,536 entries, so the hot loop is a lookup per char.
//! Folding composes, in order: look-alike CJK variants (火星文) to their
//! common form, Cyrillic/Greek look-alikes to Latin, compatibility
//! decomposition without combining marks (full-width, circled, mathematical
//! and super/subscript forms, ①/⑴/⒈), lowercase, and traditional to
//! simplified Chinese (per char, from the MIT-licensed `fast2s` table).

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Entry encoding: 0 is junk; with `MULTI` set, bits 0..16 are an offset and
/// bits 16..24 a length into `multi`; otherwise the folded char itself.
const MULTI: u32 = 1 << 31;

struct Table {
    bmp: Vec<u32>,
    multi: Vec<char>,
}

static TABLE: LazyLock<Table> = LazyLock::new(build);

/// Folds one char, calling `emit` for each resulting char (none for junk).
#[inline]
pub(crate) fn fold(c: char, emit: &mut impl FnMut(char)) {
    let cp = c as u32;
    if cp < 0x1_0000 {
        let t = &*TABLE;
        let e = t.bmp[cp as usize];
        if e == 0 {
            return;
        }
        if e & MULTI == 0 {
            // Only valid chars were stored.
            if let Some(f) = char::from_u32(e) {
                emit(f);
            }
            return;
        }
        let off = (e & 0xFFFF) as usize;
        let len = ((e >> 16) & 0xFF) as usize;
        for &f in &t.multi[off..off + len] {
            emit(f);
        }
        return;
    }
    let mut buf = Vec::new();
    fold_slow(c, None, &mut buf);
    for f in buf {
        emit(f);
    }
}

/// Digits and the symbols that leetspeak uses as letters. The normalizer
/// decides from context whether they read as letters.
#[inline]
pub(crate) fn is_leet_candidate(c: char) -> bool {
    c.is_ascii_digit() || leet_letter(c).is_some()
}

pub(crate) fn leet_letter(c: char) -> Option<char> {
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

pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

fn build() -> Table {
    let t2s = traditional_to_simplified();
    let mut bmp = vec![0u32; 0x1_0000];
    let mut multi: Vec<char> = Vec::new();
    let mut buf = Vec::with_capacity(8);
    for cp in 0..0x1_0000u32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        buf.clear();
        fold_slow(c, Some(&t2s), &mut buf);
        bmp[cp as usize] = match buf.as_slice() {
            [] => 0,
            [one] => *one as u32,
            many => {
                let off = multi.len();
                multi.extend_from_slice(many);
                // 65,536 chars decompose into far fewer than 2^16 extra chars.
                MULTI | (off as u32 & 0xFFFF) | ((many.len() as u32 & 0xFF) << 16)
            }
        };
    }
    Table { bmp, multi }
}

/// `fast2s` converts whole strings, one char to one char; converting each CJK
/// char alone gives the per-char map the offset-keeping normalizer needs.
fn traditional_to_simplified() -> HashMap<char, char> {
    let mut map = HashMap::new();
    let ranges = [0x3400..=0x4DBF, 0x4E00..=0x9FFF, 0xF900..=0xFAFF];
    let mut s = String::with_capacity(4);
    for range in ranges {
        for cp in range {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            s.clear();
            s.push(c);
            let converted = fast2s::convert(&s);
            let mut it = converted.chars();
            if let (Some(simple), None) = (it.next(), it.next())
                && simple != c
            {
                map.insert(c, simple);
            }
        }
    }
    map
}

fn fold_slow(c: char, t2s: Option<&HashMap<char, char>>, out: &mut Vec<char>) {
    let c = cjk_lookalike(c).unwrap_or(c);
    let push = |d: char, out: &mut Vec<char>| {
        let d = homoglyph(d).unwrap_or(d);
        for l in d.to_lowercase() {
            let l = t2s.and_then(|m| m.get(&l).copied()).unwrap_or(l);
            if keeps(l) {
                out.push(l);
            }
        }
    };
    if c.is_ascii() {
        push(c, out);
        return;
    }
    if let Some(l) = homoglyph(c).or_else(|| enclosed_letter(c)) {
        push(l, out);
        return;
    }
    decompose_compatible(c, |d| {
        if !is_combining_mark(d) {
            push(d, out);
        }
    });
}

/// Letters and digits are kept; everything else (space, punctuation, symbols,
/// emoji, controls, zero-width and bidi marks) is junk between letters,
/// except the symbols leetspeak reads as letters. CJK fillers are junk too,
/// although Unicode calls some of them letters.
fn keeps(c: char) -> bool {
    if matches!(c, '丶' | '丿' | '乀' | '乁' | '〃' | 'ー' | '々') {
        return false;
    }
    c.is_alphanumeric() || leet_letter(c).is_some()
}

/// Cyrillic and Greek letters that look like Latin ones. CJK is never folded
/// to Latin.
fn homoglyph(c: char) -> Option<char> {
    Some(match c {
        'а' | 'А' | 'α' | 'Α' => 'a',
        'в' | 'В' | 'β' | 'Β' => 'b',
        'с' | 'С' | 'ϲ' => 'c',
        'е' | 'Е' | 'ё' | 'Ё' | 'ε' | 'Ε' => 'e',
        // Lower-case eta reads as n (ρθrη), its capital as H.
        'н' | 'Н' | 'Η' => 'h',
        'і' | 'І' | 'ї' | 'ι' | 'Ι' => 'i',
        'ј' | 'Ј' => 'j',
        'к' | 'К' | 'κ' | 'Κ' => 'k',
        'м' | 'М' | 'Μ' => 'm',
        'п' | 'ո' | 'η' => 'n',
        'Ν' => 'n',
        'ν' => 'v',
        'о' | 'О' | 'ο' | 'Ο' | 'σ' => 'o',
        'р' | 'Р' | 'ρ' | 'Ρ' => 'p',
        'ѕ' | 'Ѕ' => 's',
        'т' | 'Т' | 'τ' | 'Τ' => 't',
        'у' | 'У' | 'γ' => 'y',
        'μ' | 'υ' => 'u',
        'х' | 'Х' | 'χ' | 'Χ' => 'x',
        'ԁ' => 'd',
        'ɡ' => 'g',
        'ⅼ' => 'l',
        'ω' => 'w',
        'Ζ' => 'z',
        // Small capitals, which have no compatibility decomposition.
        'ᴀ' => 'a',
        'ʙ' => 'b',
        'ᴄ' => 'c',
        'ᴅ' => 'd',
        'ᴇ' => 'e',
        'ꜰ' => 'f',
        'ɢ' => 'g',
        'ʜ' => 'h',
        'ɪ' => 'i',
        'ᴊ' => 'j',
        'ᴋ' => 'k',
        'ʟ' => 'l',
        'ᴍ' => 'm',
        'ɴ' => 'n',
        'ᴏ' => 'o',
        'ᴘ' => 'p',
        'ǫ' => 'q',
        'ʀ' => 'r',
        'ꜱ' => 's',
        'ᴛ' => 't',
        'ᴜ' => 'u',
        'ᴠ' => 'v',
        'ᴡ' => 'w',
        'ʏ' => 'y',
        'ᴢ' => 'z',
        _ => return None,
    })
}

/// Squared, negative circled and negative squared Latin capitals and the
/// regional indicators: symbols to Unicode, letters to a reader.
fn enclosed_letter(c: char) -> Option<char> {
    let cp = c as u32;
    let base = match cp {
        0x1F130..=0x1F149 => 0x1F130,
        0x1F150..=0x1F169 => 0x1F150,
        0x1F170..=0x1F189 => 0x1F170,
        0x1F1E6..=0x1F1FF => 0x1F1E6,
        _ => return None,
    };
    char::from_u32(u32::from(b'a') + cp - base)
}

/// 火星文: rare variant characters used to disguise common ones. Only variants
/// with no everyday meaning of their own are folded, so ordinary text is
/// never changed.
fn cjk_lookalike(c: char) -> Option<char> {
    Some(match c {
        '滛' | '婬' | '霪' => '淫',
        '凊' | '啨' => '情',
        '躶' | '倮' | '臝' => '裸',
        '姦' => '奸',
        '妏' => '妓',
        '婐' => '裸',
        '飺' => '色',
        '爿' => '片',
        '莋' => '做',
        '砲' => '炮',
        '嬡' | '嫒' => '爱',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            fold(c, &mut |f| out.push(f));
        }
        out
    }

    #[test]
    fn table_agrees_with_the_slow_path_outside_the_bmp_too() {
        assert_eq!(folded("色情網站"), "色情网站", "traditional to simplified");
        assert_eq!(folded("黃片"), "黄片");
        assert_eq!(folded("ＡＢ１"), "ab1", "full-width");
        assert_eq!(
            folded("𝓅𝓸𝓻𝓷"),
            "porn",
            "mathematical script, outside the BMP"
        );
        assert_eq!(
            folded("🅿🅾🆁🅽 🄿🅞🇷🇳"),
            "pornporn",
            "squared, circled and regional letters"
        );
        assert_eq!(folded("💋🔥"), "", "emoji are junk");
        assert_eq!(folded("⑴⒈"), "11", "parenthesised and full-stop digits");
        assert_eq!(folded("⁹₉"), "99");
        assert_eq!(folded("滛"), "淫");
        assert_eq!(
            folded("ᴘᴏʀɴ ΡΟRΝ"),
            "pornporn",
            "small capitals and Greek capitals"
        );
        assert_eq!(
            folded("a\u{200b}b\u{202e}c"),
            "abc",
            "zero-width and bidi controls"
        );
        assert_eq!(folded("Ǆ"), "dz");
    }
}

//! App packages: an APK's resource strings (the app's name among them),
//! pictures and bundled web pages; an IPA's bundle names, localised
//! strings, pictures and pages. Code is not read.

use std::io::{Cursor, Read, Seek};
use std::ops::ControlFlow;

use cleanweb_core::Item;

use crate::archive::Zip;
use crate::{Flow, Walk, decode_text};

/// Strings read from one string pool, so a hostile count cannot run long.
const MAX_STRINGS: usize = 200_000;
/// Pictures smaller than this on both sides are icons and glyphs: skipped.
const MIN_PICTURE_SIDE: u32 = 48;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The strings of the Android string pool chunk at `at` (`ResStringPool`:
/// a chunk header, counts, flags, offsets, then UTF-8 or UTF-16 strings).
/// Written here because no maintained crate reads `resources.arsc`; every
/// offset is checked, so a hostile table yields fewer strings, never a panic.
pub(crate) fn string_pool(b: &[u8], at: usize) -> Vec<String> {
    let mut out = Vec::new();
    let (Some(kind), Some(header), Some(size)) =
        (u16_at(b, at), u16_at(b, at + 2), u32_at(b, at + 4))
    else {
        return out;
    };
    if kind != 0x0001 {
        return out;
    }
    let end = at.saturating_add(size as usize).min(b.len());
    let (Some(count), Some(flags), Some(start)) =
        (u32_at(b, at + 8), u32_at(b, at + 16), u32_at(b, at + 20))
    else {
        return out;
    };
    let utf8 = flags & 0x100 != 0;
    let offsets = at + header as usize;
    let strings = at.saturating_add(start as usize);
    for i in 0..(count as usize).min(MAX_STRINGS) {
        let Some(off) = u32_at(b, offsets + 4 * i) else {
            break;
        };
        let s = strings.saturating_add(off as usize);
        if s >= end {
            continue;
        }
        let text = if utf8 {
            utf8_string(&b[s..end])
        } else {
            utf16_string(&b[s..end])
        };
        if let Some(t) = text {
            out.push(t);
        }
    }
    out
}

fn utf8_string(b: &[u8]) -> Option<String> {
    // A length in one or two bytes: first in UTF-16 units, then in bytes.
    let skip = |b: &[u8]| -> Option<(usize, usize)> {
        let first = *b.first()? as usize;
        if first & 0x80 != 0 {
            Some((((first & 0x7f) << 8) | *b.get(1)? as usize, 2))
        } else {
            Some((first, 1))
        }
    };
    let (_, a) = skip(b)?;
    let (len, c) = skip(b.get(a..)?)?;
    let bytes = b.get(a + c..a + c + len)?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

fn utf16_string(b: &[u8]) -> Option<String> {
    let first = u16_at(b, 0)? as usize;
    let (len, at): (usize, usize) = if first & 0x8000 != 0 {
        (((first & 0x7fff) << 16) | u16_at(b, 2)? as usize, 4)
    } else {
        (first, 2)
    };
    let units: Vec<u16> = b
        .get(at..at.checked_add(len.checked_mul(2)?)?)?
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// The words among an APK's resource strings: file paths and bare
/// identifiers are the package's machinery, not what users see.
fn user_strings(strings: Vec<String>) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    for s in strings {
        let s = s.trim();
        let machinery = s.starts_with("res/")
            || s.starts_with("r/")
            || !s.chars().any(char::is_alphabetic)
            || (s.contains('.') && !s.contains(' ') && s.is_ascii() && s.contains('/'));
        if !machinery && seen.insert(s.to_owned()) {
            out.push_str(s);
            out.push('\n');
        }
    }
    out
}

/// Whether a picture is big enough to show something (icons are not).
fn big_enough(bytes: &[u8]) -> bool {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()
        .and_then(|r| r.into_dimensions().ok())
        .is_some_and(|(w, h)| w >= MIN_PICTURE_SIDE || h >= MIN_PICTURE_SIDE)
}

/// An Apple-crushed PNG (a `CgBI` chunk first), which no decoder reads.
fn crushed_png(bytes: &[u8]) -> bool {
    bytes.get(12..16) == Some(b"CgBI")
}

impl Walk<'_> {
    /// The pictures and web pages under the given prefixes, as an app's members.
    fn app_media<R: Read + Seek>(
        &mut self,
        zip: &mut Zip<R>,
        names: &[String],
        prefixes: &[&str],
    ) -> Flow {
        for name in names {
            if !prefixes.iter().any(|p| name.starts_with(p)) {
                continue;
            }
            let lower = name.to_ascii_lowercase();
            let page = lower.ends_with(".html") || lower.ends_with(".htm");
            let picture = [".png", ".jpg", ".jpeg", ".webp", ".gif"]
                .iter()
                .any(|e| lower.ends_with(e));
            if !page && !picture {
                continue;
            }
            let child = zip.child(name);
            let bytes = match zip.member(self, name) {
                Some(Ok(b)) => b,
                Some(Err((e, fatal))) => {
                    self.error(child, e)?;
                    if fatal {
                        return ControlFlow::Break(());
                    }
                    continue;
                }
                None => continue,
            };
            if page {
                let html = decode_text(&bytes).unwrap_or_default();
                let item = Item {
                    html: Some(html),
                    ..Item::default()
                };
                self.emit(child, Ok(item))?;
            } else if !crushed_png(&bytes) && big_enough(&bytes) {
                let item = Item {
                    image: Some(bytes),
                    ..Item::default()
                };
                self.emit(child, Ok(item))?;
            }
        }
        ControlFlow::Continue(())
    }

    pub(crate) fn apk<R: Read + Seek>(
        &mut self,
        zip: &mut Zip<R>,
        names: &[String],
        _depth: u32,
    ) -> Flow {
        match zip.member(self, "resources.arsc") {
            Some(Ok(table)) => {
                // The table's header is 12 bytes; the global string pool follows.
                let header = u16_at(&table, 2).unwrap_or(12) as usize;
                let words = user_strings(string_pool(&table, header));
                if !words.is_empty() {
                    self.emit(zip.child("resources.arsc"), Ok(Item::text(words)))?;
                }
            }
            Some(Err((e, fatal))) => {
                self.error(zip.child("resources.arsc"), e)?;
                if fatal {
                    return ControlFlow::Break(());
                }
            }
            None => {}
        }
        self.app_media(zip, names, &["res/", "assets/"])
    }

    pub(crate) fn ipa<R: Read + Seek>(
        &mut self,
        zip: &mut Zip<R>,
        names: &[String],
        _depth: u32,
    ) -> Flow {
        let Some(info) = names
            .iter()
            .find(|n| n.starts_with("Payload/") && n.ends_with(".app/Info.plist"))
            .cloned()
        else {
            return ControlFlow::Continue(());
        };
        let bundle = info.trim_end_matches("Info.plist").to_owned();
        let mut words = String::new();
        if let Some(Ok(bytes)) = zip.member(self, &info)
            && let Ok(plist::Value::Dictionary(d)) = plist::Value::from_reader(Cursor::new(bytes))
        {
            for key in ["CFBundleDisplayName", "CFBundleName", "CFBundleIdentifier"] {
                if let Some(v) = d.get(key).and_then(|v| v.as_string()) {
                    words.push_str(v);
                    words.push('\n');
                }
            }
        }
        let strings: Vec<String> = names
            .iter()
            .filter(|n| n.starts_with(&bundle) && n.ends_with(".strings"))
            .cloned()
            .collect();
        for name in strings {
            let Some(Ok(bytes)) = zip.member(self, &name) else {
                continue;
            };
            match plist::Value::from_reader(Cursor::new(&bytes)) {
                Ok(plist::Value::Dictionary(d)) => {
                    for v in d.values().filter_map(|v| v.as_string()) {
                        words.push_str(v);
                        words.push('\n');
                    }
                }
                _ => {
                    // The old text form: "key" = "value";
                    let text = decode_text(&bytes).unwrap_or_default();
                    for line in text.lines() {
                        if let Some((_, v)) = line.split_once('=') {
                            words.push_str(v.trim().trim_end_matches(';').trim().trim_matches('"'));
                            words.push('\n');
                        }
                    }
                }
            }
            if words.len() > self.limits.max_member_bytes {
                break;
            }
        }
        if !words.trim().is_empty() {
            self.emit(zip.child(&info), Ok(Item::text(words.trim())))?;
        }
        self.app_media(zip, names, &[bundle.as_str()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A string pool chunk as aapt writes it.
    pub(crate) fn pool(strings: &[&str], utf8: bool) -> Vec<u8> {
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        for s in strings {
            offsets.push(data.len() as u32);
            if utf8 {
                let n = s.encode_utf16().count();
                data.push(n as u8);
                data.push(s.len() as u8);
                data.extend_from_slice(s.as_bytes());
                data.push(0);
            } else {
                let units: Vec<u16> = s.encode_utf16().collect();
                data.extend_from_slice(&(units.len() as u16).to_le_bytes());
                for u in units {
                    data.extend_from_slice(&u.to_le_bytes());
                }
                data.extend_from_slice(&[0, 0]);
            }
        }
        while data.len() % 4 != 0 {
            data.push(0);
        }
        let header = 28u16;
        let start = header as u32 + 4 * strings.len() as u32;
        let size = start + data.len() as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&header.to_le_bytes());
        b.extend_from_slice(&size.to_le_bytes());
        b.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(if utf8 { 0x100u32 } else { 0 }).to_le_bytes());
        b.extend_from_slice(&start.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        for o in offsets {
            b.extend_from_slice(&o.to_le_bytes());
        }
        b.extend_from_slice(&data);
        b
    }

    #[test]
    fn string_pools_read_in_both_encodings() {
        for utf8 in [true, false] {
            let p = pool(&["同城交友", "res/drawable/icon.png", "Hello"], utf8);
            assert_eq!(
                string_pool(&p, 0),
                ["同城交友", "res/drawable/icon.png", "Hello"]
            );
        }
        let words = user_strings(vec![
            "res/a.png".into(),
            "42".into(),
            "Hi there".into(),
            "Hi there".into(),
        ]);
        assert_eq!(words, "Hi there\n");
    }

    #[test]
    fn hostile_pools_yield_fewer_strings() {
        let mut p = pool(&["abc", "def"], true);
        // A count far past the data, and offsets past the end.
        p[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(string_pool(&p, 0).len(), 2);
        for cut in 0..p.len() {
            let _ = string_pool(&p[..cut], 0);
        }
        assert!(string_pool(b"", 0).is_empty());
    }
}

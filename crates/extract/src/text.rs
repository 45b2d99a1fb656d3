//! Text in whatever charset it was written in, and subtitles as their lines.

use cleanweb_core::Item;

/// Bytes as text: a BOM decides, then valid UTF-8, then `chardetng`'s guess
/// (GBK/GB18030, Big5, Shift_JIS, the Windows code pages). `None` for binary
/// data (NUL bytes in the first 8 KiB of what is not UTF-16).
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, malformed) = encoding.decode_without_bom_handling(&bytes[bom..]);
        // A BOM followed by what does not decode, or by control codes, is a
        // binary file that happens to start with those bytes.
        let control = text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
        return (!malformed && !control).then(|| text.into_owned());
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return None;
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some(s.to_owned());
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _, _) = encoding.decode(bytes);
    Some(text.into_owned())
}

/// The words of a subtitle file (SRT, WebVTT, ASS/SSA), one cue a line:
/// numbers, timings, styles and override tags are dropped.
pub fn subtitle_text(text: &str) -> String {
    let mut out = String::new();
    let ass = text.contains("[Script Info]") || text.contains("Dialogue:");
    for line in text.lines() {
        let line = line.trim();
        let words = if ass {
            if let Some(rest) = line.strip_prefix("Dialogue:") {
                // Nine fields come before the text, which may hold commas.
                rest.splitn(10, ',').nth(9).unwrap_or("").to_owned()
            } else if let Some(title) = line.strip_prefix("Title:") {
                title.trim().to_owned()
            } else {
                continue;
            }
        } else {
            if line.is_empty()
                || line.contains("-->")
                || line.bytes().all(|b| b.is_ascii_digit())
                || line == "WEBVTT"
                || line.starts_with("NOTE")
                || line.starts_with("STYLE")
            {
                continue;
            }
            line.to_owned()
        };
        let words = strip_tags(
            &words
                .replace("\\N", "\n")
                .replace("\\n", "\n")
                .replace("\\h", " "),
        );
        let words = words.trim();
        if !words.is_empty() {
            out.push_str(words);
            out.push('\n');
        }
    }
    out
}

/// Drops `{...}` override blocks and `<...>` markup from a cue.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut close = None;
    for c in s.chars() {
        match (close, c) {
            (None, '{') => close = Some('}'),
            (None, '<') => close = Some('>'),
            (Some(end), c) if c == end => close = None,
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    out
}

/// A subtitle file as one text item.
pub(crate) fn subtitle_item(_path: &str, bytes: &[u8]) -> Result<Item, String> {
    let text = decode_text(bytes).ok_or("binary data in a subtitle file")?;
    Ok(Item::text(subtitle_text(&text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_chinese_charsets_are_decoded() {
        let text = "这是一篇很长的中文小说，讲述了一个普通人的故事。他每天早上起床，然后去上班。";
        let traditional =
            "這是一篇很長的中文小說，講述了一個普通人的故事。他每天早上起床，然後去上班。";
        for (enc, text) in [
            (encoding_rs::GBK, text),
            (encoding_rs::GB18030, text),
            (encoding_rs::BIG5, traditional),
        ] {
            let (bytes, _, unmappable) = enc.encode(text);
            assert!(!unmappable);
            let back = decode_text(&bytes).unwrap();
            assert_eq!(back, text, "{}", enc.name());
        }
        let with_bom = [0xff, 0xfe, b'h', 0, b'i', 0];
        assert_eq!(decode_text(&with_bom).unwrap(), "hi");
        assert_eq!(decode_text(b"\x00\x01\x02binary"), None);
        assert_eq!(decode_text(&[0xff, 0xfe, 0x00, 0xd8]), None);
        assert_eq!(decode_text(&[0xff, 0xfe, 0x01, 0x00]), None);
    }

    #[test]
    fn subtitles_keep_only_their_words() {
        let srt = "1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>Hello</i> there\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n第二句\r\n";
        assert_eq!(subtitle_text(srt), "Hello there\n第二句\n");
        let ass = "[Script Info]\nTitle: 片名\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\b1}一行, 有逗号\\N第二行\n";
        assert_eq!(subtitle_text(ass), "片名\n一行, 有逗号\n第二行\n");
    }
}

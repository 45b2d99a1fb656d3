//! Links in free text, with and without a scheme, including the common
//! obfuscations of the dot ("example[.]com", "example 点 com", "example dot
//! com"), mapped back to char offsets of the text.

use std::sync::LazyLock;

use regex::Regex;

/// A link found in text: its char span and the URL it spells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// First char of the link in the text (char index, not byte).
    pub start: usize,
    /// Char index just past the link, trailing punctuation excluded.
    pub end: usize,
    /// The URL with disguised dots restored and `hxxp` read as `http`; the scheme may be missing.
    pub url: String,
}

/// Most links taken from one text.
const MAX_LINKS: usize = 256;

static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:(?:https?|hxxps?)://[^\s<>\x22'，。、）)]+",
        r"|(?-u:\b)(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?",
        r"(?:\s*(?:\.|\[\.\]|\(\.\)|【\.】|\[dot\]|\(dot\)|点|。|\s+dot\s+)\s*))+",
        r"(?:com|net|org|info|biz|io|co|me|tv|cc|xyz|top|vip|club|site|online|live|fun|app|link|",
        r"sex|sexy|xxx|porn|adult|webcam|cam|tube|dating|shop|store|online|tech|website|space|pro|",
        r"mobi|asia|one|work|life|world|today|pw|ws|su|tk|ml|ga|cf|gq|icu|cyou|buzz|click|best|win|",
        r"cn|hk|tw|mo|jp|kr|ru|ua|de|uk|fr|nl|us|ca|au|in|br|it|es|pl|se|ch|be|at|vn|th|ph|my|sg|id|",
        r"test|example)",
        r"(?-u:\b)(?:/[^\s<>\x22'，。、）)]*)?)"
    ))
    .unwrap_or_else(|e| panic!("static regex: {e}"))
});

static DOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*(?:\[\.\]|\(\.\)|【\.】|\[dot\]|\(dot\)|点|。|\s+dot\s+)\s*")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// Finds the links in `text`, each with the URL it spells out.
pub fn extract_links(text: &str) -> Vec<Link> {
    let mut out = Vec::new();
    let mut chars_before = 0usize;
    let mut last_byte = 0usize;
    for m in LINK.find_iter(text).take(MAX_LINKS) {
        chars_before += text[last_byte..m.start()].chars().count();
        let len = m.as_str().chars().count();
        let raw = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
        let mut url = DOT.replace_all(raw, ".").into_owned();
        if let Some(rest) = url.strip_prefix("hxxp") {
            url = format!("http{rest}");
        }
        out.push(Link {
            start: chars_before,
            end: chars_before + raw.chars().count(),
            url,
        });
        chars_before += len;
        last_byte = m.end();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(t: &str) -> Vec<String> {
        extract_links(t).into_iter().map(|l| l.url).collect()
    }

    #[test]
    fn finds_plain_and_disguised_links() {
        assert_eq!(
            urls("see https://a.test/x?y=1, ok"),
            ["https://a.test/x?y=1"]
        );
        assert_eq!(urls("visit bad-site.com/path now"), ["bad-site.com/path"]);
        assert_eq!(
            urls("example[.]com and example 点 com"),
            ["example.com", "example.com"]
        );
        assert_eq!(urls("go to example dot com"), ["example.com"]);
        assert_eq!(urls("hxxp://evil.test/"), ["http://evil.test/"]);
        assert!(urls("no links here, version 1.2.3").is_empty());
        let l = &extract_links("看 色情 site.xxx 吧")[0];
        assert_eq!((l.start, l.end), (5, 13));
    }
}

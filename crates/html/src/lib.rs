//! HTML for cleanweb, without building a DOM.
//!
//! - [`text_view`] turns a page into text **of the same length in chars**:
//!   markup, comments and the contents of `script`, `style`, `template` and
//!   `noscript` become spaces, and text stays where it was. Detectors read the
//!   view, and their evidence offsets are offsets into the page source, which
//!   is what a reviewer's highlighting needs. (HTML parsers build trees and
//!   drop source positions; keeping them is why this is written by hand.)
//! - [`links`] finds the URLs a page points at: `href`, `src`, `srcset`,
//!   `action`, `data`, `poster` and `<meta http-equiv=refresh>`, resolved
//!   against the base URL, each with its char span in the source.
//!
//! Both are single linear scans with no recursion, so hostile pages cost time
//! proportional to their length.
//!
//! ```
//! let page = "<p>看<b>色</b>情</p><a href='/x'>x</a>";
//! let view = cleanweb_html::text_view(page);
//! assert_eq!(view.chars().count(), page.chars().count());
//! assert_eq!(view.split_whitespace().collect::<Vec<_>>(), ["看", "色", "情", "x"]);
//! let links = cleanweb_html::links(page, Some("https://site.test/a/"));
//! assert_eq!(links[0].url, "https://site.test/x");
//! ```
#![deny(missing_docs)]

/// Elements whose content is not text a reader sees.
const HIDDEN: [&str; 4] = ["script", "style", "template", "noscript"];
/// Most links taken from one page.
pub const MAX_LINKS: usize = 2048;

/// A link in a page: the attribute value's char span in the source, and the
/// absolute URL it resolves to (or the raw value when it does not resolve).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// First char of the attribute value in the source.
    pub start: usize,
    /// One past its last char.
    pub end: usize,
    /// The absolute URL (or the raw value when it does not resolve).
    pub url: String,
    /// The tag it came from, lower-case (`a`, `img`, `source`, `meta`, …):
    /// a picture's source and a link to a page are judged differently.
    pub tag: String,
}

/// One tag as scanned: name and attributes with char spans of their values.
struct Tag {
    name: String,
    closing: bool,
    attrs: Vec<(String, usize, usize)>,
}

/// Scans the page, calling `on_tag` for each tag with the chars (for value
/// extraction); returns the kind of every char (text or markup).
fn scan(chars: &[char], mut on_tag: impl FnMut(&Tag)) -> Vec<bool> {
    let n = chars.len();
    let mut is_text = vec![true; n];
    let mut i = 0;
    let mut hidden_until: Option<&str> = None;
    while i < n {
        if chars[i] != '<' {
            if hidden_until.is_some() {
                is_text[i] = false;
            }
            i += 1;
            continue;
        }
        // Comments, doctype and processing instructions.
        if starts_with(chars, i, "<!--") {
            let end = find(chars, i + 4, "-->").map_or(n, |e| e + 3);
            is_text[i..end].fill(false);
            i = end;
            continue;
        }
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        if !(next.is_ascii_alphabetic() || next == '/' || next == '!' || next == '?') {
            // A lone '<' is text ("a < b").
            if hidden_until.is_some() {
                is_text[i] = false;
            }
            i += 1;
            continue;
        }
        let (tag, end) = read_tag(chars, i);
        is_text[i..end].fill(false);
        if let Some(h) = hidden_until {
            if tag.closing && tag.name == h {
                hidden_until = None;
            }
        } else {
            if !tag.closing
                && let Some(h) = HIDDEN.iter().find(|h| **h == tag.name)
            {
                hidden_until = Some(h);
            }
            on_tag(&tag);
        }
        i = end;
    }
    is_text
}

fn starts_with(chars: &[char], at: usize, s: &str) -> bool {
    s.chars().enumerate().all(|(k, c)| {
        chars
            .get(at + k)
            .is_some_and(|x| x.eq_ignore_ascii_case(&c))
    })
}

fn find(chars: &[char], from: usize, s: &str) -> Option<usize> {
    (from..chars.len()).find(|&i| starts_with(chars, i, s))
}

/// Reads the tag starting at `start` ('<'); returns it and the index after '>'.
fn read_tag(chars: &[char], start: usize) -> (Tag, usize) {
    let n = chars.len();
    let mut i = start + 1;
    let closing = chars.get(i) == Some(&'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < n && !chars[i].is_whitespace() && chars[i] != '>' && chars[i] != '/' {
        i += 1;
    }
    let name: String = chars[name_start..i]
        .iter()
        .collect::<String>()
        .to_ascii_lowercase();
    let mut attrs = Vec::new();
    while i < n && chars[i] != '>' {
        if chars[i].is_whitespace() || chars[i] == '/' {
            i += 1;
            continue;
        }
        let a = i;
        while i < n && !chars[i].is_whitespace() && !matches!(chars[i], '=' | '>' | '/') {
            i += 1;
        }
        let attr: String = chars[a..i].iter().collect::<String>().to_ascii_lowercase();
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        if chars.get(i) != Some(&'=') {
            if i == a {
                i += 1;
            }
            continue;
        }
        i += 1;
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        let (vs, ve) = match chars.get(i) {
            Some(&q @ ('"' | '\'')) => {
                let vs = i + 1;
                let ve = (vs..n).find(|&k| chars[k] == q).unwrap_or(n);
                i = (ve + 1).min(n);
                (vs, ve)
            }
            _ => {
                let vs = i;
                while i < n && !chars[i].is_whitespace() && chars[i] != '>' {
                    i += 1;
                }
                (vs, i)
            }
        };
        attrs.push((attr, vs, ve));
    }
    (
        Tag {
            name,
            closing,
            attrs,
        },
        (i + 1).min(n),
    )
}

/// The page as text of the same char length: markup becomes spaces.
pub fn text_view(html: &str) -> String {
    let chars: Vec<char> = html.chars().collect();
    let is_text = scan(&chars, |_| {});
    chars
        .iter()
        .zip(is_text)
        .map(|(&c, t)| if t { c } else { ' ' })
        .collect()
}

/// The links of a page, resolved against `base_url` (or a `<base href>`).
pub fn links(html: &str, base_url: Option<&str>) -> Vec<Link> {
    let chars: Vec<char> = html.chars().collect();
    let mut base = base_url.and_then(|b| url::Url::parse(b).ok());
    let mut raw: Vec<(usize, usize, String, String)> = Vec::new();
    scan(&chars, |tag| {
        if tag.closing || raw.len() >= MAX_LINKS {
            return;
        }
        let value = |s: usize, e: usize| chars[s..e].iter().collect::<String>();
        let attr = |name: &str| tag.attrs.iter().find(|(a, _, _)| a == name);
        if tag.name == "base"
            && let Some((_, s, e)) = attr("href")
            && let Ok(b) = url::Url::parse(value(*s, *e).trim())
        {
            base = Some(b);
        }
        for (a, s, e) in &tag.attrs {
            match a.as_str() {
                "href" | "src" | "action" | "data" | "poster" | "background" => {
                    raw.push((*s, *e, value(*s, *e), tag.name.clone()));
                }
                "srcset" => {
                    // "a.jpg 1x, b.jpg 2x": each candidate's URL.
                    let mut k = *s;
                    for cand in value(*s, *e).split(',') {
                        let len = cand.chars().count();
                        let lead = cand.chars().take_while(|c| c.is_whitespace()).count();
                        let url: String = cand.split_whitespace().next().unwrap_or("").into();
                        if !url.is_empty() {
                            let us = k + lead;
                            raw.push((us, us + url.chars().count(), url, tag.name.clone()));
                        }
                        k += len + 1;
                    }
                }
                "content" if tag.name == "meta" => {
                    let refresh = attr("http-equiv").is_some_and(|(_, hs, he)| {
                        value(*hs, *he).trim().eq_ignore_ascii_case("refresh")
                    });
                    let v = value(*s, *e);
                    if refresh && let Some(at) = v.to_ascii_lowercase().find("url=") {
                        let before = v[..at + 4].chars().count();
                        let u = v[at + 4..].trim().trim_matches(['\'', '"']).to_owned();
                        raw.push((
                            *s + before,
                            *s + before + u.chars().count(),
                            u,
                            tag.name.clone(),
                        ));
                    }
                }
                _ => {}
            }
        }
    });
    raw.into_iter()
        .filter_map(|(start, end, value, tag)| {
            let v = value.trim();
            let lower = v.to_ascii_lowercase();
            if v.is_empty()
                || v.starts_with('#')
                || ["javascript:", "mailto:", "tel:", "data:"]
                    .iter()
                    .any(|p| lower.starts_with(p))
            {
                return None;
            }
            let url = match &base {
                Some(b) => b
                    .join(v)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| v.to_owned()),
                None => v.to_owned(),
            };
            Some(Link {
                start,
                end,
                url,
                tag,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_hides_markup_and_keeps_offsets() {
        let page = "<html><head><title>免费</title><style>p{color:red}</style>\n<script>var s='色情';</script></head>\n<body><!-- 色情 --><p class=x>看 <b>黄</b>片</p> a < b</body>";
        let view = text_view(page);
        assert_eq!(view.chars().count(), page.chars().count());
        let words: Vec<&str> = view.split_whitespace().collect();
        assert_eq!(words, ["免费", "看", "黄", "片", "a", "<", "b"]);
        let at = view.chars().position(|c| c == '黄').unwrap();
        assert_eq!(page.chars().nth(at), Some('黄'));
    }

    #[test]
    fn finds_every_kind_of_link() {
        let page = r#"<base href="https://b.test/dir/"><a href="x.html">x</a><img src='/i.png' srcset="s1.jpg 1x, https://cdn.test/s2.jpg 2x"><meta http-equiv="Refresh" content="0; url=https://go.test/"><a href="javascript:void(0)">j</a><form action=/post></form>"#;
        let found = links(page, None);
        let tags: Vec<&str> = found.iter().map(|l| l.tag.as_str()).collect();
        assert_eq!(tags, ["base", "a", "img", "img", "img", "meta", "form"]);
        let got: Vec<String> = found.into_iter().map(|l| l.url).collect();
        assert_eq!(
            got,
            [
                "https://b.test/dir/",
                "https://b.test/dir/x.html",
                "https://b.test/i.png",
                "https://b.test/dir/s1.jpg",
                "https://cdn.test/s2.jpg",
                "https://go.test/",
                "https://b.test/post",
            ]
        );
        let page = r#"<a href="https://x.test/a">x</a>"#;
        let l = &links(page, None)[0];
        let chars: Vec<char> = page.chars().collect();
        assert_eq!(
            chars[l.start..l.end].iter().collect::<String>(),
            "https://x.test/a"
        );
    }

    #[test]
    fn unterminated_markup_ends_cleanly() {
        for page in [
            "<a href=\"x",
            "<!-- never closed",
            "<script>alert(1)",
            "<",
            "<<<>>>",
            "<a b c d",
        ] {
            let view = text_view(page);
            assert_eq!(view.chars().count(), page.chars().count());
            let _ = links(page, Some("http://x.test/"));
        }
    }
}

//! What fetched bytes are: one way from a response to the text or picture
//! the engine reads, shared by the crawler and report triage. Pictures are
//! known by their declared type or, when the type is missing or generic,
//! by their bytes; pages are decoded by their declared charset, as browsers
//! do, and cut to the engine's limit.

use url::Url;

use crate::Fetched;

/// A fetched resource, read.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    /// A picture: its bytes, for the image detectors.
    Picture {
        /// Where it was fetched from (after redirects).
        url: Url,
        /// The picture's bytes.
        body: Vec<u8>,
    },
    /// A video: its bytes, for the video decoder.
    Video {
        /// Where it was fetched from (after redirects).
        url: Url,
        /// The video's bytes.
        body: Vec<u8>,
    },
    /// A page or other text, decoded and cut to at most `max_chars`.
    Page {
        /// Its final URL: the base its relative links resolve against.
        url: Url,
        /// The decoded text.
        html: String,
    },
    /// Anything else (scripts, archives, audio): nothing the engine reads.
    Other {
        /// The declared type.
        content_type: String,
    },
}

/// Reads a fetched response; pages are cut to `max_chars` characters.
pub fn read(fetched: Fetched, max_chars: usize) -> Content {
    let ct = fetched.content_type.as_deref().unwrap_or("");
    if is_video(ct, &fetched.body) {
        return Content::Video {
            url: fetched.url,
            body: fetched.body,
        };
    }
    if is_picture(ct, &fetched.body) {
        return Content::Picture {
            url: fetched.url,
            body: fetched.body,
        };
    }
    if !is_text(ct) {
        return Content::Other {
            content_type: ct.to_owned(),
        };
    }
    let html = decode_page(fetched.content_type.as_deref(), &fetched.body);
    Content::Page {
        url: fetched.url,
        html: match html.char_indices().nth(max_chars) {
            Some((cut, _)) => html[..cut].to_owned(),
            None => html,
        },
    }
}

/// Whether a declared type is text the engine reads: HTML, XML, plain
/// text, or no type at all (servers leave it out).
fn is_text(content_type: &str) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    ct.is_empty()
        || ct.starts_with("text/")
        || ["html", "xml", "json"].iter().any(|t| ct.contains(t))
        || ct.starts_with("application/octet-stream")
}

/// Whether fetched bytes are a picture: by the declared type, else by the
/// bytes themselves unless the type says text (servers send pictures as
/// `application/octet-stream`, or with no type at all).
pub fn is_picture(content_type: &str, body: &[u8]) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    if ct.starts_with("image/") {
        return true;
    }
    !says_text(&ct) && image::guess_format(body).is_ok()
}

/// Whether a lower-cased declared type says text (a page, a script, data).
fn says_text(ct: &str) -> bool {
    ct.starts_with("text/")
        || ["html", "xml", "json", "javascript"]
            .iter()
            .any(|t| ct.contains(t))
}

/// Whether fetched bytes are a video: a container the decoder reads, by its
/// bytes, unless the declared type says text or picture.
pub fn is_video(content_type: &str, body: &[u8]) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    !says_text(&ct) && !ct.starts_with("image/") && cleanweb_video::is_video(body)
}

/// A page's text, decoded by its declared charset: the HTTP Content-Type's
/// `charset`, else a `<meta>` declaration in the first 1024 bytes, else
/// UTF-8; a byte-order mark overrides both, as in browsers. Bytes that do
/// not decode become U+FFFD.
pub fn decode_page(content_type: Option<&str>, body: &[u8]) -> String {
    let declared = content_type
        .and_then(charset_param)
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        // "replacement" would turn the whole page into one U+FFFD.
        .filter(|e| *e != encoding_rs::REPLACEMENT)
        .or_else(|| meta_charset(body));
    let (text, _, _) = declared.unwrap_or(encoding_rs::UTF_8).decode(body);
    text.into_owned()
}

/// The `charset` parameter of a Content-Type value.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']))
    })
}

/// The encoding a `<meta charset=…>` or `<meta http-equiv=Content-Type
/// content="…; charset=…">` names in the first 1024 bytes (where the HTML
/// prescan looks).
fn meta_charset(body: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }
    let head = body.get(..1024).unwrap_or(body).to_ascii_lowercase();
    let mut rest = &head[..];
    while let Some(at) = find(rest, b"<meta") {
        let tag = &rest[at + 5..];
        let end = tag.iter().position(|&b| b == b'>').unwrap_or(tag.len());
        let attrs = &tag[..end];
        rest = &tag[end..];
        let Some(c) = find(attrs, b"charset") else {
            continue;
        };
        let v = attrs[c + 7..].trim_ascii_start();
        let Some(v) = v.strip_prefix(b"=") else {
            continue;
        };
        let v = v.trim_ascii_start();
        let v = v
            .strip_prefix(b"\"")
            .or_else(|| v.strip_prefix(b"'"))
            .unwrap_or(v);
        let len = v
            .iter()
            .position(|&b| matches!(b, b'"' | b'\'' | b';' | b'/') || b.is_ascii_whitespace())
            .unwrap_or(v.len());
        if let Some(enc) = encoding_rs::Encoding::for_label(&v[..len]) {
            // The prescan's rules: a page found by ASCII bytes is not
            // UTF-16, and x-user-defined means windows-1252.
            return Some(
                if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                    encoding_rs::UTF_8
                } else if enc == encoding_rs::X_USER_DEFINED {
                    encoding_rs::WINDOWS_1252
                } else {
                    enc
                },
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_decoded_by_their_declared_charset() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<p>色情</p>");
        assert_eq!(
            decode_page(Some("text/html; charset=GBK"), &gbk),
            "<p>色情</p>"
        );
        assert_eq!(
            decode_page(Some("text/html; charset=\"gb2312\""), &gbk),
            "<p>色情</p>"
        );
        let meta = [b"<html><head><meta charset='gbk'>".as_slice(), &gbk[..]].concat();
        assert!(decode_page(Some("text/html"), &meta).ends_with("<p>色情</p>"));
        let equiv = [
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb18030\">".as_slice(),
            &gbk[..],
        ]
        .concat();
        assert!(decode_page(None, &equiv).ends_with("<p>色情</p>"));
        // The HTTP header outranks the page; no declaration means UTF-8.
        let utf8 = "<meta charset=gbk><p>色情</p>";
        assert!(
            decode_page(Some("text/html; charset=utf-8"), utf8.as_bytes()).ends_with("<p>色情</p>")
        );
        assert_eq!(decode_page(None, "<p>色情</p>".as_bytes()), "<p>色情</p>");
        assert_eq!(decode_page(None, b"a\xffb"), "a\u{fffd}b", "lossy");
        // A declaration past the first 1024 bytes is not read.
        let late = [
            " ".repeat(1100).as_bytes(),
            b"<meta charset=gbk>".as_slice(),
            &gbk[..],
        ]
        .concat();
        assert!(!decode_page(None, &late).contains("色情"));
    }

    #[test]
    fn pictures_are_known_by_type_or_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(is_picture("image/png", b"anything"));
        let mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2";
        assert!(is_video("video/mp4", mp4) && is_video("", mp4));
        assert!(!is_video("text/html", mp4) && !is_video("video/mp4", b"<html>"));
        assert!(is_picture("application/octet-stream", png));
        assert!(is_picture("", png));
        assert!(!is_picture("text/html; charset=utf-8", png));
        assert!(!is_picture("application/octet-stream", b"<html>"));
    }

    fn fetched(ct: Option<&str>, body: &[u8]) -> Fetched {
        Fetched {
            url: Url::parse("https://s.test/a").unwrap(),
            status: 200,
            content_type: ct.map(str::to_owned),
            body: body.to_vec(),
            version: "HTTP/1.1".into(),
            reason: "OK".into(),
            headers: Vec::new(),
            request_headers: Vec::new(),
            ip: None,
            fetched_at: std::time::SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn responses_read_as_pages_pictures_or_nothing() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<p>色情</p>");
        match read(fetched(Some("text/html; charset=gbk"), &gbk), 100) {
            Content::Page { html, url } => {
                assert_eq!(html, "<p>色情</p>");
                assert_eq!(url.as_str(), "https://s.test/a");
            }
            other => panic!("{other:?}"),
        }
        match read(fetched(None, "<p>一二三四五</p>".as_bytes()), 5) {
            Content::Page { html, .. } => assert_eq!(html, "<p>一二"),
            other => panic!("{other:?}"),
        }
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(matches!(
            read(fetched(None, png), 9),
            Content::Picture { .. }
        ));
        assert_eq!(
            read(fetched(Some("application/zip"), b"PK\x03\x04"), 9),
            Content::Other {
                content_type: "application/zip".into()
            }
        );
        assert!(matches!(
            read(fetched(Some("text/plain"), b"hi"), 9),
            Content::Page { .. }
        ));
    }
}

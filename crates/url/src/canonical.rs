//! URL canonicalization by the Safe Browsing v4 rules, and the host-suffix ×
//! path-prefix lookup expressions built from a canonical URL.
//!
//! Written by hand: general URL crates normalise for browsing (WHATWG), not
//! for list lookups, and would keep ports, credentials and escapes that the
//! Safe Browsing rules remove or rewrite.

use std::borrow::Cow;
use std::fmt;

/// Inputs longer than this are refused: no real URL needs more.
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// Bound on repeated unescaping ("%2525…" nests).
const MAX_UNESCAPE_ROUNDS: usize = 16;

/// Why a URL could not be canonicalized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Nothing left after trimming.
    #[error("URL is empty")]
    Empty,
    /// Longer than [`MAX_URL_BYTES`]; holds the length.
    #[error("URL is {0} bytes long, the limit is {MAX_URL_BYTES}")]
    TooLong(usize),
    /// The host is missing or only dots.
    #[error("URL has no host")]
    NoHost,
    /// A scheme other than http or https; holds the scheme.
    #[error("unsupported scheme {0:?} (expected http or https)")]
    Scheme(String),
}

/// A canonical URL: scheme, host, path and optional query, each canonical.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Canonical {
    /// `http` or `https`.
    pub scheme: String,
    /// Lowercase, dots trimmed and collapsed, punycode for international names; or a dotted-decimal
    /// IPv4 address.
    pub host: String,
    /// Starts with '/'.
    pub path: String,
    /// The query, without its '?'; `None` when there was no '?'.
    pub query: Option<String>,
    /// The host is an IPv4 address.
    pub ip: bool,
}

impl fmt::Display for Canonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.host, self.path)?;
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        Ok(())
    }
}

/// Canonicalizes a URL given as text.
pub fn canonicalize(url: &str) -> Result<Canonical, UrlError> {
    canonicalize_bytes(url.as_bytes())
}

/// Canonicalizes a URL given as bytes (unescaping may produce any byte).
pub fn canonicalize_bytes(url: &[u8]) -> Result<Canonical, UrlError> {
    if url.len() > MAX_URL_BYTES {
        return Err(UrlError::TooLong(url.len()));
    }
    // 1. Drop tab, CR and LF anywhere; trim surrounding spaces.
    let start = url
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(url.len());
    let end = url
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    let trimmed = &url[start..end.max(start)];
    // Most URLs hold no tab, CR or LF: borrow them instead of copying.
    let mut s: Cow<'_, [u8]> = if trimmed.iter().any(|b| matches!(b, b'\t' | b'\r' | b'\n')) {
        Cow::Owned(
            trimmed
                .iter()
                .copied()
                .filter(|&b| !matches!(b, b'\t' | b'\r' | b'\n'))
                .collect(),
        )
    } else {
        Cow::Borrowed(trimmed)
    };
    if s.is_empty() {
        return Err(UrlError::Empty);
    }
    // 2. Drop the fragment.
    if let Some(i) = s.iter().position(|&b| b == b'#') {
        s = match s {
            Cow::Borrowed(b) => Cow::Borrowed(&b[..i]),
            Cow::Owned(mut v) => {
                v.truncate(i);
                Cow::Owned(v)
            }
        };
    }
    // 3. Split scheme, authority, path, query; no scheme means http.
    let (scheme, rest) = match find(&s, b"://") {
        Some(i)
            if i > 0
                && s[..i]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'+') =>
        {
            (
                String::from_utf8_lossy(&s[..i]).to_ascii_lowercase(),
                &s[i + 3..],
            )
        }
        _ => ("http".to_owned(), &s[..]),
    };
    if scheme != "http" && scheme != "https" {
        return Err(UrlError::Scheme(scheme));
    }
    let auth_end = rest
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(rest.len());
    let (authority, after) = rest.split_at(auth_end);
    let (path, query) = match after.iter().position(|&b| b == b'?') {
        Some(q) => (&after[..q], Some(&after[q + 1..])),
        None => (after, None),
    };
    let (host, ip) = canonical_host(authority)?;
    let unescaped_path = unescape_fully(path);
    let path = canonical_path(&unescaped_path);
    let query = query.map(|q| escape(&unescape_fully(q)));
    Ok(Canonical {
        scheme,
        host,
        path: escape(&path),
        query,
        ip,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Unescapes %XX repeatedly until nothing changes (bounded).
fn unescape_fully(s: &[u8]) -> Cow<'_, [u8]> {
    if !s.contains(&b'%') {
        return Cow::Borrowed(s);
    }
    let mut cur = s.to_vec();
    for _ in 0..MAX_UNESCAPE_ROUNDS {
        let next = unescape_once(&cur);
        if next == cur {
            break;
        }
        cur = next;
    }
    Cow::Owned(cur)
}

fn unescape_once(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && let (Some(h), Some(l)) = (s.get(i + 1).and_then(hex), s.get(i + 2).and_then(hex))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Escapes bytes <= 0x20, >= 0x7f, '#' and '%' as uppercase %XX.
fn escape(s: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let plain = |b: &u8| *b > 0x20 && *b < 0x7f && *b != b'#' && *b != b'%';
    if s.iter().all(plain) {
        // All printable ASCII: valid UTF-8 as it stands.
        return String::from_utf8_lossy(s).into_owned();
    }
    let mut out = String::with_capacity(s.len());
    for &b in s {
        if b <= 0x20 || b >= 0x7f || b == b'#' || b == b'%' {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push(b as char);
        }
    }
    out
}

fn canonical_host(authority: &[u8]) -> Result<(String, bool), UrlError> {
    let unescaped = unescape_fully(authority);
    let mut host: &[u8] = &unescaped;
    // Credentials and port are not part of the host: Safe Browsing lists
    // match a host on any port. (Report merge keys put a non-default port
    // back: `cleanweb_reports::url_target`.)
    if let Some(at) = host.iter().rposition(|&b| b == b'@') {
        host = &host[at + 1..];
    }
    if let Some(colon) = host.iter().rposition(|&b| b == b':')
        && host[colon + 1..].iter().all(u8::is_ascii_digit)
    {
        host = &host[..colon];
    }
    // Ideographic and full-width full stops separate labels too.
    let dotted;
    if !host.is_ascii()
        && let Ok(text) = std::str::from_utf8(host)
    {
        dotted = text.replace(['。', '．', '｡'], ".").into_bytes();
        host = &dotted;
    }
    // Lowercase, trim dots, collapse runs of dots: one pass.
    let mut collapsed = Vec::with_capacity(host.len());
    for &b in host {
        let b = b.to_ascii_lowercase();
        if b == b'.' && (collapsed.is_empty() || collapsed.last() == Some(&b'.')) {
            continue;
        }
        collapsed.push(b);
    }
    while collapsed.last() == Some(&b'.') {
        collapsed.pop();
    }
    if collapsed.is_empty() {
        return Err(UrlError::NoHost);
    }
    if let Some(ip) = parse_ipv4(&collapsed) {
        return Ok((ip, true));
    }
    // Internationalised names go to punycode; invalid ones stay escaped.
    if !collapsed.is_ascii()
        && let Ok(text) = std::str::from_utf8(&collapsed)
        && let Ok(ascii) = idna::domain_to_ascii(text)
    {
        return Ok((ascii, false));
    }
    Ok((escape(&collapsed), false))
}

/// inet_aton-style IPv4: 1 to 4 parts, each decimal, octal (leading 0) or
/// hex (0x); the last part fills the remaining bytes.
fn parse_ipv4(host: &[u8]) -> Option<String> {
    // Only digits, dots and hex can spell an address.
    if !host.first().is_some_and(u8::is_ascii_digit)
        || !host
            .iter()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b'x' | b'X'))
    {
        return None;
    }
    let text = std::str::from_utf8(host).ok()?;
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        let n = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            if h.is_empty() {
                0
            } else {
                u64::from_str_radix(h, 16).ok()?
            }
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse::<u64>().ok()?
        };
        nums.push(n);
    }
    let (last, init) = nums.split_last()?;
    if init.iter().any(|&n| n > 255) || *last >= 1u64 << (8 * (5 - nums.len())) {
        return None;
    }
    let mut value: u64 = 0;
    for (i, &n) in init.iter().enumerate() {
        value |= n << (8 * (3 - i));
    }
    value |= last;
    Some(format!(
        "{}.{}.{}.{}",
        value >> 24 & 255,
        value >> 16 & 255,
        value >> 8 & 255,
        value & 255
    ))
}

/// Resolves "." and ".." segments and collapses runs of slashes.
fn canonical_path(path: &[u8]) -> Cow<'_, [u8]> {
    if path.is_empty() {
        return Cow::Borrowed(b"/");
    }
    // Already canonical: starts with '/', no empty, "." or ".." segments.
    let segments = path.get(1..).unwrap_or_default();
    let last = segments.split(|&b| b == b'/').count().saturating_sub(1);
    let clean = path.starts_with(b"/")
        && segments
            .split(|&b| b == b'/')
            .enumerate()
            .all(|(i, seg)| (!seg.is_empty() || i == last) && seg != b"." && seg != b"..");
    if clean {
        return Cow::Borrowed(path);
    }
    let trailing = path.ends_with(b"/")
        || path.ends_with(b"/.")
        || path.ends_with(b"/..")
        || path == b"."
        || path == b"..";
    let mut segments: Vec<&[u8]> = Vec::new();
    for seg in path.split(|&b| b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = Vec::with_capacity(path.len());
    for s in &segments {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if out.is_empty() || trailing {
        out.push(b'/');
    }
    Cow::Owned(out)
}

/// The Safe Browsing lookup expressions of a canonical URL: up to 5 host
/// suffixes times up to 6 path prefixes, as `host/path[?query]`.
pub fn lookup_expressions(c: &Canonical) -> Vec<String> {
    let hosts = host_suffixes(c);
    let paths = path_prefixes(c);
    let mut out = Vec::with_capacity(hosts.len() * paths.len());
    for h in &hosts {
        for p in &paths {
            out.push(format!("{h}{p}"));
        }
    }
    out
}

/// The exact host, then up to four suffixes made from the last five labels
/// by dropping leading labels (never the bare top-level label).
pub fn host_suffixes(c: &Canonical) -> Vec<String> {
    let mut out = vec![c.host.clone()];
    if c.ip {
        return out;
    }
    let labels: Vec<&str> = c.host.split('.').collect();
    let n = labels.len();
    let first = n.saturating_sub(5);
    for start in first..n.saturating_sub(1) {
        let suffix = labels[start..].join(".");
        if start > 0 && !out.contains(&suffix) && out.len() < 5 {
            out.push(suffix);
        }
    }
    out
}

/// The exact path with query, the exact path, then up to four prefixes from
/// the root, each ending in '/'.
pub fn path_prefixes(c: &Canonical) -> Vec<String> {
    let mut out = Vec::with_capacity(6);
    if let Some(q) = &c.query {
        out.push(format!("{}?{q}", c.path));
    }
    out.push(c.path.clone());
    let mut prefix = String::from("/");
    let components: Vec<&str> = c.path.split('/').filter(|s| !s.is_empty()).collect();
    let dirs = if c.path.ends_with('/') {
        components.len()
    } else {
        components.len().saturating_sub(1)
    };
    if !out.contains(&prefix) {
        out.push(prefix.clone());
    }
    for comp in components.iter().take(dirs.min(3)) {
        prefix.push_str(comp);
        prefix.push('/');
        if !out.contains(&prefix) && out.len() < 6 {
            out.push(prefix.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        canonicalize(s).unwrap().to_string()
    }

    /// The canonicalization examples published with the Safe Browsing v4 API.
    #[test]
    fn safe_browsing_examples() {
        let cases = [
            ("http://host/%25%32%35", "http://host/%25"),
            ("http://host/%25%32%35%25%32%35", "http://host/%25%25"),
            ("http://host/%2525252525252525", "http://host/%25"),
            ("http://host/asdf%25%32%35asd", "http://host/asdf%25asd"),
            (
                "http://host/%%%25%32%35asd%%",
                "http://host/%25%25%25asd%25%25",
            ),
            ("http://www.google.com/", "http://www.google.com/"),
            (
                "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
                "http://168.188.99.26/.secure/www.ebay.com/",
            ),
            (
                "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
                "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
            ),
            (
                "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B",
                "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
            ),
            ("http://3279880203/blah", "http://195.127.0.11/blah"),
            ("http://www.google.com/blah/..", "http://www.google.com/"),
            ("www.google.com/", "http://www.google.com/"),
            ("www.google.com", "http://www.google.com/"),
            ("http://www.evil.com/blah#frag", "http://www.evil.com/blah"),
            ("http://www.GOOgle.com/", "http://www.google.com/"),
            ("http://www.google.com.../", "http://www.google.com/"),
            (
                "http://www.google.com/foo\tbar\rbaz\n2",
                "http://www.google.com/foobarbaz2",
            ),
            ("http://www.google.com/q?", "http://www.google.com/q?"),
            ("http://www.google.com/q?r?", "http://www.google.com/q?r?"),
            ("http://www.google.com/q?r?s", "http://www.google.com/q?r?s"),
            ("http://evil.com/foo#bar#baz", "http://evil.com/foo"),
            ("http://evil.com/foo;", "http://evil.com/foo;"),
            ("http://evil.com/foo?bar;", "http://evil.com/foo?bar;"),
            ("http://notrailingslash.com", "http://notrailingslash.com/"),
            ("http://www.gotaport.com:1234/", "http://www.gotaport.com/"),
            ("  http://www.google.com/  ", "http://www.google.com/"),
            ("http:// leadingspace.com/", "http://%20leadingspace.com/"),
            ("http://%20leadingspace.com/", "http://%20leadingspace.com/"),
            ("%20leadingspace.com/", "http://%20leadingspace.com/"),
            ("https://www.securesite.com/", "https://www.securesite.com/"),
            ("http://host.com/ab%23cd", "http://host.com/ab%23cd"),
            (
                "http://host.com//twoslashes?more//slashes",
                "http://host.com/twoslashes?more//slashes",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(canon(input), want, "{input:?}");
        }
        let bytes = canonicalize_bytes(b"http://\x01\x80.com/").unwrap();
        assert_eq!(bytes.to_string(), "http://%01%80.com/");
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(canon("http://0x7f.1/"), "http://127.0.0.1/");
        assert_eq!(canon("http://0177.0.0.01/"), "http://127.0.0.1/");
        assert_eq!(
            canon("http://user:pw@Example.COM:8080/x"),
            "http://example.com/x"
        );
        assert_eq!(
            canon("http://例子.测试/"),
            "http://xn--fsqu00a.xn--0zwm56d/"
        );
        assert_eq!(canon("http://example。com/"), "http://example.com/");
        assert!(canonicalize("ftp://x.com/").is_err());
        assert!(canonicalize(&"a".repeat(MAX_URL_BYTES + 1)).is_err());
        assert_eq!(canonicalize("http:///path"), Err(UrlError::NoHost));
    }

    /// The lookup-expression examples published with the Safe Browsing v4 API.
    #[test]
    fn lookup_expressions_follow_safe_browsing() {
        let e = lookup_expressions(&canonicalize("http://a.b.c/1/2.html?param=1").unwrap());
        let want = [
            "a.b.c/1/2.html?param=1",
            "a.b.c/1/2.html",
            "a.b.c/",
            "a.b.c/1/",
            "b.c/1/2.html?param=1",
            "b.c/1/2.html",
            "b.c/",
            "b.c/1/",
        ];
        assert_eq!(e, want);
        let e = lookup_expressions(&canonicalize("http://a.b.c.d.e.f.g/1.html").unwrap());
        let want = [
            "a.b.c.d.e.f.g/1.html",
            "a.b.c.d.e.f.g/",
            "c.d.e.f.g/1.html",
            "c.d.e.f.g/",
            "d.e.f.g/1.html",
            "d.e.f.g/",
            "e.f.g/1.html",
            "e.f.g/",
            "f.g/1.html",
            "f.g/",
        ];
        assert_eq!(e, want);
        let e = lookup_expressions(&canonicalize("http://1.2.3.4/1/").unwrap());
        assert_eq!(e, ["1.2.3.4/1/", "1.2.3.4/"]);
        let e = lookup_expressions(&canonicalize("http://a/1/2/3/4/5/6.html?q").unwrap());
        assert_eq!(
            e,
            [
                "a/1/2/3/4/5/6.html?q",
                "a/1/2/3/4/5/6.html",
                "a/",
                "a/1/",
                "a/1/2/",
                "a/1/2/3/"
            ]
        );
    }
}

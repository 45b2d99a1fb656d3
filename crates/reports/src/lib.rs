//! The pieces of the public reporting centre that need no server: receipt
//! codes, reporter contact encryption, proof-of-work challenges for bursts,
//! the per-address rate limiter, and the keys that merge reports about one
//! target. (Reward rules live in `cleanweb_core::rewards`, where the store
//! can apply the caps.)
#![deny(missing_docs)]

mod limiter;
mod pow;
mod receipt;
mod seal;

pub use limiter::{Rate, RateLimiter, rate_key};
pub use pow::{Pow, leading_zero_bits, solve};
pub use receipt::{Receipt, normalize_receipt};
pub use seal::{Contact, ContactError, KeyError, ReportKey};

/// Why a reported URL cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not an http or https link.
    #[error("{0:?}: only http and https links can be reported")]
    Scheme(String),
    /// Not a URL: the URL and why.
    #[error("{0:?}: {1}")]
    Invalid(String, String),
}

impl TargetError {
    /// The URL as the reporter gave it (trimmed).
    pub fn url(&self) -> &str {
        match self {
            TargetError::Scheme(u) | TargetError::Invalid(u, _) => u,
        }
    }
}

/// The scheme a URL spells out before "://", lower-cased, if any.
fn scheme_of(lower: &str) -> Option<&str> {
    let (scheme, _) = lower.split_once("://")?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

fn check_scheme(trimmed: &str) -> Result<(), TargetError> {
    let lower = trimmed.to_ascii_lowercase();
    let other_scheme = match scheme_of(&lower) {
        Some(s) => s != "http" && s != "https",
        None => [
            "javascript:",
            "data:",
            "mailto:",
            "file:",
            "about:",
            "blob:",
            "vbscript:",
        ]
        .iter()
        .any(|s| lower.starts_with(s)),
    };
    if other_scheme {
        return Err(TargetError::Scheme(trimmed.to_owned()));
    }
    Ok(())
}

/// A reported URL as triage fetches it: exactly as the reporter gave it
/// (port, escapes and all), `http://` assumed when it names no scheme.
/// The canonical form is only a merge key: it drops the port and unescapes
/// the path, so fetching it could fetch another page.
pub fn fetch_url(raw: &str) -> Result<url::Url, TargetError> {
    let trimmed = raw.trim();
    check_scheme(trimmed)?;
    let invalid = |e: String| TargetError::Invalid(trimmed.to_owned(), e);
    // Without the prefix, "host:8080/x" would parse as the scheme "host".
    let parsed = if scheme_of(&trimmed.to_ascii_lowercase()).is_some() {
        url::Url::parse(trimmed)
    } else {
        url::Url::parse(&format!("http://{trimmed}"))
    }
    .map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetError::Scheme(trimmed.to_owned()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host".into()));
    }
    Ok(parsed)
}

/// What a report is about, as the key that merges reports: a canonical URL
/// (Safe Browsing rules, so spellings of one address meet), or the SHA-256
/// of uploaded content.
///
/// The Safe Browsing form drops the port (blocklists match hosts on any
/// port), but another port is another server, so a non-default port is
/// put back here, in the merge key only.
pub fn url_target(raw: &str) -> Result<String, TargetError> {
    let parsed = fetch_url(raw)?;
    let trimmed = raw.trim();
    // The key comes from the URL as parsed for fetching, not from the raw
    // text: two parsers could read a tricky spelling (a `\` before an `@`)
    // as two different hosts, and the case would not be the page fetched.
    let c = cleanweb_url::canonicalize(parsed.as_str())
        .map_err(|e| TargetError::Invalid(trimmed.to_owned(), e.to_string()))?;
    // `Url::port` is `None` for the scheme's default port (http:80,
    // https:443), so those spellings still meet the port-less one.
    Ok(match parsed.port() {
        Some(port) => {
            let mut key = format!("url:{}://{}:{port}{}", c.scheme, c.host, c.path);
            if let Some(q) = &c.query {
                key.push('?');
                key.push_str(q);
            }
            key
        }
        None => format!("url:{c}"),
    })
}

/// The merge key of uploaded bytes (an image) or text (trimmed).
pub fn content_target(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_url_meet() {
        let a = url_target("HTTP://Bad.Example.com:80/a/../pics/%7Efoo?x=1#top").unwrap();
        let b = url_target("http://bad.example.com/pics/~foo?x=1").unwrap();
        let c = url_target("bad.example.com./pics/%7efoo?x=1").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(a.starts_with("url:http://bad.example.com/"));
        assert_ne!(a, url_target("http://bad.example.com/pics/other").unwrap());
        assert!(url_target("ftp://x.example/").is_err());
        assert!(url_target("javascript:alert(1)").is_err());
        assert!(url_target("FILE:///etc/passwd").is_err());
        assert!(matches!(
            url_target("javascript:alert(1)"),
            Err(TargetError::Scheme(_))
        ));
        // A link whose query holds another URL is still an http link.
        assert!(url_target("bad.example.com/?next=http://x.example/").is_ok());
        assert_eq!(
            content_target(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_non_default_port_is_another_case() {
        let plain = url_target("http://x.example/p").unwrap();
        assert_eq!(url_target("http://X.example:80/p").unwrap(), plain);
        assert_eq!(url_target("x.example:80/p").unwrap(), plain);
        let other = url_target("http://x.example:8080/p").unwrap();
        assert_ne!(other, plain);
        assert_eq!(other, "url:http://x.example:8080/p");
        assert_eq!(
            url_target("X.Example:8080/p").unwrap(),
            other,
            "no scheme, same port"
        );
        assert_eq!(
            url_target("https://x.example:443/p?q=1").unwrap(),
            "url:https://x.example/p?q=1"
        );
        assert_eq!(
            url_target("https://x.example:80/p?q=1").unwrap(),
            "url:https://x.example:80/p?q=1",
            "80 is not https's default"
        );
        assert_eq!(
            url_target("http://[2001:db8::1]:8080/").unwrap(),
            url_target("http://[2001:db8::1]:08080/").unwrap()
        );
    }

    #[test]
    fn the_case_is_the_host_that_is_fetched() {
        let tricky = "http://decoy.example\\@bad.example/p";
        let fetched = fetch_url(tricky).unwrap();
        let key = url_target(tricky).unwrap();
        let host = fetched.host_str().unwrap();
        assert!(
            key.starts_with(&format!("url:http://{host}/")),
            "{key} but fetching {fetched}"
        );
    }

    #[test]
    fn the_fetched_url_is_the_one_given() {
        let u = fetch_url("  http://x.example:8080/a%2Fb/%7Ec?q=%41 ").unwrap();
        assert_eq!(u.port(), Some(8080));
        assert_eq!(u.path(), "/a%2Fb/%7Ec", "escapes kept");
        assert_eq!(u.query(), Some("q=%41"));
        let bare = fetch_url("x.example:8080/p").unwrap();
        assert_eq!(bare.as_str(), "http://x.example:8080/p");
        assert!(fetch_url("ftp://x.example/").is_err());
        assert!(fetch_url("http://").is_err());
    }
}

//! The pieces of the public reporting centre that need no server: receipt
//! codes, reporter contact encryption, proof-of-work challenges for
//! bursts, and the keys that merge reports about one target. (Reward rules
//! live in `cleanweb_core::rewards`, where the store can apply the caps.)

mod pow;
mod receipt;
mod seal;

pub use pow::{Pow, leading_zero_bits, solve};
pub use receipt::{Receipt, normalize_receipt};
pub use seal::{Contact, KeyError, ReportKey};

/// What a report is about, as the key that merges reports: a canonical URL
/// (Safe Browsing rules, so spellings of one address meet), or the SHA-256
/// of uploaded content.
pub fn url_target(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let lower = trimmed.to_ascii_lowercase();
    let other_scheme = if lower.contains("://") {
        !(lower.starts_with("http://") || lower.starts_with("https://"))
    } else {
        [
            "javascript:",
            "data:",
            "mailto:",
            "file:",
            "about:",
            "blob:",
            "vbscript:",
        ]
        .iter()
        .any(|s| lower.starts_with(s))
    };
    if other_scheme {
        return Err(format!(
            "{trimmed:?}: only http and https links can be reported"
        ));
    }
    cleanweb_url::canonicalize(trimmed)
        .map(|c| format!("url:{c}"))
        .map_err(|e| format!("{trimmed:?}: {e}"))
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
        assert_eq!(
            content_target(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

//! Sites for the registry: the registrable domain of a URL or host (by the
//! Public Suffix List, compiled in by the `psl` crate), and the list that
//! makes closed sites part of every blocklist export and of the engine.

use std::path::Path;

use cleanweb_core::Action;

use crate::blocklist::{BlocklistError, Lists};
use crate::canonical::canonicalize;
use crate::formats::Entries;

/// The list the registry keeps in step with its closed sites.
pub const CLOSED_SITES_LIST: &str = "sites-closed";

/// The registrable domain ("example.co.uk") of a URL or host name.
pub fn registrable_domain(url_or_host: &str) -> Option<String> {
    let c = canonicalize(url_or_host).ok()?;
    if c.ip {
        return Some(c.host);
    }
    psl::domain_str(&c.host).map(str::to_owned)
}

/// Rewrites the closed-sites list to exactly `closed` (registrable domains;
/// subdomains match too). Called after every registry change.
pub fn sync_closed_sites(data_dir: &Path, closed: Vec<String>) -> Result<(), BlocklistError> {
    let mut lists = Lists::load(data_dir)?;
    let entries = Entries {
        domains: closed,
        ..Entries::default()
    };
    lists.import(
        CLOSED_SITES_LIST,
        "link.blocked",
        Action::Block,
        entries,
        true,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_follow_the_public_suffix_list() {
        assert_eq!(
            registrable_domain("https://www.example.co.uk/x").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(
            registrable_domain("a.b.example.com").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            registrable_domain("foo.github.io").as_deref(),
            Some("foo.github.io")
        );
        assert_eq!(
            registrable_domain("http://1.2.3.4/").as_deref(),
            Some("1.2.3.4")
        );
        assert_eq!(registrable_domain("co.uk"), None);
    }
}

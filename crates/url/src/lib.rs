//! URLs for cleanweb: Safe Browsing canonicalization and lookup expressions,
//! named blocklists stored as FSTs of reversed host names, import and export
//! in the formats operators use, link extraction, and the `url.blocklist`
//! detector.
//!
//! ```
//! use cleanweb_url::{canonicalize, lookup_expressions};
//! let c = canonicalize("HTTP://WWW.Example.com:80/a/../b?x").unwrap();
//! assert_eq!(c.to_string(), "http://www.example.com/b?x");
//! assert_eq!(lookup_expressions(&c)[0], "www.example.com/b?x");
//! ```
#![deny(missing_docs)]

mod blocklist;
mod canonical;
mod detector;
pub mod formats;
mod links;
mod sites;

pub use blocklist::{Blocklist, BlocklistError, ListHit, ListMeta, Lists};
pub use canonical::{
    Canonical, MAX_URL_BYTES, UrlError, canonicalize, canonicalize_bytes, host_suffixes,
    lookup_expressions, path_prefixes,
};
pub use cleanweb_core::Action;
pub use detector::UrlDetector;
pub use links::{Link, extract_links};
pub use sites::{CLOSED_SITES_LIST, registrable_domain, sync_closed_sites};

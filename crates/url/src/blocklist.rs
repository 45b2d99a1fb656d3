//! Named blocklists. Hosts are kept as an FST of reversed host names
//! ("com.example.www"), so millions of domains take a few bytes each and
//! load without parsing; URL prefixes are kept as an FST of lookup
//! expressions ("example.com/bad/").

use std::path::{Path, PathBuf};

use cleanweb_core::Action;
use fst::Set;
use serde::{Deserialize, Serialize};

use crate::canonical::{Canonical, canonicalize, lookup_expressions};

/// Why a blocklist could not be read, written, imported or found.
#[derive(Debug, thiserror::Error)]
pub enum BlocklistError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A list's `meta.json` or FST file does not parse (or its metadata would not serialize).
    #[error("{path}: not a valid list file: {message}")]
    Corrupt {
        /// The file or directory involved.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A list name other than 1 to 64 letters, digits, '-', '_' or '.' (names become directory
    /// names).
    #[error("invalid list name {0:?}: use letters, digits, '-', '_' and '.', at most 64")]
    Name(String),
    /// No list of that name exists in the data directory.
    #[error("no list named {0:?}")]
    NoSuchList(String),
    /// An import file is not in the format it was said to be in.
    #[error("{0}")]
    Format(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BlocklistError + '_ {
    move |source| BlocklistError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A list's description, stored beside its FSTs as `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListMeta {
    /// List name: 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'; also its
    /// directory name.
    pub name: String,
    /// The label category hits get (`link.blocked` by default).
    pub category: String,
    /// What a hit on this list does; an `Allow` list's hits suppress other lists' hits.
    pub action: Action,
    /// Increases on every change; RPZ exports use it as the SOA serial.
    pub serial: u64,
    /// Number of listed domains.
    pub hosts: u64,
    /// Number of listed URL prefixes.
    pub urls: u64,
    /// Number of excepted domains.
    pub exceptions: u64,
}

/// A hit: which list, and which entry matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListHit {
    /// Name of the list that matched.
    pub list: String,
    /// The entry that matched: a domain, or a URL prefix as a lookup expression.
    pub entry: String,
    /// The list's action.
    pub action: Action,
    /// The list's label category.
    pub category: String,
}

/// One named blocklist: its metadata and the FSTs of its domains, URL prefixes and exceptions.
pub struct Blocklist {
    /// Name, category, action, serial and entry counts.
    pub meta: ListMeta,
    hosts: Set<Vec<u8>>,
    urls: Set<Vec<u8>>,
    /// Hosts excepted from this list (adblock `@@` rules).
    exceptions: Set<Vec<u8>>,
}

/// "www.example.com" → "com.example.www".
pub(crate) fn reverse_host(host: &str) -> String {
    let mut labels: Vec<&str> = host.split('.').collect();
    labels.reverse();
    labels.join(".")
}

fn build_set(mut keys: Vec<String>) -> Set<Vec<u8>> {
    keys.sort_unstable();
    keys.dedup();
    // Sorted and deduplicated, so building cannot fail.
    Set::from_iter(keys).unwrap_or_default()
}

/// Normalises a domain entry to its canonical host, or None.
pub(crate) fn canonical_domain(entry: &str) -> Option<String> {
    let entry = entry
        .trim()
        .trim_start_matches("*.")
        .trim_start_matches('.');
    if entry.is_empty() || entry.contains(['/', ' ']) {
        return None;
    }
    let c = canonicalize(entry).ok()?;
    (c.path == "/" && c.query.is_none()).then_some(c.host)
}

/// Normalises a URL entry to its lookup expression ("host/path").
pub(crate) fn canonical_url_entry(entry: &str) -> Option<String> {
    let c = canonicalize(entry.trim()).ok()?;
    let mut e = format!("{}{}", c.host, c.path);
    if let Some(q) = &c.query {
        e.push('?');
        e.push_str(q);
    }
    Some(e)
}

impl Blocklist {
    /// Builds a list from entries (domains, URL prefixes, excepted domains).
    pub fn build(
        meta: ListMeta,
        hosts: impl IntoIterator<Item = String>,
        urls: impl IntoIterator<Item = String>,
        exceptions: impl IntoIterator<Item = String>,
    ) -> Blocklist {
        let hosts = build_set(hosts.into_iter().map(|h| reverse_host(&h)).collect());
        let urls = build_set(urls.into_iter().collect());
        let exceptions = build_set(exceptions.into_iter().map(|h| reverse_host(&h)).collect());
        let mut meta = meta;
        meta.hosts = hosts.len() as u64;
        meta.urls = urls.len() as u64;
        meta.exceptions = exceptions.len() as u64;
        Blocklist {
            meta,
            hosts,
            urls,
            exceptions,
        }
    }

    /// The list's domains, in reversed-host order.
    pub fn domains(&self) -> impl Iterator<Item = String> + '_ {
        self.hosts
            .stream()
            .into_strs()
            .unwrap_or_default()
            .into_iter()
            .map(|r| reverse_host(&r))
    }

    /// The list's URL prefixes, as lookup expressions ("host/path"), sorted.
    pub fn url_entries(&self) -> Vec<String> {
        self.urls.stream().into_strs().unwrap_or_default()
    }

    /// The domains excepted from the list, in reversed-host order.
    pub fn excepted_domains(&self) -> Vec<String> {
        self.exceptions
            .stream()
            .into_strs()
            .unwrap_or_default()
            .into_iter()
            .map(|r| reverse_host(&r))
            .collect()
    }

    /// The entry this canonical URL hits, if any: a listed domain it is on
    /// (or under), or a listed URL prefix it starts with.
    pub fn lookup(&self, c: &Canonical) -> Option<String> {
        // The host suffixes of "www.example.com" are the label-boundary
        // prefixes of its reversal "com.example.www": reverse once, then
        // probe prefixes, without allocating per probe.
        let reversed = reverse_host(&c.host);
        let prefixes = suffix_prefixes(c, &reversed);
        if prefixes.iter().any(|p| self.exceptions.contains(p)) {
            return None;
        }
        if let Some(p) = prefixes.iter().find(|p| self.hosts.contains(p)) {
            return Some(reverse_host(p));
        }
        if self.urls.is_empty() {
            return None;
        }
        lookup_expressions(c)
            .into_iter()
            .find(|e| self.urls.contains(e))
    }

    fn dir(root: &Path, name: &str) -> PathBuf {
        root.join(name)
    }

    /// Writes the list under `root/NAME/`, replacing files atomically.
    pub fn save(&self, root: &Path) -> Result<(), BlocklistError> {
        let dir = Self::dir(root, &self.meta.name);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let write = |file: &str, bytes: &[u8]| -> Result<(), BlocklistError> {
            let path = dir.join(file);
            let tmp = dir.join(format!("{file}.tmp"));
            std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(io(&path))
        };
        write("hosts.fst", self.hosts.as_fst().as_bytes())?;
        write("urls.fst", self.urls.as_fst().as_bytes())?;
        write("exceptions.fst", self.exceptions.as_fst().as_bytes())?;
        let meta = serde_json::to_vec_pretty(&self.meta).map_err(|e| BlocklistError::Corrupt {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        write("meta.json", &meta)
    }

    /// Reads the list `root/NAME/` written by `save`; `NoSuchList` if it has no `meta.json`.
    pub fn load(root: &Path, name: &str) -> Result<Blocklist, BlocklistError> {
        let dir = Self::dir(root, name);
        if !dir.join("meta.json").exists() {
            return Err(BlocklistError::NoSuchList(name.to_owned()));
        }
        let read = |file: &str| -> Result<Vec<u8>, BlocklistError> {
            let p = dir.join(file);
            std::fs::read(&p).map_err(io(&p))
        };
        let corrupt = |file: &str, message: String| BlocklistError::Corrupt {
            path: dir.join(file).display().to_string(),
            message,
        };
        let meta: ListMeta = serde_json::from_slice(&read("meta.json")?)
            .map_err(|e| corrupt("meta.json", e.to_string()))?;
        let set = |file: &str| -> Result<Set<Vec<u8>>, BlocklistError> {
            Set::new(read(file)?).map_err(|e| corrupt(file, e.to_string()))
        };
        Ok(Blocklist {
            meta,
            hosts: set("hosts.fst")?,
            urls: set("urls.fst")?,
            exceptions: set("exceptions.fst")?,
        })
    }
}

/// The reversed forms of `host_suffixes(c)`, in the same order, as slices of
/// `reversed`: the exact host, then suffixes of at most five labels, longest
/// first, never the bare top-level label.
fn suffix_prefixes<'a>(c: &Canonical, reversed: &'a str) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(5);
    out.push(reversed);
    if c.ip {
        return out;
    }
    let mut ends: Vec<usize> = reversed.match_indices('.').map(|(i, _)| i).collect();
    ends.reverse();
    for end in ends {
        let p = &reversed[..end];
        let labels = p.matches('.').count() + 1;
        if (2..=5).contains(&labels) && out.len() < 5 {
            out.push(p);
        }
    }
    out
}

pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// All lists of a data directory (`DATA/blocklists/`).
pub struct Lists {
    root: PathBuf,
    /// The lists: loaded in name order, imported ones appended.
    pub lists: Vec<Blocklist>,
}

impl Lists {
    /// Where a data directory keeps its lists: `DATA/blocklists`.
    pub fn root_in(data_dir: &Path) -> PathBuf {
        data_dir.join("blocklists")
    }

    /// Loads every list; a missing directory is no lists.
    pub fn load(data_dir: &Path) -> Result<Lists, BlocklistError> {
        let root = Self::root_in(data_dir);
        let mut lists = Vec::new();
        if root.exists() {
            let mut names: Vec<String> = std::fs::read_dir(&root)
                .map_err(io(&root))?
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("meta.json").exists())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect();
            names.sort();
            for n in names {
                lists.push(Blocklist::load(&root, &n)?);
            }
        }
        Ok(Lists { root, lists })
    }

    /// The directory the lists live in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The list of that name, if loaded.
    pub fn get(&self, name: &str) -> Option<&Blocklist> {
        self.lists.iter().find(|l| l.meta.name == name)
    }

    /// Every list hit for a URL; an allow-list hit suppresses the others.
    pub fn check(&self, c: &Canonical) -> Vec<ListHit> {
        let hits: Vec<ListHit> = self
            .lists
            .iter()
            .filter_map(|l| {
                l.lookup(c).map(|entry| ListHit {
                    list: l.meta.name.clone(),
                    entry,
                    action: l.meta.action,
                    category: l.meta.category.clone(),
                })
            })
            .collect();
        if hits.iter().any(|h| h.action == Action::Allow) {
            return hits
                .into_iter()
                .filter(|h| h.action == Action::Allow)
                .collect();
        }
        hits
    }

    /// Adds entries to a list (creating it), or replaces them.
    #[allow(clippy::too_many_arguments)]
    pub fn import(
        &mut self,
        name: &str,
        category: &str,
        action: Action,
        entries: crate::formats::Entries,
        replace: bool,
    ) -> Result<&ListMeta, BlocklistError> {
        if !valid_name(name) {
            return Err(BlocklistError::Name(name.to_owned()));
        }
        let old = self.lists.iter().position(|l| l.meta.name == name);
        let (mut hosts, mut urls, mut exceptions, serial) = match old.map(|i| &self.lists[i]) {
            Some(l) if !replace => (
                l.domains().collect::<Vec<_>>(),
                l.url_entries(),
                l.excepted_domains(),
                l.meta.serial,
            ),
            Some(l) => (Vec::new(), Vec::new(), Vec::new(), l.meta.serial),
            None => (Vec::new(), Vec::new(), Vec::new(), 0),
        };
        hosts.extend(entries.domains);
        urls.extend(entries.urls);
        exceptions.extend(entries.exceptions);
        let meta = ListMeta {
            name: name.to_owned(),
            category: category.to_owned(),
            action,
            serial: next_serial(serial),
            hosts: 0,
            urls: 0,
            exceptions: 0,
        };
        let list = Blocklist::build(meta, hosts, urls, exceptions);
        list.save(&self.root)?;
        let i = match old {
            Some(i) => {
                self.lists[i] = list;
                i
            }
            None => {
                self.lists.push(list);
                self.lists.len() - 1
            }
        };
        Ok(&self.lists[i].meta)
    }

    /// Removes a whole list.
    pub fn remove(&mut self, name: &str) -> Result<(), BlocklistError> {
        let i = self
            .lists
            .iter()
            .position(|l| l.meta.name == name)
            .ok_or_else(|| BlocklistError::NoSuchList(name.to_owned()))?;
        let dir = self.root.join(name);
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        self.lists.remove(i);
        Ok(())
    }
}

/// A serial that always increases: at least the old one plus one, and at
/// least the current Unix time, as DNS zone serials are usually read.
fn next_serial(old: u64) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (old + 1).max(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::Entries;

    fn entries(domains: &[&str], urls: &[&str], exceptions: &[&str]) -> Entries {
        Entries {
            domains: domains.iter().map(|s| s.to_string()).collect(),
            urls: urls.iter().filter_map(|u| canonical_url_entry(u)).collect(),
            exceptions: exceptions.iter().map(|s| s.to_string()).collect(),
            skipped: 0,
        }
    }

    #[test]
    fn domains_match_with_subdomains_and_prefixes_match_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let mut lists = Lists::load(dir.path()).unwrap();
        lists
            .import(
                "adult",
                "link.blocked",
                Action::Block,
                entries(
                    &["bad.example"],
                    &["http://host.test/porn/"],
                    &["ok.bad.example"],
                ),
                false,
            )
            .unwrap();
        let check = |u: &str| lists.check(&canonicalize(u).unwrap());
        assert_eq!(check("http://www.bad.example/x")[0].entry, "bad.example");
        assert_eq!(check("https://BAD.example.")[0].entry, "bad.example");
        assert!(check("http://notbad.example/").is_empty(), "label boundary");
        assert!(check("http://ok.bad.example/").is_empty(), "exception");
        assert_eq!(
            check("http://host.test/porn/clip?id=1")[0].entry,
            "host.test/porn/"
        );
        assert!(
            check("http://host.test/pornography").is_empty(),
            "path component boundary"
        );

        // Reload from disk: the same answers.
        let again = Lists::load(dir.path()).unwrap();
        assert_eq!(again.lists[0].meta.hosts, 1);
        assert_eq!(
            again
                .check(&canonicalize("http://a.bad.example/").unwrap())
                .len(),
            1
        );
    }

    #[test]
    fn suffix_prefixes_mirror_the_host_suffixes() {
        for u in [
            "http://a.b.c.d.e.f.g/",
            "http://www.example.com/",
            "http://x.test/",
            "http://1.2.3.4/",
            "http://localhost/",
        ] {
            let c = canonicalize(u).unwrap();
            let r = reverse_host(&c.host);
            let got: Vec<String> = suffix_prefixes(&c, &r)
                .into_iter()
                .map(reverse_host)
                .collect();
            assert_eq!(got, crate::canonical::host_suffixes(&c), "{u}");
        }
    }

    #[test]
    fn allow_lists_win_and_serials_increase() {
        let dir = tempfile::tempdir().unwrap();
        let mut lists = Lists::load(dir.path()).unwrap();
        let s1 = lists
            .import(
                "b",
                "link.blocked",
                Action::Block,
                entries(&["x.test"], &[], &[]),
                false,
            )
            .unwrap()
            .serial;
        let s2 = lists
            .import(
                "b",
                "link.blocked",
                Action::Block,
                entries(&["y.test"], &[], &[]),
                false,
            )
            .unwrap()
            .serial;
        assert!(s2 > s1);
        assert_eq!(lists.get("b").unwrap().meta.hosts, 2, "imports add up");
        lists
            .import(
                "ok",
                "link.blocked",
                Action::Allow,
                entries(&["x.test"], &[], &[]),
                false,
            )
            .unwrap();
        let hits = lists.check(&canonicalize("http://x.test/").unwrap());
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].action, Action::Allow);
        lists.remove("ok").unwrap();
        assert!(Lists::load(dir.path()).unwrap().get("ok").is_none());
        assert!(
            lists
                .import("../evil", "c", Action::Block, Entries::default(), false)
                .is_err()
        );
    }
}

//! Import and export formats of blocklists.
//!
//! Import: plain domain lists, hosts files, adblock/AdGuard DNS rules, UT1
//! category directories and CSV. Export: RPZ zones, hosts files, squidGuard
//! `domains`/`urls`, adblock rules and plain lists.

use std::io::{BufRead, Read};
use std::path::Path;
use std::str::FromStr;

use crate::blocklist::{Blocklist, BlocklistError, canonical_domain, canonical_url_entry};

/// Entries read from an import, already canonical.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entries {
    /// Listed domains, canonical (lowercase, punycode).
    pub domains: Vec<String>,
    /// URL prefixes as lookup expressions ("host/path/").
    pub urls: Vec<String>,
    /// Excepted domains (adblock `@@`).
    pub exceptions: Vec<String>,
    /// Lines that held no usable entry (rules of other kinds, garbage).
    pub skipped: u64,
}

/// A file format a blocklist can be imported from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// One domain a line (`*.` and leading dots ignored).
    Domains,
    /// A hosts file: `0.0.0.0 domain` lines; other addresses are skipped.
    Hosts,
    /// Adblock / AdGuard DNS rules: `||domain^`, with `@@` exceptions.
    Adblock,
    /// A UT1 category directory with `domains` and/or `urls` files.
    Ut1,
    /// CSV with a `domain` or `url` column named in its header.
    Csv,
}

impl FromStr for ImportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "domains" => ImportFormat::Domains,
            "hosts" => ImportFormat::Hosts,
            "adblock" => ImportFormat::Adblock,
            "ut1" => ImportFormat::Ut1,
            "csv" => ImportFormat::Csv,
            o => {
                return Err(format!(
                    "unknown import format {o:?} (domains, hosts, adblock, ut1, csv)"
                ));
            }
        })
    }
}

/// A file format blocklists can be exported to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// An RPZ zone file for DNS resolvers, with the lists' highest serial as its SOA serial.
    Rpz,
    /// A hosts file mapping each domain to 0.0.0.0.
    Hosts,
    /// squidGuard `domains` and `urls` files.
    Squidguard,
    /// Adblock rules, `||domain^` a line.
    Adblock,
    /// One domain a line.
    Plain,
}

impl FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "rpz" => ExportFormat::Rpz,
            "hosts" => ExportFormat::Hosts,
            "squidguard" => ExportFormat::Squidguard,
            "adblock" => ExportFormat::Adblock,
            "plain" => ExportFormat::Plain,
            o => {
                return Err(format!(
                    "unknown export format {o:?} (rpz, hosts, squidguard, adblock, plain)"
                ));
            }
        })
    }
}

/// Longest line read; longer lines are skipped, not buffered.
const MAX_LINE: usize = 64 * 1024;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BlocklistError + '_ {
    move |source| BlocklistError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads a file or UT1 directory in the given format.
pub fn import(format: ImportFormat, path: &Path) -> Result<Entries, BlocklistError> {
    let mut e = Entries::default();
    match format {
        ImportFormat::Ut1 => {
            let dir = if path.is_dir() {
                path
            } else {
                path.parent().unwrap_or(path)
            };
            let domains = dir.join("domains");
            let urls = dir.join("urls");
            if !domains.exists() && !urls.exists() {
                return Err(BlocklistError::Format(format!(
                    "{}: a UT1 category directory holds 'domains' and/or 'urls' files",
                    dir.display()
                )));
            }
            if domains.exists() {
                read_lines(&domains, |l| domain_line(l, &mut e))?;
            }
            if urls.exists() {
                read_lines(&urls, |l| url_line(l, &mut e))?;
            }
        }
        ImportFormat::Domains => read_lines(path, |l| domain_line(l, &mut e))?,
        ImportFormat::Hosts => read_lines(path, |l| hosts_line(l, &mut e))?,
        ImportFormat::Adblock => read_lines(path, |l| adblock_line(l, &mut e))?,
        ImportFormat::Csv => read_csv(path, &mut e)?,
    }
    Ok(e)
}

fn read_lines(path: &Path, mut each: impl FnMut(&str)) -> Result<(), BlocklistError> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut reader = std::io::BufReader::new(file);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .by_ref()
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf)
            .map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        if n == MAX_LINE && buf.last() != Some(&b'\n') {
            // Skip the rest of an overlong line.
            let mut sink = Vec::new();
            reader.read_until(b'\n', &mut sink).map_err(io_err(path))?;
            continue;
        }
        each(String::from_utf8_lossy(&buf).trim());
    }
    Ok(())
}

fn strip_comment(line: &str) -> &str {
    line.split('#').next().unwrap_or("").trim()
}

fn domain_line(line: &str, e: &mut Entries) {
    let line = strip_comment(line);
    if line.is_empty() {
        return;
    }
    if line.contains('/') {
        return url_line(line, e);
    }
    match canonical_domain(line) {
        Some(d) => e.domains.push(d),
        None => e.skipped += 1,
    }
}

fn url_line(line: &str, e: &mut Entries) {
    let line = strip_comment(line);
    if line.is_empty() {
        return;
    }
    match canonical_url_entry(line) {
        Some(u) if u.ends_with('/') && u.matches('/').count() == 1 => {
            // "host/" is the whole host.
            e.domains.push(u.trim_end_matches('/').to_owned());
        }
        Some(u) => e.urls.push(u),
        None => e.skipped += 1,
    }
}

fn hosts_line(line: &str, e: &mut Entries) {
    let line = strip_comment(line);
    let mut words = line.split_whitespace();
    let Some(addr) = words.next() else { return };
    if !matches!(addr, "0.0.0.0" | "127.0.0.1" | "::" | "::1" | "0") {
        e.skipped += 1;
        return;
    }
    for host in words {
        if matches!(
            host,
            "localhost" | "localhost.localdomain" | "local" | "broadcasthost" | "0.0.0.0"
        ) {
            continue;
        }
        match canonical_domain(host) {
            Some(d) => e.domains.push(d),
            None => e.skipped += 1,
        }
    }
}

/// Adblock / AdGuard DNS rules: `||domain^` blocks a domain and its
/// subdomains, `@@||domain^` excepts one; options after `$` are ignored.
/// Cosmetic and path rules have no DNS meaning and are skipped.
fn adblock_line(line: &str, e: &mut Entries) {
    if line.is_empty() || line.starts_with('!') || line.starts_with('[') || line.starts_with('#') {
        return;
    }
    let (exception, rule) = match line.strip_prefix("@@") {
        Some(r) => (true, r),
        None => (false, line),
    };
    let rule = rule.split('$').next().unwrap_or("");
    let Some(body) = rule.strip_prefix("||") else {
        e.skipped += 1;
        return;
    };
    let host = body.trim_end_matches('^').trim_end_matches('|');
    if host.contains(['/', '*', '^']) {
        e.skipped += 1;
        return;
    }
    match (canonical_domain(host), exception) {
        (Some(d), false) => e.domains.push(d),
        (Some(d), true) => e.exceptions.push(d),
        (None, _) => e.skipped += 1,
    }
}

/// CSV with a header naming a `domain` or `url` column (others ignored).
fn read_csv(path: &Path, e: &mut Entries) -> Result<(), BlocklistError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|err| BlocklistError::Format(format!("{}: {err}", path.display())))?;
    let headers = reader
        .headers()
        .map_err(|err| BlocklistError::Format(format!("{}: {err}", path.display())))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (domain_col, url_col) = (col("domain"), col("url"));
    if domain_col.is_none() && url_col.is_none() {
        return Err(BlocklistError::Format(format!(
            "{}: the CSV header needs a 'domain' or 'url' column",
            path.display()
        )));
    }
    for record in reader.records() {
        let Ok(record) = record else {
            e.skipped += 1;
            continue;
        };
        if let Some(d) = domain_col.and_then(|c| record.get(c)) {
            domain_line(d, e);
        }
        if let Some(u) = url_col.and_then(|c| record.get(c)) {
            url_line(u, e);
        }
    }
    Ok(())
}

/// Renders lists for operators. squidGuard output is two files, given as
/// `(name, text)` pairs; the other formats are one file.
pub fn export(format: ExportFormat, lists: &[&Blocklist]) -> Vec<(String, String)> {
    let mut domains: Vec<String> = lists.iter().flat_map(|l| l.domains()).collect();
    domains.sort();
    domains.dedup();
    let mut urls: Vec<String> = lists.iter().flat_map(|l| l.url_entries()).collect();
    urls.sort();
    urls.dedup();
    let join = |lines: Vec<String>| {
        let mut s = lines.join("\n");
        if !s.is_empty() {
            s.push('\n');
        }
        s
    };
    match format {
        ExportFormat::Plain => vec![("plain".into(), join(domains))],
        ExportFormat::Hosts => vec![(
            "hosts".into(),
            join(
                domains
                    .into_iter()
                    .map(|d| format!("0.0.0.0 {d}"))
                    .collect(),
            ),
        )],
        ExportFormat::Adblock => vec![(
            "adblock".into(),
            join(domains.into_iter().map(|d| format!("||{d}^")).collect()),
        )],
        ExportFormat::Squidguard => vec![
            ("domains".into(), join(domains)),
            ("urls".into(), join(urls)),
        ],
        ExportFormat::Rpz => {
            let serial = lists.iter().map(|l| l.meta.serial).max().unwrap_or(1);
            vec![("rpz".into(), rpz_zone(&domains, serial))]
        }
    }
}

/// A Response Policy Zone: SOA and NS records, then `CNAME .` (NXDOMAIN) for
/// each domain and a wildcard for its subdomains. Names are relative to the
/// zone's origin, which the operator sets in `named.conf`.
fn rpz_zone(domains: &[String], serial: u64) -> String {
    // SOA serials are 32-bit with wrap-around arithmetic.
    let serial = serial % (1u64 << 32);
    let mut z = String::with_capacity(domains.len() * 48 + 256);
    z.push_str("; cleanweb blocklist export, response policy zone\n");
    z.push_str("$TTL 300\n");
    z.push_str(&format!(
        "@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 604800 300 )\n"
    ));
    z.push_str("  IN NS localhost.\n");
    for d in domains {
        // Host names here are canonical (lowercase, punycode), safe as owner names.
        z.push_str(&format!("{d} CNAME .\n*.{d} CNAME .\n"));
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(f: fn(&str, &mut Entries), text: &str) -> Entries {
        let mut e = Entries::default();
        for l in text.lines() {
            f(l.trim(), &mut e);
        }
        e
    }

    #[test]
    fn each_import_format_reads_its_entries() {
        let e = parse(
            domain_line,
            "# c\nBad.Example\n*.two.test\nexample.org/x/\n\n",
        );
        assert_eq!(e.domains, ["bad.example", "two.test"]);
        assert_eq!(e.urls, ["example.org/x/"]);
        let e = parse(
            hosts_line,
            "127.0.0.1 localhost\n0.0.0.0 a.test b.test # x\n10.0.0.1 c.test\n",
        );
        assert_eq!(
            (e.domains.clone(), e.skipped),
            (vec!["a.test".to_owned(), "b.test".to_owned()], 1)
        );
        let e = parse(
            adblock_line,
            "! title\n||ads.test^\n||x.test^$important\n@@||ok.ads.test^\nexample.com##.banner\n",
        );
        assert_eq!(e.domains, ["ads.test", "x.test"]);
        assert_eq!(e.exceptions, ["ok.ads.test"]);
        assert_eq!(e.skipped, 1);
    }

    #[test]
    fn rpz_has_soa_ns_and_wildcards() {
        let z = rpz_zone(&["a.test".into()], 7);
        assert!(z.contains("IN SOA localhost. hostmaster.localhost. ( 7 "));
        assert!(z.contains("a.test CNAME .\n*.a.test CNAME .\n"));
    }
}

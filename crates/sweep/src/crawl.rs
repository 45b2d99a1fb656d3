//! Crawling a site the user operates: breadth first from a start URL and
//! its sitemaps, within the start's registrable domain, obeying robots.txt,
//! with limits on pages, depth, rate and size, through the SSRF-safe
//! fetcher. HTML pages are moderated as HTML (text, links); images and
//! other same-site resources are told by their content type, and images are
//! moderated too. Results are sweep items keyed by URL, so a resumed crawl
//! re-walks the site but records nothing twice.

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cleanweb_core::Item;
use cleanweb_engine::Engine;
use cleanweb_fetch::content::Content;
use cleanweb_fetch::{FetchLimits, Fetcher};
use cleanweb_store::{Store, Sweep};
use url::Url;

use crate::SweepError;
use crate::run::{Counts, to_sweep_items};
use crate::source::Entry;

/// Limits of a crawl.
#[derive(Clone, Debug)]
pub struct CrawlOptions {
    /// Most pages fetched; the crawl stops there.
    pub max_pages: u64,
    /// Most link hops followed from the start URL; pages listed in sitemaps are at depth 1.
    pub max_depth: u32,
    /// Between requests; robots.txt's Crawl-delay raises it (up to 10 s).
    pub delay: Duration,
    /// Limits for each fetch (size, time, redirects).
    pub fetch: FetchLimits,
    /// Keep every response fetched (robots.txt, sitemaps, pages, pictures)
    /// with its request as WARC 1.1 records appended to this file.
    pub warc: Option<std::path::PathBuf>,
}

/// One robots.txt group: its user agents, rules and crawl delay.
type Group = (Vec<String>, Vec<(bool, String)>, Option<Duration>);

/// The parts of robots.txt a crawler obeys.
#[derive(Debug, Default)]
pub struct Robots {
    /// (allow, pattern) of the group that applies to us.
    rules: Vec<(bool, String)>,
    /// The `Crawl-delay` of the group that applies, if any.
    pub delay: Option<Duration>,
    /// `Sitemap:` URLs, from anywhere in the file.
    pub sitemaps: Vec<String>,
}

impl Robots {
    /// Parses robots.txt for `agent`: its own group if there is one, else
    /// the `*` group.
    pub fn parse(text: &str, agent: &str) -> Robots {
        let agent = agent.to_ascii_lowercase();
        let mut groups: Vec<Group> = Vec::new();
        let mut sitemaps = Vec::new();
        let mut in_agents = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            match key.as_str() {
                "user-agent" => {
                    if !in_agents {
                        groups.push((Vec::new(), Vec::new(), None));
                    }
                    in_agents = true;
                    if let Some(g) = groups.last_mut() {
                        g.0.push(value.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    if let Some(g) = groups.last_mut()
                        && !value.is_empty()
                    {
                        g.1.push((key == "allow", value.to_owned()));
                    }
                }
                "crawl-delay" => {
                    in_agents = false;
                    if let (Some(g), Ok(secs)) = (groups.last_mut(), value.parse::<f64>()) {
                        g.2 = Some(Duration::from_secs_f64(secs.clamp(0.0, 10.0)));
                    }
                }
                "sitemap" => sitemaps.push(value.to_owned()),
                _ => in_agents = false,
            }
        }
        let mine = groups
            .iter()
            .find(|g| g.0.iter().any(|a| a != "*" && agent.contains(a.as_str())))
            .or_else(|| groups.iter().find(|g| g.0.iter().any(|a| a == "*")));
        Robots {
            rules: mine.map(|g| g.1.clone()).unwrap_or_default(),
            delay: mine.and_then(|g| g.2),
            sitemaps,
        }
    }

    /// The longest matching rule decides; Allow wins a tie; no rule allows.
    pub fn allowed(&self, path: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if matches(pattern, path) {
                let len = pattern.len();
                match best {
                    Some((l, a)) if l > len || (l == len && a) => {}
                    _ => best = Some((len, *allow)),
                }
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// robots.txt patterns: a prefix, `*` for any run of characters, and `$`
/// at the end to anchor.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut pos = 0usize;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !path.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else {
            match path[pos..].find(part) {
                Some(at) => pos += at + part.len(),
                None => return false,
            }
        }
    }
    !anchored
        || pos == path.len()
        || (parts.len() > 1 && parts.last().is_some_and(|l| path.ends_with(l)))
}

/// The `<loc>` URLs of a sitemap or sitemap index.
pub fn sitemap_locs(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<loc>") {
        rest = &rest[start + 5..];
        let Some(end) = rest.find("</loc>") else {
            break;
        };
        out.push(rest[..end].trim().replace("&amp;", "&"));
        rest = &rest[end + 6..];
    }
    out
}

/// The crawl's WARC file, opened to append (a resumed crawl adds to it); a
/// new file starts with its `warcinfo` record.
fn open_warc(
    path: &std::path::Path,
    start: &Url,
) -> Result<cleanweb_evidence::WarcWriter<std::io::BufWriter<std::fs::File>>, SweepError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SweepError::io(dir, e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| SweepError::io(path, e))?;
    let new = file.metadata().map(|m| m.len() == 0).unwrap_or(false);
    let mut w = cleanweb_evidence::WarcWriter::new(std::io::BufWriter::new(file));
    if new {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        w.warcinfo(&name, &format!("cleanweb crawl of {start}"))
            .map_err(|e| SweepError::io(path, e))?;
    }
    Ok(w)
}

fn site_of(url: &Url) -> Option<String> {
    cleanweb_url::registrable_domain(url.as_str())
}

/// Crawls (or resumes crawling) `sweep`, whose source is the start URL.
pub async fn crawl(
    engine: Arc<Engine>,
    store: &dyn Store,
    sweep: &Sweep,
    options: &CrawlOptions,
    progress: &mut (dyn FnMut(&Counts, Instant) -> bool + Send),
) -> Result<Counts, SweepError> {
    let start = Url::parse(&sweep.source)
        .map_err(|e| SweepError::Invalid(format!("{}: {e}", sweep.source)))?;
    let site = site_of(&start)
        .ok_or_else(|| SweepError::Invalid(format!("{start}: no registrable domain")))?;
    let fetcher = Arc::new(Fetcher::new(options.fetch.clone()));
    // Pages are cut where the engine would refuse them.
    let max_html_chars = engine.limits().max_html_chars;
    let warc = match &options.warc {
        Some(path) => Some(Arc::new(std::sync::Mutex::new(open_warc(path, &start)?))),
        None => None,
    };
    let warc_path = options.warc.clone();
    let get = |url: Url| {
        let f = fetcher.clone();
        let (warc, warc_path) = (warc.clone(), warc_path.clone());
        let (sweep_id, site) = (sweep.id.clone(), site.clone());
        async move {
            let (fetched, segment) = tokio::task::spawn_blocking(move || {
                let fetched = f.get(&url);
                // Evidence is kept before anything is judged; a write that
                // fails stops the crawl rather than losing it silently.
                let mut segment = None;
                if let (Ok(r), Some(w), Some(p)) = (&fetched, &warc, &warc_path) {
                    let bytes = cleanweb_evidence::capture(r).map_err(|e| SweepError::io(p, e))?;
                    let mut w = w
                        .lock()
                        .map_err(|_| SweepError::Invalid("the WARC writer failed".into()))?;
                    w.get_mut()
                        .write_all(&bytes)
                        .and_then(|()| w.get_mut().flush())
                        .map_err(|e| SweepError::io(p, e))?;
                    segment = Some((r.url.to_string(), bytes));
                }
                Ok::<_, SweepError>((fetched, segment))
            })
            .await
            .map_err(|e| SweepError::Invalid(format!("fetch task failed: {e}")))??;
            // The same segment goes to the evidence store, for bundles.
            if let Some((url, bytes)) = segment {
                store
                    .save_captures(&[cleanweb_store::NewCapture {
                        bytes,
                        url,
                        domain: Some(site),
                        case_id: None,
                        sweep_id: Some(sweep_id),
                        decision_id: None,
                    }])
                    .await?;
            }
            Ok::<_, SweepError>(fetched)
        }
    };
    // Items recorded by an earlier run of this crawl.
    let mut recorded: HashSet<String> = HashSet::new();
    let mut next_seq = 0u64;
    let mut after = None;
    loop {
        let page = store.sweep_items(&sweep.id, after, 5000, false).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        next_seq = last.seq + 1;
        recorded.extend(page.into_iter().map(|i| i.key));
    }
    let mut counts = Counts {
        resumed: recorded.len() as u64,
        total: None,
        ..Counts::default()
    };
    let started = Instant::now();

    let mut robots_url = start.clone();
    robots_url.set_path("/robots.txt");
    robots_url.set_query(None);
    let robots = match get(robots_url).await? {
        Ok(r) if r.status == 200 => Robots::parse(&String::from_utf8_lossy(&r.body), "cleanweb"),
        _ => Robots::default(),
    };
    let delay = options.delay.max(robots.delay.unwrap_or_default());

    let mut queue: VecDeque<(Url, u32)> = VecDeque::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut push = |queue: &mut VecDeque<(Url, u32)>, mut url: Url, depth: u32| {
        url.set_fragment(None);
        if site_of(&url).as_deref() == Some(site.as_str()) && seen.insert(url.to_string()) {
            queue.push_back((url, depth));
        }
    };
    push(&mut queue, start.clone(), 0);
    // Sitemaps: robots.txt's, or /sitemap.xml; an index one level deep.
    let mut maps: Vec<Url> = robots
        .sitemaps
        .iter()
        .filter_map(|s| Url::parse(s).ok())
        .collect();
    if maps.is_empty() {
        maps.extend(start.join("/sitemap.xml"));
    }
    let mut index_depth = 0;
    while !maps.is_empty() && index_depth < 2 {
        let mut nested = Vec::new();
        for map in std::mem::take(&mut maps) {
            if site_of(&map).as_deref() != Some(site.as_str()) {
                continue;
            }
            if let Ok(r) = get(map).await?
                && r.status == 200
            {
                let xml = String::from_utf8_lossy(&r.body);
                let index = xml.contains("<sitemapindex");
                for loc in sitemap_locs(&xml)
                    .into_iter()
                    .filter_map(|l| Url::parse(&l).ok())
                {
                    if index {
                        nested.push(loc);
                    } else {
                        push(&mut queue, loc, 1);
                    }
                }
            }
        }
        maps = nested;
        index_depth += 1;
    }

    let mut fetched_pages = 0u64;
    while let Some((url, depth)) = queue.pop_front() {
        if fetched_pages >= options.max_pages {
            break;
        }
        if !robots.allowed(url.path()) {
            continue;
        }
        if fetched_pages > 0 {
            tokio::time::sleep(delay).await;
        }
        fetched_pages += 1;
        let key = url.to_string();
        let result = get(url.clone()).await?;
        let item: Result<Option<Item>, String> = match result {
            Err(e) => Err(e.to_string()),
            Ok(r) if r.status >= 400 => Err(format!("HTTP {}", r.status)),
            Ok(r) => match cleanweb_fetch::content::read(r, max_html_chars) {
                Content::Page { url: page, html } => {
                    if depth < options.max_depth {
                        for link in cleanweb_html::links(&html, Some(page.as_str())) {
                            if let Ok(u) = Url::parse(&link.url) {
                                push(&mut queue, u, depth + 1);
                            }
                        }
                    }
                    Ok(Some(Item {
                        id: Some(key.clone()),
                        url: Some(page.to_string()),
                        base_url: Some(page.to_string()),
                        html: Some(html),
                        ..Item::default()
                    }))
                }
                Content::Picture { url: pic, body } => Ok(Some(Item {
                    id: Some(key.clone()),
                    url: Some(pic.to_string()),
                    image: Some(body),
                    ..Item::default()
                })),
                Content::Video { url: v, body } => Ok(Some(Item {
                    id: Some(key.clone()),
                    url: Some(v.to_string()),
                    video: Some(body),
                    ..Item::default()
                })),
                Content::Other { .. } => Ok(None),
            },
        };
        if recorded.contains(&key) {
            continue;
        }
        let item = match item {
            Ok(None) => continue,
            Ok(Some(i)) => Ok(i),
            Err(e) => Err(e),
        };
        let entry = Entry {
            seq: next_seq,
            key: key.clone(),
            item,
        };
        next_seq += 1;
        let engine2 = engine.clone();
        let (entry, item, decision) = tokio::task::spawn_blocking(move || {
            let item = entry.item.as_ref().cloned().unwrap_or_default();
            let d = engine2.moderate(&item);
            (entry, item, d)
        })
        .await
        .map_err(|e| SweepError::Invalid(format!("moderation task failed: {e}")))?;
        let records = to_sweep_items(vec![entry], std::slice::from_ref(&item), vec![decision])?;
        store.record_sweep_items(&sweep.id, &records).await?;
        recorded.insert(key);
        for r in &records {
            counts.add(&r.verdict);
        }
        if !progress(&counts, started) {
            return Ok(counts);
        }
    }
    store.set_sweep_status(&sweep.id, "done").await?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_groups_rules_and_wildcards() {
        let r = Robots::parse(
            "User-agent: googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /private\nAllow: /private/ok\nDisallow: /*.pdf$\nCrawl-delay: 2\nSitemap: https://x.example/s.xml\n",
            "cleanweb",
        );
        assert!(r.allowed("/"));
        assert!(!r.allowed("/private/a"));
        assert!(r.allowed("/private/ok/b"));
        assert!(!r.allowed("/doc/a.pdf"));
        assert!(r.allowed("/doc/a.pdf.html"));
        assert_eq!(r.delay, Some(Duration::from_secs(2)));
        assert_eq!(r.sitemaps, vec!["https://x.example/s.xml"]);
        let mine = Robots::parse(
            "User-agent: cleanweb\nDisallow: /x\nUser-agent: *\nDisallow: /",
            "cleanweb",
        );
        assert!(mine.allowed("/y") && !mine.allowed("/x"));
        assert!(Robots::default().allowed("/anything"));
    }

    #[test]
    fn sitemap_locations_are_read() {
        let xml = "<urlset><url><loc> https://a.example/p?x=1&amp;y=2 </loc></url><url><loc>https://a.example/q</loc></url></urlset>";
        assert_eq!(
            sitemap_locs(xml),
            vec!["https://a.example/p?x=1&y=2", "https://a.example/q"]
        );
    }
}

//! A sweep's outputs, written from the store (so a resumed sweep's outputs
//! cover every run): findings.jsonl, deletions.txt (what to delete: a
//! container's outermost file, once), deletions.csv (each file with the
//! members that caused it), summary.csv and summary.html. Streams in pages: memory stays bounded whatever the size.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use cleanweb_store::{Store, Sweep};

use crate::SweepError;

const PAGE: u32 = 2000;
/// Sources listed in the summary.
const TOP: usize = 20;
/// Findings quoted in the HTML summary.
const SAMPLES: usize = 25;

/// Where an item came from, for "top offending sources": a URL's host, a
/// container member's outermost file, a file's directory, otherwise nothing.
fn origin(key: &str, kind: &str) -> Option<String> {
    if let Ok(u) = url::Url::parse(key)
        && let Some(h) = u.host_str()
    {
        return Some(h.to_owned());
    }
    if matches!(kind, "dir" | "file") && key.contains(cleanweb_extract::SEP) {
        return Some(cleanweb_extract::Member::outer(key).to_owned());
    }
    if kind == "dir" {
        return Some(match Path::new(key).parent() {
            Some(p) if !p.as_os_str().is_empty() => p.display().to_string(),
            _ => ".".into(),
        });
    }
    None
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The files written.
#[derive(Debug)]
pub struct Outputs {
    /// The output directory (the sweep's `out_dir`).
    pub dir: PathBuf,
    /// Lines written to `findings.jsonl`: every recorded item.
    pub findings: u64,
    /// Lines written to `deletions.txt`: the files holding an item whose
    /// verdict is block (a container once, however many members blocked).
    pub deletions: u64,
}

/// Writes `findings.jsonl`, `deletions.txt`, `summary.csv` and `summary.html` for a sweep from what
/// the store recorded.
pub async fn write(store: &dyn Store, sweep: &Sweep) -> Result<Outputs, SweepError> {
    let dir = PathBuf::from(&sweep.out_dir);
    std::fs::create_dir_all(&dir).map_err(|e| SweepError::io(&dir, e))?;
    let create = |name: &str| -> Result<BufWriter<File>, SweepError> {
        let p = dir.join(name);
        File::create(&p)
            .map(BufWriter::new)
            .map_err(|e| SweepError::io(&p, e))
    };
    let mut findings = create("findings.jsonl")?;
    let mut deletions = create("deletions.txt")?;
    let mut causes = create("deletions.csv")?;
    writeln!(causes, "file,member,categories").map_err(|e| SweepError::io(&dir, e))?;
    // Only file sweeps have containers; a URL may hold `!/` of its own.
    let files = matches!(sweep.kind.as_str(), "dir" | "file");
    let mut last_deleted: Option<String> = None;
    let (mut n_findings, mut n_deletions) = (0u64, 0u64);
    let mut categories: BTreeMap<String, u64> = BTreeMap::new();
    let mut origins: BTreeMap<String, u64> = BTreeMap::new();
    let mut samples: Vec<(String, String, String)> = Vec::new();
    let mut after = None;
    loop {
        let page = store.sweep_items(&sweep.id, after, PAGE, true).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.seq);
        for it in &page {
            let decision: serde_json::Value = it
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_else(|| {
                    serde_json::Value::String(it.detail.clone().unwrap_or_default())
                });
            let line = serde_json::json!({
                "seq": it.seq, "key": it.key, "verdict": it.verdict,
                "categories": it.categories, "decision": decision,
            });
            writeln!(findings, "{line}").map_err(|e| SweepError::io(&dir, e))?;
            n_findings += 1;
            if it.verdict == "block" {
                let file = if files {
                    cleanweb_extract::Member::outer(&it.key)
                } else {
                    it.key.as_str()
                };
                let member = if file == it.key { "" } else { it.key.as_str() };
                writeln!(
                    causes,
                    "{},{},{}",
                    csv_field(file),
                    csv_field(member),
                    csv_field(&it.categories)
                )
                .map_err(|e| SweepError::io(&dir, e))?;
                // A container's members are consecutive: it is listed once.
                if last_deleted.as_deref() != Some(file) {
                    writeln!(deletions, "{file}").map_err(|e| SweepError::io(&dir, e))?;
                    n_deletions += 1;
                    last_deleted = Some(file.to_owned());
                }
            }
            if it.verdict != "error" {
                for c in it.categories.split_whitespace() {
                    *categories.entry(c.to_owned()).or_default() += 1;
                }
                if let Some(o) = origin(&it.key, &sweep.kind) {
                    *origins.entry(o).or_default() += 1;
                }
                if samples.len() < SAMPLES {
                    samples.push((it.key.clone(), it.verdict.clone(), it.categories.clone()));
                }
            }
        }
    }
    findings.flush().map_err(|e| SweepError::io(&dir, e))?;
    deletions.flush().map_err(|e| SweepError::io(&dir, e))?;
    causes.flush().map_err(|e| SweepError::io(&dir, e))?;

    let counts = store.sweep_counts(&sweep.id).await?;
    let mut top: Vec<(String, u64)> = origins.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(TOP);

    let io = |e| SweepError::io(&dir, e);
    let mut csv = create("summary.csv")?;
    fn row(w: &mut impl Write, kind: &str, name: &str, n: u64) -> std::io::Result<()> {
        writeln!(w, "{kind},\"{}\",{n}", name.replace('"', "\"\""))
    }
    writeln!(csv, "kind,name,count").map_err(io)?;
    for (v, n) in &counts {
        row(&mut csv, "verdict", v, *n).map_err(io)?;
    }
    for (c, n) in &categories {
        row(&mut csv, "category", c, *n).map_err(io)?;
    }
    for (o, n) in &top {
        row(&mut csv, "source", o, *n).map_err(io)?;
    }
    csv.flush().map_err(io)?;

    let mut html = create("summary.html")?;
    let table = |rows: Vec<(String, String)>| -> String {
        rows.iter()
            .map(|(a, b)| {
                format!(
                    "<tr><td>{}</td><td>{}</td></tr>",
                    html_escape(a),
                    html_escape(b)
                )
            })
            .collect()
    };
    let verdict_rows = table(
        counts
            .iter()
            .map(|(v, n)| (v.clone(), n.to_string()))
            .collect(),
    );
    let category_rows = table(
        categories
            .iter()
            .map(|(c, n)| (c.clone(), n.to_string()))
            .collect(),
    );
    let origin_rows = table(
        top.iter()
            .map(|(o, n)| (o.clone(), n.to_string()))
            .collect(),
    );
    let sample_rows: String = samples
        .iter()
        .map(|(k, v, c)| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(k),
                html_escape(v),
                html_escape(c)
            )
        })
        .collect();
    writeln!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sweep {id}</title>\
<style>body{{font:14px sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1.5em}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}</style></head><body>\
<h1>Sweep {id}</h1><p>Source: {source} ({kind}). Findings: {n_findings}; to delete (block): {n_deletions}. \
Content is not shown here; see findings.jsonl and the review console.</p>\
<h2>Verdicts</h2><table>{verdict_rows}</table><h2>Categories</h2><table>{category_rows}</table>\
<h2>Top sources</h2><table>{origin_rows}</table>\
<h2>Samples</h2><table><tr><th>item</th><th>verdict</th><th>categories</th></tr>{sample_rows}</table></body></html>",
        id = html_escape(&sweep.id),
        source = html_escape(&sweep.source),
        kind = html_escape(&sweep.kind),
    )
    .map_err(io)?;
    html.flush().map_err(io)?;
    Ok(Outputs {
        dir,
        findings: n_findings,
        deletions: n_deletions,
    })
}

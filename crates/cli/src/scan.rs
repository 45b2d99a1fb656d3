//! `cleanweb scan`: a clean-up sweep over a directory, one file (an
//! archive, a document, a package, a playlist), a JSONL or CSV export, or a
//! URL list, with progress, resumable by id.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use cleanweb_store::{Sweep, now_ms};
use cleanweb_sweep::{Counts, Kind, Options};

use crate::setup::GlobalArgs;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// A directory, an archive, document, app package or playlist, a .jsonl/.ndjson or .csv export, (with --format urls) a list of URLs, or (with --format m3u) a playlist's URL
    #[arg(required_unless_present_any = ["resume", "list"])]
    path: Option<PathBuf>,
    /// How to read PATH [default: by what it is: dir, file, jsonl, csv]
    #[arg(long, value_parser = ["dir", "file", "jsonl", "csv", "urls", "m3u"])]
    format: Option<String>,
    /// With --format m3u and a URL: let the fetch reach private and loopback addresses
    #[arg(long)]
    allow_private: bool,
    /// CSV column for an item field, e.g. --column text=body --column id=post_id (repeatable)
    #[arg(long = "column", value_name = "FIELD=COLUMN")]
    columns: Vec<String>,
    /// Where the outputs go [default: DATA/sweeps/ID]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Continue the sweep with this id where it stopped
    #[arg(long, value_name = "ID", conflicts_with_all = ["path", "format", "columns", "out"])]
    resume: Option<String>,
    /// List sweeps and their counts
    #[arg(long)]
    list: bool,
    /// Progress as JSON lines on stderr instead of a bar
    #[arg(long)]
    json: bool,
    /// Largest file or line read, in bytes [default: limits.max_image_bytes]
    #[arg(long, value_name = "BYTES")]
    max_bytes: Option<usize>,
    /// Cut the source into jobs for `cleanweb worker` processes (on any machine sharing --database) instead of sweeping here
    #[arg(long, conflicts_with = "resume")]
    distribute: bool,
    /// Stop after this many items (the sweep can be resumed)
    #[arg(long, hide = true)]
    stop_after: Option<u64>,
}

pub fn run(global: &GlobalArgs, args: ScanArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let rt = crate::setup::runtime()?;
    let store = rt.block_on(global.store())?;
    if args.list {
        for s in rt.block_on(store.sweeps())? {
            let counts = rt.block_on(store.sweep_counts(&s.id))?;
            let counts: Vec<String> = counts.iter().map(|(v, n)| format!("{v}={n}")).collect();
            println!(
                "{}\t{}\t{}\t{}\t{}",
                s.id,
                s.status,
                s.kind,
                s.source,
                counts.join(" ")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let sweep = match &args.resume {
        Some(id) => {
            let s = rt
                .block_on(store.sweep(id))?
                .with_context(|| format!("no sweep {id:?}; see `cleanweb scan --list`"))?;
            eprintln!("cleanweb: resuming sweep {} over {}", s.id, s.source);
            s
        }
        None => {
            let mut path = args.path.clone().context("give PATH")?;
            let shown = path.to_string_lossy().into_owned();
            if shown.starts_with("http://") || shown.starts_with("https://") {
                if args.format.as_deref() != Some("m3u") {
                    bail!(
                        "{shown} is a URL: give --format m3u to sweep a playlist, or --format urls with a file listing URLs"
                    );
                }
                path = fetch_playlist(global, &shown, args.allow_private, &config)?;
            }
            let path = std::fs::canonicalize(&path)
                .with_context(|| format!("cannot read {}", crate::shown(&path)))?;
            let kind = match args.format.as_deref() {
                Some("dir") => Kind::Dir,
                Some("jsonl") => Kind::Jsonl,
                Some("csv") => Kind::Csv,
                Some("urls") => Kind::Urls,
                Some("file" | "m3u") => Kind::File,
                _ => Kind::detect(&path).with_context(|| {
                    format!(
                        "cannot tell how to read {}; give --format dir|file|jsonl|csv|urls|m3u",
                        crate::shown(&path)
                    )
                })?,
            };
            let mut columns = std::collections::BTreeMap::new();
            for c in &args.columns {
                let (field, column) = c
                    .split_once('=')
                    .with_context(|| format!("--column {c:?}: write FIELD=COLUMN"))?;
                if !["id", "text", "html", "url", "base_url", "image_path"].contains(&field) {
                    bail!(
                        "--column {c:?}: FIELD is one of id, text, html, url, base_url, image_path"
                    );
                }
                columns.insert(field.to_owned(), column.to_owned());
            }
            let options = Options {
                kind,
                columns,
                max_bytes: args.max_bytes.unwrap_or(config.limits.max_image_bytes),
                distributed: args.distribute,
                archive: Some(cleanweb_extract::Limits::from_config(&config.limits)),
            };
            // Fail on a bad source (missing CSV column) before recording a sweep.
            drop(cleanweb_sweep::entries(&path, &options)?);
            let sweep = new_sweep(
                global,
                path.display().to_string(),
                kind.as_str(),
                serde_json::to_value(&options)?,
                args.out.clone(),
            );
            rt.block_on(store.create_sweep(&sweep))?;
            eprintln!(
                "cleanweb: sweep {id} over {} (resume with `cleanweb scan --resume {id}`)",
                sweep.source,
                id = sweep.id
            );
            sweep
        }
    };
    let options: Options = serde_json::from_value(sweep.options.clone())?;
    if options.distributed {
        return distributed(global, &config, &rt, store, &sweep, args.resume.is_some());
    }
    let engine = Arc::new(global.engine(&config)?);
    let total = cleanweb_sweep::source::count(std::path::Path::new(&sweep.source), &options);
    let mut display = Display::new(args.json, total);
    let stop_after = args.stop_after;
    let counts = rt.block_on(cleanweb_sweep::run(
        engine,
        store.as_ref(),
        &sweep,
        total,
        &mut |c: &Counts, started: Instant| {
            display.update(c, started);
            stop_after.is_none_or(|n| c.done < n)
        },
    ))?;
    display.finish(&counts);
    let finished = rt
        .block_on(store.sweep(&sweep.id))?
        .context("sweep vanished")?;
    if finished.status != "done" {
        eprintln!(
            "cleanweb: stopped; resume with `cleanweb scan --resume {}`",
            sweep.id
        );
        return Ok(ExitCode::from(3));
    }
    let outputs = rt.block_on(cleanweb_sweep::write_outputs(store.as_ref(), &finished))?;
    println!(
        "{}\t{} findings, {} to delete",
        crate::shown(&outputs.dir),
        outputs.findings,
        outputs.deletions
    );
    rt.block_on(store.close());
    Ok(ExitCode::SUCCESS)
}

/// A new sweep record: a short time-ordered id, outputs under
/// DATA/sweeps/ID unless `out` says otherwise.
/// Fetches a playlist through the SSRF-safe fetcher into the data
/// directory, so the sweep (and a resume of it) reads one fixed copy.
fn fetch_playlist(
    global: &GlobalArgs,
    url: &str,
    allow_private: bool,
    config: &cleanweb_core::Config,
) -> anyhow::Result<PathBuf> {
    let parsed = url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    let fetcher = cleanweb_fetch::Fetcher::new(cleanweb_fetch::FetchLimits {
        max_bytes: config.limits.max_image_bytes as u64,
        allow_private,
        ..cleanweb_fetch::FetchLimits::default()
    });
    let fetched = fetcher
        .get(&parsed)
        .with_context(|| format!("cannot fetch {url}"))?;
    if fetched.status != 200 {
        bail!("{url} answered HTTP {}", fetched.status);
    }
    let dir = global.data_dir().join("sweeps").join("fetched");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let host = parsed
        .host_str()
        .unwrap_or("playlist")
        .replace(['/', ':'], "_");
    let path = dir.join(format!("{host}-{}.m3u", now_ms()));
    std::fs::write(&path, &fetched.body)
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "cleanweb: fetched {url} ({} bytes) to {}",
        fetched.body.len(),
        path.display()
    );
    Ok(path)
}

pub(crate) fn new_sweep(
    global: &GlobalArgs,
    source: String,
    kind: &str,
    options: serde_json::Value,
    out: Option<PathBuf>,
) -> Sweep {
    cleanweb_sweep::new_sweep(&global.data_dir(), source, kind, options, out)
}

/// A distributed sweep: queue its jobs; on resume, help finish them, then
/// write the outputs once none is pending.
fn distributed(
    global: &GlobalArgs,
    config: &cleanweb_core::Config,
    rt: &tokio::runtime::Runtime,
    store: Arc<dyn cleanweb_store::Store>,
    sweep: &Sweep,
    resuming: bool,
) -> anyhow::Result<ExitCode> {
    let jobs = rt.block_on(cleanweb_sweep::distribute(store.as_ref(), sweep))?;
    if !resuming {
        println!("{}\t{jobs} jobs queued", sweep.id);
        eprintln!(
            "cleanweb: start `cleanweb worker --sweep {id}` on any machine with this --database; \
             `cleanweb scan --resume {id}` helps and writes the outputs at the end",
            id = sweep.id
        );
        return Ok(ExitCode::SUCCESS);
    }
    let engine = Arc::new(global.engine(config)?);
    let options = crate::worker::options(Some(sweep.id.clone()), 60, true, 0);
    rt.block_on(cleanweb_sweep::work(
        engine,
        store.clone(),
        &options,
        &mut |_, _| {},
    ))?;
    let (pending, done) = rt.block_on(store.sweep_job_counts(&sweep.id))?;
    if pending > 0 {
        bail!("{pending} jobs still pending");
    }
    rt.block_on(store.set_sweep_status(&sweep.id, "done"))?;
    let finished = rt
        .block_on(store.sweep(&sweep.id))?
        .context("sweep vanished")?;
    let outputs = rt.block_on(cleanweb_sweep::write_outputs(store.as_ref(), &finished))?;
    println!(
        "{}\t{} findings, {} to delete ({done} jobs)",
        crate::shown(&outputs.dir),
        outputs.findings,
        outputs.deletions
    );
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on a terminal, JSON lines with --json, else nothing
/// until the end.
pub(crate) struct Display {
    bar: Option<indicatif::ProgressBar>,
    json: bool,
    last: Instant,
}

impl Display {
    pub(crate) fn new(json: bool, total: Option<u64>) -> Display {
        let bar = (!json).then(|| {
            let bar = match total {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::no_length(),
            };
            let style = indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {pos}/{len} {per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar
        });
        Display {
            bar,
            json,
            last: Instant::now() - Duration::from_secs(10),
        }
    }

    pub(crate) fn update(&mut self, c: &Counts, started: Instant) {
        if let Some(bar) = &self.bar {
            bar.set_position(c.done + c.resumed);
            bar.set_message(format!(
                "allow {} review {} block {} error {}",
                c.allow, c.review, c.block, c.error
            ));
        }
        if self.json && self.last.elapsed() >= Duration::from_secs(1) {
            self.last = Instant::now();
            let secs = started.elapsed().as_secs_f64().max(1e-6);
            let line = serde_json::json!({
                "done": c.done + c.resumed, "total": c.total, "per_s": c.done as f64 / secs,
                "allow": c.allow, "review": c.review, "block": c.block, "error": c.error,
            });
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }

    pub(crate) fn finish(&mut self, c: &Counts) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
        if self.json {
            let line = serde_json::json!({
                "done": c.done + c.resumed, "total": c.total, "finished": true,
                "allow": c.allow, "review": c.review, "block": c.block, "error": c.error,
            });
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
}

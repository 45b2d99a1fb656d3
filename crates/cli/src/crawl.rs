//! `cleanweb crawl`: a sweep of a site the user operates, fetched live.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use cleanweb_sweep::Counts;
use cleanweb_sweep::crawl::CrawlOptions;

use crate::scan::Display;
use crate::setup::GlobalArgs;

#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// Where to start (http or https); the crawl stays within its registrable domain
    #[arg(required_unless_present = "resume")]
    url: Option<String>,
    /// Most pages and images fetched
    #[arg(long, default_value_t = 1000)]
    max_pages: u64,
    /// Most links followed from the start page
    #[arg(long, default_value_t = 5)]
    max_depth: u32,
    /// Pause between requests (robots.txt's Crawl-delay can raise it)
    #[arg(long, default_value_t = 250, value_name = "MS")]
    delay_ms: u64,
    /// Largest page or image fetched, in bytes
    #[arg(long, default_value_t = 8 << 20)]
    max_bytes: u64,
    /// Longest time one fetch may take
    #[arg(long, default_value_t = 15, value_name = "SECS")]
    timeout_secs: u64,
    /// Allow private and loopback addresses (an internal site of your own); never use for third-party URLs
    #[arg(long)]
    allow_private: bool,
    /// Where the outputs go [default: DATA/sweeps/ID]
    #[arg(long, value_name = "DIR")]
    out: Option<std::path::PathBuf>,
    /// Continue the crawl with this id (pages already recorded are not recorded again)
    #[arg(long, value_name = "ID", conflicts_with = "url")]
    resume: Option<String>,
    /// Progress as JSON lines on stderr
    #[arg(long)]
    json: bool,
    /// Keep every response fetched, with its request, as WARC 1.1 in OUT/crawl.warc.gz (evidence; a resume appends)
    #[arg(long, conflicts_with = "resume")]
    warc: bool,
}

pub fn run(global: &GlobalArgs, args: CrawlArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let rt = crate::setup::runtime()?;
    let store = rt.block_on(global.store())?;
    let sweep = match &args.resume {
        Some(id) => rt
            .block_on(store.sweep(id))?
            .filter(|s| s.kind == "crawl")
            .with_context(|| format!("no crawl {id:?}; see `cleanweb scan --list`"))?,
        None => {
            let url = args.url.clone().context("give URL")?;
            let parsed = url::Url::parse(&url).with_context(|| format!("{url:?} is not a URL"))?;
            let options = serde_json::json!({
                "max_pages": args.max_pages, "max_depth": args.max_depth,
                "delay_ms": args.delay_ms, "max_bytes": args.max_bytes,
                "timeout_secs": args.timeout_secs, "allow_private": args.allow_private,
                "warc": args.warc,
            });
            let sweep = crate::scan::new_sweep(
                global,
                parsed.to_string(),
                "crawl",
                options,
                args.out.clone(),
            );
            let id = sweep.id.clone();
            rt.block_on(store.create_sweep(&sweep))?;
            eprintln!(
                "cleanweb: crawl {id} of {parsed} (resume with `cleanweb crawl --resume {id}`)"
            );
            sweep
        }
    };
    let o = &sweep.options;
    let num = |k: &str, d: u64| o.get(k).and_then(|v| v.as_u64()).unwrap_or(d);
    let options = CrawlOptions {
        max_pages: num("max_pages", 1000),
        max_depth: u32::try_from(num("max_depth", 5)).unwrap_or(5),
        delay: Duration::from_millis(num("delay_ms", 250)),
        fetch: cleanweb_fetch::FetchLimits {
            max_bytes: num("max_bytes", 8 << 20),
            timeout: Duration::from_secs(num("timeout_secs", 15)),
            allow_private: o
                .get("allow_private")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            ..cleanweb_fetch::FetchLimits::default()
        },
        warc: o
            .get("warc")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
            .then(|| std::path::Path::new(&sweep.out_dir).join("crawl.warc.gz")),
    };
    let engine = Arc::new(global.engine(&config)?);
    let mut display = Display::new(args.json, None);
    let counts = rt.block_on(cleanweb_sweep::crawl::crawl(
        engine,
        store.as_ref(),
        &sweep,
        &options,
        &mut |c: &Counts, started: Instant| {
            display.update(c, started);
            true
        },
    ))?;
    display.finish(&counts);
    let finished = rt
        .block_on(store.sweep(&sweep.id))?
        .context("crawl vanished")?;
    let outputs = rt.block_on(cleanweb_sweep::write_outputs(store.as_ref(), &finished))?;
    println!(
        "{}\t{} pages and images, {} findings, {} to delete",
        crate::shown(&outputs.dir),
        counts.done + counts.resumed,
        outputs.findings,
        outputs.deletions
    );
    Ok(ExitCode::SUCCESS)
}

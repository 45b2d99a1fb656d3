//! The `cleanweb` binary: thin glue over the library crates.

mod audit;
mod bank;
mod blocklist;
mod check;
mod crawl;
mod eval;
mod evidence;
mod hash;
mod image;
mod jsonl;
mod keys;
mod lexicon;
mod models;
mod ocr;
mod report;
mod rewards;
mod scan;
mod serve;
mod setup;
mod sites;
mod users;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// cleanweb finds and removes obscene and sexual content: a moderation API and
/// CLI, clean-up sweeps, human review and public reports.
#[derive(Debug, Parser)]
#[command(name = "cleanweb", version, about, long_about = None)]
#[command(
    after_help = "Start with:\n  cleanweb check '一段要检查的文字'          moderate text here and now\n  cleanweb serve --data-dir ./data           run the HTTP API (prints an admin key once)\n\nEvery command shares one data directory (--data-dir or CLEANWEB_DATA_DIR), so the CLI and the server see the same store."
)]
struct Cli {
    #[command(flatten)]
    global: setup::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API on the embedded SQLite store in the data directory.
    Serve(serve::ServeArgs),
    /// Moderate texts given as arguments, or stdin; --jsonl for one JSON item per line.
    Check(check::CheckArgs),
    /// Manage API keys (stored only as hashes).
    #[command(subcommand)]
    Key(keys::KeyCommand),
    /// Import, list, remove and export URL blocklists.
    #[command(subcommand)]
    Blocklist(blocklist::BlocklistCommand),
    /// Check URLs against the blocklists.
    #[command(subcommand)]
    Url(blocklist::UrlCommand),
    /// The site registry: add sites, change their status, see their history.
    #[command(subcommand)]
    Sites(sites::SitesCommand),
    /// Evidence for prosecution: signed bundles (export, verify), the signing key, retention.
    #[command(subcommand)]
    Evidence(evidence::EvidenceCommand),
    /// Hash banks: known images matched by PDQ, MD5 or SHA-256.
    #[command(subcommand)]
    Bank(bank::BankCommand),
    /// Print the PDQ hash, quality and MD5 of image files.
    Hash(hash::HashArgs),
    /// Sweep a directory, a JSONL/CSV export or a URL list: findings, deletion list, summary; resumable.
    Scan(scan::ScanArgs),
    /// Crawl a site you operate (robots.txt, sitemaps, same domain, SSRF-safe) and moderate its pages and images.
    Crawl(crawl::CrawlArgs),
    /// Process jobs of distributed sweeps (scan --distribute) from the shared --database.
    Worker(worker::WorkerArgs),
    /// Console accounts (admin, reviewer, auditor), passwords as argon2id.
    #[command(subcommand)]
    User(users::UserCommand),
    /// The reward ledger for public reports: export (audited), pay
    #[command(subcommand)]
    Rewards(rewards::RewardsCommand),
    /// Accountability reports: `report compliance --month YYYY-MM`.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// The tamper-evident audit log: verify its chain, export it.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Print the nudity model's raw detections for image files.
    DetectImage(image::DetectArgs),
    /// Read the text (Chinese and English) and the QR codes in pictures.
    Ocr(ocr::OcrArgs),
    /// Write a copy of an image with the detected regions blurred, pixelated or blacked out.
    Censor(image::CensorArgs),
    /// Fetch and check the model files (pinned, verified by SHA-256).
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Measure the engine on a labelled set.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Work with lexicon files.
    #[command(subcommand)]
    Lexicon(lexicon::LexiconCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    setup::init_tracing(&cli.global);
    let result = match cli.command {
        Command::Serve(args) => serve::run(&cli.global, args),
        Command::Check(args) => check::run(&cli.global, args),
        Command::Key(cmd) => keys::run(&cli.global, cmd),
        Command::Lexicon(cmd) => lexicon::run(cmd),
        Command::Eval(cmd) => eval::run(&cli.global, cmd),
        Command::Blocklist(cmd) => blocklist::run(&cli.global, cmd),
        Command::Url(cmd) => blocklist::run_url(&cli.global, cmd),
        Command::Sites(cmd) => sites::run(&cli.global, cmd),
        Command::Evidence(cmd) => evidence::run(&cli.global, cmd),
        Command::Hash(args) => hash::run(&cli.global, args),
        Command::Bank(cmd) => bank::run(&cli.global, cmd),
        Command::Scan(args) => scan::run(&cli.global, args),
        Command::Crawl(args) => crawl::run(&cli.global, args),
        Command::Audit(cmd) => audit::run(&cli.global, cmd),
        Command::Report(cmd) => report::run(&cli.global, cmd),
        Command::User(cmd) => users::run(&cli.global, cmd),
        Command::Rewards(cmd) => rewards::run(&cli.global, cmd),
        Command::Worker(args) => worker::run(&cli.global, args),
        Command::DetectImage(args) => image::detect(&cli.global, args),
        Command::Censor(args) => image::censor_file(&cli.global, args),
        Command::Ocr(args) => ocr::run(&cli.global, args),
        Command::Models(cmd) => models::run(&cli.global, cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cleanweb: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Where a path came from, for messages.
fn shown(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// Reads a file, refusing one larger than `max` bytes before reading it.
fn read_bounded(path: &std::path::Path, max: usize) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", shown(path)))?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", shown(path)))?;
    if bytes.len() > max {
        anyhow::bail!("{} is larger than {max} bytes", shown(path));
    }
    Ok(bytes)
}

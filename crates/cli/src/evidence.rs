//! `cleanweb evidence`: signed bundles for prosecution (export, verify),
//! the signing key, and retention.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use cleanweb_service::evidence::{ExportLimits, Subject, export};

use crate::setup::{GlobalArgs, KeySource};

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Write a signed evidence bundle (zip) about a site, a report case or a sweep (audited).
    Export {
        /// A site: a domain or URL (its registrable domain)
        #[arg(long, group = "subject", required = true)]
        site: Option<String>,
        /// A report case, by id
        #[arg(long, group = "subject")]
        case: Option<uuid::Uuid>,
        /// A sweep or crawl, by id
        #[arg(long, group = "subject")]
        sweep: Option<String>,
        /// The bundle to write (replaced atomically)
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
    },
    /// Check a bundle: the signature, then every file's SHA-256; names the first that fails.
    Verify {
        bundle: PathBuf,
        /// The fingerprint the signing key must have (SHA256:…), as the deployment publishes it
        #[arg(long)]
        fingerprint: Option<String>,
    },
    /// Print the evidence key's public half and fingerprint (creating the key on SQLite if missing).
    Key,
    /// Delete captures past retention ([evidence] retain_days), except under the legal hold (audited).
    Prune {
        /// Days to keep [default: the config's retain_days]
        #[arg(long, value_name = "DAYS")]
        older_than: Option<u32>,
    },
}

pub fn key(global: &GlobalArgs) -> anyhow::Result<cleanweb_evidence::key::EvidenceKey> {
    let (key, source) = global
        .evidence_key(true)?
        .context("no evidence key: set CLEANWEB_EVIDENCE_KEY or --evidence-key-file")?;
    if let KeySource::Created(path) = source {
        eprintln!(
            "cleanweb: created the evidence key {} (mode 600); keep a copy: bundles are signed with it",
            path.display()
        );
    }
    Ok(key)
}

pub fn run(global: &GlobalArgs, cmd: EvidenceCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EvidenceCommand::Verify {
            bundle,
            fingerprint,
        } => {
            let file = std::fs::File::open(&bundle)
                .with_context(|| format!("opening {}", bundle.display()))?;
            let verified = match cleanweb_evidence::bundle::verify(
                std::io::BufReader::new(file),
                Default::default(),
            ) {
                Ok(v) => v,
                Err(e) => {
                    println!("FAILED\t{}\t{e}", bundle.display());
                    return Ok(ExitCode::FAILURE);
                }
            };
            let got = verified.key.fingerprint();
            if let Some(want) = fingerprint
                && want.trim() != got
            {
                println!(
                    "FAILED\t{}\tsigned by {got}, not by {}",
                    bundle.display(),
                    want.trim()
                );
                return Ok(ExitCode::FAILURE);
            }
            println!(
                "OK\t{}\t{} files\tsigned by {got}\t{} {}",
                bundle.display(),
                verified.files.len(),
                verified.manifest["subject"]["kind"]
                    .as_str()
                    .unwrap_or_default(),
                verified.manifest["subject"]["id"]
                    .as_str()
                    .unwrap_or_default(),
            );
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Key => {
            let key = key(global)?;
            println!("{}\t{}", key.public().to_hex(), key.public().fingerprint());
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Export {
            site,
            case,
            sweep,
            out,
        } => {
            let subject = match (site, case, sweep) {
                (Some(s), _, _) => Subject::Site(s),
                (_, Some(c), _) => Subject::Case(c),
                (_, _, Some(w)) => Subject::Sweep(w),
                _ => anyhow::bail!("give --site, --case or --sweep"),
            };
            let key = key(global)?;
            let dir = out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            std::fs::create_dir_all(dir)?;
            let tmp = tempfile::NamedTempFile::new_in(dir)?;
            let exported = crate::setup::runtime()?.block_on(async {
                let store = global.store().await?;
                let (file, exported) = export(
                    store.as_ref(),
                    &subject,
                    &crate::audit::cli_actor(),
                    &key,
                    &ExportLimits::default(),
                    std::io::BufWriter::new(tmp.reopen()?),
                )
                .await?;
                let file = file.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                anyhow::Ok(exported)
            })?;
            tmp.persist(&out)
                .with_context(|| format!("writing {}", out.display()))?;
            let mut so = std::io::stdout().lock();
            writeln!(
                so,
                "{}\t{} decisions\t{} captures\t{} withheld (sexual.minors)\t{} files\tmanifest sha256 {}\tsigned by {}",
                out.display(),
                exported.decisions,
                exported.captures,
                exported.withheld,
                exported.files,
                exported.manifest_sha256,
                exported.fingerprint
            )?;
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Prune { older_than } => {
            let config = global.config()?;
            let days = older_than.unwrap_or(config.evidence.retain_days);
            crate::setup::runtime()?.block_on(async {
                let store = global.store().await?;
                let pruned = cleanweb_service::evidence::prune(
                    store.as_ref(),
                    days,
                    &crate::audit::cli_actor(),
                )
                .await?;
                println!(
                    "removed {} captures older than {days} days; {} kept under the legal hold",
                    pruned.removed, pruned.held
                );
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}

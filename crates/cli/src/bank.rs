use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use cleanweb_core::{Action, Bank, BankEntry, Category, Signal};
use cleanweb_match::ImageHashes;
use cleanweb_service::Curator;
use cleanweb_service::curator::is_hash;
use cleanweb_vision::PdqHash;

use crate::setup::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum BankCommand {
    /// Create a bank.
    Create {
        name: String,
        /// pdq (pictures) | vpdq (videos) | md5 | sha256 (exact files)
        #[arg(long, default_value = "pdq")]
        signal: Signal,
        #[arg(long, default_value = "sexual.explicit")]
        category: Category,
        /// block | review | allow (allow suppresses other banks' matches)
        #[arg(long, default_value = "block")]
        action: Action,
        /// Largest PDQ distance that matches
        #[arg(long, default_value_t = 31)]
        threshold: u32,
        /// Match only the image as it is, not its rotations and flips
        #[arg(long)]
        no_dihedral: bool,
        /// vpdq: percent of the item's frames that must match a banked video's
        #[arg(long, default_value_t = 80)]
        query_pct: u32,
        /// vpdq: percent of the banked video's frames that must be hit
        #[arg(long, default_value_t = 0)]
        compared_pct: u32,
    },
    /// List banks with their entry counts.
    List,
    /// Delete a bank and its entries.
    Delete { name: String },
    /// Import hashes: CSV with a `hash` column (ThreatExchange/HMA style; also
    /// source, external_id or id, note) or a plain list of hex hashes; for a
    /// vpdq bank, HMA's signal lines (`vpdq [...]` or `[...]`) or CSV with a
    /// `vpdq` column.
    Import { name: String, file: PathBuf },
    /// Export a bank as CSV.
    Export { name: String },
    /// Add one hash, or the hash of an image or video file.
    Add {
        name: String,
        hash_or_file: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Remove one hash.
    Remove { name: String, hash: String },
    /// Match an image or video file (or a PDQ hash) against every bank.
    Match { file_or_hash: String },
}

pub fn run(global: &GlobalArgs, cmd: BankCommand) -> anyhow::Result<ExitCode> {
    let rt = crate::setup::runtime()?;
    let store = rt.block_on(global.store())?;
    // No engine runs here: a server picks bank changes up on reload.
    let curator = Curator::new(store.as_ref(), None);
    let actor = crate::audit::cli_actor();
    let bank_named = |name: &str| rt.block_on(curator.bank(name));
    match cmd {
        BankCommand::Create {
            name,
            signal,
            category,
            action,
            threshold,
            no_dihedral,
            query_pct,
            compared_pct,
        } => {
            let bank = Bank {
                name: name.clone(),
                signal,
                category,
                action,
                threshold,
                dihedral: !no_dihedral,
                query_pct,
                compared_pct,
            };
            rt.block_on(curator.create_bank(&bank, &actor))?;
            eprintln!("created bank {name} ({signal})");
        }
        BankCommand::List => {
            for b in rt.block_on(store.banks())? {
                let n = rt.block_on(store.bank_entries(&b.name))?.len();
                println!(
                    "{}\t{}\t{}\t{}\tthreshold {}\t{} entries",
                    b.name, b.signal, b.category, b.action, b.threshold, n
                );
            }
        }
        BankCommand::Delete { name } => rt.block_on(curator.delete_bank(&name, &actor))?,
        BankCommand::Import { name, file } => {
            let bank = bank_named(&name)?;
            let (entries, skipped) = read_entries(&file, bank.signal)?;
            let read = entries.len();
            let added = rt.block_on(curator.import_entries(
                &name,
                entries,
                &actor,
                &file.display().to_string(),
            ))?;
            println!("{name}: {added} new hashes ({read} read, {skipped} lines skipped)");
        }
        BankCommand::Export { name } => {
            let video = bank_named(&name)?.signal == Signal::Vpdq;
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            let mut header = vec![
                "hash",
                "source",
                "external_id",
                "note",
                "added_by",
                "added_at_ms",
            ];
            if video {
                header.push("vpdq");
            }
            w.write_record(&header)?;
            for e in rt.block_on(store.bank_entries(&name))? {
                let at = e.added_at_ms.to_string();
                let opt = |o: &Option<String>| o.clone().unwrap_or_default();
                let mut record = vec![
                    e.hash.clone(),
                    opt(&e.source),
                    opt(&e.external_id),
                    opt(&e.note),
                    opt(&e.added_by),
                    at,
                ];
                if video {
                    record.push(opt(&e.frames));
                }
                w.write_record(&record)?;
            }
            w.flush()?;
        }
        BankCommand::Add {
            name,
            hash_or_file,
            note,
        } => {
            let template = BankEntry {
                hash: hash_or_file.to_ascii_lowercase(),
                source: Some("cli".into()),
                note,
                added_by: std::env::var("USER").ok(),
                ..BankEntry::default()
            };
            let path = Path::new(&hash_or_file);
            let (hash, added) = if path.is_file() && crate::hash::is_video_file(path) {
                let config = global.config()?;
                let limits = cleanweb_engine::video_limits(&config.limits);
                let bytes = crate::read_bounded(path, limits.max_bytes as usize)?;
                let decoder = std::sync::Arc::new(cleanweb_engine::video::Decoder::locate(1)?);
                let (entry, added) = rt
                    .block_on(curator.add_video(&name, bytes, decoder, limits, template, &actor))?;
                (entry.hash, added)
            } else if path.is_file() {
                let bytes = std::fs::read(&hash_or_file)
                    .with_context(|| format!("cannot read {hash_or_file}"))?;
                let (entry, added) = rt.block_on(curator.add_image(
                    &name,
                    bytes,
                    cleanweb_engine::decode_limits(&global.config()?.limits),
                    template,
                    &actor,
                ))?;
                (entry.hash, added)
            } else {
                let hash = template.hash.clone();
                let added = rt.block_on(curator.add_entries(&name, vec![template], &actor))?;
                (hash, added == 1)
            };
            let what = if added {
                "added"
            } else {
                "already in the bank"
            };
            println!("{hash}\t{what}");
        }
        BankCommand::Remove { name, hash } => {
            rt.block_on(curator.remove_entry(&name, &hash, &actor))?
        }
        BankCommand::Match { file_or_hash } => {
            let banks = global.load_banks()?;
            let path = Path::new(&file_or_hash);
            if path.is_file() && crate::hash::is_video_file(path) {
                let limits = cleanweb_engine::video_limits(&global.config()?.limits);
                // The bytes for exact-file banks; the file is decoded in place.
                let bytes = crate::read_bounded(path, limits.max_bytes as usize)?;
                let video =
                    cleanweb_engine::video::Decoder::locate(1)?.decode_file(path, &limits)?;
                print_matches(banks.match_video(&bytes, &video.hashes));
                return Ok(ExitCode::SUCCESS);
            }
            let hashes = if path.is_file() {
                let limits = cleanweb_engine::decode_limits(&global.config()?.limits);
                ImageHashes::of_bytes(&std::fs::read(&file_or_hash)?, &limits)
                    .map_err(anyhow::Error::msg)?
            } else {
                let h = PdqHash::parse(&file_or_hash.to_ascii_lowercase()).with_context(|| {
                    format!("{file_or_hash:?} is neither a file nor a PDQ hash")
                })?;
                // A bare hash has no bytes and no rotations to compare.
                ImageHashes {
                    pdq: [h; 8],
                    quality: 100,
                    md5: String::new(),
                    sha256: String::new(),
                }
            };
            print_matches(banks.match_image(&hashes));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per hit: bank, action, category, how close, entry.
fn print_matches(matches: Vec<cleanweb_match::BankMatch>) {
    if matches.is_empty() {
        println!("no match");
    }
    for m in matches {
        let close = match m.shares {
            Some(s) => format!(
                "frames {:.0}% of this, {:.0}% of the banked video",
                s.query_pct, s.compared_pct
            ),
            None => format!("distance {}", m.distance),
        };
        println!(
            "{}\t{}\t{}\t{close}\t{}",
            m.bank, m.action, m.category, m.entry
        );
    }
}

/// Reads a CSV with a `hash` header, or one hex hash per line; for vPDQ,
/// HMA's signal lines or a CSV with a `vpdq` column. A vPDQ entry's hash is
/// set by the curator from its frames.
fn read_entries(file: &Path, signal: Signal) -> anyhow::Result<(Vec<BankEntry>, usize)> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let first = text.lines().next().unwrap_or("").to_ascii_lowercase();
    if signal == Signal::Vpdq && !first.split(',').any(|c| c.trim() == "vpdq") {
        let mut entries = Vec::new();
        let mut skipped = 0;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let signal_text = line.strip_prefix("vpdq ").unwrap_or(line).trim();
            match cleanweb_match::vpdq::parse_signal(signal_text) {
                Ok(f) if !f.is_empty() => entries.push(BankEntry {
                    hash: "0".repeat(64),
                    frames: Some(signal_text.to_owned()),
                    ..BankEntry::default()
                }),
                _ => skipped += 1,
            }
        }
        return Ok((entries, skipped));
    }
    if signal == Signal::Vpdq {
        return read_csv(&text, "vpdq", |f| {
            cleanweb_match::vpdq::parse_signal(f)
                .is_ok()
                .then(|| BankEntry {
                    hash: "0".repeat(64),
                    frames: Some(f.to_owned()),
                    ..BankEntry::default()
                })
        });
    }
    if first.split(',').any(|c| c.trim() == "hash") {
        return read_csv(&text, "hash", |h| {
            let h = h.to_ascii_lowercase();
            is_hash(signal, &h).then(|| BankEntry {
                hash: h,
                ..BankEntry::default()
            })
        });
    }
    let mut entries = Vec::new();
    let mut skipped = 0;
    for line in text.lines() {
        let h = line
            .split('#')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if h.is_empty() {
            continue;
        }
        if is_hash(signal, &h) {
            entries.push(BankEntry {
                hash: h,
                ..BankEntry::default()
            });
        } else {
            skipped += 1;
        }
    }
    Ok((entries, skipped))
}

/// A CSV whose `key` column makes the entry (`entry` refuses a bad value;
/// the row is skipped); `source`, `external_id` (or `id`) and `note` are
/// read too.
fn read_csv(
    text: &str,
    key: &str,
    entry: impl Fn(&str) -> Option<BankEntry>,
) -> anyhow::Result<(Vec<BankEntry>, usize)> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = r.headers()?.clone();
    let col = |n: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(n))
    };
    let (value, source, ext, note) = (
        col(key),
        col("source"),
        col("external_id").or(col("id")),
        col("note"),
    );
    let (mut entries, mut skipped) = (Vec::new(), 0);
    for rec in r.records() {
        let Ok(rec) = rec else {
            skipped += 1;
            continue;
        };
        let get = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        match get(value).as_deref().and_then(&entry) {
            Some(e) => entries.push(BankEntry {
                source: get(source),
                external_id: get(ext),
                note: get(note),
                ..e
            }),
            None => skipped += 1,
        }
    }
    Ok((entries, skipped))
}

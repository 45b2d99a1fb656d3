use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use cleanweb_url::formats::{self, ExportFormat, ImportFormat};
use cleanweb_url::{Action, Lists, canonicalize};

use crate::setup::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum BlocklistCommand {
    /// Import entries into a list (created if new; entries are added unless --replace).
    Import {
        /// The list's name
        #[arg(long)]
        list: String,
        /// domains | hosts | adblock | ut1 | csv
        #[arg(long)]
        format: ImportFormat,
        /// The label category hits get
        #[arg(long, default_value = "link.blocked")]
        category: cleanweb_core::Category,
        /// block | review | allow (an allow list suppresses the others' hits)
        #[arg(long, default_value = "block")]
        action: Action,
        /// Replace the list's entries instead of adding to them
        #[arg(long)]
        replace: bool,
        /// A file, or a UT1 category directory
        path: PathBuf,
    },
    /// List the lists.
    List,
    /// Remove a list.
    Remove {
        #[arg(long)]
        list: String,
    },
    /// Export lists for DNS resolvers, proxies and browsers.
    Export {
        /// rpz | hosts | squidguard | adblock | plain
        #[arg(long)]
        format: ExportFormat,
        /// Lists to export (repeatable) [default: every list whose action is block]
        #[arg(long)]
        list: Vec<String>,
        /// Write here instead of stdout (a directory for squidguard)
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UrlCommand {
    /// Canonicalize URLs and check them against every list.
    Check {
        #[arg(required = true)]
        urls: Vec<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(global: &GlobalArgs, cmd: BlocklistCommand) -> anyhow::Result<ExitCode> {
    let data = global.data_dir();
    let mut lists = Lists::load(&data)?;
    match cmd {
        BlocklistCommand::Import {
            list,
            format,
            category,
            action,
            replace,
            path,
        } => {
            let entries = formats::import(format, &path)?;
            let skipped = entries.skipped;
            let meta = lists.import(&list, category.as_str(), action, entries, replace)?;
            println!(
                "{}: {} domains, {} URL prefixes, {} exceptions (serial {}); {skipped} lines skipped",
                meta.name, meta.hosts, meta.urls, meta.exceptions, meta.serial
            );
        }
        BlocklistCommand::List => {
            for l in &lists.lists {
                let m = &l.meta;
                println!(
                    "{}\t{}\t{}\t{} domains\t{} urls\t{} exceptions\tserial {}",
                    m.name, m.action, m.category, m.hosts, m.urls, m.exceptions, m.serial
                );
            }
        }
        BlocklistCommand::Remove { list } => {
            lists.remove(&list)?;
            eprintln!("removed list {list}");
        }
        BlocklistCommand::Export { format, list, out } => {
            let chosen: Vec<&cleanweb_url::Blocklist> = if list.is_empty() {
                lists
                    .lists
                    .iter()
                    .filter(|l| l.meta.action == Action::Block)
                    .collect()
            } else {
                list.iter()
                    .map(|n| lists.get(n).with_context(|| format!("no list named {n:?}")))
                    .collect::<anyhow::Result<_>>()?
            };
            let files = formats::export(format, &chosen);
            match out {
                Some(dir) if format == ExportFormat::Squidguard => {
                    std::fs::create_dir_all(&dir)?;
                    for (name, text) in files {
                        std::fs::write(dir.join(&name), text)?;
                    }
                }
                Some(file) => {
                    let text: String = files.into_iter().map(|(_, t)| t).collect();
                    std::fs::write(&file, text)?;
                }
                None => {
                    for (name, text) in files {
                        if format == ExportFormat::Squidguard {
                            println!("# {name}");
                        }
                        print!("{text}");
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_url(global: &GlobalArgs, cmd: UrlCommand) -> anyhow::Result<ExitCode> {
    let UrlCommand::Check { urls, json } = cmd;
    let lists = Lists::load(&global.data_dir())?;
    for u in urls {
        let c = match canonicalize(&u) {
            Ok(c) => c,
            Err(e) => {
                println!("{u}\terror: {e}");
                continue;
            }
        };
        let hits = lists.check(&c);
        let verdict = if hits.iter().any(|h| h.action == Action::Block) {
            "block"
        } else if hits.iter().any(|h| h.action == Action::Review) {
            "review"
        } else {
            "allow"
        };
        if json {
            let hits: Vec<_> = hits
                .iter()
                .map(|h| serde_json::json!({"list": h.list, "entry": h.entry, "action": h.action, "category": h.category}))
                .collect();
            println!(
                "{}",
                serde_json::json!({"url": u, "canonical": c.to_string(), "verdict": verdict, "hits": hits})
            );
        } else {
            println!("{verdict}\t{c}");
            for h in hits {
                println!("  {}\t{}\t{}", h.list, h.action, h.entry);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use cleanweb_core::{Decision, Evidence, Item, Source, Verdict};
use cleanweb_service::Keeper;

use crate::jsonl;
use crate::setup::GlobalArgs;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Texts to moderate; with none (and no --image), stdin is read as one text
    texts: Vec<String>,
    /// Image files to moderate, one item each (repeatable)
    #[arg(long = "image", value_name = "FILE", conflicts_with = "jsonl")]
    images: Vec<std::path::PathBuf>,
    /// Video files to moderate, one item each (repeatable); needs ffmpeg
    #[arg(long = "video", value_name = "FILE", conflicts_with = "jsonl")]
    videos: Vec<std::path::PathBuf>,
    /// Files of any kind, one item each, or one per member for an archive, document, app package or playlist (repeatable)
    #[arg(long = "file", value_name = "FILE", conflicts_with = "jsonl")]
    files: Vec<std::path::PathBuf>,
    /// Read one JSON item per line from stdin, write one decision per line
    #[arg(long, conflicts_with = "texts")]
    jsonl: bool,
    /// Print each decision as JSON instead of the human-readable form
    #[arg(long)]
    json: bool,
    /// Do not record decisions in the store
    #[arg(long)]
    no_store: bool,
}

pub fn run(global: &GlobalArgs, args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let engine = global.engine(&config)?;
    let rt = crate::setup::runtime()?;
    let store = if args.no_store {
        None
    } else {
        Some(rt.block_on(global.store())?)
    };
    let keeper = Keeper {
        source: Source::Cli,
        store_allow: config.store.store_allow,
    };
    if args.jsonl {
        let sink = jsonl::Sink {
            store: store.as_deref().map(|s| (s, &rt)),
            keeper,
        };
        let stdin = io::BufReader::with_capacity(1 << 16, io::stdin());
        let stdout = io::BufWriter::new(io::stdout().lock());
        jsonl::run(&engine, stdin, stdout, &sink).context("check --jsonl failed")?;
        return Ok(ExitCode::SUCCESS);
    }
    let texts = if args.texts.is_empty()
        && args.images.is_empty()
        && args.videos.is_empty()
        && args.files.is_empty()
    {
        let mut s = String::new();
        io::stdin()
            .read_to_string(&mut s)
            .context("cannot read stdin as UTF-8 text")?;
        vec![s]
    } else {
        args.texts
    };
    let mut items: Vec<(String, anyhow::Result<Item>)> = texts
        .into_iter()
        .map(|t| (t.clone(), Ok(Item::text(t))))
        .collect();
    let media = [
        (&args.images, config.limits.max_image_bytes, false),
        (&args.videos, config.limits.max_video_bytes, true),
    ];
    for (paths, max, video) in media {
        for path in paths {
            let item = crate::read_bounded(path, max).map(|bytes| {
                let mut item = Item {
                    id: Some(crate::shown(path)),
                    ..Item::default()
                };
                *(if video {
                    &mut item.video
                } else {
                    &mut item.image
                }) = Some(bytes);
                item
            });
            items.push((String::new(), item));
        }
    }
    let limits = cleanweb_extract::Limits {
        max_member_bytes: config
            .limits
            .max_video_bytes
            .max(config.limits.max_image_bytes),
        ..cleanweb_extract::Limits::default()
    };
    // Members are read lazily, a few ahead: an archive is never all in memory.
    let members = args.files.into_iter().flat_map(move |path| {
        let name = crate::shown(&path);
        cleanweb_extract::members(path, name, limits.clone()).map(|m| {
            let text = m
                .item
                .as_ref()
                .ok()
                .and_then(|i| i.text.clone())
                .unwrap_or_default();
            let path = m.path;
            (text, m.item.map_err(|e| anyhow::anyhow!("{path}: {e}")))
        })
    });
    let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = io::stdout().lock();
    for (text, item) in items.into_iter().chain(members) {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                writeln!(out, "error: {e:#}")?;
                continue;
            }
        };
        if let Some(id) = &item.id
            && !args.json
        {
            writeln!(out, "{id}")?;
        }
        let mut decision = match engine.moderate(&item) {
            Ok(d) => d,
            Err(e) => {
                writeln!(out, "error: {e}")?;
                continue;
            }
        };
        if let Some(store) = &store
            && let Some(r) = keeper.keep(&item, &decision)
        {
            rt.block_on(store.save_decisions(std::slice::from_ref(&r)))?;
            decision = r.decision;
        }
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&decision)?)?;
        } else {
            print_human(&mut out, &text, &decision, color)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The verdict, the text with evidence highlighted, then one line per label.
fn print_human(out: &mut impl Write, text: &str, d: &Decision, color: bool) -> io::Result<()> {
    let (on, off) = if color {
        ("\x1b[1;31m", "\x1b[0m")
    } else {
        ("[[", "]]")
    };
    let verdict = match (d.verdict, color) {
        (Verdict::Block, true) => "\x1b[1;31mBLOCK\x1b[0m".to_owned(),
        (Verdict::Review, true) => "\x1b[1;33mREVIEW\x1b[0m".to_owned(),
        (Verdict::Allow, true) => "\x1b[1;32mALLOW\x1b[0m".to_owned(),
        (v, false) => v.as_str().to_uppercase(),
    };
    writeln!(out, "{verdict}")?;
    let mut spans: Vec<(usize, usize)> = d
        .labels
        .iter()
        .flat_map(|l| &l.evidence)
        .filter_map(|e| match e {
            Evidence::Span {
                field, start, end, ..
            } if field == "text" => Some((*start, *end)),
            _ => None,
        })
        .collect();
    spans.sort_unstable();
    if !spans.is_empty() {
        let mut line = String::from("  ");
        let mut open = 0usize;
        for (i, c) in text.chars().enumerate() {
            if spans.iter().any(|&(s, _)| s == i) && open == 0 {
                line.push_str(on);
            }
            open += spans.iter().filter(|&&(s, _)| s == i).count();
            line.push(if c == '\n' { ' ' } else { c });
            let closing = spans.iter().filter(|&&(_, e)| e == i + 1).count();
            if closing > 0 && open > 0 {
                open = open.saturating_sub(closing);
                if open == 0 {
                    line.push_str(off);
                }
            }
        }
        writeln!(out, "{line}")?;
    }
    for l in &d.labels {
        let terms: Vec<String> = l
            .evidence
            .iter()
            .filter_map(|e| match e {
                Evidence::Span {
                    matched,
                    term,
                    start,
                    end,
                    ..
                } => Some(format!("{matched:?}@{start}..{end} ({term})")),
                Evidence::Region { class, score, rect } => Some(format!(
                    "{class} {score:.2} at x={} y={} w={} h={}",
                    rect[0], rect[1], rect[2], rect[3]
                )),
                Evidence::Frame {
                    time,
                    class,
                    score,
                    rect,
                    ..
                } => Some(format!(
                    "{class} {score:.2} at {time:.1} s, x={} y={} w={} h={}",
                    rect[0], rect[1], rect[2], rect[3]
                )),
                Evidence::Code {
                    format,
                    payload,
                    class,
                    rect,
                } => Some(format!(
                    "{format} code ({class}) {payload:?} at x={} y={} w={} h={}",
                    rect[0], rect[1], rect[2], rect[3]
                )),
                Evidence::Hash {
                    bank,
                    distance,
                    entry,
                } => Some(format!("bank {bank} entry {entry} distance {distance}")),
                Evidence::Ocr {
                    text,
                    matched,
                    term,
                    rect,
                    time,
                    ..
                } => Some(format!(
                    "text in picture {text:?}: {matched:?} ({term}){} at x={} y={} w={} h={}",
                    time.map(|t| format!(" at {t:.1} s")).unwrap_or_default(),
                    rect[0],
                    rect[1],
                    rect[2],
                    rect[3]
                )),
                _ => None,
            })
            .collect();
        writeln!(
            out,
            "  {:<18} {:.2}  {:<14} {}",
            l.category.as_str(),
            l.score,
            l.source,
            terms.join(", ")
        )?;
    }
    for w in &d.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    Ok(())
}

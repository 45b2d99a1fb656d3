//! `cleanweb ocr`: the text and the codes in pictures, one line per file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rayon::prelude::*;
use serde::Serialize;

use crate::setup::GlobalArgs;

#[derive(Debug, Args)]
pub struct OcrArgs {
    /// Picture files (JPEG, PNG, GIF, WebP, BMP); an animation's first frame is read
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// JSON Lines: {"file", "lines": [{"text", "score", "box"}], "codes": [{"format", "payload", "class", "box"}], "timing"}
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct CodeOut {
    format: &'static str,
    payload: String,
    /// `contact:wechat`, `link` or `text`.
    class: String,
    #[serde(rename = "box")]
    rect: [u32; 4],
}

#[derive(Serialize, Default)]
struct FileOut {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<cleanweb_ocr::Line>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    codes: Option<Vec<CodeOut>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timing: Option<cleanweb_ocr::Timing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn run(global: &GlobalArgs, args: OcrArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let ocr = crate::models::load_ocr(&global.models_dir(), &config.image)?;
    let limits = cleanweb_engine::decode_limits(&config.limits);
    let read_limits = cleanweb_ocr::ReadLimits {
        max_lines: config.image.ocr_max_lines,
        deadline: None,
    };
    // Files run in parallel, each model call on its own session; output
    // stays in argument order.
    let results: Vec<FileOut> = args
        .files
        .par_iter()
        .map(|path| {
            let mut out = FileOut {
                file: crate::shown(path),
                ..FileOut::default()
            };
            let read = || -> Result<(cleanweb_ocr::Reading, Vec<CodeOut>), String> {
                let bytes =
                    crate::read_bounded(path, limits.max_bytes).map_err(|e| format!("{e:#}"))?;
                let rgb =
                    cleanweb_vision::decode_rgb(&bytes, &limits).map_err(|e| e.to_string())?;
                let reading = ocr.read(&rgb, &read_limits).map_err(|e| e.to_string())?;
                let codes = cleanweb_codes::decode(&rgb)
                    .into_iter()
                    .map(|c| CodeOut {
                        format: c.format,
                        class: match c.kind {
                            cleanweb_codes::Kind::Contact(k) => format!("contact:{k}"),
                            cleanweb_codes::Kind::Link => "link".into(),
                            cleanweb_codes::Kind::Text => "text".into(),
                        },
                        payload: c.payload,
                        rect: c.rect,
                    })
                    .collect();
                Ok((reading, codes))
            };
            match read() {
                Ok((reading, codes)) => {
                    out.lines = Some(reading.lines);
                    out.codes = Some(codes);
                    out.warnings = reading.warnings;
                    out.timing = Some(reading.timing);
                }
                Err(e) => out.error = Some(e),
            }
            out
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    for r in &results {
        failed |= r.error.is_some();
        if args.json {
            writeln!(stdout, "{}", serde_json::to_string(r)?)?;
            continue;
        }
        if let Some(e) = &r.error {
            writeln!(stdout, "{}: error: {e}", r.file)?;
            continue;
        }
        let lines = r.lines.as_deref().unwrap_or_default();
        let codes = r.codes.as_deref().unwrap_or_default();
        if lines.is_empty() && codes.is_empty() {
            writeln!(stdout, "{}: no text, no codes", r.file)?;
        } else {
            writeln!(stdout, "{}:", r.file)?;
        }
        for l in lines {
            let [x, y, w, h] = l.rect();
            writeln!(
                stdout,
                "  {:.2}  x={x} y={y} w={w} h={h}  {}",
                l.score, l.text
            )?;
        }
        for c in codes {
            let [x, y, w, h] = c.rect;
            writeln!(
                stdout,
                "  {} ({})  x={x} y={y} w={w} h={h}  {}",
                c.format, c.class, c.payload
            )?;
        }
        for w in &r.warnings {
            writeln!(stdout, "  warning: {w}")?;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

//! `cleanweb detect-image` (raw model detections, for comparing with the
//! reference) and `cleanweb censor`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use cleanweb_nudity::{CensorMode, censor};
use rayon::prelude::*;
use serde::Serialize;

use crate::setup::GlobalArgs;

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Image files
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per file: {"file", "detections": [{"class", "score", "box"}]}
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct FileDetections<'a> {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detections: Option<&'a [cleanweb_nudity::Detection]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn detect(global: &GlobalArgs, args: DetectArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let model = crate::models::load(&global.models_dir(), &config.image)?;
    let limits = cleanweb_engine::decode_limits(&config.limits);
    // Files run in parallel, each through its own session, so decoding one
    // overlaps inference of another; output stays in argument order.
    let results: Vec<Result<Vec<cleanweb_nudity::Detection>, String>> = args
        .files
        .par_iter()
        .map(|path| {
            let bytes =
                crate::read_bounded(path, limits.max_bytes).map_err(|e| format!("{e:#}"))?;
            let rgb = cleanweb_vision::decode_rgb(&bytes, &limits).map_err(|e| e.to_string())?;
            let mut out = model.detect(&[&rgb]).map_err(|e| e.to_string())?;
            Ok(out.pop().unwrap_or_default())
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    for (path, result) in args.files.iter().zip(&results) {
        let file = crate::shown(path);
        if args.json {
            let line = match result {
                Ok(d) => FileDetections {
                    file,
                    detections: Some(d),
                    error: None,
                },
                Err(e) => FileDetections {
                    file,
                    detections: None,
                    error: Some(e.clone()),
                },
            };
            writeln!(stdout, "{}", serde_json::to_string(&line)?)?;
        } else {
            match result {
                Ok(d) if d.is_empty() => writeln!(stdout, "{file}: nothing detected")?,
                Ok(d) => {
                    writeln!(stdout, "{file}:")?;
                    for x in d {
                        let [bx, by, bw, bh] = x.rect;
                        writeln!(
                            stdout,
                            "  {:<26} {:.3}  x={bx} y={by} w={bw} h={bh}",
                            x.class, x.score
                        )?;
                    }
                }
                Err(e) => writeln!(stdout, "{file}: error: {e}")?,
            }
        }
        failed |= result.is_err();
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, Args)]
pub struct CensorArgs {
    /// The image to censor
    input: PathBuf,
    /// Where to write the censored copy; the format follows the extension (png, jpg, webp, bmp)
    output: PathBuf,
    /// How regions are hidden
    #[arg(long, default_value = "blur", value_parser = ["blur", "pixelate", "black"])]
    mode: String,
    /// Only these classes (comma-separated NudeNet class names) [default: every class the config maps to a category]
    #[arg(long, value_delimiter = ',')]
    classes: Vec<String>,
}

pub fn censor_file(global: &GlobalArgs, args: CensorArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let mode: CensorMode = args.mode.parse().map_err(anyhow::Error::msg)?;
    let model = crate::models::load(&global.models_dir(), &config.image)?;
    let limits = cleanweb_engine::decode_limits(&config.limits);
    let bytes = crate::read_bounded(&args.input, limits.max_bytes)?;
    let mut rgb = cleanweb_vision::decode_rgb(&bytes, &limits)
        .with_context(|| format!("cannot decode {}", crate::shown(&args.input)))?;
    let detections = model.detect(&[&rgb])?.pop().unwrap_or_default();
    let chosen: Vec<[u32; 4]> = detections
        .iter()
        .filter(|d| {
            if args.classes.is_empty() {
                let rule = config
                    .image
                    .classes
                    .get(&d.class)
                    .cloned()
                    .unwrap_or_else(|| cleanweb_nudity::default_rule(&d.class));
                rule.category.is_some() && d.score >= rule.min_score
            } else {
                args.classes.contains(&d.class)
            }
        })
        .map(|d| d.rect)
        .collect();
    censor(&mut rgb, &chosen, mode);
    let image = image::RgbImage::from_raw(rgb.width, rgb.height, rgb.pixels)
        .context("censored image has the wrong size")?;
    image
        .save(&args.output)
        .with_context(|| format!("cannot write {}", crate::shown(&args.output)))?;
    eprintln!(
        "cleanweb: {} region(s) censored ({}) in {}",
        chosen.len(),
        args.mode,
        crate::shown(&args.output)
    );
    Ok(ExitCode::SUCCESS)
}

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use cleanweb_vision::{decode_rgb, luma_from_rgb, md5_hex, pdq_dihedral, sha256_hex};

/// PDQ quality below this is too low to match on (flat or tiny images).
const LOW_QUALITY: u8 = 50;

#[derive(Debug, Args)]
pub struct HashArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON, with SHA-256 and the eight dihedral PDQ hashes
    #[arg(long)]
    json: bool,
}

/// Prints `pdq_hex quality md5 path` per file; a file that cannot be read or
/// decoded gets an error line and the rest go on (exit code 1 at the end).
pub fn run(global: &crate::setup::GlobalArgs, args: HashArgs) -> anyhow::Result<ExitCode> {
    // The configured limits, as for moderation.
    let limits = cleanweb_engine::decode_limits(&global.config()?.limits);
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for path in &args.files {
        let result = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                let rgb = decode_rgb(&bytes, &limits).map_err(|e| e.to_string())?;
                let (w, h) = (rgb.width as usize, rgb.height as usize);
                let (variants, quality) = pdq_dihedral(&luma_from_rgb(&rgb.pixels, w, h), h, w);
                Ok((bytes, variants, quality, w, h))
            });
        match result {
            Ok((bytes, variants, quality, w, h)) => {
                if args.json {
                    let v = serde_json::json!({
                        "file": path.display().to_string(),
                        "pdq": variants[0].to_string(),
                        "quality": quality,
                        "low_quality": quality < LOW_QUALITY,
                        "md5": md5_hex(&bytes),
                        "sha256": sha256_hex(&bytes),
                        "width": w, "height": h,
                        "dihedral": variants.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                    });
                    writeln!(out, "{v}")?;
                } else {
                    let low = if quality < LOW_QUALITY {
                        "\tlow-quality"
                    } else {
                        ""
                    };
                    writeln!(
                        out,
                        "{} {quality} {} {}{low}",
                        variants[0],
                        md5_hex(&bytes),
                        path.display()
                    )?;
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("{}: {e}", path.display());
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

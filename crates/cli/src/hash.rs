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
    /// Print JSON, with SHA-256 and the eight dihedral PDQ hashes (for a
    /// video: its MD5 and every hashed frame)
    #[arg(long)]
    json: bool,
    /// For videos, print vPDQ in the reference's text format, one line per
    /// hashed frame: frame,quality,pdq_hex,timestamp (with several files,
    /// each file's lines follow a `# FILE` line)
    #[arg(long, conflicts_with = "json")]
    vpdq: bool,
}

/// Prints `pdq_hex quality md5 path` per picture and `vpdq FRAMES md5 path`
/// per video; a file that cannot be read or decoded gets an error line and
/// the rest go on (exit code 1 at the end).
pub fn run(global: &crate::setup::GlobalArgs, args: HashArgs) -> anyhow::Result<ExitCode> {
    // The configured limits, as for moderation.
    let config = global.config()?;
    let limits = cleanweb_engine::decode_limits(&config.limits);
    let video_limits = cleanweb_engine::video_limits(&config.limits);
    let mut decoder = None;
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for path in &args.files {
        if is_video_file(path) {
            let decoder = match &mut decoder {
                Some(d) => d,
                None => decoder.insert(cleanweb_engine::video::Decoder::locate(1)?),
            };
            match hash_video(decoder, path, &video_limits, &args, args.files.len() > 1) {
                Ok(text) => out.write_all(text.as_bytes())?,
                Err(e) => {
                    failed = true;
                    eprintln!("{}: {e}", path.display());
                }
            }
            continue;
        }
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

/// Whether a file starts like a video container.
pub(crate) fn is_video_file(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 188 * 3];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    cleanweb_engine::video::is_video(&head[..n])
}

/// A video's hashes as text: vPDQ lines, JSON, or one summary line.
fn hash_video(
    decoder: &cleanweb_engine::video::Decoder,
    path: &std::path::Path,
    limits: &cleanweb_engine::video::VideoLimits,
    args: &HashArgs,
    several: bool,
) -> anyhow::Result<String> {
    use cleanweb_engine::video::vpdq;
    let bytes = crate::read_bounded(path, limits.max_bytes as usize)?;
    let video = decoder.decode_file(path, limits)?;
    if let Some(why) = &video.truncated {
        eprintln!("{}: {why}", path.display());
    }
    let md5 = md5_hex(&bytes);
    Ok(if args.vpdq {
        let mut text = if several {
            format!("# {}\n", path.display())
        } else {
            String::new()
        };
        for f in &video.hashes {
            text.push_str(&vpdq::line(f));
            text.push('\n');
        }
        text
    } else if args.json {
        let frames: Vec<serde_json::Value> = video
            .hashes
            .iter()
            .map(|f| {
                serde_json::json!({
                    "frame": f.index,
                    "quality": f.quality,
                    "pdq": cleanweb_vision::PdqHash(f.hash()).to_string(),
                    "timestamp": f.time,
                })
            })
            .collect();
        let v = serde_json::json!({
            "file": path.display().to_string(),
            "kind": "video",
            "md5": md5,
            "sha256": sha256_hex(&bytes),
            "width": video.width, "height": video.height, "fps": video.fps,
            "container": video.container, "codec": video.codec,
            "vpdq": frames,
        });
        format!("{v}\n")
    } else {
        format!("vpdq:{} {md5} {}\n", video.hashes.len(), path.display())
    })
}

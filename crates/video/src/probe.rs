//! What ffprobe says of a file's first video stream, checked against the
//! limits before any frame is decoded.

use std::io::Read;

use serde::Deserialize;

use crate::child::spawn;
use crate::{Decoder, VideoError, VideoLimits};

/// The demuxers a video may be read with: the containers platforms carry.
/// Playlists (HLS, concat) and other formats that open further inputs are
/// not among them.
pub const DEMUXERS: &str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts";

/// A child's first arguments: `leading`, then the guards every child gets
/// before its input (local files only, read by a demuxer on the list).
pub(crate) fn guarded(leading: &[&str]) -> Vec<String> {
    leading
        .iter()
        .chain(&["-protocol_whitelist", "file", "-format_whitelist", DEMUXERS])
        .map(|s| s.to_string())
        .collect()
}

/// Most bytes of ffprobe's answer read.
const MAX_PROBE_OUTPUT: u64 = 64 << 10;

/// The facts of a video that decoding depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// The demuxer that read the file.
    pub container: String,
    /// The first video stream's codec.
    pub codec: String,
    /// Frame width in pixels, from the stream's header.
    pub width: u32,
    /// Frame height in pixels, from the stream's header.
    pub height: u32,
    /// Frames per second: the stream's average rate, else its base rate.
    pub fps: f64,
    /// Duration in seconds, as the container or the stream claims it.
    pub duration: Option<f64>,
    /// The stream's pixel format (`yuv420p`, `yuvj420p`, ...).
    pub pix_fmt: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Stream {
    codec_name: Option<String>,
    pix_fmt: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct Format {
    format_name: Option<String>,
    duration: Option<String>,
}

/// `"30000/1001"` as a rate; `None` for `0/0` and other non-rates.
fn rate(text: Option<&str>) -> Option<f64> {
    let (n, d) = text?.split_once('/')?;
    let (n, d): (f64, f64) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
    let r = n / d;
    (r.is_finite() && r > 0.0).then_some(r)
}

impl Decoder {
    /// Probes `path` (a local file) with ffprobe and checks the stream's
    /// size against `limits`.
    pub fn probe(
        &self,
        path: &std::path::Path,
        limits: &VideoLimits,
        deadline: std::time::Instant,
    ) -> Result<Probe, VideoError> {
        let mut args = guarded(&["-v", "error"]);
        args.extend(
            [
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=codec_name,pix_fmt,width,height,avg_frame_rate,r_frame_rate,duration:format=format_name,duration",
                "-of",
                "json",
                &crate::file_url(path),
            ]
            .map(str::to_owned),
        );
        let mut run = spawn(&self.ffprobe, &args, limits.max_memory, deadline)?;
        let mut out = Vec::new();
        let read = (&mut run.stdout)
            .take(MAX_PROBE_OUTPUT)
            .read_to_end(&mut out);
        let ended = run.finish();
        if ended.killed {
            return Err(VideoError::TimeLimit(limits.max_time));
        }
        if read.is_err() || !ended.success {
            return Err(VideoError::Unreadable(first_line(&ended.stderr)));
        }
        let answer: Answer = serde_json::from_slice(&out)
            .map_err(|e| VideoError::Unreadable(format!("unexpected probe answer: {e}")))?;
        let Some(stream) = answer.streams.into_iter().next() else {
            return Err(VideoError::NoVideoStream);
        };
        let (width, height) = match (stream.width, stream.height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
            _ => {
                return Err(VideoError::Unreadable(
                    "the video stream has no frame size".into(),
                ));
            }
        };
        let pixels = u64::from(width) * u64::from(height);
        if pixels > limits.max_pixels {
            return Err(VideoError::TooManyPixels {
                width,
                height,
                limit: limits.max_pixels,
            });
        }
        let fps = rate(stream.avg_frame_rate.as_deref())
            .or_else(|| rate(stream.r_frame_rate.as_deref()))
            .ok_or_else(|| VideoError::Unreadable("the video stream has no frame rate".into()))?;
        let format = answer.format;
        let duration = format
            .as_ref()
            .and_then(|f| f.duration.as_deref())
            .or(stream.duration.as_deref())
            .and_then(|d| d.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d >= 0.0);
        Ok(Probe {
            container: format.and_then(|f| f.format_name).unwrap_or_default(),
            codec: stream.codec_name.unwrap_or_default(),
            pix_fmt: stream.pix_fmt.unwrap_or_default(),
            width,
            height,
            fps,
            duration,
        })
    }
}

/// The first line of a child's stderr, or a default when it said nothing.
pub(crate) fn first_line(stderr: &str) -> String {
    let line = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    // "file:/tmp/cleanweb-video-x: Invalid data..." names a temporary file.
    let line = match line.strip_prefix("file:") {
        Some(rest) => rest.split_once(": ").map_or(rest, |(_, msg)| msg),
        None => line,
    };
    if line.is_empty() {
        "the decoder could not read it".to_owned()
    } else {
        line.chars().take(300).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_refuse_non_rates() {
        assert_eq!(rate(Some("25/1")), Some(25.0));
        assert!((rate(Some("30000/1001")).unwrap() - 29.97).abs() < 0.001);
        assert_eq!(rate(Some("0/0")), None);
        assert_eq!(rate(Some("1/0")), None);
        assert_eq!(rate(Some("junk")), None);
        assert_eq!(rate(None), None);
    }
}

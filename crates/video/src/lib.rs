//! Video for cleanweb: a file is probed and decoded by Debian's `ffprobe`
//! and `ffmpeg` running as bounded child processes, and one pass over the
//! decoded frames yields both its vPDQ hash (PDQ of one frame a second, as
//! Meta's reference `vpdq` computes it) and a spread of distinct frames for
//! the image detectors.
//!
//! Why child processes: Debian's libav is built with `--enable-gpl`, so
//! linking it would make the binary GPL, and a decoder that crashes, hangs
//! or balloons must cost one item, not the server. Each child runs with an
//! address-space limit, may not write files, is killed at its deadline, and
//! reads only a local file through a whitelist of demuxers
//! ([`DEMUXERS`](probe::DEMUXERS)); playlists and other formats that open
//! further inputs are refused. At most `max_decodes` run at once.
//!
//! What it does not do: no network input (callers fetch first), no audio,
//! and no detection; the engine hands the frames to the detectors.
#![deny(missing_docs)]

mod child;
mod probe;
mod sniff;
pub mod vpdq;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use cleanweb_core::{DecodedVideo, FrameHash, Rgb, VideoFrame};
use cleanweb_vision::{Spread, luma_from_rgb_f32, pdq_dihedral, shrink};

pub use probe::{DEMUXERS, Probe};
pub use sniff::is_video;

/// Hard limits on decoding an untrusted video.
#[derive(Clone, Debug)]
pub struct VideoLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Seconds of video read; the rest of a longer one is ignored.
    pub max_seconds: u64,
    /// Largest frame (width x height), from the probe, before decoding.
    pub max_pixels: u64,
    /// Frames kept for the image detectors, spread over the video.
    pub max_frames: usize,
    /// Longest side of the frames kept for the image detectors.
    pub sample_side: u32,
    /// Frames within this many bits (PDQ) of one already kept are not kept.
    pub near_duplicate_bits: u32,
    /// Seconds between hashed frames (vPDQ's `seconds_per_hash`).
    pub seconds_per_hash: f64,
    /// Wall time for one video, waiting for a slot included; the decoder
    /// is killed when it passes.
    pub max_time: Duration,
    /// Address space of each decoder process, in bytes.
    pub max_memory: u64,
}

impl Default for VideoLimits {
    fn default() -> Self {
        VideoLimits {
            max_bytes: 24 << 20,
            max_seconds: 3 * 3600,
            max_pixels: 3840 * 2160,
            max_frames: 32,
            sample_side: 720,
            near_duplicate_bits: 8,
            seconds_per_hash: 1.0,
            max_time: Duration::from_secs(120),
            max_memory: 2 << 30,
        }
    }
}

/// Why a video could not be decoded within its limits.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// ffmpeg or ffprobe is not installed.
    #[error("video needs Debian's ffmpeg and ffprobe on PATH (scripts/deps installs them)")]
    Missing,
    /// The file is empty.
    #[error("the video is empty")]
    Empty,
    /// The file has more bytes than `max_bytes`: (size, limit).
    #[error("the video is {0} bytes, the limit is {1}")]
    TooLarge(u64, u64),
    /// ffprobe or ffmpeg could not read it: not a video, a container that
    /// is not allowed, or a damaged file. The message is the decoder's.
    #[error("not a video cleanweb reads (mp4/mov, webm/mkv, avi, flv, mpeg-ts, 3gp): {0}")]
    Unreadable(String),
    /// The file has no video stream.
    #[error("the file has no video stream")]
    NoVideoStream,
    /// The stream's frames exceed `max_pixels`.
    #[error("video frames are {width}x{height}, more than the limit of {limit} pixels")]
    TooManyPixels {
        /// Frame width from the header.
        width: u32,
        /// Frame height from the header.
        height: u32,
        /// The `max_pixels` limit in force.
        limit: u64,
    },
    /// The deadline passed before the first frame was decoded.
    #[error("decoding the video took longer than {0:?}")]
    TimeLimit(Duration),
    /// The decoder could not be started or fed.
    #[error("video decoder: {0}")]
    Decoder(String),
}

/// The installed decoder programs and the slots for concurrent decodes.
#[derive(Debug)]
pub struct Decoder {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    slots: Slots,
}

impl Decoder {
    /// Finds `ffmpeg` and `ffprobe` on `PATH`; `max_decodes` bounds how many
    /// videos are decoded at once.
    pub fn locate(max_decodes: usize) -> Result<Decoder, VideoError> {
        let ffmpeg = child::find_program("ffmpeg").ok_or(VideoError::Missing)?;
        let ffprobe = child::find_program("ffprobe").ok_or(VideoError::Missing)?;
        Ok(Decoder {
            ffmpeg,
            ffprobe,
            slots: Slots::new(max_decodes),
        })
    }

    /// Decodes video bytes: they are written to a private temporary file
    /// first, since MP4 files are read out of order.
    pub fn decode_bytes(
        &self,
        bytes: &[u8],
        limits: &VideoLimits,
    ) -> Result<DecodedVideo, VideoError> {
        check_size(bytes.len() as u64, limits)?;
        let mut file = tempfile::Builder::new()
            .prefix("cleanweb-video-")
            .tempfile()
            .map_err(|e| VideoError::Decoder(format!("temporary file: {e}")))?;
        file.write_all(bytes)
            .and_then(|()| file.flush())
            .map_err(|e| VideoError::Decoder(format!("temporary file: {e}")))?;
        self.decode_file(file.path(), limits)
    }

    /// Decodes a local video file: vPDQ hashes of every hashed frame, and
    /// the frames sampled for the image detectors.
    pub fn decode_file(
        &self,
        path: &Path,
        limits: &VideoLimits,
    ) -> Result<DecodedVideo, VideoError> {
        let started = Instant::now();
        let deadline = started + limits.max_time;
        let size = std::fs::metadata(path)
            .map_err(|e| VideoError::Decoder(format!("{}: {e}", path.display())))?
            .len();
        check_size(size, limits)?;
        let _slot = self.slots.take(deadline, limits.max_time)?;
        let probe = self.probe(path, limits, deadline)?;
        let frame_mod = vpdq::frame_mod(limits.seconds_per_hash, probe.fps);
        let mut run = child::spawn(
            &self.ffmpeg,
            &decode_args(path, &probe, frame_mod, limits),
            limits.max_memory,
            deadline,
        )?;
        let (w, h) = (probe.width as usize, probe.height as usize);
        let mut buf = vec![0u8; w * h * 3];
        let mut hashes: Vec<FrameHash> = Vec::new();
        let mut spread: Spread<(FrameHash, VideoFrame)> = Spread::new(limits.max_frames);
        let mut partial = false;
        loop {
            match read_full(&mut run.stdout, &mut buf) {
                Ok(n) if n == buf.len() => {}
                Ok(0) => break,
                Ok(_) | Err(_) => {
                    partial = true;
                    break;
                }
            }
            let index = hashes.len() as u64 * frame_mod;
            let time = vpdq::timestamp(index, probe.fps);
            let (variants, quality) = pdq_dihedral(&luma_from_rgb_f32(&buf, w, h), h, w);
            let hash = variants[0];
            let fh = FrameHash {
                index,
                time,
                variants: variants.map(|v| v.0),
                quality,
            };
            hashes.push(fh);
            let near = |(kept, _): &(FrameHash, VideoFrame)| {
                cleanweb_vision::PdqHash(kept.hash()).distance(&hash) <= limits.near_duplicate_bits
            };
            // Near duplicates are not offered, so the spread is even over
            // distinct frames; the maker runs only for frames it keeps.
            if !spread.kept().any(near) {
                spread.offer(|| {
                    let image = Rgb {
                        width: probe.width,
                        height: probe.height,
                        pixels: buf.clone(),
                    };
                    let image = shrink(image, limits.sample_side);
                    (fh, VideoFrame { index, time, image })
                });
            }
        }
        let ended = run.finish();
        let truncated = if ended.killed {
            if hashes.is_empty() {
                return Err(VideoError::TimeLimit(limits.max_time));
            }
            Some(format!(
                "decoding stopped at the time limit of {:?}",
                limits.max_time
            ))
        } else if !ended.success || partial {
            if hashes.is_empty() {
                return Err(VideoError::Unreadable(probe::first_line(&ended.stderr)));
            }
            Some(format!(
                "the file is damaged after {:.1} s: {}",
                hashes.last().map_or(0.0, |f| f.time),
                probe::first_line(&ended.stderr)
            ))
        } else if probe
            .duration
            .is_some_and(|d| d > limits.max_seconds as f64)
        {
            Some(format!("only the first {} s were read", limits.max_seconds))
        } else {
            None
        };
        if hashes.is_empty() {
            return Err(VideoError::Unreadable("the video has no frames".into()));
        }
        Ok(DecodedVideo {
            sampled: spread.finish().into_iter().map(|(_, f)| f).collect(),
            hashes,
            fps: probe.fps,
            width: probe.width,
            height: probe.height,
            container: probe.container,
            codec: probe.codec,
            truncated,
        })
    }
}

fn check_size(size: u64, limits: &VideoLimits) -> Result<(), VideoError> {
    if size == 0 {
        return Err(VideoError::Empty);
    }
    if size > limits.max_bytes {
        return Err(VideoError::TooLarge(size, limits.max_bytes));
    }
    Ok(())
}

/// A path as a `file:` URL, so a name like `concat:a|b` or `-i` is never
/// read as a protocol or an option.
pub(crate) fn file_url(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file:{}", abs.display())
}

/// The ffmpeg command line: the first video stream, every `frame_mod`-th
/// frame in decoder output order (none duplicated or dropped), converted
/// to RGB24 at the stream's own size the way the reference converts it,
/// as raw frames on stdout.
fn decode_args(path: &Path, probe: &Probe, frame_mod: u64, limits: &VideoLimits) -> Vec<String> {
    let max_frames = (limits.max_seconds as f64 * probe.fps / frame_mod as f64).ceil() as u64 + 1;
    let filter = format!(
        "select='not(mod(n\\,{frame_mod}))',{}",
        vpdq::conversion(probe.width, probe.height, &probe.pix_fmt)
    );
    let mut args = probe::guarded(&["-nostdin", "-hide_banner", "-v", "error"]);
    let rest = [
        // The reference hashes frames as stored, ignoring rotation tags.
        "-noautorotate",
        "-t",
        &limits.max_seconds.to_string(),
        "-i",
        &file_url(path),
        "-map",
        "0:v:0",
        "-an",
        "-sn",
        "-dn",
        "-fps_mode",
        "passthrough",
        "-vf",
        &filter,
        "-frames:v",
        &max_frames.to_string(),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:1",
    ]
    .map(str::to_owned);
    args.extend(rest);
    args
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A counting semaphore for decodes. Written here: std has none, and an
/// async one would not fit the engine's blocking threads.
#[derive(Debug)]
struct Slots {
    used: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

struct Slot<'a>(&'a Slots);

impl Slots {
    fn new(max: usize) -> Slots {
        Slots {
            used: Mutex::new(0),
            freed: Condvar::new(),
            max: max.max(1),
        }
    }

    fn take(&self, deadline: Instant, budget: Duration) -> Result<Slot<'_>, VideoError> {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used >= self.max {
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                return Err(VideoError::TimeLimit(budget));
            }
            used = self
                .freed
                .wait_timeout(used, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *used += 1;
        Ok(Slot(self))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut used = self.0.used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

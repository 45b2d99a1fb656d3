use std::borrow::Cow;

use crate::{Item, Label};

/// One piece of an item's text, with the field it came from, so that evidence
/// spans can name the field they point into.
#[derive(Clone, Debug)]
pub struct TextPart<'a> {
    pub field: &'static str,
    /// What detectors read. For HTML, the page with its markup blanked out:
    /// the same length in chars as `source`, so offsets carry over.
    pub text: Cow<'a, str>,
    /// The field as given; evidence quotes it. Owned for texts derived
    /// from the item (a QR code's payload).
    pub source: Cow<'a, str>,
}

/// What detectors see: the item plus what extraction derived from it.
#[derive(Debug)]
pub struct Input<'a> {
    pub item: &'a Item,
    pub texts: Vec<TextPart<'a>>,
    /// The decoded image, when the item has one and an image detector runs;
    /// the error says why it could not be decoded.
    pub image: Option<Result<DecodedImage, String>>,
    /// The decoded video, when the item has one and a video decoder is
    /// configured; the error says why it could not be decoded.
    pub video: Option<Result<DecodedVideo, String>>,
}

impl<'a> Input<'a> {
    /// The texts every text detector should read.
    pub fn from_item(item: &'a Item) -> Self {
        let mut texts = Vec::new();
        if let Some(t) = item.text.as_deref() {
            texts.push(TextPart {
                field: "text",
                text: Cow::Borrowed(t),
                source: Cow::Borrowed(t),
            });
        }
        Input {
            item,
            texts,
            image: None,
            video: None,
        }
    }
}

/// A detector failed on this input; the engine reports it and carries on with
/// the other detectors.
#[derive(Debug, thiserror::Error)]
#[error("{detector}: {message}")]
pub struct DetectError {
    pub detector: &'static str,
    pub message: String,
}

/// A source of signals. Detectors are pure: no network, no database, and they
/// must be cheap to share between threads.
pub trait Detector: Send + Sync {
    /// A stable name, used as the `source` of the labels it emits.
    fn name(&self) -> &'static str;

    /// The item fields this detector reads (`text`, `html`, `url`, `image`,
    /// `video`). The engine warns about fields that no detector reads.
    fn fields(&self) -> &'static [&'static str];

    /// Appends labels for `input`. An empty result means nothing was found.
    fn detect(&self, input: &Input<'_>, out: &mut Vec<Label>) -> Result<(), DetectError>;
}

/// 8-bit RGB pixels, row-major, alpha dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rgb({}x{})", self.width, self.height)
    }
}

/// An image item decoded once by the engine, shared by every image detector.
#[derive(Clone, Debug)]
pub struct DecodedImage {
    /// The frames detectors look at: the one frame of a still image, or up
    /// to a configured number spread across an animation. Orientation
    /// (EXIF) is already applied.
    pub frames: Vec<Rgb>,
    /// Frames in the file (at least as many as were read before a limit).
    pub frames_total: usize,
    /// The sniffed format: `jpeg`, `png`, `gif`, `webp`, `bmp`.
    pub format: &'static str,
}

/// A video item decoded once by the engine: the frames its vPDQ hash is
/// made of, and the frames sampled for the image detectors.
#[derive(Clone, Debug)]
pub struct DecodedVideo {
    /// Frames for the image detectors: the first, then those that differ
    /// from every frame already kept, spread over the video; scaled down.
    pub sampled: Vec<VideoFrame>,
    /// vPDQ: one PDQ hash per hashed frame (one a second by default), in
    /// frame order, as Meta's reference computes them.
    pub hashes: Vec<FrameHash>,
    /// Frames per second the timestamps are computed from.
    pub fps: f64,
    /// Width of the first video stream, in pixels.
    pub width: u32,
    /// Height of the first video stream, in pixels.
    pub height: u32,
    /// The demuxer that read the file (`mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, ...).
    pub container: String,
    /// The codec of the first video stream (`h264`, `vp9`, ...).
    pub codec: String,
    /// Why only part of the video was read (a limit, a damaged tail).
    pub truncated: Option<String>,
}

/// One sampled frame of a video.
#[derive(Clone, Debug)]
pub struct VideoFrame {
    /// Frame number in decoder output order, from 0.
    pub index: u64,
    /// Seconds from the start: `index / fps`.
    pub time: f64,
    /// The pixels, scaled down to the sampler's size.
    pub image: Rgb,
}

/// The PDQ hash of one video frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameHash {
    /// Frame number in decoder output order, from 0.
    pub index: u64,
    /// Seconds from the start: `index / fps`.
    pub time: f64,
    /// The PDQ hashes of the frame and its seven rotations and flips, each
    /// as sixteen 16-bit words as `PdqHash` holds them; the first is the
    /// frame as it is, the vPDQ hash.
    pub variants: [[u16; 16]; 8],
    /// PDQ's quality, 0 to 100.
    pub quality: u8,
}

impl FrameHash {
    /// The frame's own hash (not rotated or flipped).
    pub fn hash(&self) -> [u16; 16] {
        self.variants[0]
    }
}

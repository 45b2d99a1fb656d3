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

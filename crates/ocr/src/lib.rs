//! Text in pictures: PP-OCRv6's text detector, the angle classifier and the
//! recogniser (the models RapidOCR 3.10 ships) on ONNX Runtime, with
//! RapidOCR's pipeline reproduced so the lines match it.
//!
//! The flow per picture: bound its size and pad low or wide pictures
//! ([`det::bounded_size`], [`det::vertical_padding`]); run detection at
//! a short side of 736 and turn its probability map into boxes
//! ([`det::boxes`]); cut each box out as an upright strip ([`crop::crop`]);
//! turn strips the classifier finds upside down; recognise strips in
//! batches of similar shape and decode them ([`rec::ctc_decode`]); map the
//! boxes back to the picture and keep lines scoring 0.5 or more.
//!
//! Work is bounded: at most [`ReadLimits::max_lines`] strips are read per
//! picture, and a deadline stops the work between model calls, keeping what
//! was read.
#![deny(missing_docs)]

pub mod crop;
pub mod det;
pub mod geom;
pub mod rec;

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use cleanweb_core::Rgb;
use cleanweb_onnx::Pool;

pub use geom::Point;

/// Lines below this recognition score are dropped (`text_score`).
pub const TEXT_SCORE: f32 = 0.5;

/// Why OCR could not run.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// The runtime or a model failed, or a model's output had the wrong shape.
    #[error("{0}")]
    Runtime(String),
}

impl From<cleanweb_onnx::OnnxError> for OcrError {
    fn from(e: cleanweb_onnx::OnnxError) -> Self {
        OcrError::Runtime(e.to_string())
    }
}

/// The three model files.
#[derive(Clone, Copy, Debug)]
pub struct ModelFiles<'a> {
    /// PP-OCRv6 small text detection.
    pub det: &'a Path,
    /// PP-OCR mobile v2 angle classifier.
    pub cls: &'a Path,
    /// PP-OCRv6 small recognition, with its dictionary in the metadata.
    pub rec: &'a Path,
}

/// Bounds on one picture's reading.
#[derive(Clone, Debug)]
pub struct ReadLimits {
    /// Text boxes recognised, at most, in reading order; the rest are
    /// counted in a warning.
    pub max_lines: usize,
    /// Work stops at this instant (between model calls).
    pub deadline: Option<Instant>,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_lines: 100,
            deadline: None,
        }
    }
}

/// One line of text read from a picture.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// What it says.
    pub text: String,
    /// The recogniser's mean confidence, 0..1.
    pub score: f32,
    /// Its corners in picture pixels: top-left, top-right, bottom-right,
    /// bottom-left.
    #[serde(rename = "box")]
    pub quad: [Point; 4],
}

impl Line {
    /// The axis-aligned rectangle around the line, `[x, y, w, h]`.
    pub fn rect(&self) -> [u32; 4] {
        let xs = self.quad.iter().map(|p| p[0]);
        let ys = self.quad.iter().map(|p| p[1]);
        let (x0, x1) = (xs.clone().fold(f32::MAX, f32::min), xs.fold(0.0, f32::max));
        let (y0, y1) = (ys.clone().fold(f32::MAX, f32::min), ys.fold(0.0, f32::max));
        let (x0, y0) = (x0.max(0.0), y0.max(0.0));
        [
            x0 as u32,
            y0 as u32,
            (x1 - x0).max(0.0) as u32,
            (y1 - y0).max(0.0) as u32,
        ]
    }
}

/// Where a reading's time went, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timing {
    /// The detection model.
    pub detect_us: u64,
    /// The angle classifier.
    pub classify_us: u64,
    /// The recogniser.
    pub recognize_us: u64,
    /// Everything, resizing and post-processing included.
    pub total_us: u64,
}

/// What was read from one picture.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reading {
    /// The lines, in reading order.
    pub lines: Vec<Line>,
    /// Why the reading is incomplete, if it is.
    pub warnings: Vec<String>,
    /// Where the time went.
    pub timing: Timing,
}

/// The three models, loaded.
pub struct Ocr {
    det: Pool,
    cls: Pool,
    rec: Pool,
    alphabet: rec::Alphabet,
    params: det::DbParams,
    size: det::DetectSize,
}

impl std::fmt::Debug for Ocr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ocr")
            .field("alphabet", &self.alphabet.len())
            .finish_non_exhaustive()
    }
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// BGR planes scaled to -1..1 of a picture resized to `size`.
fn det_tensor(img: &Rgb, size: (usize, usize)) -> Vec<f32> {
    let resized =
        cleanweb_vision::resize_linear(img, (img.width as usize, img.height as usize), size);
    let plane = size.0 * size.1;
    let mut out = vec![0f32; 3 * plane];
    for (i, p) in resized.pixels.chunks_exact(3).enumerate() {
        for (c, &v) in [p[2], p[1], p[0]].iter().enumerate() {
            out[c * plane + i] = (f32::from(v) / 255.0 - 0.5) / 0.5;
        }
    }
    out
}

/// `img` with `pad` black rows above and below.
fn padded(img: &Rgb, pad: usize) -> Rgb {
    let row = img.width as usize * 3;
    let mut pixels = vec![0u8; row * pad];
    pixels.extend_from_slice(&img.pixels);
    pixels.resize(pixels.len() + row * pad, 0);
    Rgb {
        width: img.width,
        height: img.height + 2 * pad as u32,
        pixels,
    }
}

/// Indices of `strips` by width-to-height ratio, stably.
fn by_ratio(strips: &[Rgb]) -> Vec<usize> {
    let ratio = |s: &Rgb| s.width as f64 / f64::from(s.height.max(1));
    let mut order: Vec<usize> = (0..strips.len()).collect();
    order.sort_by(|&a, &b| ratio(&strips[a]).total_cmp(&ratio(&strips[b])));
    order
}

impl Ocr {
    /// Loads the models on the ONNX Runtime library `runtime`, with
    /// `sessions` single-threaded sessions each (0: one per core).
    pub fn load(runtime: &Path, files: ModelFiles<'_>, sessions: usize) -> Result<Ocr, OcrError> {
        let det = Pool::new(runtime, files.det, sessions, &[])?;
        let cls = Pool::new(runtime, files.cls, sessions, &[])?;
        let rec = Pool::new(runtime, files.rec, sessions, &["character"])?;
        let alphabet =
            rec::Alphabet::from_metadata(rec.metadata("character").ok_or_else(|| {
                OcrError::Runtime(format!(
                    "{} has no `character` dictionary in its metadata",
                    files.rec.display()
                ))
            })?);
        Ok(Ocr {
            det,
            cls,
            rec,
            alphabet,
            params: det::DbParams::default(),
            size: det::DetectSize::Reference,
        })
    }

    /// Runs detection at `size` instead of the reference's.
    pub fn with_detect_size(mut self, size: det::DetectSize) -> Ocr {
        self.size = size;
        self
    }

    /// Reads the text in `img`.
    pub fn read(&self, img: &Rgb, limits: &ReadLimits) -> Result<Reading, OcrError> {
        let started = Instant::now();
        let mut reading = Reading::default();
        let (ow, oh) = (img.width as usize, img.height as usize);
        if ow == 0 || oh == 0 || img.pixels.len() < ow * oh * 3 {
            return Ok(reading);
        }
        let late = || limits.deadline.is_some_and(|d| Instant::now() >= d);
        let stopped = |reading: &mut Reading| {
            reading
                .warnings
                .push("text in the picture only partly read: its time ran out".to_owned());
        };
        // Bound the picture, then pad it.
        let (work, ratios) = match det::bounded_size(ow, oh) {
            Some((size, ratios)) => (cleanweb_vision::resize_linear(img, (ow, oh), size), ratios),
            None => (img.clone(), [1.0, 1.0]),
        };
        let pad = det::vertical_padding(work.width as usize, work.height as usize);
        let work = if pad > 0 { padded(&work, pad) } else { work };
        let (ww, wh) = (work.width as usize, work.height as usize);
        let Some(size) = det::det_size(ww, wh, self.size) else {
            return Ok(reading);
        };
        let t = Instant::now();
        let out = self
            .det
            .run(&[1, 3, size.1, size.0], det_tensor(&work, size))?;
        reading.timing.detect_us = micros(t);
        let (mh, mw) = match out.dims.as_slice() {
            [1, 1, h, w] if out.data.len() == h * w => (*h, *w),
            dims => {
                return Err(OcrError::Runtime(format!(
                    "the detector's output has shape {dims:?}; expected [1, 1, H, W]"
                )));
            }
        };
        let mut boxes = det::boxes(&out.data, mw, mh, (ww, wh), &self.params);
        if boxes.len() > limits.max_lines {
            reading.warnings.push(format!(
                "the picture has {} text boxes; the first {} in reading order were read",
                boxes.len(),
                limits.max_lines
            ));
            boxes.truncate(limits.max_lines);
        }
        if boxes.is_empty() {
            reading.timing.total_us = micros(started);
            return Ok(reading);
        }
        let (kept, mut strips): (Vec<det::DetBox>, Vec<Rgb>) = boxes
            .into_iter()
            .filter_map(|b| crop::crop(&work, &b.quad).map(|s| (b, s)))
            .unzip();
        if late() {
            stopped(&mut reading);
            reading.timing.total_us = micros(started);
            return Ok(reading);
        }
        // Turn strips the classifier finds upside down.
        let t = Instant::now();
        let order = by_ratio(&strips);
        for batch in order.chunks(rec::BATCH) {
            let per = 3 * rec::STRIP_HEIGHT * rec::CLS_WIDTH;
            let mut input = vec![0f32; per * batch.len()];
            for (&i, chunk) in batch.iter().zip(input.chunks_mut(per)) {
                rec::strip_tensor(&strips[i], rec::CLS_WIDTH, chunk);
            }
            let shape = [batch.len(), 3, rec::STRIP_HEIGHT, rec::CLS_WIDTH];
            let out = self.cls.run(&shape, input)?;
            if out.dims != [batch.len(), 2] {
                return Err(OcrError::Runtime(format!(
                    "the angle classifier's output has shape {:?}; expected [{}, 2]",
                    out.dims,
                    batch.len()
                )));
            }
            for (&i, probs) in batch.iter().zip(out.data.chunks_exact(2)) {
                if rec::upside_down(probs) {
                    strips[i] = crop::half_turn(&strips[i]);
                }
            }
        }
        reading.timing.classify_us = micros(t);
        // Recognise in batches of similar shape.
        let t = Instant::now();
        let mut texts: Vec<Option<(String, f32)>> = vec![None; strips.len()];
        let order = by_ratio(&strips);
        for batch in order.chunks(rec::BATCH) {
            if late() {
                stopped(&mut reading);
                break;
            }
            let refs: Vec<&Rgb> = batch.iter().map(|&i| &strips[i]).collect();
            let width = rec::batch_width(&refs);
            let per = 3 * rec::STRIP_HEIGHT * width;
            let mut input = vec![0f32; per * batch.len()];
            for (s, chunk) in refs.iter().zip(input.chunks_mut(per)) {
                rec::strip_tensor(s, width, chunk);
            }
            let out = self
                .rec
                .run(&[batch.len(), 3, rec::STRIP_HEIGHT, width], input)?;
            let (steps, classes) = match out.dims.as_slice() {
                [n, t, c] if *n == batch.len() && out.data.len() == n * t * c => (*t, *c),
                dims => {
                    return Err(OcrError::Runtime(format!(
                        "the recogniser's output has shape {dims:?}; expected [{}, T, C]",
                        batch.len()
                    )));
                }
            };
            if classes != self.alphabet.len() {
                return Err(OcrError::Runtime(format!(
                    "the recogniser has {classes} classes but its dictionary gives {}",
                    self.alphabet.len()
                )));
            }
            for (&i, probs) in batch.iter().zip(out.data.chunks_exact(steps * classes)) {
                texts[i] = Some(rec::ctc_decode(probs, classes, &self.alphabet));
            }
        }
        reading.timing.recognize_us = micros(t);
        for (b, text) in kept.into_iter().zip(texts) {
            let Some((text, score)) = text else { continue };
            if text.trim().is_empty() || score < TEXT_SCORE {
                continue;
            }
            // Back to the original picture: unpad, unscale, clamp.
            let quad = b.quad.map(|p| {
                [
                    ((f64::from(p[0]) * ratios[0]) as f32).clamp(0.0, ow as f32),
                    (((f64::from(p[1]) - pad as f64) * ratios[1]) as f32).clamp(0.0, oh as f32),
                ]
            });
            reading.lines.push(Line { text, score, quad });
        }
        reading.timing.total_us = micros(started);
        Ok(reading)
    }
}

/// Loads the models when the first picture arrives (fetching them if need
/// be), so runs without pictures never pay for them.
pub type Loader = Box<dyn Fn() -> Result<Arc<Ocr>, String> + Send + Sync>;

/// OCR loaded on first use; a failure sticks until the process restarts.
pub struct LazyOcr {
    loader: Loader,
    model: OnceLock<Result<Arc<Ocr>, String>>,
}

impl std::fmt::Debug for LazyOcr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyOcr").finish_non_exhaustive()
    }
}

impl LazyOcr {
    /// OCR that calls `loader` on the first picture only.
    pub fn new(loader: Loader) -> LazyOcr {
        LazyOcr {
            loader,
            model: OnceLock::new(),
        }
    }

    /// The models, loading them on first use.
    pub fn get(&self) -> Result<&Arc<Ocr>, String> {
        self.model
            .get_or_init(|| (self.loader)())
            .as_ref()
            .map_err(Clone::clone)
    }
}

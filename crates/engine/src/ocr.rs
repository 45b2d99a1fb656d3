//! Text in pictures and video frames: read once per item, fed to the text
//! detectors as one more text (the field `ocr`), and the spans they find
//! turned back into lines and boxes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cleanweb_core::{Evidence, ImageConfig, Label, OcrMode, Rgb};
use cleanweb_ocr::{LazyOcr, ReadLimits};

/// How the engine reads text in pictures.
#[derive(Clone, Debug)]
pub struct OcrStage {
    /// The models, loaded on the first picture.
    pub reader: Arc<LazyOcr>,
    /// When to read.
    pub mode: OcrMode,
    /// Lines per picture, at most.
    pub max_lines: usize,
    /// Frames per item, at most, after near-duplicates are skipped.
    pub max_frames: usize,
    /// Time per item.
    pub budget: Duration,
}

impl OcrStage {
    /// The stage `[image]` asks for, reading with `reader`.
    pub fn from_config(reader: Arc<LazyOcr>, image: &ImageConfig) -> OcrStage {
        OcrStage {
            reader,
            mode: image.ocr,
            max_lines: image.ocr_max_lines,
            max_frames: image.ocr_max_frames,
            budget: Duration::from_millis(image.ocr_budget_ms),
        }
    }
}

/// A frame to read: its number and time (for animations and videos) and
/// its pixels.
pub(crate) struct Frame<'a> {
    pub frame: Option<u64>,
    pub time: Option<f64>,
    pub image: &'a Rgb,
}

/// Where one line sits in the joined text.
#[derive(Debug)]
struct LineAt {
    /// Chars of the joined text: `start..end`.
    start: usize,
    end: usize,
    frame: Option<u64>,
    time: Option<f64>,
    text: String,
    rect: [u32; 4],
}

/// What was read from an item's frames: the lines joined one per line
/// (frames apart by a blank line), and where each line is.
#[derive(Debug, Default)]
pub(crate) struct OcrText {
    pub text: String,
    lines: Vec<LineAt>,
    pub warnings: Vec<String>,
}

/// Side of the grey thumbnails frames are compared by.
const THUMB: usize = 16;
/// Mean absolute difference (grey levels) below which two frames count as
/// the same picture: an animation's or a video's still stretches.
const SAME_FRAME: u32 = 6;

fn thumbnail(img: &Rgb) -> Vec<u8> {
    let (w, h) = (img.width as usize, img.height as usize);
    let mut out = vec![0u8; THUMB * THUMB];
    if w == 0 || h == 0 {
        return out;
    }
    for (ty, row) in out.chunks_mut(THUMB).enumerate() {
        for (tx, o) in row.iter_mut().enumerate() {
            // One pixel per cell, at its centre: cheap and enough to tell
            // a changed picture from a still one.
            let x = ((2 * tx + 1) * w / (2 * THUMB)).min(w - 1);
            let y = ((2 * ty + 1) * h / (2 * THUMB)).min(h - 1);
            let p = &img.pixels[(y * w + x) * 3..(y * w + x) * 3 + 3];
            *o = ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000)
                as u8;
        }
    }
    out
}

fn near(a: &[u8], b: &[u8]) -> bool {
    let sum: u32 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u32::from(x.abs_diff(*y)))
        .sum();
    sum < SAME_FRAME * (THUMB * THUMB) as u32
}

/// Reads the frames, skipping near-duplicates of frames already read and
/// lines already seen, within the stage's bounds.
pub(crate) fn read(stage: &OcrStage, frames: &[Frame<'_>]) -> OcrText {
    let mut out = OcrText::default();
    if frames.is_empty() {
        return out;
    }
    let ocr = match stage.reader.get() {
        Ok(ocr) => ocr,
        Err(e) => {
            out.warnings
                .push(format!("text in pictures was not read: {e}"));
            return out;
        }
    };
    let deadline = Instant::now() + stage.budget;
    let limits = ReadLimits {
        max_lines: stage.max_lines,
        deadline: Some(deadline),
    };
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut chars = 0usize;
    for f in frames {
        let thumb = thumbnail(f.image);
        if seen.iter().any(|s| near(s, &thumb)) {
            continue;
        }
        if seen.len() >= stage.max_frames {
            out.warnings.push(format!(
                "text was read in {} frames only (ocr_max_frames)",
                stage.max_frames
            ));
            break;
        }
        if Instant::now() >= deadline {
            out.warnings
                .push("text in pictures only partly read: its time ran out".to_owned());
            break;
        }
        seen.push(thumb);
        let reading = match ocr.read(f.image, &limits) {
            Ok(r) => r,
            Err(e) => {
                out.warnings
                    .push(format!("text in a picture could not be read: {e}"));
                continue;
            }
        };
        for w in reading.warnings {
            if !out.warnings.contains(&w) {
                out.warnings.push(w);
            }
        }
        let mut first = true;
        for line in reading.lines {
            if out.lines.iter().any(|l| l.text == line.text) {
                continue;
            }
            if !out.text.is_empty() {
                // A blank line between frames, so no term spans two.
                let sep = if first { "\n\n" } else { "\n" };
                out.text.push_str(sep);
                chars += sep.len();
            }
            first = false;
            let n = line.text.chars().count();
            out.text.push_str(&line.text);
            out.lines.push(LineAt {
                start: chars,
                end: chars + n,
                frame: f.frame,
                time: f.time,
                rect: line.rect(),
                text: line.text,
            });
            chars += n;
        }
    }
    out
}

/// Turns the text detectors' spans in the field `ocr` into OCR evidence:
/// the line each starts in, with the span inside it.
pub(crate) fn locate(labels: &mut [Label], ocr: &OcrText) {
    for label in labels {
        for e in &mut label.evidence {
            let Evidence::Span {
                field,
                start,
                end,
                term,
                ..
            } = e
            else {
                continue;
            };
            if field != "ocr" {
                continue;
            }
            let Some(line) = ocr
                .lines
                .iter()
                .find(|l| *start >= l.start && *start < l.end.max(l.start + 1))
            else {
                continue;
            };
            let (s, t) = (*start - line.start, (*end).min(line.end) - line.start);
            let matched: String = line
                .text
                .chars()
                .skip(s)
                .take(t.saturating_sub(s))
                .collect();
            *e = Evidence::Ocr {
                frame: line.frame,
                time: line.time,
                text: line.text.clone(),
                start: s,
                end: t.max(s),
                matched,
                term: std::mem::take(term),
                rect: line.rect,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_frames_are_recognised() {
        let img = |v: u8| Rgb {
            width: 40,
            height: 30,
            pixels: vec![v; 40 * 30 * 3],
        };
        assert!(near(&thumbnail(&img(100)), &thumbnail(&img(103))));
        assert!(!near(&thumbnail(&img(100)), &thumbnail(&img(140))));
    }

    #[test]
    fn spans_map_to_their_line() {
        let ocr = OcrText {
            text: "你好\n同城上门".into(),
            lines: vec![
                LineAt {
                    start: 0,
                    end: 2,
                    frame: None,
                    time: None,
                    text: "你好".into(),
                    rect: [0, 0, 10, 10],
                },
                LineAt {
                    start: 3,
                    end: 7,
                    frame: Some(4),
                    time: Some(2.0),
                    text: "同城上门".into(),
                    rect: [0, 20, 40, 10],
                },
            ],
            warnings: Vec::new(),
        };
        let mut labels = vec![
            Label::new(cleanweb_core::Category::SexualServices, 0.9, "t").with_evidence(
                Evidence::Span {
                    field: "ocr".into(),
                    start: 5,
                    end: 7,
                    matched: "上门".into(),
                    term: "上门".into(),
                },
            ),
        ];
        locate(&mut labels, &ocr);
        match &labels[0].evidence[0] {
            Evidence::Ocr {
                start,
                end,
                matched,
                frame,
                rect,
                ..
            } => {
                assert_eq!((*start, *end, matched.as_str()), (2, 4, "上门"));
                assert_eq!((*frame, *rect), (Some(4), [0, 20, 40, 10]));
            }
            other => panic!("{other:?}"),
        }
    }
}

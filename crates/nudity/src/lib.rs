//! The image nudity detector: NudeNet's YOLOv8n region detector on ONNX
//! Runtime, with the reference's preprocessing and postprocessing
//! reproduced so detections match it, and the mapping from regions to
//! moderation labels.
//!
//! The flow per image item: the engine decodes it once (frames of an
//! animation included); each frame is letterboxed to 320×320 and all frames
//! go through the model as one batch; detections become per-category scores
//! by [`ClassRule`]s; the item takes the worst frame's score per category,
//! with that frame's boxes as evidence.
#![deny(missing_docs)]

mod censor;
mod classes;
mod postprocess;
mod preprocess;
mod runtime;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use cleanweb_core::{
    Category, ClassRule, DetectError, Detector, Evidence, Input, Label, Rgb, VideoFrame,
};

pub use censor::{CensorMode, censor};
pub use classes::{CLASSES, default_rule};
pub use postprocess::{Detection, postprocess};
pub use preprocess::{Letterbox, preprocess_into, resize_bgr_planes};

/// The `source` of every label the nudity detector emits.
pub const SOURCE: &str = "image.nudity";
/// The model input side NudeNet's 320n was exported for.
pub const INPUT_SIZE: usize = 320;

/// Why the nudity model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum NudityError {
    /// ONNX Runtime or the model failed (missing library, unreadable model, failed inference,
    /// unexpected output shape).
    #[error("{0}")]
    Runtime(String),
}

/// A loaded model: a pool of sessions and the class names.
pub struct Model {
    pool: cleanweb_onnx::Pool,
    classes: Vec<String>,
    input_size: usize,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("classes", &self.classes.len())
            .field("input_size", &self.input_size)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads `model` on the ONNX Runtime library `runtime`, with `sessions`
    /// single-threaded sessions (0: one per core).
    pub fn load(runtime: &Path, model: &Path, sessions: usize) -> Result<Model, NudityError> {
        let pool = cleanweb_onnx::Pool::new(runtime, model, sessions, &["names"])
            .map_err(|e| NudityError::Runtime(e.to_string()))?;
        let named = pool
            .metadata("names")
            .map(runtime::parse_names)
            .unwrap_or_default();
        let classes = if named.is_empty() {
            CLASSES.iter().map(|c| c.to_string()).collect()
        } else {
            named
        };
        Ok(Model {
            pool,
            classes,
            input_size: INPUT_SIZE,
        })
    }

    /// The class names, in the order of the model's output rows.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Detects regions in each frame; the frames run as one batch.
    pub fn detect(&self, frames: &[&Rgb]) -> Result<Vec<Vec<Detection>>, NudityError> {
        if frames.is_empty() {
            return Ok(Vec::new());
        }
        let size = self.input_size;
        let per = 3 * size * size;
        let mut input = vec![0f32; per * frames.len()];
        for (frame, chunk) in frames.iter().zip(input.chunks_mut(per)) {
            preprocess_into(frame, size, chunk);
        }
        let n = frames.len();
        let out = self
            .pool
            .run(&[n, 3, size, size], input)
            .map_err(|e| NudityError::Runtime(e.to_string()))?;
        let (rows, anchors) = match out.dims.as_slice() {
            [b, rows, anchors] if *b == n && out.data.len() == b * rows * anchors => {
                (*rows, *anchors)
            }
            dims => {
                return Err(NudityError::Runtime(format!(
                    "the model's output has shape {dims:?}; expected [{n}, 4 + classes, anchors] (YOLOv8)"
                )));
            }
        };
        if rows != 4 + self.classes.len() {
            return Err(NudityError::Runtime(format!(
                "the model writes {rows} rows per anchor but names {} classes",
                self.classes.len()
            )));
        }
        Ok(frames
            .iter()
            .zip(out.data.chunks(rows * anchors))
            .map(|(f, o)| postprocess(o, anchors, size, (f.width, f.height), &self.classes))
            .collect())
    }
}

/// Loads the model when the first image arrives (fetching it if need be),
/// so text-only runs never pay for it.
pub type Loader = Box<dyn Fn() -> Result<Arc<Model>, String> + Send + Sync>;

/// The detector the engine runs on image items.
pub struct NudityDetector {
    loader: Loader,
    model: OnceLock<Result<Arc<Model>, String>>,
    /// Rules replacing the shipped ones, by class name.
    overrides: BTreeMap<String, ClassRule>,
}

impl NudityDetector {
    /// A detector that calls `loader` on the first image only; `overrides` replace the shipped rule
    /// of a class by name.
    pub fn lazy(loader: Loader, overrides: BTreeMap<String, ClassRule>) -> NudityDetector {
        NudityDetector {
            loader,
            model: OnceLock::new(),
            overrides,
        }
    }

    /// The model, loading it on first use; a failure sticks until the
    /// engine is rebuilt (a reload retries).
    pub fn model(&self) -> Result<&Model, String> {
        match self.model.get_or_init(|| (self.loader)()) {
            Ok(m) => Ok(m),
            Err(e) => Err(format!("the nudity model is unavailable: {e}")),
        }
    }

    fn rule(&self, class: &str) -> ClassRule {
        self.overrides
            .get(class)
            .cloned()
            .unwrap_or_else(|| default_rule(class))
    }

    /// Labels for one frame's detections: per category, the noisy-or of the
    /// best weighted score of each class mapped to it (two different
    /// explicit regions are stronger evidence than one), capped at 1.
    pub fn labels(&self, detections: &[Detection]) -> Vec<Label> {
        let mut best: BTreeMap<(Category, String), f32> = BTreeMap::new();
        let mut boxes: BTreeMap<Category, Vec<Evidence>> = BTreeMap::new();
        let mut rules: BTreeMap<&str, ClassRule> = BTreeMap::new();
        for d in detections {
            let rule = rules
                .entry(d.class.as_str())
                .or_insert_with(|| self.rule(&d.class));
            let Some(category) = rule.category else {
                continue;
            };
            if d.score < rule.min_score {
                continue;
            }
            let s = (d.score * rule.weight).clamp(0.0, 1.0);
            let e = best.entry((category, d.class.clone())).or_insert(0.0);
            *e = e.max(s);
            boxes.entry(category).or_default().push(Evidence::Region {
                class: d.class.clone(),
                score: d.score,
                rect: d.rect,
            });
        }
        let mut miss: BTreeMap<Category, f32> = BTreeMap::new();
        for ((category, _), s) in best {
            *miss.entry(category).or_insert(1.0) *= 1.0 - s;
        }
        miss.into_iter()
            .map(|(category, m)| {
                let mut label = Label::new(category, (1.0 - m).clamp(0.0, 1.0), SOURCE);
                label.evidence = boxes.remove(&category).unwrap_or_default();
                label
            })
            .collect()
    }
}

impl Detector for NudityDetector {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn fields(&self) -> &'static [&'static str] {
        &["image", "video"]
    }

    fn detect(&self, input: &Input<'_>, out: &mut Vec<Label>) -> Result<(), DetectError> {
        let fail = |message: String| DetectError {
            detector: SOURCE,
            message,
        };
        // An undecodable image or video is reported once, by the engine.
        if let Some(Ok(video)) = &input.video
            && !video.sampled.is_empty()
        {
            let model = self.model().map_err(fail)?;
            let frames: Vec<&Rgb> = video.sampled.iter().map(|f| &f.image).collect();
            // In batches: the runtime's memory grows with the batch (a
            // batch of 32 frames costs 200 MB more than one of 8).
            let mut per_frame = Vec::with_capacity(frames.len());
            for batch in frames.chunks(VIDEO_BATCH) {
                per_frame.extend(model.detect(batch).map_err(|e| fail(e.to_string()))?);
            }
            let labelled: Vec<(&VideoFrame, Vec<Label>)> = video
                .sampled
                .iter()
                .zip(&per_frame)
                .map(|(f, d)| (f, self.labels(d)))
                .collect();
            out.extend(video_labels(&labelled, VIDEO_SINGLE_FRAME));
        }
        let Some(Ok(image)) = &input.image else {
            return Ok(());
        };
        let model = self.model().map_err(fail)?;
        let frames: Vec<&Rgb> = image.frames.iter().collect();
        let per_frame = model.detect(&frames).map_err(|e| fail(e.to_string()))?;
        // The worst frame per category speaks for the item.
        let mut worst: BTreeMap<Category, Label> = BTreeMap::new();
        for detections in &per_frame {
            for label in self.labels(detections) {
                match worst.get(&label.category) {
                    Some(w) if w.score >= label.score => {}
                    _ => {
                        worst.insert(label.category, label);
                    }
                }
            }
        }
        out.extend(worst.into_values());
        Ok(())
    }
}

/// Video frames run through the model this many at a time.
const VIDEO_BATCH: usize = 8;

/// A video frame scoring at least this speaks for the video alone.
pub const VIDEO_SINGLE_FRAME: f32 = 0.85;

/// A video's labels from its sampled frames' labels. Per category, the best
/// frame speaks for the video when it reaches `single_frame`; otherwise two
/// frames must agree: the second-best frame's score, or the best one's at
/// 60% (enough for review, never for a block), whichever is higher. Motion
/// blur and odd poses fool the model on single frames; two agreeing frames
/// rarely do. The evidence is the counted frames' boxes with their times.
pub fn video_labels(frames: &[(&VideoFrame, Vec<Label>)], single_frame: f32) -> Vec<Label> {
    let mut by_category: BTreeMap<Category, Vec<(&VideoFrame, &Label)>> = BTreeMap::new();
    for (frame, labels) in frames {
        for l in labels {
            by_category.entry(l.category).or_default().push((frame, l));
        }
    }
    by_category
        .into_iter()
        .map(|(category, mut hits)| {
            hits.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
            let best = hits[0].1.score;
            let (score, counted) = if best >= single_frame {
                (best, 1)
            } else {
                let second = hits.get(1).map_or(0.0, |h| h.1.score);
                (second.max(best * 0.6), 2)
            };
            let mut label = Label::new(category, score, SOURCE);
            for (frame, l) in hits.iter().take(counted) {
                for e in &l.evidence {
                    if let Evidence::Region { class, score, rect } = e {
                        label.evidence.push(Evidence::Frame {
                            frame: frame.index,
                            time: frame.time,
                            class: class.clone(),
                            score: *score,
                            rect: *rect,
                        });
                    }
                }
            }
            label
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(class: &str, score: f32) -> Detection {
        Detection {
            class: class.into(),
            score,
            rect: [1, 2, 3, 4],
        }
    }

    fn detector(overrides: BTreeMap<String, ClassRule>) -> NudityDetector {
        NudityDetector::lazy(Box::new(|| Err("not needed".into())), overrides)
    }

    #[test]
    fn a_video_is_explicit_on_one_strong_frame_or_two_agreeing_ones() {
        let frame = |index: u64| VideoFrame {
            index,
            time: index as f64 / 25.0,
            image: Rgb {
                width: 0,
                height: 0,
                pixels: Vec::new(),
            },
        };
        let (f0, f1, f2) = (frame(0), frame(25), frame(50));
        let explicit = |score: f32| {
            let mut l = Label::new(Category::SexualExplicit, score, SOURCE);
            l.evidence.push(Evidence::Region {
                class: "BUTTOCKS_EXPOSED".into(),
                score,
                rect: [1, 2, 3, 4],
            });
            vec![l]
        };
        // One strong frame speaks alone, with its time in the evidence.
        let strong = video_labels(&[(&f0, vec![]), (&f1, explicit(0.9))], 0.85);
        assert_eq!(strong[0].score, 0.9);
        assert!(matches!(
            strong[0].evidence[..],
            [Evidence::Frame {
                frame: 25,
                time: 1.0,
                ..
            }]
        ));
        // One weaker frame alone is worth review at most.
        let lone = video_labels(&[(&f0, explicit(0.8))], 0.85);
        assert!((lone[0].score - 0.48).abs() < 1e-6, "{}", lone[0].score);
        // Two agreeing frames count at the second one's score.
        let two = video_labels(
            &[(&f0, explicit(0.8)), (&f1, explicit(0.7)), (&f2, vec![])],
            0.85,
        );
        assert!((two[0].score - 0.7).abs() < 1e-6);
        assert_eq!(two[0].evidence.len(), 2);
    }

    #[test]
    fn regions_become_labels_by_the_rules() {
        let d = detector(BTreeMap::new());
        // Faces are context only; a weak belly is below its minimum.
        assert!(
            d.labels(&[det("FACE_FEMALE", 0.9), det("BELLY_EXPOSED", 0.25)])
                .is_empty()
        );
        let labels = d.labels(&[
            det("FEMALE_BREAST_EXPOSED", 0.6),
            det("FEMALE_BREAST_EXPOSED", 0.4),
            det("BUTTOCKS_EXPOSED", 0.5),
            det("FEMALE_BREAST_COVERED", 0.7),
        ]);
        assert_eq!(labels.len(), 2);
        let explicit = &labels[0];
        assert_eq!(explicit.category, Category::SexualExplicit);
        // Noisy-or of the best per class: 1 - (1 - 0.6)(1 - 0.5) = 0.8.
        assert!((explicit.score - 0.8).abs() < 1e-6, "{}", explicit.score);
        assert_eq!(explicit.evidence.len(), 3);
        assert!(
            matches!(&explicit.evidence[0], Evidence::Region { class, .. } if class == "FEMALE_BREAST_EXPOSED")
        );
        assert_eq!(labels[1].category, Category::SexualSuggestive);
        // Genitals weigh 1.3, capped at 1.
        let l = d.labels(&[det("MALE_GENITALIA_EXPOSED", 0.9)]);
        assert_eq!(l[0].score, 1.0);
    }

    #[test]
    fn config_rules_override_the_shipped_ones() {
        let mut o = BTreeMap::new();
        o.insert(
            "FACE_FEMALE".to_string(),
            ClassRule {
                category: Some(Category::SexualSuggestive),
                weight: 0.5,
                min_score: 0.1,
            },
        );
        o.insert(
            "BUTTOCKS_EXPOSED".to_string(),
            ClassRule {
                category: None,
                weight: 1.0,
                min_score: 0.3,
            },
        );
        let d = detector(o);
        let l = d.labels(&[det("FACE_FEMALE", 0.8), det("BUTTOCKS_EXPOSED", 0.9)]);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].category, Category::SexualSuggestive);
        assert!((l[0].score - 0.4).abs() < 1e-6);
        // A detector with no model reports why, once per engine.
        assert!(d.model().unwrap_err().contains("not needed"));
    }
}

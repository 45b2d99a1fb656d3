//! The one moderation engine. Every front door (API, CLI, sweeps, reports)
//! calls [`Engine::moderate`]; none has detection logic of its own.
//!
//! The flow is: validate the item against the limits, extract what detectors
//! read, run every detector, merge their labels and let the policy decide.
//!
//! ```
//! use cleanweb_core::{Item, Limits, Policy, Verdict};
//! use cleanweb_engine::Engine;
//! let engine = Engine::new(Policy::default(), Limits::default());
//! let decision = engine.moderate(&Item::text("hello")).unwrap();
//! assert_eq!(decision.verdict, Verdict::Allow);
//! ```
#![deny(missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use cleanweb_core::{Decision, Detector, Input, Item, ItemError, Label, Limits, Policy, TextPart};
use rayon::prelude::*;

mod ocr;

pub use cleanweb_ocr as ocr_models;
pub use cleanweb_text as text;
pub use cleanweb_video as video;
pub use ocr::OcrStage;

/// Source name of the labels codes in pictures make.
pub const CODES_SOURCE: &str = "image.codes";

/// The codes in decoded frames (a picture's, an animation's, a video's
/// samples): a payload seen in an earlier frame is not repeated.
fn read_codes<'a>(
    frames: impl Iterator<Item = &'a cleanweb_core::Rgb>,
) -> Vec<cleanweb_codes::Code> {
    let mut out: Vec<cleanweb_codes::Code> = Vec::new();
    for frame in frames {
        for c in cleanweb_codes::decode(frame) {
            if out.len() < cleanweb_codes::MAX_CODES && !out.iter().any(|o| o.payload == c.payload)
            {
                out.push(c);
            }
        }
    }
    out
}

/// A messenger or payment code next to sexual text (in the item or the
/// picture's other codes) is how a picture ad hands over its seller:
/// `sexual.services`, with the code and the text as evidence. A code alone
/// is no violation.
fn contact_code_ad(codes: &[cleanweb_codes::Code], raw: &[Label]) -> Option<Label> {
    use cleanweb_core::{Category, Evidence};
    let contacts: Vec<&cleanweb_codes::Code> = codes
        .iter()
        .filter(|c| matches!(c.kind, cleanweb_codes::Kind::Contact(_)))
        .collect();
    if contacts.is_empty() {
        return None;
    }
    // A sexual text label at review strength or more (0.5), not one of
    // image nudity's: the picture itself is judged by its own detectors.
    let sexual: Vec<&Label> = raw
        .iter()
        .filter(|l| l.source == cleanweb_text::LEXICON_SOURCE && l.score >= 0.5)
        .filter(|l| {
            matches!(
                l.category,
                Category::SexualExplicit | Category::SexualServices | Category::SexualMinors
            )
        })
        .collect();
    let worst = sexual.iter().map(|l| l.score).fold(0.0f32, f32::max);
    if worst == 0.0 {
        return None;
    }
    // As for contact details in text: a blocking sexual text makes a
    // blocking ad, a milder one an ad to review.
    let score = if worst >= 0.85 { 0.95 } else { 0.6 };
    let mut label = Label::new(Category::SexualServices, score, CODES_SOURCE);
    for c in contacts {
        let class = match c.kind {
            cleanweb_codes::Kind::Contact(k) => format!("contact:{k}"),
            _ => String::new(),
        };
        label.evidence.push(Evidence::Code {
            format: c.format.to_owned(),
            payload: c.payload.clone(),
            class,
            rect: c.rect,
        });
    }
    label.evidence.extend(
        sexual
            .iter()
            .flat_map(|l| l.evidence.iter().take(4).cloned()),
    );
    Some(label)
}

/// Fields the engine knows how to feed to detectors, in item order.
const CONTENT_FIELDS: [&str; 5] = ["text", "html", "url", "image", "video"];

/// The detectors, the policy and the limits every item is moderated with.
#[derive(Clone)]
pub struct Engine {
    detectors: Vec<Arc<dyn Detector>>,
    policy: Policy,
    limits: Limits,
    /// The video decoder (ffmpeg children), shared by every engine a
    /// process builds so its bound on concurrent decodes holds.
    video: Option<Arc<cleanweb_video::Decoder>>,
    /// Reading text in pictures, when configured.
    ocr: Option<OcrStage>,
    /// What the engine was built from (a lexicon file, the policy) and the
    /// SHA-256 of each, so a reload can tell and audit what changed.
    sources: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.detectors.iter().map(|d| d.name()).collect();
        f.debug_struct("Engine")
            .field("detectors", &names)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine with no detectors: everything is allowed, with warnings.
    pub fn new(policy: Policy, limits: Limits) -> Self {
        Engine {
            detectors: Vec::new(),
            policy,
            limits,
            video: None,
            ocr: None,
            sources: Default::default(),
        }
    }

    /// An engine with the built-in detectors and the default lexicon.
    pub fn with_default_detectors(policy: Policy, limits: Limits) -> Self {
        Engine::new(policy, limits).with_detector(Arc::new(text::LexiconDetector::default()))
    }

    /// Adds a detector; detectors run in the order they were added.
    pub fn with_detector(mut self, detector: Arc<dyn Detector>) -> Self {
        self.detectors.push(detector);
        self
    }

    /// Decodes video items with `decoder`; without one, a video earns a
    /// warning that it could not be decoded.
    pub fn with_video(mut self, decoder: Arc<cleanweb_video::Decoder>) -> Self {
        self.video = Some(decoder);
        self
    }

    /// Reads text in pictures and video frames with `stage` (unless its
    /// mode is `off`).
    pub fn with_ocr(mut self, stage: OcrStage) -> Self {
        self.ocr = (stage.mode != cleanweb_core::OcrMode::Off).then_some(stage);
        self
    }

    /// The video decoder, when one is configured.
    pub fn video_decoder(&self) -> Option<&Arc<cleanweb_video::Decoder>> {
        self.video.as_ref()
    }

    /// Records one thing the engine was built from, with its SHA-256.
    pub fn with_source(mut self, name: impl Into<String>, sha256: impl Into<String>) -> Self {
        self.sources.insert(name.into(), sha256.into());
        self
    }

    /// What the engine was built from, by name, with each one's SHA-256.
    pub fn sources(&self) -> &std::collections::BTreeMap<String, String> {
        &self.sources
    }

    /// The policy that turns labels into a verdict.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The bounds items are checked against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The detectors' names, in running order.
    pub fn detector_names(&self) -> Vec<&'static str> {
        self.detectors.iter().map(|d| d.name()).collect()
    }

    /// Moderates one item. Only an item that breaks the limits (or is empty)
    /// is an error; a failing detector becomes a warning on the decision.
    pub fn moderate(&self, item: &Item) -> Result<Decision, ItemError> {
        let started = Instant::now();
        item.validate(&self.limits)?;
        let mut input = Input::from_item(item);
        if let Some(html) = item.html.as_deref() {
            // Text detectors read the page with its markup blanked out, so
            // their offsets are offsets into the page source.
            input.texts.push(TextPart {
                field: "html",
                text: std::borrow::Cow::Owned(cleanweb_html::text_view(html)),
                source: std::borrow::Cow::Borrowed(html),
            });
        }
        let mut warnings = Vec::new();
        if let Some(bytes) = item.image.as_deref()
            && self.reads("image")
        {
            let decoded = cleanweb_vision::decode_image(bytes, &self.decode_limits())
                .map_err(|e| e.to_string());
            if let Err(e) = &decoded {
                warnings.push(format!("image could not be decoded: {e}"));
            }
            input.image = Some(decoded);
        }
        if let Some(bytes) = item.video.as_deref()
            && self.reads("video")
        {
            let decoded = match &self.video {
                Some(decoder) => decoder
                    .decode_bytes(bytes, &video_limits(&self.limits))
                    .map_err(|e| e.to_string()),
                None => Err(cleanweb_video::VideoError::Missing.to_string()),
            };
            match &decoded {
                Err(e) => warnings.push(format!("video could not be decoded: {e}")),
                Ok(video) => {
                    if let Some(why) = &video.truncated {
                        warnings.push(format!("video only partly checked: {why}"));
                    }
                }
            }
            input.video = Some(decoded);
        }
        // Codes in every decoded frame: the picture's and the video's.
        let frames = ocr_frames(input.image.as_ref(), input.video.as_ref());
        let codes = read_codes(frames.iter().map(|f| f.image));
        let mut read_text = None;
        if let Some(stage) = &self.ocr
            && stage.mode == cleanweb_core::OcrMode::Always
        {
            let text = ocr::read(stage, &frames);
            push_ocr(&mut input.texts, &text);
            read_text = Some(text);
        }
        // A code's payload is read like text: the lexicon and the URL lists
        // see it, with evidence in the field `qr`.
        for c in &codes {
            input.texts.push(TextPart {
                field: "qr",
                text: std::borrow::Cow::Owned(c.payload.clone()),
                source: std::borrow::Cow::Owned(c.payload.clone()),
            });
        }
        let mut raw: Vec<Label> = Vec::new();
        for detector in &self.detectors {
            if let Err(e) = detector.detect(&input, &mut raw) {
                warnings.push(format!("detector failed, item not fully checked: {e}"));
            }
        }
        if let Some(stage) = &self.ocr
            && stage.mode == cleanweb_core::OcrMode::WhenFlagged
            && raw.iter().any(|l| l.score >= 0.5)
        {
            // Read now, and run the detectors again on the text alone.
            let text = ocr::read(stage, &frames);
            let mut again = Input::from_item(item);
            again.texts.clear();
            push_ocr(&mut again.texts, &text);
            if !again.texts.is_empty() {
                for detector in &self.detectors {
                    if let Err(e) = detector.detect(&again, &mut raw) {
                        warnings.push(format!("detector failed, item not fully checked: {e}"));
                    }
                }
            }
            read_text = Some(text);
        }
        if let Some(text) = &mut read_text {
            ocr::locate(&mut raw, text);
            warnings.append(&mut text.warnings);
        }
        if let Some(ad) = contact_code_ad(&codes, &raw) {
            raw.push(ad);
        }
        for field in self.unread_fields(item) {
            warnings.push(format!(
                "{field} was not analysed: no configured detector reads it"
            ));
        }
        let labels = self.policy.merge(raw);
        let verdict = self.policy.verdict(&labels);
        Ok(Decision {
            id: item.id.clone(),
            verdict,
            labels,
            elapsed_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            warnings,
            meta: item.meta.clone(),
            decision_id: None,
        })
    }

    /// Moderates many items in parallel; results come back in input order.
    pub fn moderate_batch(&self, items: &[Item]) -> Vec<Result<Decision, ItemError>> {
        items.par_iter().map(|item| self.moderate(item)).collect()
    }

    /// The image decoding bounds the limits set.
    pub fn decode_limits(&self) -> cleanweb_vision::DecodeLimits {
        decode_limits(&self.limits)
    }

    fn reads(&self, field: &str) -> bool {
        let pictures = matches!(field, "image" | "video") && self.ocr.is_some();
        pictures || self.detectors.iter().any(|d| d.fields().contains(&field))
    }

    fn unread_fields<'a>(&'a self, item: &'a Item) -> impl Iterator<Item = &'static str> + 'a {
        CONTENT_FIELDS.into_iter().filter(move |&field| {
            let present = match field {
                "text" => item.text.is_some(),
                "html" => item.html.is_some(),
                "url" => item.url.is_some(),
                "image" => item.image.is_some(),
                _ => item.video.is_some(),
            };
            present && !self.reads(field)
        })
    }
}

/// The decoded frames of a picture and a video, numbered: an animation's
/// after its first by position, a video's by its own numbers and times.
fn ocr_frames<'a>(
    image: Option<&'a Result<cleanweb_core::DecodedImage, String>>,
    video: Option<&'a Result<cleanweb_core::DecodedVideo, String>>,
) -> Vec<ocr::Frame<'a>> {
    let pictures = image.into_iter().flatten().flat_map(|i| &i.frames);
    let videos = video.into_iter().flatten().flat_map(|v| &v.sampled);
    pictures
        .enumerate()
        .map(|(i, image)| ocr::Frame {
            frame: (i > 0).then_some(i as u64),
            time: None,
            image,
        })
        .chain(videos.map(|f| ocr::Frame {
            frame: Some(f.index),
            time: Some(f.time),
            image: &f.image,
        }))
        .collect()
}

/// Adds what OCR read as the text field `ocr`.
fn push_ocr<'a>(texts: &mut Vec<TextPart<'a>>, text: &ocr::OcrText) {
    if !text.text.is_empty() {
        texts.push(TextPart {
            field: "ocr",
            text: std::borrow::Cow::Owned(text.text.clone()),
            source: std::borrow::Cow::Owned(text.text.clone()),
        });
    }
}

/// The image decoding bounds a set of limits implies.
pub fn decode_limits(limits: &Limits) -> cleanweb_vision::DecodeLimits {
    cleanweb_vision::DecodeLimits {
        max_bytes: limits.max_image_bytes,
        max_pixels: limits.max_image_pixels,
        max_frames: limits.max_image_frames,
        max_time: std::time::Duration::from_millis(limits.max_decode_ms),
        ..cleanweb_vision::DecodeLimits::default()
    }
}

/// The video decoding bounds a set of limits implies.
pub fn video_limits(limits: &Limits) -> cleanweb_video::VideoLimits {
    cleanweb_video::VideoLimits {
        max_bytes: limits.max_video_bytes as u64,
        max_seconds: limits.max_video_seconds,
        max_pixels: limits.max_video_pixels,
        max_frames: limits.max_video_frames,
        max_time: std::time::Duration::from_millis(limits.max_video_decode_ms),
        ..cleanweb_video::VideoLimits::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::{Category, DetectError, Evidence, Verdict};

    /// Flags every text containing "bad", to test the engine's plumbing alone.
    struct Fixed;
    impl Detector for Fixed {
        fn name(&self) -> &'static str {
            "test.fixed"
        }
        fn fields(&self) -> &'static [&'static str] {
            &["text"]
        }
        fn detect(&self, input: &Input<'_>, out: &mut Vec<Label>) -> Result<(), DetectError> {
            for part in &input.texts {
                if part.text.contains("fail") {
                    return Err(DetectError {
                        detector: "test.fixed",
                        message: "asked to fail".into(),
                    });
                }
                if let Some(pos) = part.text.find("bad") {
                    let start = part.text[..pos].chars().count();
                    out.push(
                        Label::new(Category::SexualExplicit, 0.9, self.name()).with_evidence(
                            Evidence::Span {
                                field: part.field.into(),
                                start,
                                end: start + 3,
                                matched: "bad".into(),
                                term: "bad".into(),
                            },
                        ),
                    );
                }
            }
            Ok(())
        }
    }

    fn engine() -> Engine {
        Engine::new(Policy::default(), Limits::default()).with_detector(Arc::new(Fixed))
    }

    #[test]
    fn moderate_applies_the_policy() {
        let d = engine().moderate(&Item::text("so bad")).unwrap();
        assert_eq!(d.verdict, Verdict::Block);
        assert_eq!(d.labels[0].source, "test.fixed");
        assert!(d.warnings.is_empty());
        let d = engine().moderate(&Item::text("fine")).unwrap();
        assert_eq!(d.verdict, Verdict::Allow);
    }

    #[test]
    fn unread_fields_and_failures_become_warnings() {
        let item = Item {
            text: Some("fail".into()),
            url: Some("https://example.com".into()),
            ..Item::default()
        };
        let d = engine().moderate(&item).unwrap();
        assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
        assert!(d.warnings[1].starts_with("url was not analysed"));
    }

    #[test]
    fn batch_keeps_order_and_isolates_errors() {
        let items: Vec<Item> = (0..100)
            .map(|i| match i % 3 {
                0 => Item::text(format!("bad {i}")),
                1 => Item::default(),
                _ => Item::text(format!("ok {i}")),
            })
            .collect();
        let out = engine().moderate_batch(&items);
        for (i, r) in out.iter().enumerate() {
            match i % 3 {
                0 => assert_eq!(r.as_ref().unwrap().verdict, Verdict::Block),
                1 => assert_eq!(r.as_ref().unwrap_err(), &ItemError::Empty),
                _ => assert_eq!(r.as_ref().unwrap().verdict, Verdict::Allow),
            }
        }
    }
}

//! Video items through the whole engine with the real ffmpeg: frames are
//! sampled for the image detectors, codes in frames are read, and a broken
//! or undecodable video is a warning on an otherwise normal decision.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};

use cleanweb_core::{
    Category, DetectError, Detector, Evidence, Input, Item, Label, Limits, Policy, Verdict,
};
use cleanweb_engine::{CODES_SOURCE, Engine, video::Decoder};
use cleanweb_text::LexiconDetector;

/// Records the times of the frames it is shown, and finds nothing: stands
/// in for the nudity model, so the engine decodes the video.
#[derive(Default)]
struct SeesFrames(Mutex<Vec<f64>>);
impl Detector for SeesFrames {
    fn name(&self) -> &'static str {
        "test.frames"
    }
    fn fields(&self) -> &'static [&'static str] {
        &["video"]
    }
    fn detect(&self, input: &Input<'_>, _: &mut Vec<Label>) -> Result<(), DetectError> {
        if let Some(Ok(v)) = &input.video {
            *self.0.lock().unwrap() = v.sampled.iter().map(|f| f.time).collect();
        }
        Ok(())
    }
}

fn engine(frames: Arc<SeesFrames>) -> Engine {
    Engine::new(Policy::default(), Limits::default())
        .with_detector(Arc::new(LexiconDetector::default()))
        .with_detector(frames)
        .with_video(Arc::new(Decoder::locate(2).expect("ffmpeg is installed")))
}

/// `seconds` of video from `args` (an ffmpeg input), as MP4 bytes.
fn mp4(input: &[&str], seconds: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.mp4");
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(input)
        .args([
            "-t",
            seconds,
            "-pix_fmt",
            "yuv420p",
            "-vf",
            "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        ])
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::read(out).unwrap()
}

fn qr_png(payload: &str, path: &std::path::Path) {
    common::qr_image(payload, 6, 48).save(path).unwrap();
}

#[test]
fn frames_are_sampled_for_the_image_detectors() {
    let seen = Arc::new(SeesFrames::default());
    let item = Item {
        video: Some(mp4(
            &["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"],
            "4",
        )),
        ..Item::default()
    };
    let d = engine(seen.clone()).moderate(&item).unwrap();
    assert_eq!(d.verdict, Verdict::Allow);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(*seen.0.lock().unwrap(), [0.0, 1.0, 2.0, 3.0]);
}

#[test]
fn a_messenger_code_in_a_frame_next_to_sexual_text_is_an_ad() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    qr_png("https://u.wechat.com/EFxyz123", &png);
    let video = mp4(
        &[
            "-loop",
            "1",
            "-framerate",
            "10",
            "-i",
            png.to_str().unwrap(),
        ],
        "2",
    );
    let item = Item {
        text: Some("同城上门 全套服务 包夜".into()),
        video: Some(video),
        ..Item::default()
    };
    let d = engine(Arc::default()).moderate(&item).unwrap();
    assert_eq!(d.verdict, Verdict::Block, "{d:?}");
    let ad = d
        .labels
        .iter()
        .find(|l| l.source == CODES_SOURCE)
        .expect("an image.codes label");
    assert_eq!(ad.category, Category::SexualServices);
    assert!(
        ad.evidence
            .iter()
            .any(|e| matches!(e, Evidence::Code { class, .. } if class == "contact:wechat"))
    );
}

#[test]
fn an_undecodable_video_is_a_warning_and_the_rest_is_judged() {
    let item = Item {
        text: Some("今晚一起吃火锅".into()),
        video: Some(b"\0\0\0\x18ftypisom but nothing after it".to_vec()),
        ..Item::default()
    };
    let d = engine(Arc::default()).moderate(&item).unwrap();
    assert_eq!(d.verdict, Verdict::Allow);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.starts_with("video could not be decoded")),
        "{:?}",
        d.warnings
    );
    // Without a decoder, the same item says why.
    let bare = Engine::new(Policy::default(), Limits::default())
        .with_detector(Arc::new(SeesFrames::default()));
    let d = bare.moderate(&item).unwrap();
    assert!(
        d.warnings.iter().any(|w| w.contains("ffmpeg")),
        "{:?}",
        d.warnings
    );
}

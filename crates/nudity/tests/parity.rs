//! Parity with NudeNet 3.4.2 on benign fixtures: the goldens come from the
//! reference itself (`scripts/nudenet-goldens`). Needs the pinned model and
//! runtime, which `scripts/test` installs (`cleanweb models install`).

use std::path::{Path, PathBuf};

use cleanweb_models::{NUDENET_320N, ONNXRUNTIME, verified};
use cleanweb_nudity::{INPUT_SIZE, Model, resize_bgr_planes};
use cleanweb_vision::{DecodeLimits, decode_rgb};
use sha2::{Digest, Sha256};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn models_dir() -> PathBuf {
    match std::env::var_os("CLEANWEB_MODELS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/cleanweb/models"),
    }
}

fn model() -> Model {
    let dir = models_dir();
    let found = |a| {
        verified(&dir, a).unwrap_or_else(|e| {
            panic!("{e}\n(scripts/test installs the model; or run `cleanweb models install` with CLEANWEB_MODELS_DIR={})", dir.display())
        })
    };
    let (m, r) = (found(&NUDENET_320N), found(&ONNXRUNTIME));
    Model::load(&r, &m, 1).expect("load the model")
}

fn goldens() -> serde_json::Value {
    let text = std::fs::read_to_string(data().join("goldens.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn preprocessing_is_bit_exact_with_opencv_on_lossless_fixtures() {
    let g = goldens();
    let mut checked = 0;
    for (name, want) in g["fixtures"].as_object().unwrap() {
        let bytes = std::fs::read(data().join("images").join(name)).unwrap();
        let rgb = decode_rgb(&bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(
            (u64::from(rgb.width), u64::from(rgb.height)),
            (
                want["width"].as_u64().unwrap(),
                want["height"].as_u64().unwrap()
            ),
            "{name}: size after EXIF orientation"
        );
        // JPEG decoders differ by a level here and there (zune-jpeg against
        // libjpeg-turbo), so only lossless files can match bit for bit.
        if !name.ends_with(".png") {
            continue;
        }
        let mut planes = vec![0u8; 3 * INPUT_SIZE * INPUT_SIZE];
        resize_bgr_planes(&rgb, INPUT_SIZE, &mut planes);
        let sha = hex::encode(Sha256::digest(&planes));
        assert_eq!(
            sha,
            want["blob_sha256"].as_str().unwrap(),
            "{name}: model input"
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} lossless fixtures");
}

#[test]
fn detections_match_the_reference() {
    let g = goldens();
    let model = model();
    let mut with_detections = 0;
    for (name, want) in g["fixtures"].as_object().unwrap() {
        let bytes = std::fs::read(data().join("images").join(name)).unwrap();
        let rgb = decode_rgb(&bytes, &DecodeLimits::default()).unwrap();
        let got = model.detect(&[&rgb]).unwrap().pop().unwrap();
        let want = want["detections"].as_array().unwrap();
        let tolerance = if name.ends_with(".png") { 1e-4 } else { 5e-3 };
        let classes: Vec<&str> = got.iter().map(|d| d.class.as_str()).collect();
        let want_classes: Vec<&str> = want.iter().map(|d| d["class"].as_str().unwrap()).collect();
        assert_eq!(classes, want_classes, "{name}: classes");
        for (d, w) in got.iter().zip(want) {
            let score = w["score"].as_f64().unwrap();
            assert!(
                (f64::from(d.score) - score).abs() <= tolerance,
                "{name}: {} score {} against {score}",
                d.class,
                d.score
            );
            for (a, b) in d.rect.iter().zip(w["box"].as_array().unwrap()) {
                let b = b.as_i64().unwrap();
                assert!(
                    (i64::from(*a) - b).abs() <= 2,
                    "{name}: box {:?} against {w}",
                    d.rect
                );
            }
        }
        with_detections += usize::from(!want.is_empty());
    }
    assert!(
        with_detections >= 3,
        "the fixtures must exercise detections"
    );
}

#[test]
fn frames_batch_like_single_images() {
    let model = model();
    let load = |n: &str| {
        let bytes = std::fs::read(data().join("images").join(n)).unwrap();
        decode_rgb(&bytes, &DecodeLimits::default()).unwrap()
    };
    let (a, b) = (load("camera_gray.png"), load("chelsea.png"));
    let batch = model.detect(&[&a, &b]).unwrap();
    let one = model.detect(&[&a]).unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0].len(), one[0].len());
    for (x, y) in batch[0].iter().zip(&one[0]) {
        assert_eq!(x.class, y.class);
        assert!((x.score - y.score).abs() < 1e-4);
    }
}

//! Parity with RapidOCR 3.10.0 on benign generated pictures: the goldens
//! come from the reference itself (`scripts/ocr-goldens`). Needs the pinned
//! models and runtime, which `scripts/test` installs (`cleanweb models
//! install`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cleanweb_models::{OCR_CLS, OCR_DET, OCR_REC, ONNXRUNTIME, verified};
use cleanweb_ocr::{ModelFiles, Ocr, ReadLimits};
use cleanweb_vision::{DecodeLimits, decode_rgb};

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

fn ocr() -> &'static Ocr {
    static OCR: OnceLock<Ocr> = OnceLock::new();
    OCR.get_or_init(load)
}

fn load() -> Ocr {
    {
        let dir = models_dir();
        let found = |a| {
            verified(&dir, a).unwrap_or_else(|e| {
                panic!("{e}\n(scripts/test installs the models; or run `cleanweb models install` with CLEANWEB_MODELS_DIR={})", dir.display())
            })
        };
        let (det, cls, rec) = (found(&OCR_DET), found(&OCR_CLS), found(&OCR_REC));
        let files = ModelFiles {
            det: &det,
            cls: &cls,
            rec: &rec,
        };
        Ocr::load(&found(&ONNXRUNTIME), files, 2).expect("load the models")
    }
}

fn goldens() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(data().join("goldens.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Levenshtein distance over chars.
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn joined(lines: impl Iterator<Item = String>) -> String {
    lines
        .collect::<Vec<_>>()
        .join("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Over the parity set: our CER, RapidOCR's, pictures whose lines match
/// (spaces aside), pictures, and a report of the differences.
fn score(ocr: &Ocr, check_boxes: bool) -> (f64, f64, usize, usize, String) {
    let (mut ours_edits, mut ref_edits, mut truth_chars) = (0usize, 0usize, 0usize);
    let (mut same, mut total) = (0usize, 0usize);
    let mut report = String::new();
    for g in goldens() {
        let file = g["file"].as_str().unwrap();
        let bytes = std::fs::read(data().join(file)).unwrap();
        let img = decode_rgb(&bytes, &DecodeLimits::default()).unwrap();
        let reading = ocr.read(&img, &ReadLimits::default()).unwrap();
        let ours: Vec<String> = reading.lines.iter().map(|l| l.text.clone()).collect();
        let theirs: Vec<String> = g["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["text"].as_str().unwrap().to_owned())
            .collect();
        let truth = joined(
            g["truth"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned()),
        );
        truth_chars += truth.chars().count();
        ours_edits += edits(&joined(ours.iter().cloned()), &truth);
        ref_edits += edits(&joined(theirs.iter().cloned()), &truth);
        total += 1;
        // Spaces between Chinese words come and go with a strip's padding.
        let squeeze = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|l| l.chars().filter(|c| !c.is_whitespace()).collect())
                .collect()
        };
        if squeeze(&ours) == squeeze(&theirs) {
            same += 1;
        }
        if ours != theirs {
            report.push_str(&format!(
                "{file}:\n  ours   {ours:?}\n  theirs {theirs:?}\n"
            ));
        }
        // Boxes of lines read alike sit where the reference put them.
        if !check_boxes {
            continue;
        }
        for (line, want) in reading.lines.iter().zip(g["lines"].as_array().unwrap()) {
            if line.text != want["text"].as_str().unwrap() {
                continue;
            }
            for (p, q) in line.quad.iter().zip(want["box"].as_array().unwrap()) {
                let q: Vec<f64> = q
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                let off = (f64::from(p[0]) - q[0])
                    .abs()
                    .max((f64::from(p[1]) - q[1]).abs());
                assert!(off <= 4.0, "{file} {:?}: corner {p:?} vs {q:?}", line.text);
            }
        }
    }
    let ours = ours_edits as f64 / truth_chars as f64;
    let theirs = ref_edits as f64 / truth_chars as f64;
    (ours, theirs, same, total, report)
}

#[test]
fn lines_and_error_rate_match_rapidocr() {
    let (ours, theirs, same, total, report) = score(ocr(), true);
    eprintln!(
        "{report}same lines (spaces aside) on {same}/{total}; CER ours {ours:.4}, RapidOCR {theirs:.4}"
    );
    assert!(
        ours <= theirs + 0.01,
        "{report}CER {ours:.4} vs RapidOCR {theirs:.4}"
    );
    assert!(
        same * 10 >= total * 9,
        "{report}same lines on only {same}/{total}"
    );
}

/// `ocr_detect = "fast"` detects at a quarter of the cost; on this set its
/// error rate stays within a point of RapidOCR's.
#[test]
fn fast_detection_keeps_the_error_rate() {
    let fast = load().with_detect_size(cleanweb_ocr::det::DetectSize::Fast);
    let (ours, theirs, same, total, report) = score(&fast, false);
    eprintln!("fast: same lines on {same}/{total}; CER {ours:.4}, RapidOCR {theirs:.4}");
    assert!(
        ours <= theirs + 0.01,
        "{report}CER {ours:.4} vs RapidOCR {theirs:.4}"
    );
}

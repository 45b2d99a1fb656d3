//! Text in pictures end to end, through the real binary and the real
//! models: `cleanweb ocr`, and picture ads judged by the text they carry
//! while benign notices with contact details pass.

mod common;

use std::path::{Path, PathBuf};

use common::{cleanweb, json_lines as lines};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ocr/tests/data")
        .join(name)
}

#[test]
fn ocr_prints_lines_codes_and_errors_as_json_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.png");
    std::fs::write(&junk, b"not a picture").unwrap();
    let notice = fixture("zh_sans_notice.png");
    let blank = fixture("blank.png");
    let (code, out, err) = cleanweb(
        tmp.path(),
        &[
            "ocr",
            "--json",
            notice.to_str().unwrap(),
            blank.to_str().unwrap(),
            junk.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 1, "a bad file makes the exit code 1: {err}");
    let out = lines(&out);
    assert_eq!(out.len(), 3, "{out:?}");
    let texts: Vec<&str> = out[0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["今日营业时间：早上九点至晚上十点", "本店支持扫码付款"]
    );
    assert_eq!(out[0]["lines"][0]["box"].as_array().unwrap().len(), 4);
    assert!(out[0]["codes"].as_array().unwrap().is_empty());
    assert!(out[0]["timing"]["detect_us"].as_u64().unwrap() > 0);
    assert!(out[1]["lines"].as_array().unwrap().is_empty());
    assert!(out[2]["error"].as_str().unwrap().contains("not an image"));
}

#[test]
fn picture_ads_are_judged_by_their_text_and_notices_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["check", "--json", "--no-store"];
    let files = [
        fixture("ad_services_photo.jpg"),
        fixture("ad_site_plain.png"),
        // A plumber's phone number, WeChat id and site; a tutor's.
        fixture("mixed_plumber.jpg"),
        fixture("mixed_tutor.png"),
    ];
    for f in &files {
        args.push("--image");
        args.push(f.to_str().unwrap());
    }
    let (code, out, err) = cleanweb(tmp.path(), &args, "");
    assert_eq!(code, 0, "{err}");
    let d = lines(&out);
    assert_eq!(d.len(), 4);
    let categories = |i: usize| -> Vec<String> {
        d[i]["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["category"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(d[0]["verdict"], "block", "{}", d[0]);
    assert!(
        categories(0).contains(&"sexual.services".to_owned()),
        "{}",
        d[0]
    );
    let ocr = d[0]["labels"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "ocr")
        .cloned()
        .unwrap_or_else(|| panic!("no OCR evidence: {}", d[0]));
    let text = ocr["text"].as_str().unwrap();
    let (start, end) = (ocr["start"].as_u64().unwrap(), ocr["end"].as_u64().unwrap());
    let matched: String = text
        .chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect();
    assert_eq!(matched, ocr["matched"].as_str().unwrap());
    assert_eq!(ocr["box"].as_array().unwrap().len(), 4);
    assert_eq!(d[1]["verdict"], "block", "{}", d[1]);
    for i in [2, 3] {
        assert_eq!(d[i]["verdict"], "allow", "{}", d[i]);
    }
}

/// `[image] ocr`: `off` never reads, `when_flagged` reads only items
/// something else flagged, and the reading then adds its evidence.
#[test]
fn the_ocr_switch_decides_when_pictures_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let ad = fixture("ad_services_photo.jpg");
    let ad = ad.to_str().unwrap();
    let items = format!(
        "{}\n{}\n",
        serde_json::json!({"id": "alone", "image_path": ad}),
        serde_json::json!({"id": "flagged", "text": "成人视频资源，私聊", "image_path": ad}),
    );
    let run = |mode: &str| -> Vec<serde_json::Value> {
        let cfg = tmp.path().join(format!("{mode}.toml"));
        std::fs::write(&cfg, format!("[image]\nnudity = false\nocr = \"{mode}\"\n")).unwrap();
        let args = [
            "check",
            "--jsonl",
            "--no-store",
            "--config",
            cfg.to_str().unwrap(),
        ];
        let (code, out, err) = cleanweb(tmp.path(), &args, &items);
        assert_eq!(code, 0, "{err}");
        lines(&out)
    };
    let has_ocr = |d: &serde_json::Value| {
        d["labels"].as_array().unwrap().iter().any(|l| {
            l["evidence"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["kind"] == "ocr"))
        })
    };
    let off = run("off");
    assert_eq!(off[0]["verdict"], "allow", "{}", off[0]);
    assert!(!has_ocr(&off[1]), "{}", off[1]);
    let flagged = run("when_flagged");
    assert_eq!(flagged[0]["verdict"], "allow", "{}", flagged[0]);
    assert!(has_ocr(&flagged[1]), "{}", flagged[1]);
    let always = run("always");
    assert_eq!(always[0]["verdict"], "block", "{}", always[0]);
}

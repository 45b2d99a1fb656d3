//! Images end to end through the real binary and the real model: raw
//! detections, censoring, image items in `check` and the API (JSON and
//! upload forms), and hostile files.

mod common;

use std::path::{Path, PathBuf};

use common::{Server, cleanweb, json_lines as lines};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../nudity/tests/data/images")
        .join(name)
}

#[test]
fn detect_image_prints_reference_style_detections_and_errors_per_file() {
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.png");
    std::fs::write(&junk, b"not an image at all").unwrap();
    let camera = fixture("camera_gray.png");
    let (code, out, err) = cleanweb(
        tmp.path(),
        &[
            "detect-image",
            "--json",
            camera.to_str().unwrap(),
            junk.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 1, "a bad file makes the exit code 1: {err}");
    let out = lines(&out);
    assert_eq!(out.len(), 2);
    let d = &out[0]["detections"][0];
    assert_eq!(d["class"], "FACE_MALE", "{out:?}");
    assert_eq!(d["box"].as_array().unwrap().len(), 4);
    assert!(
        out[1]["error"].as_str().unwrap().contains("not an image"),
        "{out:?}"
    );
}

#[test]
fn censor_changes_the_region_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let camera = fixture("camera_gray.png");
    let (_, out, _) = cleanweb(
        tmp.path(),
        &["detect-image", "--json", camera.to_str().unwrap()],
        "",
    );
    let b: Vec<u32> = lines(&out)[0]["detections"][0]["box"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let original = image::open(&camera).unwrap().to_rgb8();
    for mode in ["blur", "pixelate", "black"] {
        let out_path = tmp.path().join(format!("out-{mode}.png"));
        let (code, _, err) = cleanweb(
            tmp.path(),
            &[
                "censor",
                camera.to_str().unwrap(),
                out_path.to_str().unwrap(),
                "--mode",
                mode,
                "--classes",
                "FACE_MALE,FACE_FEMALE",
            ],
            "",
        );
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("1 region(s) censored"), "{err}");
        let censored = image::open(&out_path).unwrap().to_rgb8();
        assert_eq!(censored.dimensions(), original.dimensions());
        let (mut inside_changed, mut outside_changed) = (0, 0);
        for (x, y, p) in censored.enumerate_pixels() {
            let inside = x >= b[0] && x < b[0] + b[2] && y >= b[1] && y < b[1] + b[3];
            let changed = p != original.get_pixel(x, y);
            match (inside, changed) {
                (true, true) => inside_changed += 1,
                (false, true) => outside_changed += 1,
                _ => {}
            }
        }
        assert_eq!(outside_changed, 0, "{mode}");
        assert!(
            inside_changed > (b[2] * b[3]) as usize / 2,
            "{mode}: {inside_changed}"
        );
    }
    // By default only classes that raise a category are censored: a face
    // is context, so the copy is unchanged.
    let same = tmp.path().join("same.png");
    let (code, _, err) = cleanweb(
        tmp.path(),
        &["censor", camera.to_str().unwrap(), same.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 region(s)"), "{err}");
}

#[test]
fn check_reads_image_files_and_refuses_hostile_ones_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let bomb = tmp.path().join("bomb.bmp");
    // A 54-byte BMP whose header claims 60000 x 60000 pixels (10 GB of RGB).
    let mut bytes = b"BM".to_vec();
    for v in [54u32, 0, 54, 40] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes.extend_from_slice(&60_000i32.to_le_bytes());
    bytes.extend_from_slice(&60_000i32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&24u16.to_le_bytes());
    bytes.extend_from_slice(&[0u8; 24]);
    std::fs::write(&bomb, &bytes).unwrap();
    let truncated = tmp.path().join("cut.jpg");
    let jpeg = std::fs::read(fixture("coffee.jpg")).unwrap();
    std::fs::write(&truncated, &jpeg[..jpeg.len() / 3]).unwrap();
    let wrong = tmp.path().join("wrong.jpg");
    std::fs::write(&wrong, b"%PDF-1.4\n").unwrap();
    let good = fixture("chelsea.png");

    let started = std::time::Instant::now();
    let mut args = vec!["check", "--json", "--no-store"];
    for p in [&good, &bomb, &truncated, &wrong] {
        args.push("--image");
        args.push(p.to_str().unwrap());
    }
    let (code, out, err) = cleanweb(tmp.path(), &args, "");
    assert_eq!(code, 0, "{err}");
    let d = lines(&out);
    assert_eq!(d.len(), 4);
    assert_eq!(d[0]["verdict"], "allow");
    assert!(
        d[0].get("warnings")
            .is_none_or(|w| w.as_array().unwrap().is_empty()),
        "{}",
        d[0]
    );
    let warning = |i: usize| d[i]["warnings"][0].as_str().unwrap_or_default().to_owned();
    assert!(warning(1).contains("pixels"), "{}", d[1]);
    // A cut JPEG may decode partially (grey below the cut) or not at all;
    // either way the process answers and goes on.
    assert!(d[2]["verdict"].is_string());
    assert!(warning(3).contains("not an image"), "{}", d[3]);
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn the_api_takes_images_as_base64_and_as_uploads() {
    use base64::Engine as _;
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path(), &[]);
    let key = server.key().to_owned();
    let bytes = std::fs::read(fixture("camera_gray.png")).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let r = server.post_json(
        "/v1/moderate",
        Some(&key),
        &serde_json::json!({"id": "a", "image": b64}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["verdict"], "allow");
    assert!(
        r.json()
            .get("warnings")
            .is_none_or(|w| w.as_array().unwrap().is_empty()),
        "{}",
        r.body
    );

    let boundary = "cleanweb-test-boundary";
    let mut form = Vec::new();
    form.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\nupload-1\r\n")
            .as_bytes(),
    );
    form.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"c.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
    );
    form.extend_from_slice(&bytes);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = server.post_typed("/v1/moderate", Some(&key), &ct, &form);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], "upload-1");
    assert_eq!(r.json()["verdict"], "allow");

    // An unknown form field is a 400 problem, not a silent drop.
    let bad = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"\r\n\r\nx\r\n--{boundary}--\r\n"
    );
    let r = server.post_typed("/v1/moderate", Some(&key), &ct, bad.as_bytes());
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.content_type.starts_with("application/problem+json"));
}

//! Video through the real binary and the real ffmpeg: vPDQ in the
//! reference's format, and video banks matching re-encoded, resized,
//! trimmed and mirrored copies but not unrelated clips.

mod common;

use std::path::{Path, PathBuf};

use common::cleanweb;

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = cleanweb(dir, args, "");
    assert_eq!(code, 0, "cleanweb {args:?}: {err}");
    out
}

fn clips() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../video/tests/data")
}

/// `clip` run through ffmpeg with `args` (filters, trims, codecs).
fn derived(dir: &Path, clip: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(clip)
        .args(args)
        .args(["-pix_fmt", "yuv420p"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg made {name}");
    out
}

#[test]
fn hash_prints_vpdq_as_the_reference_does() {
    let tmp = tempfile::tempdir().unwrap();
    let clip = clips().join("chelsea_zoom_320x240_2997fps.mp4");
    let out = ok(tmp.path(), &["hash", "--vpdq", clip.to_str().unwrap()]);
    let golden = std::fs::read_to_string(clip.with_extension("vpdq")).unwrap();
    assert_eq!(out, golden);
    let json: serde_json::Value =
        serde_json::from_str(&ok(tmp.path(), &["hash", "--json", clip.to_str().unwrap()])).unwrap();
    assert_eq!(json["kind"], "video");
    assert_eq!(json["md5"].as_str().unwrap().len(), 32);
    assert_eq!(
        json["vpdq"].as_array().unwrap().len(),
        golden.lines().count()
    );
    assert_eq!(json["vpdq"][1]["frame"], 29);
}

#[test]
fn a_video_bank_matches_copies_and_not_other_clips() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let clip = clips().join("chelsea_zoom_320x240_2997fps.mp4");
    ok(
        &data,
        &[
            "bank",
            "create",
            "known",
            "--signal",
            "vpdq",
            "--category",
            "sexual.explicit",
        ],
    );
    let added = ok(
        &data,
        &[
            "bank",
            "add",
            "known",
            clip.to_str().unwrap(),
            "--note",
            "case 7",
        ],
    );
    assert!(added.trim_end().ends_with("added"), "{added}");
    // The same video again is the same entry.
    let again = ok(&data, &["bank", "add", "known", clip.to_str().unwrap()]);
    assert!(again.contains("already in the bank"), "{again}");

    let copies = [
        derived(
            tmp.path(),
            &clip,
            "reencoded.mp4",
            &["-c:v", "libx264", "-crf", "38"],
        ),
        derived(
            tmp.path(),
            &clip,
            "small.webm",
            &["-vf", "scale=160:120", "-c:v", "libvpx", "-b:v", "200k"],
        ),
        derived(tmp.path(), &clip, "trimmed.mp4", &["-t", "2.5"]),
        clips().join("chelsea_zoom_320x240_2997fps_hflip.mp4"),
        derived(tmp.path(), &clip, "rotated.mp4", &["-vf", "transpose=1"]),
    ];
    for copy in &copies {
        let out = ok(&data, &["bank", "match", copy.to_str().unwrap()]);
        assert!(
            out.starts_with("known\tblock\tsexual.explicit\tframes 100% of this"),
            "{}: {out}",
            copy.display()
        );
    }
    // Without rotations and flips, the mirrored copy is another video.
    ok(
        &data,
        &[
            "bank",
            "create",
            "plain",
            "--signal",
            "vpdq",
            "--no-dihedral",
        ],
    );
    ok(&data, &["bank", "add", "plain", clip.to_str().unwrap()]);
    let out = ok(&data, &["bank", "match", copies[3].to_str().unwrap()]);
    assert!(out.contains("known\t") && !out.contains("plain\t"), "{out}");
    let out = ok(&data, &["bank", "match", copies[0].to_str().unwrap()]);
    assert!(out.contains("plain\t"), "{out}");
    for other in [
        "mandelbrot_320x240_30fps.mp4",
        "testsrc2_320x240_25fps.mp4",
        "rocket_portrait_240x360_24fps.mp4",
    ] {
        let out = ok(
            &data,
            &["bank", "match", clips().join(other).to_str().unwrap()],
        );
        assert_eq!(out.trim(), "no match", "{other}");
    }

    // Through the engine: a copy is blocked, with both shares as evidence.
    let line = serde_json::json!({"id": "v", "video_path": copies[0]}).to_string() + "\n";
    let (code, out, err) = cleanweb(&data, &["check", "--jsonl", "--no-store"], &line);
    assert_eq!(code, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(d["verdict"], "block", "{d}");
    let e = &d["labels"][0]["evidence"][0];
    assert_eq!(
        (e["kind"].as_str(), e["bank"].as_str()),
        (Some("video_hash"), Some("known")),
        "{d}"
    );
    assert_eq!(e["query_pct"], 100.0);

    // Export, and import into another bank: HMA's signal lines and our CSV.
    let csv = ok(&data, &["bank", "export", "known"]);
    assert!(csv.lines().next().unwrap().ends_with(",vpdq"), "{csv}");
    let csv_file = tmp.path().join("known.csv");
    std::fs::write(&csv_file, &csv).unwrap();
    ok(&data, &["bank", "create", "copy", "--signal", "vpdq"]);
    let imported = ok(
        &data,
        &["bank", "import", "copy", csv_file.to_str().unwrap()],
    );
    assert!(imported.starts_with("copy: 1 new"), "{imported}");
    let golden = std::fs::read_to_string(clips().join("mandelbrot_320x240_30fps.vpdq")).unwrap();
    let hma: Vec<String> = golden
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let t: f64 = f[3].parse().unwrap();
            format!("{},{},{}", f[2], f[1], t)
        })
        .collect();
    let lines = format!(
        "vpdq {}\nnot a signal\n",
        serde_json::to_string(&hma).unwrap()
    );
    let hma_file = tmp.path().join("hma.txt");
    std::fs::write(&hma_file, lines).unwrap();
    let imported = ok(
        &data,
        &["bank", "import", "copy", hma_file.to_str().unwrap()],
    );
    assert!(
        imported.starts_with("copy: 1 new hashes (1 read, 1 lines skipped)"),
        "{imported}"
    );
    let out = ok(
        &data,
        &[
            "bank",
            "match",
            clips()
                .join("mandelbrot_320x240_30fps.mp4")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(out.starts_with("copy\t"), "{out}");
}

#[test]
fn videos_over_http_are_banked_matched_and_moderated_at_once() {
    use base64::Engine as _;
    let tmp = tempfile::tempdir().unwrap();
    let server = common::Server::start(tmp.path(), &[]);
    let key = server.key().to_owned();
    let clip = std::fs::read(clips().join("chelsea_zoom_320x240_2997fps.mp4")).unwrap();
    let mirrored = std::fs::read(clips().join("chelsea_zoom_320x240_2997fps_hflip.mp4")).unwrap();
    let moderate = |video: &[u8]| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(video);
        let r = server.post_json(
            "/v1/moderate",
            Some(&key),
            &serde_json::json!({"video": b64}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    let d = moderate(&mirrored);
    assert_eq!(d["verdict"], "allow", "{d}");
    assert!(d["warnings"].as_array().is_none_or(|w| w.is_empty()), "{d}");

    let r = server.post_json(
        "/v1/banks",
        Some(&key),
        &serde_json::json!({"name": "known", "signal": "vpdq", "category": "sexual.explicit"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server.post_typed(
        "/v1/banks/known/images?note=case%202",
        Some(&key),
        "application/octet-stream",
        &clip,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.json()["frames"].as_str().unwrap().starts_with("[\""),
        "{}",
        r.body
    );

    // The live index has it: no reload.
    let r = server.post_typed(
        "/v1/match",
        Some(&key),
        "application/octet-stream",
        &mirrored,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let hit = &r.json()["matches"][0];
    assert_eq!(
        (hit["bank"].as_str(), hit["query_pct"].as_f64()),
        (Some("known"), Some(100.0)),
        "{}",
        r.body
    );
    assert_eq!(moderate(&mirrored)["verdict"], "block");
    // The same as an upload form.
    let mut form =
        b"--b\r\nContent-Disposition: form-data; name=\"video\"; filename=\"m.mp4\"\r\n\r\n"
            .to_vec();
    form.extend_from_slice(&mirrored);
    form.extend_from_slice(b"\r\n--b--\r\n");
    let r = server.post_typed(
        "/v1/moderate",
        Some(&key),
        "multipart/form-data; boundary=b",
        &form,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["verdict"], "block", "{}", r.body);

    // A file that is no video, sent as one, is refused clearly.
    let r = server.post_typed(
        "/v1/banks/known/images",
        Some(&key),
        "application/octet-stream",
        b"\0\0\0\x18ftypisom broken",
    );
    assert_eq!(r.status, 422, "{}", r.body);
}

#[test]
fn a_full_engine_answers_503_with_retry_after_instead_of_queueing() {
    use base64::Engine as _;
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("c.toml");
    std::fs::write(&config, "[server]\nengine_tasks = 1\nengine_wait_ms = 0\n").unwrap();
    let server = std::sync::Arc::new(common::Server::start(
        &tmp.path().join("data"),
        &["--config", config.to_str().unwrap()],
    ));
    let key = server.key().to_owned();
    // A four-minute clip holds the one slot for a while.
    let long = derived(
        tmp.path(),
        &clips().join("testsrc2_320x240_25fps.mp4"),
        "long.mp4",
        &[
            "-vf",
            "loop=loop=30:size=100",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(long).unwrap());
    let (s, k) = (server.clone(), key.clone());
    let slow = std::thread::spawn(move || {
        s.post_json("/v1/moderate", Some(&k), &serde_json::json!({"video": b64}))
            .status
    });
    // While it runs, another request finds the engine full: 503 at once,
    // with Retry-After, not a place in an unbounded queue.
    let mut busy = None;
    while busy.is_none() && !slow.is_finished() {
        let r = server.post_json(
            "/v1/moderate",
            Some(&key),
            &serde_json::json!({"text": "hello"}),
        );
        if r.status == 503 {
            busy = Some(r);
        } else {
            assert_eq!(r.status, 200, "{}", r.body);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let r = busy.expect("no request found the engine busy while the video ran");
    assert_eq!(r.retry_after.as_deref(), Some("1"));
    assert!(r.content_type.starts_with("application/problem+json"));
    assert_eq!(slow.join().unwrap(), 200);
    // Once the slot is free, the same request goes through.
    let r = server.post_json(
        "/v1/moderate",
        Some(&key),
        &serde_json::json!({"text": "hello"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

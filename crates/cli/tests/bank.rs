//! Hash banks through the real binary: create, add, import/export, match,
//! and the engine labelling image items, rotations included.

mod common;

use std::path::Path;

use common::cleanweb;

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = cleanweb(dir, args, "");
    assert_eq!(code, 0, "cleanweb {args:?}: {err}");
    out
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vision/tests/data/pdq")
}

fn goldens() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("goldens.json")).unwrap())
        .unwrap()
}

/// Moderates an image item through `check --jsonl`.
fn moderate_image(data: &Path, file: &Path) -> serde_json::Value {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(file).unwrap());
    let line = serde_json::json!({"id": "img", "image": b64}).to_string() + "\n";
    let (code, out, err) = cleanweb(data, &["check", "--jsonl", "--no-store"], &line);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(out.trim()).unwrap()
}

#[test]
fn banks_match_images_in_the_engine_with_rotations_and_allow_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let shapes = fixtures().join("shapes_640x480.png");
    let g = &goldens()["shapes_640x480"];

    // Before any bank, only the nudity model looks at it: nothing found.
    let d = moderate_image(data, &shapes);
    assert_eq!(d["verdict"], "allow");
    assert!(d["labels"].as_array().is_none_or(|l| l.is_empty()), "{d}");
    assert!(d["warnings"].as_array().is_none_or(|w| w.is_empty()), "{d}");

    // A bank that knows the image only rotated by 90 degrees.
    ok(
        data,
        &["bank", "create", "known", "--category", "sexual.minors"],
    );
    let rotated = g["dihedral"][1].as_str().unwrap();
    ok(
        data,
        &["bank", "add", "known", rotated, "--note", "rotated copy"],
    );
    let d = moderate_image(data, &shapes);
    assert_eq!(d["verdict"], "block", "{d}");
    let label = &d["labels"][0];
    assert_eq!(
        (label["category"].as_str(), label["source"].as_str()),
        (Some("sexual.minors"), Some("image.hash"))
    );
    let ev = &label["evidence"][0];
    assert_eq!(
        (
            ev["kind"].as_str(),
            ev["bank"].as_str(),
            ev["distance"].as_u64()
        ),
        (Some("hash"), Some("known"), Some(0))
    );

    // Without dihedral matching the rotated entry does not match.
    ok(data, &["bank", "create", "exactly", "--no-dihedral"]);
    ok(data, &["bank", "add", "exactly", rotated]);
    let out = ok(data, &["bank", "match", shapes.to_str().unwrap()]);
    assert!(out.contains("known") && !out.contains("exactly"), "{out}");

    // An allow bank with the file's MD5 suppresses the other matches, but
    // never a minors list's.
    ok(
        data,
        &[
            "bank", "create", "benign", "--signal", "md5", "--action", "allow",
        ],
    );
    ok(data, &["bank", "add", "benign", shapes.to_str().unwrap()]);
    ok(data, &["bank", "create", "adult", "--signal", "md5"]);
    ok(data, &["bank", "add", "adult", shapes.to_str().unwrap()]);
    let d = moderate_image(data, &shapes);
    assert_eq!(d["verdict"], "block", "{d}");
    let banks: Vec<&str> = d["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["evidence"][0]["bank"].as_str())
        .collect();
    assert_eq!(banks, ["known"], "{d}");
    ok(data, &["bank", "delete", "known"]);
    assert_eq!(moderate_image(data, &shapes)["verdict"], "allow");
    ok(data, &["bank", "delete", "benign"]);
    assert_eq!(moderate_image(data, &shapes)["verdict"], "block");

    // A broken image is one warning, not a crash.
    let bad = tmp.path().join("bad.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nbroken").unwrap();
    let d = moderate_image(data, &bad);
    assert_eq!(d["warnings"].as_array().map(Vec::len), Some(1), "{d}");
    assert!(
        d["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("image could not be decoded: image is corrupt or truncated"),
        "{d}"
    );
    // Its bytes still match an exact-file bank.
    ok(data, &["bank", "create", "files", "--signal", "md5"]);
    ok(data, &["bank", "add", "files", bad.to_str().unwrap()]);
    assert_eq!(moderate_image(data, &bad)["verdict"], "block");
}

#[test]
fn csv_import_and_export_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let g = goldens();
    let mut csv = String::from("hash,source,id,note\n");
    for (name, v) in g.as_object().unwrap() {
        csv.push_str(&format!(
            "{},test,{name},from goldens\n",
            v["pdq"].as_str().unwrap()
        ));
    }
    csv.push_str("not-a-hash,test,x,\n");
    let file = tmp.path().join("in.csv");
    std::fs::write(&file, &csv).unwrap();
    ok(data, &["bank", "create", "a"]);
    let out = ok(data, &["bank", "import", "a", file.to_str().unwrap()]);
    assert!(out.contains("1 lines skipped"), "{out}");
    let exported = ok(data, &["bank", "export", "a"]);
    assert!(exported.starts_with("hash,source,external_id,note,added_by,added_at_ms\n"));
    let out_file = tmp.path().join("out.csv");
    std::fs::write(&out_file, &exported).unwrap();
    ok(data, &["bank", "create", "b"]);
    ok(data, &["bank", "import", "b", out_file.to_str().unwrap()]);
    let listed = ok(data, &["bank", "list"]);
    let counts: Vec<&str> = listed
        .lines()
        .map(|l| l.rsplit('\t').next().unwrap())
        .collect();
    assert_eq!(counts[0], counts[1], "{listed}");
    // A match names the entry by its external id.
    let shapes = fixtures().join("shapes_640x480.png");
    let out = ok(data, &["bank", "match", shapes.to_str().unwrap()]);
    assert!(
        out.contains("shapes_640x480") && out.contains("distance 0"),
        "{out}"
    );
    // Plain lists of hex hashes import too.
    let plain = tmp.path().join("plain.txt");
    std::fs::write(
        &plain,
        format!(
            "{}\n# comment\n",
            g["noise_300x300"]["pdq"].as_str().unwrap()
        ),
    )
    .unwrap();
    ok(data, &["bank", "create", "c"]);
    assert!(ok(data, &["bank", "import", "c", plain.to_str().unwrap()]).contains("1 new"));
}

#[test]
fn hashes_and_banks_over_http() {
    use base64::Engine as _;
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let s = common::Server::start(tmp.path(), &[]);
    let key = s.key().to_owned();
    let shapes = fixtures().join("shapes_640x480.png");
    let bytes = std::fs::read(&shapes).unwrap();
    let g = &goldens()["shapes_640x480"];

    let r = s.post_raw("/v1/hash", Some(&key), &bytes);
    assert_eq!(r.status, 200, "{}", r.body);
    let h = r.json();
    assert_eq!(h["pdq"], g["pdq"]);
    assert_eq!(h["quality"], g["quality"]);
    assert_eq!(
        h["dihedral"][0], g["dihedral"][1],
        "rotate 90 comes first after the original"
    );
    let r = s.post_raw("/v1/hash", Some(&key), b"not an image");
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (422, "application/problem+json")
    );

    let bank = json!({"name": "known", "signal": "pdq", "category": "sexual.explicit", "action": "block", "threshold": 31, "dihedral": true});
    assert_eq!(s.post_json("/v1/banks", Some(&key), &bank).status, 200);
    assert_eq!(s.post_json("/v1/banks", Some(&key), &bank).status, 409);
    let entries = json!({"entries": [{"hash": g["pdq"], "external_id": "case-1"}]});
    let r = s.post_json("/v1/banks/known/entries", Some(&key), &entries);
    assert_eq!((r.status, r.body.as_str()), (200, "1"));
    let bad = json!({"entries": [{"hash": "abc"}]});
    assert_eq!(
        s.post_json("/v1/banks/known/entries", Some(&key), &bad)
            .status,
        400
    );
    let listed = s.get("/v1/banks/known/entries", Some(&key)).json();
    let added_by = listed["entries"][0]["added_by"]
        .as_str()
        .unwrap_or_default();
    assert!(added_by.starts_with("key:first admin/"), "{added_by}");

    assert_eq!(
        s.post_json("/v1/admin/reload", Some(&key), &json!({}))
            .status,
        200
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let d = s
        .post_json("/v1/moderate", Some(&key), &json!({"image": b64}))
        .json();
    assert_eq!(d["verdict"], "block", "{d}");
    assert_eq!(d["labels"][0]["evidence"][0]["entry"], "case-1");

    let (_, op, _) = cleanweb(tmp.path(), &["key", "create", "--role", "operator"], "");
    assert_eq!(s.get("/v1/banks", Some(op.trim())).status, 403);
    assert_eq!(s.post_raw("/v1/hash", Some(op.trim()), &bytes).status, 200);
}

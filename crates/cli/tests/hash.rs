//! `cleanweb hash` through the real binary, on the PDQ golden fixtures.

mod common;

#[test]
fn hash_prints_pdq_quality_and_md5_and_survives_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vision/tests/data/pdq");
    let goldens: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("goldens.json")).unwrap())
            .unwrap();
    let shapes = fixtures.join("shapes_640x480.png");
    let flat = fixtures.join("flat_gray_256x256.png");
    let bad = dir.path().join("not-an-image.png");
    std::fs::write(&bad, b"hello").unwrap();
    let args = [
        "hash",
        shapes.to_str().unwrap(),
        bad.to_str().unwrap(),
        flat.to_str().unwrap(),
    ];
    let (code, out, err) = common::cleanweb(dir.path(), &args, "");
    assert_eq!(code, 1, "a bad file is reported in the exit code");
    assert!(err.contains("not-an-image.png"), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let fields: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(
        fields[0],
        goldens["shapes_640x480"]["pdq"].as_str().unwrap()
    );
    assert_eq!(fields[1], goldens["shapes_640x480"]["quality"].to_string());
    assert_eq!(fields[2].len(), 32, "md5");
    assert!(lines[1].ends_with("low-quality"), "{}", lines[1]);

    let (code, out, _) = common::cleanweb(
        dir.path(),
        &["hash", "--json", shapes.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["dihedral"], goldens["shapes_640x480"]["dihedral"]);
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
}

//! Sweeps through the real binary: a mixed directory tree, JSONL and CSV
//! exports, outputs, and resuming after `kill -9` with every item done
//! exactly once.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::cleanweb;

fn tree(root: &Path, bad: usize, good: usize) {
    std::fs::create_dir_all(root.join("posts/old")).unwrap();
    std::fs::create_dir_all(root.join("pages")).unwrap();
    for i in 0..bad {
        std::fs::write(
            root.join(format!("posts/bad{i:05}.txt")),
            format!("hot porn videos number {i}"),
        )
        .unwrap();
    }
    for i in 0..good {
        std::fs::write(
            root.join(format!("posts/old/ok{i:05}.txt")),
            format!("a bread recipe, take {i}"),
        )
        .unwrap();
    }
}

fn sweep_dir(data: &Path) -> std::path::PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(data.join("sweeps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

#[test]
fn a_directory_sweep_writes_findings_deletions_and_summaries() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    tree(&root, 12, 30);
    std::fs::write(
        root.join("pages/a.html"),
        "<!doctype html><html><body><p>hardcore sex</p><script>alert(1)</script></body></html>",
    )
    .unwrap();
    std::fs::write(root.join("pages/<script>x.txt"), "nude photos").unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../nudity/tests/data/images/chelsea.png"),
        root.join("pages/cat.png"),
    )
    .unwrap();
    std::fs::write(root.join("pages/blob.bin"), [0x00u8, 0x81, 0xff, 0xfe]).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("..", root.join("pages/loop")).unwrap();
    let data = tmp.path().join("data");
    let (code, out, err) = cleanweb(&data, &["scan", root.to_str().unwrap(), "--json"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("15 findings, 14 to delete"), "{out}");
    let dir = sweep_dir(&data);
    let findings: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), 15);
    assert!(
        findings
            .iter()
            .any(|f| f["key"] == "pages/blob.bin" && f["verdict"] == "error")
    );
    let page = findings
        .iter()
        .find(|f| f["key"] == "pages/a.html")
        .unwrap();
    assert_eq!(
        page["decision"]["labels"][0]["evidence"][0]["field"],
        "html"
    );
    let deletions = std::fs::read_to_string(dir.join("deletions.txt")).unwrap();
    assert_eq!(deletions.lines().count(), 14);
    assert!(deletions.lines().all(|l| !l.contains("ok")));
    let csv = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(csv.contains("verdict,\"allow\",31"), "{csv}");
    assert!(csv.contains("source,\"posts\",12"), "{csv}");
    let html = std::fs::read_to_string(dir.join("summary.html")).unwrap();
    assert!(
        html.contains("&lt;script&gt;x.txt") && !html.contains("<script>x"),
        "names are escaped"
    );
    // Progress went to stderr as JSON lines.
    assert!(
        err.lines().any(|l| l.contains("\"finished\":true")),
        "{err}"
    );
    // Review and block items are in the decision store, from the sweep.
    let (_, out, _) = cleanweb(&data, &["scan", "--list"], "");
    assert!(out.contains("block=14") && out.contains("error=1"), "{out}");
}

#[test]
fn exports_are_read_with_column_mapping_and_bad_rows_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let jsonl = tmp.path().join("posts.jsonl");
    std::fs::write(
        &jsonl,
        "{\"id\":\"p1\",\"text\":\"hot porn videos\"}\n{\"id\":\"p2\",\"text\":\"hello\"}\nnot json\n{\"id\":\"p4\",\"url\":\"https://example.com/\"}\n",
    )
    .unwrap();
    let data = tmp.path().join("data");
    let (code, out, err) = cleanweb(
        &data,
        &[
            "scan",
            jsonl.to_str().unwrap(),
            "--out",
            tmp.path().join("o1").to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 findings, 1 to delete"), "{out}");
    let deletions = std::fs::read_to_string(tmp.path().join("o1/deletions.txt")).unwrap();
    assert_eq!(deletions.trim(), "p1");

    let csv = tmp.path().join("export.csv");
    std::fs::write(
        &csv,
        "post_id,body,extra\n10,hot porn videos,x\n11,\"fine, thanks\",y\n",
    )
    .unwrap();
    let (code, _, err) = cleanweb(&data, &["scan", csv.to_str().unwrap()], "");
    assert_ne!(code, 0, "no column to moderate");
    assert!(err.contains("no column to moderate"), "{err}");
    let (code, out, err) = cleanweb(
        &data,
        &[
            "scan",
            csv.to_str().unwrap(),
            "--column",
            "text=body",
            "--column",
            "id=post_id",
            "--out",
            tmp.path().join("o2").to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 findings, 1 to delete"), "{out}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("o2/deletions.txt"))
            .unwrap()
            .trim(),
        "10"
    );
}

fn list(data: &Path) -> String {
    cleanweb(data, &["scan", "--list"], "").1
}

fn count_of(list: &str, verdict: &str) -> u64 {
    list.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{verdict}=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_sweep_killed_mid_run_resumes_with_every_item_done_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("big");
    let (bad, good) = (1500, 2500);
    tree(&root, bad, good);
    let data = tmp.path().join("data");
    let log = std::fs::File::create(tmp.path().join("scan.log")).unwrap();
    let mut child = common::command()
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "scan",
            root.to_str().unwrap(),
            "--json",
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    // Kill it once some batches are committed, well before the end.
    let started = Instant::now();
    loop {
        let l = list(&data);
        let done = count_of(&l, "allow") + count_of(&l, "block");
        if done >= 512 {
            assert!(
                done < (bad + good) as u64,
                "the sweep finished before the kill"
            );
            break;
        }
        let log = || std::fs::read_to_string(tmp.path().join("scan.log")).unwrap_or_default();
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the sweep exited ({status}) before the kill: {l}\n{}",
                log()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no progress: {l}\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let l = list(&data);
    assert!(l.contains("running"), "{l}");
    let id = l.split_whitespace().next().unwrap().to_owned();

    let (code, out, err) = cleanweb(&data, &["scan", "--resume", &id], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("{bad} findings, {bad} to delete")),
        "{out}"
    );
    let l = list(&data);
    assert!(l.contains("done"), "{l}");
    assert_eq!(
        (count_of(&l, "block"), count_of(&l, "allow")),
        (bad as u64, good as u64),
        "{l}"
    );
    // Each item once in the outputs, in source order.
    let deletions =
        std::fs::read_to_string(data.join("sweeps").join(&id).join("deletions.txt")).unwrap();
    let keys: Vec<&str> = deletions.lines().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), bad);
    assert_eq!(keys, sorted);
}

//! `cleanweb check`, through the real binary.

mod common;

use common::cleanweb;

#[test]
fn jsonl_prints_one_line_per_input_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = cleanweb(
        dir.path(),
        &["check", "--jsonl"],
        "{\"id\":\"a\",\"text\":\"hello\"}\nnot json\n",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        (lines[0]["id"].as_str(), lines[0]["verdict"].as_str()),
        (Some("a"), Some("allow"))
    );
    assert!(lines[0]["labels"].as_array().unwrap().is_empty());
    assert!(lines[1]["id"].is_null());
    assert!(lines[1]["error"].as_str().unwrap().contains("invalid JSON"));
}

#[test]
fn human_output_highlights_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = cleanweb(dir.path(), &["check", "免费 黄 片 吧", "nice weather"], "");
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("BLOCK"));
    assert_eq!(lines.next(), Some("  免费 [[黄 片]] 吧"));
    assert!(lines.next().unwrap().contains("sexual.explicit"));
    assert_eq!(lines.next(), Some("ALLOW"));
}

#[test]
fn cli_decisions_land_in_the_shared_store() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = cleanweb(dir.path(), &["check", "--json", "xxx porn videos"], "");
    assert_eq!(code, 0, "{err}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let records = rt.block_on(async {
        use cleanweb_store::Store as _;
        let store = cleanweb_store::SqliteStore::open_in(dir.path())
            .await
            .unwrap();
        store
            .decisions(&cleanweb_store::DecisionQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
    });
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].source, cleanweb_core::Source::Cli);
    assert_eq!(records[0].text.as_deref(), Some("xxx porn videos"));
}

#[test]
fn data_dir_comes_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(common::bin())
        .args(["check", "--json", "porn"])
        .env("CLEANWEB_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.path().join("cleanweb.db").exists());
}

#[test]
fn lexicon_check_reports_errors_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.txt");
    std::fs::write(&good, "[sexual.services block]\n裸聊加微\n").unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "[sexual.services block]\nok\n[weird]\n").unwrap();
    let (code, out, _) = cleanweb(
        dir.path(),
        &["lexicon", "check", good.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0);
    assert!(out.contains("ok, 1 term forms"));
    let (code, _, err) = cleanweb(dir.path(), &["lexicon", "check", bad.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(err.contains("bad.txt:3:"), "{err}");
}

#[test]
fn extra_lexicons_add_terms_and_the_builtin_one_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let lex = dir.path().join("extra.txt");
    std::fs::write(&lex, "[sexual.explicit block]\nzorblax\n").unwrap();
    let args = [
        "check",
        "--no-store",
        "--lexicon",
        lex.to_str().unwrap(),
        "zorblax",
        "porn",
    ];
    let (_, out, err) = cleanweb(dir.path(), &args, "");
    let verdicts: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(verdicts, vec!["BLOCK", "BLOCK"], "{out}{err}");

    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "[text]\nbuiltin_lexicon = false\nlexicons = [\"extra.txt\"]\n",
    )
    .unwrap();
    let args = [
        "check",
        "--no-store",
        "--config",
        config.to_str().unwrap(),
        "zorblax",
        "porn",
    ];
    let (_, out, err) = cleanweb(dir.path(), &args, "");
    let verdicts: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(verdicts, vec!["BLOCK", "ALLOW"], "{out}{err}");
}

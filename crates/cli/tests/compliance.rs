//! `cleanweb report compliance` and the console's Compliance page on a
//! month of real activity: stored decisions, reviews with one overturned,
//! a rectification past its deadline closed late, and a public report.

mod common;

use common::web::{Client, add_user};
use common::{Server, cleanweb, cleanweb_ok};
use serde_json::{Value, json};

const PW: &str = "correct horse battery";

#[test]
fn a_month_of_work_is_counted_charted_and_signed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (name, role) in [("root", "admin"), ("amy", "reviewer"), ("ada", "auditor")] {
        add_user(&data, name, role, PW);
    }
    let cfg = dir.path().join("cleanweb.toml");
    std::fs::write(&cfg, "[image]\nnudity = false\n").unwrap();
    let s = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let mut ids = Vec::new();
    for text in ["sexy lingerie one", "sexy lingerie two", "hello there"] {
        let r = s.post_json("/v1/moderate", Some(s.key()), &json!({"text": text}));
        assert_eq!(r.status, 200, "{}", r.body);
        if let Some(id) = r.json()["decision_id"].as_str() {
            ids.push(id.to_owned());
        }
    }
    assert_eq!(ids.len(), 2, "the two flagged texts are stored");
    let mut amy = Client::login(&s.base, "amy", PW);
    for id in &ids {
        let r = amy.decide(
            id,
            &[("outcome", "violation"), ("category", "sexual.suggestive")],
        );
        assert_eq!(r.status, 303, "{}", r.body);
    }
    // An admin overturns one of amy's decisions.
    let mut root = Client::login(&s.base, "root", PW);
    let r = root.decide(&ids[1], &[("outcome", "not_violation")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let r = s.post_json(
        "/v1/reports",
        None,
        &json!({"text": "a forum post selling sex", "category": "sexual.services"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);

    cleanweb_ok(
        &data,
        &["sites", "add", "late.example", "--reason", "reported"],
    );
    cleanweb_ok(
        &data,
        &[
            "sites",
            "status",
            "late.example",
            "rectification",
            "--reason",
            "notice",
            "--deadline",
            "2026-01-01",
        ],
    );
    cleanweb_ok(
        &data,
        &[
            "sites",
            "status",
            "late.example",
            "closed",
            "--reason",
            "no change",
        ],
    );

    // The month all this happened in (UTC).
    let month = cleanweb_service::time::format_ms(cleanweb_store::now_ms())[..7].to_owned();
    let report: Value = serde_json::from_str(&cleanweb_ok(
        &data,
        &[
            "report",
            "compliance",
            "--month",
            &month,
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let count = |list: &str, name: &str| {
        report[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .map_or(0, |c| c["count"].as_u64().unwrap())
    };
    assert_eq!(count("by_source", "api"), 2, "{report}");
    assert!(count("by_category", "sexual.suggestive") >= 2, "{report}");
    let amy_row = report["reviewers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reviewer"] == "amy")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(amy_row["decisions"], 2);
    assert_eq!(amy_row["overturned"], 1);
    assert_eq!(amy_row["overturn_rate"], 0.5);
    let review_queue = &report["queues"][0];
    assert_eq!(review_queue["queue"], "review");
    assert_eq!(review_queue["reviews"], 3);
    assert_eq!(review_queue["past_target"], 0);
    assert_eq!(report["late_rectifications"][0]["domain"], "late.example");
    assert_eq!(report["late_rectifications"][0]["responsible"], "admin");
    assert_eq!(report["closures"][0]["domain"], "late.example");
    assert_eq!(count("sites_by_status", "closed"), 1);
    assert_eq!(report["reports"]["received"], 1);

    let html = cleanweb_ok(&data, &["report", "compliance", "--month", &month]);
    assert!(html.contains("<svg") && html.contains("合规报告") && !html.contains("<script"));
    let csv = cleanweb_ok(
        &data,
        &["report", "compliance", "--month", &month, "--format", "csv"],
    );
    assert!(csv.contains("reviewer,amy,overturned,1"), "{csv}");

    // Signed like an evidence bundle.
    let zip = dir.path().join("compliance.zip");
    let out = cleanweb_ok(
        &data,
        &[
            "report",
            "compliance",
            "--month",
            &month,
            "--out",
            zip.to_str().unwrap(),
        ],
    );
    assert!(out.contains("signed by SHA256:"), "{out}");
    let (code, out, _) = cleanweb(&data, &["evidence", "verify", zip.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("3 files") && out.contains("compliance"),
        "{out}"
    );
    let (code, _, err) = cleanweb(&data, &["report", "compliance", "--month", "2026-13"], "");
    assert_ne!(code, 0);
    assert!(err.contains("2026-13"), "{err}");

    // The console: auditors and admins, not reviewers.
    let mut ada = Client::login(&s.base, "ada", PW);
    let page = ada.get(&format!("/console/compliance?month={month}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg") && page.body.contains("id=\"reviewers\""));
    assert!(page.headers["content-security-policy"].contains("default-src 'none'"));
    assert_eq!(amy.get("/console/compliance").status, 403);
    let csv = ada.get(&format!("/console/compliance?month={month}&format=csv"));
    assert!(
        csv.body.starts_with("section,name,field,value"),
        "{}",
        csv.body
    );
}

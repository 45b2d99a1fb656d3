//! The HTTP API, exercised through the real server process.

mod common;

use common::{Server, cleanweb};
use serde_json::json;

#[test]
fn open_routes_answer_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let h = s.get("/healthz", None);
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    assert_eq!(h.json()["store"], "sqlite");

    let doc = s.get("/v1/openapi.json", None).json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/moderate",
        "/v1/moderate/batch",
        "/v1/decisions",
        "/healthz",
        "/metrics",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["Decision"].is_object());

    let m = s.get("/metrics", None);
    assert_eq!(m.status, 200);
    assert!(
        m.body.contains("cleanweb_http_requests_total"),
        "{}",
        m.body
    );
}

#[test]
fn keys_are_required_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let item = json!({"text": "hello"});
    for key in [None, Some("cwk_not_a_real_key")] {
        let r = s.post_json("/v1/moderate", key, &item);
        assert_eq!(r.status, 401, "{key:?}");
        assert_eq!(r.content_type, "application/problem+json");
        assert!(r.json()["detail"].as_str().unwrap().contains("key"));
    }
    assert_eq!(s.get("/v1/decisions", None).status, 401);
}

#[test]
fn moderate_returns_a_decision_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let r = s.post_json(
        "/v1/moderate",
        Some(s.key()),
        &json!({"id": "a1", "text": "免费看色 情视频", "meta": {"post": 9}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert_eq!(d["id"], "a1");
    assert_eq!(d["verdict"], "block");
    assert_eq!(d["meta"]["post"], 9);
    let ev = &d["labels"][0]["evidence"][0];
    assert_eq!(
        (
            ev["kind"].as_str(),
            ev["start"].as_u64(),
            ev["end"].as_u64()
        ),
        (Some("span"), Some(3), Some(8))
    );
    assert_eq!(ev["matched"], "色 情视频");
    assert!(d["decision_id"].is_string(), "block decisions are stored");

    let benign = s
        .post_json(
            "/v1/moderate",
            Some(s.key()),
            &json!({"id": "a2", "text": "今天天气很好"}),
        )
        .json();
    assert_eq!(benign["verdict"], "allow");
    assert!(
        benign.get("decision_id").is_none(),
        "allow decisions are not stored by default"
    );

    let m = s.get("/metrics", None).body;
    assert!(
        m.lines()
            .any(|l| l.starts_with("cleanweb_http_requests_total{")
                && l.contains("route=\"/v1/moderate\"")
                && l.contains("status=\"200\"")
                && l.ends_with(" 2")),
        "{m}"
    );
    assert!(m.contains("cleanweb_decision_labels_total{source=\"api\",category=\"sexual.explicit\",verdict=\"block\"} 1"), "{m}");
    assert!(
        m.contains("cleanweb_http_request_duration_seconds_bucket"),
        "{m}"
    );
}

#[test]
fn bad_requests_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("small.toml");
    std::fs::write(
        &config,
        "[limits]\nmax_body_bytes = 2048\nmax_text_chars = 100\nmax_batch_items = 3\n",
    )
    .unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let key = s.key();

    let r = s.post_raw("/v1/moderate", Some(key), br#"{"text": "unterminated"#);
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (400, "application/problem+json")
    );
    assert!(r.json()["detail"].as_str().unwrap().len() > 10);

    let r = s.post_raw("/v1/moderate", Some(key), br#"{"txt": "typo"}"#);
    assert_eq!(r.status, 400);
    assert!(
        r.json()["detail"].as_str().unwrap().contains("txt"),
        "{}",
        r.body
    );

    let big = json!({"text": "a".repeat(5000)});
    let r = s.post_json("/v1/moderate", Some(key), &big);
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (413, "application/problem+json")
    );
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("max_body_bytes")
    );

    let r = s.post_json("/v1/moderate", Some(key), &json!({"text": "a".repeat(101)}));
    assert_eq!(r.status, 413);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("101 characters"),
        "{}",
        r.body
    );

    let r = s.post_json("/v1/moderate", Some(key), &json!({"id": "empty"}));
    assert_eq!(r.status, 422);

    let items: Vec<_> = (0..4).map(|i| json!({"text": format!("t{i}")})).collect();
    let r = s.post_json("/v1/moderate/batch", Some(key), &json!({ "items": items }));
    assert_eq!(r.status, 413);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("max_batch_items")
    );

    let r = s.get("/v1/nope", Some(key));
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (404, "application/problem+json")
    );
}

#[test]
fn batch_answers_in_order_with_per_item_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let items = json!({"items": [
        {"id": "x", "text": "hello"},
        {"id": "y"},
        {"id": "z", "text": "cheap escort service, call girls tonight"},
    ]});
    let r = s.post_json("/v1/moderate/batch", Some(s.key()), &items);
    assert_eq!(r.status, 200, "{}", r.body);
    let out = r.json();
    let d = out["decisions"].as_array().unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(
        (d[0]["id"].as_str(), d[0]["verdict"].as_str()),
        (Some("x"), Some("allow"))
    );
    assert_eq!(d[1]["id"], "y");
    assert!(d[1]["error"].as_str().unwrap().contains("no content"));
    assert_eq!(d[2]["verdict"], "block");
    assert_eq!(d[2]["labels"][0]["category"], "sexual.services");
}

#[test]
fn operator_keys_moderate_but_cannot_read_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let (code, secret, err) = cleanweb(
        dir.path(),
        &["key", "create", "--role", "operator", "--name", "ci"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let secret = secret.trim().to_owned();
    let s = Server::start(dir.path(), &[]);
    assert!(
        s.admin_key.is_none(),
        "a store with keys gets no new admin key"
    );
    let r = s.post_json("/v1/moderate", Some(&secret), &json!({"text": "hi"}));
    assert_eq!(r.status, 200);
    let r = s.get("/v1/decisions", Some(&secret));
    assert_eq!(r.status, 403);
    assert_eq!(
        s.post_json("/v1/admin/reload", Some(&secret), &json!({}))
            .status,
        403
    );
    assert!(r.json()["detail"].as_str().unwrap().contains("admin"));
}

#[test]
fn decisions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let key = s.key().to_owned();
    let d = s
        .post_json(
            "/v1/moderate",
            Some(&key),
            &json!({"id": "keep", "text": "hardcore porn"}),
        )
        .json();
    let id = d["decision_id"].as_str().unwrap().to_owned();
    s.stop();

    let s = Server::start(dir.path(), &[]);
    assert!(
        s.admin_key.is_none(),
        "the admin key is printed only on the first start"
    );
    let r = s.get(&format!("/v1/decisions/{id}"), Some(&key));
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = r.json();
    assert_eq!(stored["decision"]["id"], "keep");
    assert_eq!(stored["text"], "hardcore porn");
    assert_eq!(stored["source"], "api");
    let list = s
        .get("/v1/decisions?verdict=block&limit=5", Some(&key))
        .json();
    assert_eq!(list["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(s.get("/v1/decisions/not-an-id", Some(&key)).status, 404);
}

#[test]
fn kill_9_during_writes_leaves_a_readable_database() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let key = s.key().to_owned();
    let base = s.base.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (base, key, stop) = (base.clone(), key.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(std::time::Duration::from_secs(5)))
                    .build()
                    .into();
                let mut ok = 0u32;
                for i in 0..100_000 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let items: Vec<_> = (0..20)
                        .map(|j| json!({"id": format!("{w}-{i}-{j}"), "text": "色情视频 porn"}))
                        .collect();
                    let sent = agent
                        .post(format!("{base}/v1/moderate/batch"))
                        .header("Authorization", format!("Bearer {key}"))
                        .send_json(json!({ "items": items }));
                    match sent {
                        Ok(r) if r.status() == 200 => ok += 1,
                        _ => break,
                    }
                }
                ok
            })
        })
        .collect();
    // Let the writers get going, then kill without warning.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    s.kill9();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered: u32 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(answered > 0, "no batch was answered before the kill");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (integrity, count) = rt.block_on(async {
        let store = cleanweb_store::SqliteStore::open_in(dir.path())
            .await
            .unwrap();
        use cleanweb_store::Store as _;
        (
            store.integrity_check().await.unwrap(),
            store.count_decisions().await.unwrap(),
        )
    });
    assert_eq!(integrity, "ok");
    assert!(
        count >= u64::from(answered) * 20,
        "every answered batch was committed before its answer: {count} rows < {answered} batches × 20"
    );
    // And the server starts again on it.
    let s = Server::start(dir.path(), &[]);
    let list = s.get("/v1/decisions?limit=3", Some(&key)).json();
    assert_eq!(list["decisions"].as_array().unwrap().len(), 3);
}

#[test]
fn lexicons_reload_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let lex = dir.path().join("mine.txt");
    std::fs::write(&lex, "[sexual.services block]\nfoobarbaz\n").unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &["--lexicon", lex.to_str().unwrap()],
    );
    let key = s.key().to_owned();
    let verdict = |text: &str| {
        s.post_json("/v1/moderate", Some(&key), &json!({ "text": text }))
            .json()["verdict"]
            .clone()
    };
    assert_eq!(verdict("buy foobarbaz"), "block");
    assert_eq!(verdict("buy quuxquux"), "allow");

    std::fs::write(&lex, "[sexual.services block]\nquuxquux\n").unwrap();
    let r = s.post_json("/v1/admin/reload", Some(&key), &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(verdict("buy quuxquux"), "block");
    assert_eq!(verdict("buy foobarbaz"), "allow");

    // A broken lexicon is refused and the running engine stays.
    std::fs::write(&lex, "[sexual.services nonsense]\nzzz\n").unwrap();
    let r = s.post_json("/v1/admin/reload", Some(&key), &json!({}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.json()["detail"].as_str().unwrap().contains("mine.txt:1"),
        "{}",
        r.body
    );
    assert_eq!(verdict("buy quuxquux"), "block");

    // SIGHUP reloads too.
    std::fs::write(&lex, "[sexual.services block]\nwibblewobble\n").unwrap();
    let pid = s.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while verdict("buy wibblewobble") != "block" {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not reload"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Both reloads are audited with who made them and what changed; the
    // refused one changed nothing and is not.
    let reloads = || -> Vec<serde_json::Value> {
        common::audit_log(&dir.path().join("data"))
            .into_iter()
            .filter(|e| e["action"] == "engine.reload")
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while reloads().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "{:?}", reloads());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let events = reloads();
    assert_eq!(events.len(), 2, "{events:?}");
    let lexicon = format!("lexicon:{}", lex.display());
    assert!(
        events[0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("key:first admin/")
    );
    assert_eq!(events[1]["actor"], "signal:SIGHUP");
    for e in &events {
        assert_eq!(e["details"]["changed"], json!([lexicon]), "{e}");
        assert!(e["details"]["sources"]["policy"].is_string(), "{e}");
    }
}

#[test]
fn sites_are_managed_over_http_by_admins() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let key = s.key().to_owned();
    let change = |status: &str, extra: serde_json::Value| {
        let mut body =
            json!({"site": "https://x.porn-site.test/a", "status": status, "reason": "r"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        s.post_json("/v1/sites", Some(&key), &body)
    };
    let r = change("watch", json!({"evidence": ["decision:1"]}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["domain"], "porn-site.test");
    let actor = r.json()["actor"].as_str().unwrap_or_default().to_owned();
    assert!(
        actor.starts_with("key:first admin/"),
        "the key's name and id: {actor}"
    );
    assert_eq!(
        change("rectification", json!({})).status,
        400,
        "needs a deadline"
    );
    assert_eq!(
        change("rectification", json!({"deadline": "2027-01-31"})).status,
        200
    );
    assert_eq!(change("closed", json!({})).status, 200);
    let r = change("watch", json!({}));
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (409, "application/problem+json")
    );
    let list = s.get("/v1/sites?status=closed", Some(&key)).json();
    assert_eq!(list["sites"][0]["domain"], "porn-site.test");
    let history = s.get("/v1/sites/porn-site.test", Some(&key)).json();
    assert_eq!(history["sites"].as_array().unwrap().len(), 3);
    assert!(
        s.get("/v1/blocklists/sites-closed.adblock", Some(&key))
            .body
            .contains("||porn-site.test^")
    );

    let (_, op, _) = cleanweb(dir.path(), &["key", "create", "--role", "operator"], "");
    assert_eq!(s.get("/v1/sites", Some(op.trim())).status, 403);
}

#[test]
fn allow_decisions_are_stored_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[store]\nstore_allow = true\n").unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let d = s
        .post_json(
            "/v1/moderate",
            Some(s.key()),
            &json!({"id": "ok", "text": "hello"}),
        )
        .json();
    assert_eq!(d["verdict"], "allow");
    let id = d["decision_id"].as_str().expect("stored");
    let stored = s.get(&format!("/v1/decisions/{id}"), Some(s.key())).json();
    assert_eq!(stored["decision"]["verdict"], "allow");
}

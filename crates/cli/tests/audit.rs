//! The audit log through the binary: key, bank and site changes are
//! recorded, `audit verify` passes on a normal store and names the first
//! broken event when a row is edited in SQLite directly.

mod common;

use common::{Server, cleanweb};

#[test]
fn changes_are_audited_and_tampering_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let server = Server::start(data, &[]);
    let key = server.key().to_owned();
    let r = server.post_json(
        "/v1/banks",
        Some(&key),
        &serde_json::json!({"name": "known", "signal": "md5", "category": "sexual.minors"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server.post_json(
        "/v1/banks/known/entries",
        Some(&key),
        &serde_json::json!({"entries": [{"hash": "a".repeat(32)}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server.post_json(
        "/v1/sites",
        Some(&key),
        &serde_json::json!({"site": "bad.example", "status": "watch", "reason": "reports"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop();
    let (code, _, err) = cleanweb(
        data,
        &["key", "create", "--role", "operator", "--name", "ops"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cleanweb(data, &["bank", "create", "local", "--signal", "md5"], "");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cleanweb(data, &["bank", "add", "local", &"b".repeat(32)], "");
    assert_eq!(code, 0, "{err}");

    let (code, out, _) = cleanweb(data, &["audit", "verify"], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok\t7 events"), "{out}");
    let head = out.trim().rsplit(' ').next().unwrap().to_owned();
    let (_, out, _) = cleanweb(data, &["audit", "export"], "");
    let actions: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        actions,
        [
            "key.create",
            "bank.create",
            "bank.entries.add",
            "site.status",
            "key.create",
            "bank.create",
            "bank.entries.add"
        ]
    );
    let (_, csv, _) = cleanweb(
        data,
        &[
            "audit",
            "export",
            "--format",
            "csv",
            "--since",
            "2000-01-01",
        ],
        "",
    );
    assert_eq!(csv.lines().count(), 8, "{csv}");
    assert!(csv.starts_with("seq,at_ms,actor,action"));
    let (_, none, _) = cleanweb(data, &["audit", "export", "--since", "2100-01-01"], "");
    assert_eq!(none, "", "nothing is that new");

    // The database itself refuses edits and deletions.
    let db = data.join("cleanweb.db");
    let sql = |statement: &str| {
        std::process::Command::new("python3")
            .args([
                "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()",
                db.to_str().unwrap(),
                statement,
            ])
            .output()
            .unwrap()
    };
    let refused = sql("UPDATE audit_events SET subject='other.example' WHERE seq=4");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("append-only"));
    assert!(!sql("DELETE FROM audit_events WHERE seq=7").status.success());

    // Someone with the file drops the triggers and cuts the newest event:
    // the chain still holds, but the head kept elsewhere is gone.
    let cut = sql(
        "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; \
         DELETE FROM audit_events WHERE seq=7",
    );
    assert!(
        cut.status.success(),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
    let (code, out, _) = cleanweb(data, &["audit", "verify"], "");
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = cleanweb(data, &["audit", "verify", "--expect-head", &head], "");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not in the log"), "{out}");

    // Edit one row behind cleanweb's back.
    assert!(
        sql("UPDATE audit_events SET subject='other.example' WHERE seq=4")
            .status
            .success()
    );
    let (code, out, _) = cleanweb(data, &["audit", "verify"], "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("broken at event 4") && out.contains("edited"),
        "{out}"
    );
}

#[test]
fn accounts_are_created_with_argon2_and_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let (code, _, err) = cleanweb(
        data,
        &[
            "user",
            "add",
            "alice",
            "--role",
            "reviewer",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cleanweb(
        data,
        &[
            "user",
            "add",
            "alice",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "another passphrase\n",
    );
    assert_ne!(code, 0);
    assert!(err.contains("exists"), "{err}");
    let (code, _, err) = cleanweb(
        data,
        &[
            "user",
            "add",
            "bob",
            "--role",
            "auditor",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_ne!(code, 0);
    assert!(err.contains("at least 12"), "{err}");
    let (_, out, _) = cleanweb(data, &["user", "list"], "");
    assert_eq!(out.trim(), "alice\treviewer\tactive");
    // Only the argon2id hash is stored.
    let db = data.join("cleanweb.db");
    let out = std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select password_hash from users').fetchone()[0])", db.to_str().unwrap()])
        .output()
        .unwrap();
    let stored = String::from_utf8_lossy(&out.stdout);
    assert!(
        stored.starts_with("$argon2id$") && !stored.contains("passphrase"),
        "{stored}"
    );
    let (_, out, _) = cleanweb(data, &["audit", "export"], "");
    assert!(
        out.contains("\"action\":\"user.create\"") && out.contains("\"subject\":\"alice\""),
        "{out}"
    );
}

/// Someone who can write the database drops the triggers, edits an event
/// and recomputes every hash after it: the chain verifies, but the signed
/// checkpoint does not. Cutting the log below a checkpoint is caught too.
#[test]
fn signed_checkpoints_catch_a_rewritten_or_cut_log() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    for d in ["a.example", "b.example", "c.example"] {
        common::cleanweb_ok(data, &["sites", "add", d, "--reason", "reported"]);
    }
    let signed = common::cleanweb_ok(data, &["audit", "checkpoint"]);
    assert!(
        signed.starts_with("signed\t#3\t") && signed.contains("SHA256:"),
        "{signed}"
    );
    assert!(common::cleanweb_ok(data, &["audit", "checkpoint"]).contains("nothing new"));
    common::cleanweb_ok(data, &["sites", "add", "d.example", "--reason", "reported"]);
    let ok = common::cleanweb_ok(data, &["audit", "verify"]);
    assert!(
        ok.contains("4 events") && ok.contains("1 signed checkpoints, the last at #3"),
        "{ok}"
    );

    let db = data.join("cleanweb.db");
    let python = |script: &str| {
        let out = std::process::Command::new("python3")
            .args(["-c", script, db.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // The rewrite, hashes recomputed as cleanweb computes them.
    python(
        r#"
import hashlib, json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;")
rows = c.execute("SELECT seq, at_ms, actor, action, subject, details, prev_hash FROM audit_events ORDER BY seq").fetchall()
prev = rows[0][6]
for seq, at_ms, actor, action, subject, details, _ in rows:
    if seq == 2:
        subject = "innocent.example"
    content = json.dumps({"seq": seq, "at_ms": at_ms, "actor": actor, "action": action,
                          "subject": subject, "details": json.loads(details)},
                         sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    h = hashlib.sha256((prev + "\n" + content).encode()).hexdigest()
    c.execute("UPDATE audit_events SET subject = ?, prev_hash = ?, hash = ? WHERE seq = ?", (subject, prev, h, seq))
    prev = h
c.commit()
"#,
    );
    let (code, out, _) = common::cleanweb(data, &["audit", "verify"], "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("event #3 differs from its signed checkpoint")
            && !out.contains("broken at event"),
        "the chain alone holds; the checkpoint does not: {out}"
    );
    // Cut below the checkpoint.
    python(
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM audit_events WHERE seq >= 3'); c.commit()",
    );
    let (code, out, _) = common::cleanweb(data, &["audit", "verify"], "");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("checkpoint #3 is not in the log"), "{out}");
}

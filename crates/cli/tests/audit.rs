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

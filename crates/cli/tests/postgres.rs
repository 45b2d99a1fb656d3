//! The binary on PostgreSQL (`--database postgres://…`): the server and a
//! sweep keep their state in a real PostgreSQL server, in a schema of this
//! test's own.

mod common;

use common::{Server, cleanweb};

/// A fresh schema, dropped when the guard goes.
struct Schema {
    name: String,
}

impl Schema {
    fn new() -> Schema {
        let name = format!("cw_cli_{}_{}", std::process::id(), rand_suffix());
        psql(&format!("CREATE SCHEMA {name}"));
        Schema { name }
    }

    fn url(&self) -> String {
        let base = std::env::var("CLEANWEB_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        format!("{base}?options=-c%20search_path%3D{}", self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        psql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
}

fn psql(sql: &str) {
    let ok = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-q",
            "-c",
            sql,
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "psql {sql:?} failed (scripts/deps starts PostgreSQL)");
}

#[test]
fn server_and_sweeps_keep_their_state_in_postgres() {
    let tmp = tempfile::tempdir().unwrap();
    let schema = Schema::new();
    let url = schema.url();

    let server = Server::start(tmp.path(), &["--database", &url]);
    let key = server.key().to_owned();
    let r = server.post_json(
        "/v1/moderate",
        Some(&key),
        &serde_json::json!({"id": "p", "text": "hot porn videos"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["verdict"], "block");
    let health = server.get("/healthz", None).json();
    assert_eq!(health["store"], "postgres");
    server.stop();

    // A second process sees the same store: the decision and the key.
    let server = Server::start(tmp.path(), &["--database", &url]);
    assert!(server.admin_key.is_none(), "the admin key exists already");
    let r = server.get("/v1/decisions", Some(&key));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["decisions"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.body
    );
    server.stop();

    let root = tmp.path().join("tree");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..300 {
        let body = if i % 3 == 0 {
            "hot porn videos"
        } else {
            "garden news"
        };
        std::fs::write(root.join(format!("f{i:03}.txt")), body).unwrap();
    }
    let (code, out, err) = cleanweb(
        tmp.path(),
        &["--database", &url, "scan", root.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("100 findings, 100 to delete"), "{out}");
    let (_, list, _) = cleanweb(tmp.path(), &["--database", &url, "scan", "--list"], "");
    assert!(list.contains("allow=200 block=100"), "{list}");
    // Nothing went to the SQLite file.
    assert!(!tmp.path().join("cleanweb.db").exists());
}

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
        .env("PGOPTIONS", "--client-min-messages=warning")
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
    // Nodes sharing PostgreSQL share one report key: none is made for them.
    let mut serve = common::command()
        .args([
            "--database",
            &url,
            "--data-dir",
            tmp.path().to_str().unwrap(),
        ])
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while serve.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = serve.kill();
            panic!("serve started without a shared report key");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let refused = serve.wait_with_output().unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("CLEANWEB_REPORT_KEY"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let key_file = tmp.path().join("shared.key");
    std::fs::write(&key_file, format!("{}\n", "ab".repeat(32))).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let key_path = key_file.to_str().unwrap().to_owned();

    let server = Server::start(
        tmp.path(),
        &["--database", &url, "--report-key-file", &key_path],
    );
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
    let server = Server::start(
        tmp.path(),
        &["--database", &url, "--report-key-file", &key_path],
    );
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

fn psql_value(sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-tA",
            "-c",
            sql,
        ])
        .output()
        .expect("psql");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn three_workers_one_killed_mid_job_every_item_decided_once() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let schema = Schema::new();
    let url = schema.url();
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(&root).unwrap();
    let n = 3000;
    for i in 0..n {
        let body = if i % 3 == 0 {
            "hot porn videos"
        } else {
            "garden news"
        };
        std::fs::write(root.join(format!("f{i:04}.txt")), body).unwrap();
    }
    let (code, out, err) = cleanweb(
        tmp.path(),
        &[
            "--database",
            &url,
            "scan",
            root.to_str().unwrap(),
            "--distribute",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let id = out.split_whitespace().next().unwrap().to_owned();
    assert!(out.contains("12 jobs queued"), "{out}");

    // The first worker lingers over each job it claims, so the test can kill
    // it mid-job without racing it; the others work at a normal pace.
    let spawn = |i: usize| {
        let pause_ms = if i == 0 { "10000" } else { "300" };
        let log = std::fs::File::create(tmp.path().join(format!("w{i}.log"))).unwrap();
        common::command()
            .args([
                "--database",
                &url,
                "--data-dir",
                tmp.path().to_str().unwrap(),
            ])
            .args([
                "worker",
                "--sweep",
                &id,
                "--lease-secs",
                "2",
                "--exit-when-idle",
            ])
            .args(["--pause-after-claim-ms", pause_ms])
            .env("CLEANWEB_MODELS_DIR", common::models_dir())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    };
    let mut workers: Vec<_> = (0..3).map(spawn).collect();
    // Kill the first worker while it holds a job, after some jobs are done.
    let victim = workers[0].id();
    let jobs = format!("{}.sweep_jobs", schema.name);
    let started = Instant::now();
    loop {
        let done: u64 = psql_value(&format!(
            "SELECT count(*) FROM {jobs} WHERE status = 'done'"
        ))
        .parse()
        .unwrap_or(0);
        let holding: u64 = psql_value(&format!(
            "SELECT count(*) FROM {jobs} WHERE status = 'pending' AND lease_owner LIKE '%:{victim}:%'"
        ))
        .parse()
        .unwrap_or(0);
        if done >= 2 && holding == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never caught the worker mid-job"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    workers[0].kill().unwrap();
    workers[0].wait().unwrap();
    for w in &mut workers[1..] {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Some(status) = w.try_wait().unwrap() {
                assert!(status.success(), "a worker failed");
                break;
            }
            assert!(Instant::now() < deadline, "a worker never finished");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // The killed worker's job was taken over.
    let retried: u64 = psql_value(&format!("SELECT count(*) FROM {jobs} WHERE attempts > 1"))
        .parse()
        .unwrap();
    assert!(retried >= 1, "no job was taken over");
    let (code, out, err) = cleanweb(
        tmp.path(),
        &["--database", &url, "scan", "--resume", &id],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1000 findings, 1000 to delete"), "{out}");
    let s = &schema.name;
    assert_eq!(
        psql_value(&format!("SELECT count(*) FROM {s}.sweep_items")),
        n.to_string()
    );
    assert_eq!(
        psql_value(&format!(
            "SELECT count(*) FROM {s}.decisions WHERE source = 'sweep'"
        )),
        "1000",
        "exactly one decision per flagged item"
    );
    assert_eq!(
        psql_value(&format!(
            "SELECT count(*) FROM {s}.sweep_items i LEFT JOIN {s}.decisions d ON d.id = i.decision_id \
             WHERE i.verdict = 'block' AND d.id IS NULL"
        )),
        "0"
    );
}

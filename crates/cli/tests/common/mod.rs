//! Runs the real `cleanweb` binary for behaviour tests.

#![allow(dead_code)]

pub mod web;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cleanweb"))
}

/// The shared model cache `scripts/test` fills (`cleanweb models install`),
/// so no test fetches the model again.
pub fn models_dir() -> PathBuf {
    match std::env::var_os("CLEANWEB_MODELS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/cleanweb/models"),
    }
}

/// A benign photo from the PDQ fixtures (CC0, see its LICENSES.md).
pub fn photo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vision/tests/data/pdq/photo_coffee_512x341.jpg")
}

pub fn photo() -> Vec<u8> {
    std::fs::read(photo_path()).expect("the photo fixture")
}

/// The binary, with none of the settings a developer's shell may hold
/// (a report key, a database, a config, a proxy): each test says what it
/// uses.
pub fn command() -> Command {
    let mut cmd = Command::new(bin());
    for var in [
        "CLEANWEB_REPORT_KEY",
        "CLEANWEB_REPORT_KEY_FILE",
        "CLEANWEB_DATABASE",
        "CLEANWEB_CONFIG",
        "CLEANWEB_DATA_DIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("CLEANWEB_MODELS_DIR", models_dir());
    cmd
}

/// Every audit event in the data dir's store, as `audit export` prints them.
pub fn audit_log(data_dir: &Path) -> Vec<serde_json::Value> {
    let (code, out, err) = cleanweb(data_dir, &["audit", "export"], "");
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `cleanweb` with a data dir, run to completion.
pub fn cleanweb(data_dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = command()
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cleanweb");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for cleanweb");
    writer.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub struct Server {
    pub child: Child,
    pub base: String,
    /// The admin key, when this start created it.
    pub admin_key: Option<String>,
    agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Server {
    /// Starts `cleanweb serve` on an ephemeral port and waits until it listens.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_with(data_dir, extra, None)
    }

    /// Like `start`, with the server's log (at debug level) in `log`.
    pub fn start_logging(data_dir: &Path, extra: &[&str], log: &Path) -> Server {
        Server::start_with(data_dir, extra, Some(log))
    }

    fn start_with(data_dir: &Path, extra: &[&str], log: Option<&Path>) -> Server {
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
            None => Stdio::inherit(),
        };
        let mut child = command()
            .arg("serve")
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("CLEANWEB_LOG", if log.is_some() { "debug" } else { "warn" })
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn cleanweb serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut admin_key = None;
        let base = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("server did not start within 60 s");
            if let Some(k) = line.strip_prefix("admin key: ") {
                admin_key = Some(k.trim().to_owned());
            }
            if let Some(url) = line.strip_prefix("cleanweb: listening on ") {
                break url.trim().to_owned();
            }
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .proxy(None)
            .build()
            .into();
        Server {
            child,
            base,
            admin_key,
            agent,
        }
    }

    pub fn key(&self) -> &str {
        self.admin_key
            .as_deref()
            .expect("this start printed no admin key")
    }

    fn reply(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut resp = resp.expect("HTTP request failed");
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_default();
        Reply {
            status,
            content_type,
            body,
            retry_after,
        }
    }

    pub fn get(&self, path: &str, key: Option<&str>) -> Reply {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        Self::reply(req.call())
    }

    /// A GET whose body is bytes: (status, headers, body).
    pub fn get_bytes(
        &self,
        path: &str,
        key: Option<&str>,
    ) -> (u16, ureq::http::HeaderMap, Vec<u8>) {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let mut resp = req.call().expect("HTTP request failed");
        let body = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_vec()
            .unwrap_or_default();
        (resp.status().as_u16(), resp.headers().clone(), body)
    }

    pub fn delete(&self, path: &str, key: Option<&str>) -> Reply {
        let mut req = self.agent.delete(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        Self::reply(req.call())
    }

    pub fn post_json(&self, path: &str, key: Option<&str>, body: &serde_json::Value) -> Reply {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        Self::reply(req.send_json(body))
    }

    pub fn post_raw(&self, path: &str, key: Option<&str>, body: &[u8]) -> Reply {
        self.post_typed(path, key, "application/json", body)
    }

    pub fn post_typed(
        &self,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Reply {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", content_type);
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        Self::reply(req.send(body))
    }

    /// A POST with extra headers and no key.
    pub fn post_typed_headers(
        &self,
        path: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", content_type);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::reply(req.send(body))
    }

    /// SIGTERM and wait: a graceful stop.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard output of a JSON Lines command, parsed line by line.
pub fn json_lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `cleanweb ARGS` that must succeed; its stdout.
pub fn cleanweb_ok(data_dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = cleanweb(data_dir, args, "");
    assert_eq!(code, 0, "cleanweb {args:?}: {err}");
    out
}

/// Imports `entries` (one domain or URL prefix a line) as the list `list`.
pub fn import_list(data_dir: &Path, list: &str, entries: &str) {
    let file = data_dir.with_extension(format!("{list}.txt"));
    std::fs::write(&file, entries).unwrap();
    let file = file.to_str().unwrap();
    cleanweb_ok(
        data_dir,
        &[
            "blocklist",
            "import",
            "--list",
            list,
            "--format",
            "domains",
            file,
        ],
    );
}

/// Writes the lists in `format` to `out`.
pub fn export_lists(data_dir: &Path, format: &str, out: &Path) {
    let out = out.to_str().unwrap();
    cleanweb_ok(
        data_dir,
        &["blocklist", "export", "--format", format, "--out", out],
    );
}

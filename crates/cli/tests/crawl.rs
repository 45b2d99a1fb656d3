//! `cleanweb crawl` against a small site served by the test itself: links,
//! robots.txt, a sitemap, an image, a 404, and an off-site link it must not
//! follow. Without --allow-private the same loopback site is refused.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::cleanweb;

/// Serves fixed pages; records every path requested.
fn site() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requested = Arc::new(Mutex::new(Vec::new()));
    let log = requested.clone();
    let cat = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../nudity/tests/data/images/chelsea.png"),
    )
    .unwrap();
    let b = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            log.lock().unwrap().push(path.clone());
            let html = |body: &str| {
                (
                    "200 OK",
                    "text/html; charset=utf-8",
                    format!("<!doctype html><html><body>{body}</body></html>").into_bytes(),
                )
            };
            let (status, kind, body) = match path.as_str() {
                "/robots.txt" => (
                    "200 OK",
                    "text/plain",
                    format!("User-agent: *\nDisallow: /private\nSitemap: {b}/sitemap.xml\n")
                        .into_bytes(),
                ),
                "/sitemap.xml" => (
                    "200 OK",
                    "application/xml",
                    format!("<urlset><url><loc>{b}/hidden</loc></url></urlset>").into_bytes(),
                ),
                "/" => html(
                    "<a href=\"/a\">a</a> <a href=\"/private/secret\">p</a> <a href=\"http://other.example/x\">off</a> <img src=\"/cat.png\"> <a href=\"/missing\">m</a>",
                ),
                "/a" => html("<p>hot porn videos</p><a href=\"/a#top\">again</a>"),
                "/hidden" => html("<p>hardcore sex</p>"),
                "/private/secret" => html("<p>nude photos</p>"),
                "/cat.png" => ("200 OK", "image/png", cat.clone()),
                _ => ("404 Not Found", "text/plain", b"no".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (base, requested)
}

/// `cleanweb crawl BASE/` of the loopback test site, with no delay, into `out`.
fn crawl_local(
    data: &std::path::Path,
    base: &str,
    out: &std::path::Path,
    extra: &[&str],
) -> (i32, String, String) {
    let start = format!("{base}/");
    let mut args = vec!["crawl", &start, "--allow-private", "--delay-ms", "0"];
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(extra);
    cleanweb(data, &args, "")
}

#[test]
fn a_crawl_follows_links_and_sitemaps_within_the_site_and_obeys_robots() {
    let (base, requested) = site();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, err) = crawl_local(tmp.path(), &base, &out, &["--json"]);
    assert_eq!(code, 0, "{err}");
    // /, /hidden (sitemap), /a, /cat.png, /missing (an error).
    assert!(
        stdout.contains("5 pages and images, 3 findings, 2 to delete"),
        "{stdout}\n{err}"
    );
    let deletions = std::fs::read_to_string(out.join("deletions.txt")).unwrap();
    let mut keys: Vec<&str> = deletions.lines().collect();
    keys.sort();
    assert_eq!(keys, vec![format!("{base}/a"), format!("{base}/hidden")]);
    let findings = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    assert!(
        findings.contains("/missing") && findings.contains("HTTP 404"),
        "{findings}"
    );
    let paths = requested.lock().unwrap().clone();
    assert!(
        paths.contains(&"/robots.txt".to_string()) && paths.contains(&"/cat.png".to_string()),
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|p| p.starts_with("/private")),
        "robots.txt was ignored: {paths:?}"
    );
    assert_eq!(
        paths.iter().filter(|p| *p == "/a").count(),
        1,
        "fetched twice: {paths:?}"
    );
}

#[test]
fn loopback_sites_are_refused_unless_allowed() {
    let (base, requested) = site();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, err) = cleanweb(
        tmp.path(),
        &[
            "crawl",
            &format!("{base}/"),
            "--delay-ms",
            "0",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("1 pages and images, 1 findings, 0 to delete"),
        "{stdout}"
    );
    let findings = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    assert!(findings.contains("not public"), "{findings}");
    assert!(
        requested.lock().unwrap().is_empty(),
        "a request reached the private site"
    );
}

/// warcio's command line, `warcio ARGS`: (success, stdout and stderr).
fn warcio(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys; from warcio.cli import main; sys.exit(main(sys.argv[1:]))",
        ])
        .args(args)
        .output()
        .expect("python3 with warcio (scripts/deps installs it)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_crawl_keeps_warc_records_that_warcio_checks() {
    let (base, _) = site();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _, err) = crawl_local(tmp.path(), &base, &out, &["--warc"]);
    assert_eq!(code, 0, "{err}");
    let crawl_id = err
        .split("crawl ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no crawl id in {err}"))
        .to_owned();
    let warc = out.join("crawl.warc.gz");
    let w = warc.to_str().unwrap();
    let (ok, report) = warcio(&["check", "-v", w]);
    assert!(ok, "warcio check failed:\n{report}");
    assert!(report.contains("digest pass"), "{report}");
    assert!(!report.contains("digest fail"), "{report}");
    let (ok, index) = warcio(&[
        "index",
        "-f",
        "warc-type,warc-target-uri,warc-ip-address,http:status",
        w,
    ]);
    assert!(ok, "{index}");
    let records: Vec<serde_json::Value> = index
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["warc-type"], "warcinfo");
    // robots.txt, the sitemap, /, /hidden, /a, /cat.png and the 404: a request and a response each.
    let responses: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["warc-type"] == "response")
        .collect();
    assert_eq!(responses.len(), 7, "{index}");
    assert_eq!(
        records
            .iter()
            .filter(|r| r["warc-type"] == "request")
            .count(),
        7
    );
    let page = responses
        .iter()
        .find(|r| r["warc-target-uri"] == format!("{base}/a"))
        .unwrap_or_else(|| panic!("{index}"));
    assert_eq!(page["warc-ip-address"], "127.0.0.1");
    assert_eq!(page["http:status"], "200");
    assert!(responses.iter().any(|r| r["http:status"] == "404"));

    // One changed byte of a kept page is caught.
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&warc).unwrap()),
        &mut plain,
    )
    .unwrap();
    let at = plain
        .windows(b"hot porn videos".len())
        .position(|w| w == b"hot porn videos")
        .unwrap();
    plain[at] = b'H';
    let tampered = tmp.path().join("tampered.warc");
    std::fs::write(&tampered, &plain).unwrap();
    let (ok, report) = warcio(&["check", "-v", tampered.to_str().unwrap()]);
    assert!(!ok, "a changed byte passed:\n{report}");
    assert!(report.contains("digest failed"), "{report}");

    bundle_of_the_crawl(tmp.path(), &crawl_id, &base);
}

/// The crawl's captures are in the evidence store: its bundle verifies
/// under the deployment's key, warcio checks the WARC inside, and a changed
/// byte or another key is caught and named.
fn bundle_of_the_crawl(data: &std::path::Path, crawl_id: &str, base: &str) {
    let bundle = data.join("evidence.zip");
    let b = bundle.to_str().unwrap();
    let (code, out, err) = cleanweb(
        data,
        &["evidence", "export", "--sweep", crawl_id, "--out", b],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 decisions\t7 captures\t0 withheld"), "{out}");
    let (code, key, err) = cleanweb(data, &["evidence", "key"], "");
    assert_eq!(code, 0, "{err}");
    let fingerprint = key.trim().split('\t').nth(1).unwrap().to_owned();
    assert!(out.contains(&fingerprint), "{out}");
    let (code, out, _) = cleanweb(
        data,
        &["evidence", "verify", b, "--fingerprint", &fingerprint],
        "",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("OK\t") && out.contains("sweep"), "{out}");

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut zip.by_name(name).unwrap(), &mut v).unwrap();
        v
    };
    let manifest: serde_json::Value = serde_json::from_slice(&read("manifest.json")).unwrap();
    let report = String::from_utf8(read("report.html")).unwrap();
    let warc = read("warc/captures.warc.gz");
    assert_eq!(manifest["subject"]["id"], crawl_id);
    assert_eq!(manifest["captures"].as_array().unwrap().len(), 7);
    let urls: Vec<&str> = manifest["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["url"].as_str())
        .collect();
    assert!(urls.contains(&format!("{base}/a").as_str()), "{urls:?}");
    // The export is audited: a second bundle's audit excerpt shows the first.
    let again = data.join("again.zip");
    let (code, _, err) = cleanweb(
        data,
        &[
            "evidence",
            "export",
            "--sweep",
            crawl_id,
            "--out",
            again.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let mut second = zip::ZipArchive::new(std::fs::File::open(&again).unwrap()).unwrap();
    let second: serde_json::Value =
        serde_json::from_reader(second.by_name("manifest.json").unwrap()).unwrap();
    let event = &second["audit"]["events"][0];
    assert_eq!(event["action"], "evidence.export");
    assert_eq!(event["subject"], crawl_id);
    assert_eq!(
        event["details"]["manifest_sha256"].as_str().unwrap().len(),
        64
    );
    assert_eq!(second["audit"]["head"]["hash"], event["hash"]);
    assert!(report.contains("清查任务") && report.contains(&fingerprint));
    let w = data.join("bundle.warc.gz");
    std::fs::write(&w, &warc).unwrap();
    let (ok, checked) = warcio(&["check", "-v", w.to_str().unwrap()]);
    assert!(ok && checked.contains("digest pass"), "{checked}");

    // One byte changed in report.html: verify names it.
    let changed = data.join("changed.zip");
    {
        let mut src = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
        let mut dst = zip::ZipWriter::new(std::fs::File::create(&changed).unwrap());
        for i in 0..src.len() {
            let mut f = src.by_index(i).unwrap();
            let name = f.name().unwrap().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
            if name == "report.html" {
                let at = bytes.len() / 2;
                bytes[at] ^= 0x20;
            }
            dst.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            dst.write_all(&bytes).unwrap();
        }
        dst.finish().unwrap();
    }
    let (code, out, _) = cleanweb(data, &["evidence", "verify", changed.to_str().unwrap()], "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("FAILED") && out.contains("report.html does not match"),
        "{out}"
    );
    // Another deployment's key: the signature holds, the fingerprint does not.
    let wrong = format!("SHA256:{}", "0".repeat(64));
    let (code, out, _) = cleanweb(
        data,
        &["evidence", "verify", b, "--fingerprint", &wrong],
        "",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not by SHA256:000"), "{out}");
}

/// A site past its rectification deadline is overdue; a re-inspection
/// crawls it (keeping WARC evidence), proposes `closed` because pages still
/// violate, and an admin's confirmation applies the proposal.
#[test]
fn a_reinspection_at_the_deadline_proposes_and_an_admin_confirms() {
    let (base, _) = site();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let ok = |args: &[&str]| common::cleanweb_ok(data, args);
    ok(&["sites", "add", "127.0.0.1", "--reason", "reported"]);
    ok(&[
        "sites",
        "status",
        "127.0.0.1",
        "rectification",
        "--reason",
        "notice served",
        "--deadline",
        "2026-01-01",
    ]);
    let (code, out, err) = cleanweb(data, &["sites", "overdue"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("127.0.0.1\trectification") && err.contains("1 overdue"),
        "{out}{err}"
    );
    // Nothing to confirm before an inspection.
    let (code, _, err) = cleanweb(
        data,
        &["sites", "confirm", "127.0.0.1", "--reason", "x"],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("no inspection proposal"), "{err}");

    let start = format!("{base}/");
    // Only for this test: the loopback site stands in for a public one.
    let inspect = || {
        ok(&[
            "sites",
            "inspect",
            "127.0.0.1",
            "--url",
            &start,
            "--allow-private",
            "--delay-ms",
            "0",
        ])
    };
    let inspected = inspect();
    assert!(
        inspected.contains("rectification (inspection, proposes closed)")
            && inspected.contains("2 violating"),
        "{inspected}"
    );
    // Still rectification, still overdue, until an admin decides.
    let (_, out, _) = cleanweb(data, &["sites", "overdue"], "");
    assert!(out.contains("127.0.0.1"), "{out}");
    let closed = ok(&[
        "sites",
        "confirm",
        "127.0.0.1",
        "--reason",
        "still violating at the deadline",
    ]);
    assert!(closed.contains("127.0.0.1\tclosed\t"), "{closed}");
    let history = ok(&["sites", "history", "127.0.0.1"]);
    assert_eq!(history.lines().count(), 4, "{history}");
    let (_, out, err) = cleanweb(data, &["sites", "overdue"], "");
    assert!(
        !out.contains("127.0.0.1") && err.contains("0 overdue"),
        "{out}{err}"
    );
    let actions: Vec<String> = common::audit_log(data)
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actions.contains(&"site.inspection".to_owned()),
        "{actions:?}"
    );

    // The inspection's fetches are the site's evidence.
    let bundle = data.join("site.zip");
    let out = ok(&[
        "evidence",
        "export",
        "--site",
        "127.0.0.1",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert!(out.contains("2 decisions\t7 captures"), "{out}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_reader(zip.by_name("manifest.json").unwrap()).unwrap();
    let history = manifest["site"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(manifest["site"]["status"], "closed");

    // Restored, then in rectification again and re-inspected: this time an
    // admin confirms the proposal in the console.
    ok(&[
        "sites",
        "status",
        "127.0.0.1",
        "restored",
        "--reason",
        "cleaned up",
    ]);
    ok(&[
        "sites",
        "status",
        "127.0.0.1",
        "warned",
        "--reason",
        "back again",
    ]);
    ok(&[
        "sites",
        "status",
        "127.0.0.1",
        "rectification",
        "--reason",
        "second notice",
        "--deadline",
        "2026-01-02",
    ]);
    inspect();
    const PW: &str = "correct horse battery";
    common::web::add_user(data, "root", "admin", PW);
    let s = common::Server::start(data, &[]);
    let mut root = common::web::Client::login(&s.base, "root", PW);
    let page = root.get("/console/sites/127.0.0.1");
    assert!(page.body.contains("id=\"proposal\""), "{}", page.body);
    let csrf = page.csrf();
    let r = root.post("/console/sites/127.0.0.1/confirm", &[("csrf", &csrf)]);
    assert_eq!(r.status, 400, "a reason is required");
    let r = root.post(
        "/console/sites/127.0.0.1/confirm",
        &[
            ("csrf", &csrf),
            ("reason", "violating at the second deadline"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = root.get("/console/sites/127.0.0.1");
    assert!(
        page.body.contains("id=\"site-status\">Closed<"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("id=\"proposal\""));
}

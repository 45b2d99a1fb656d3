//! The public reporting centre through the real server: merging, triage
//! with SSRF protection, sealed contacts and audited disclosure, the burst
//! challenge, limits, and rewards for the first reporter.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::web::{Client, add_user};
use common::{Server, cleanweb};
use serde_json::{Value, json};

const PW: &str = "correct horse battery";

fn setup(dir: &Path, extra: &str) -> Server {
    setup_logging(dir, extra, None)
}

fn setup_logging(dir: &Path, extra: &str, log: Option<&Path>) -> Server {
    let data = dir.join("data");
    add_user(&data, "root", "admin", PW);
    add_user(&data, "amy", "reviewer", PW);
    let cfg = dir.join("cleanweb.toml");
    // Tests all come from 127.0.0.1: a generous free rate unless a test
    // is about the rate.
    let base = if extra.contains("[reports]") {
        String::new()
    } else {
        "[reports]\nfree_per_minute = 1000\nmax_per_hour = 1000\n\n".into()
    };
    std::fs::write(&cfg, format!("{base}[image]\nnudity = false\n\n{extra}")).unwrap();
    let cfg = cfg.to_str().unwrap().to_owned();
    match log {
        Some(l) => Server::start_logging(&data, &["--config", &cfg], l),
        None => Server::start(&data, &["--config", &cfg]),
    }
}

fn report(s: &Server, body: Value) -> (u16, Value) {
    let r = s.post_json("/v1/reports", None, &body);
    (r.status, r.json())
}

fn receipt(s: &Server, body: Value) -> String {
    let (status, v) = report(s, body);
    assert_eq!(status, 201, "{v}");
    v["receipt"].as_str().unwrap().to_owned()
}

/// Waits until every case of the receipt left `received` (triage done).
fn triaged(s: &Server, receipt: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = s.get(&format!("/v1/reports/{receipt}"), None).json();
        if st["targets"]
            .as_array()
            .is_some_and(|t| t.iter().all(|t| t["status"] != "received"))
        {
            return st;
        }
        assert!(Instant::now() < deadline, "triage did not finish: {st}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The stored triage decisions of reports (admin API), newest first.
fn report_decisions(s: &Server) -> Vec<Value> {
    let v = s
        .get("/v1/decisions?source=report&limit=100", Some(s.key()))
        .json();
    v["decisions"].as_array().cloned().unwrap_or_default()
}

#[test]
fn three_spellings_of_one_url_make_one_case_that_keeps_the_first_reporter() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let spellings = [
        "HTTP://Bad.Example.com:80/a/../pics/%7Eclip?id=7#top",
        "http://bad.example.com/pics/~clip?id=7",
        "bad.example.com./pics/%7eclip?id=7",
    ];
    let receipts: Vec<String> = spellings
        .iter()
        .enumerate()
        .map(|(i, u)| {
            receipt(&s, json!({"urls": [u], "category": "sexual.explicit", "description": format!("reporter {i}")}))
        })
        .collect();
    for r in &receipts {
        triaged(&s, r);
    }
    let decisions = report_decisions(&s);
    assert_eq!(decisions.len(), 1, "one case, one triage: {decisions:?}");
    let id = decisions[0]["decision_id"].as_str().unwrap().to_owned();
    let mut root = Client::login(&s.base, "root", PW);
    let page = root.get(&format!("/console/items/{id}"));
    assert!(page.body.contains("id=\"case-count\">3<"), "{}", page.body);
    let first = page.body.find("reporter 0").expect("first report shown");
    let mark = page.body[..first].rfind("<tr>").unwrap();
    assert!(
        page.body[mark..first].contains("first"),
        "the first report is marked"
    );
    // All three receipts follow the same case.
    for r in &receipts {
        assert_eq!(
            s.get(&format!("/v1/reports/{r}"), None).json()["status"],
            "in_review"
        );
    }
    // Other pages do not merge, nor does the same path on another port.
    receipt(&s, json!({"urls": ["http://bad.example.com/pics/other"]}));
    receipt(
        &s,
        json!({"urls": ["http://bad.example.com:8080/pics/~clip?id=7"]}),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while report_decisions(&s).len() < 3 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn triage_never_fetches_private_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    // A local server that would answer, and counts who asks.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for c in listener.incoming() {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(c);
        }
    });
    let urls = [
        format!("http://127.0.0.1:{port}/admin"),
        format!("http://localhost:{port}/"),
        format!("http://[::1]:{port}/"),
        "http://10.0.0.5/".to_owned(),
        "http://192.168.1.1/router".to_owned(),
        "http://172.16.3.4/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fe80::1]/".to_owned(),
        "http://0.0.0.0/".to_owned(),
    ];
    let r = receipt(&s, json!({"urls": urls}));
    let st = triaged(&s, &r);
    assert_eq!(st["targets"].as_array().unwrap().len(), urls.len());
    let decisions = report_decisions(&s);
    assert_eq!(decisions.len(), urls.len());
    for d in &decisions {
        let warnings = d["decision"]["warnings"].to_string();
        assert!(warnings.contains("not public"), "{d}");
        // Still queued for a person, with the reason.
        assert_eq!(d["decision"]["verdict"], "review");
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing was fetched"
    );
}

#[test]
fn contacts_are_sealed_in_the_store_and_logs_and_disclosure_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let s = setup_logging(dir.path(), "", Some(&log));
    let name = "Quxiang Reporter-7f3a";
    let phone = "+86 139 1234 5678";
    let email = "secret.reporter.7f3a@example.org";
    let account = "alipay:payee-7f3a-secret";
    let r = receipt(
        &s,
        json!({"text": "加微信 约炮 包夜 全套服务", "category": "sexual.services",
               "contact": {"name": name, "phone": phone, "email": email, "account": account}}),
    );
    triaged(&s, &r);
    let decision = report_decisions(&s)[0]["decision_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Reviewers see the case, never the contact.
    let mut amy = Client::login(&s.base, "amy", PW);
    for path in [
        "/console/queue".to_owned(),
        format!("/console/items/{decision}"),
    ] {
        let page = amy.get(&path);
        assert_eq!(page.status, 200, "{path}");
        for secret in [name, phone, email, account] {
            assert!(!page.body.contains(secret), "{path} shows {secret}");
        }
    }
    let item = amy.get(&format!("/console/items/{decision}"));
    assert!(item.body.contains("contact details sealed"));
    assert!(
        !item.body.contains("/disclose"),
        "reviewers get no disclosure form"
    );
    let report_id = {
        let mut root = Client::login(&s.base, "root", PW);
        let page = root.get(&format!("/console/items/{decision}"));
        let at = page.body.find("/disclose\"").expect("admins may disclose");
        let start = page.body[..at].rfind("/console/reports/").unwrap();
        page.body[start + 17..at].to_owned()
    };
    let csrf = amy.get("/console/queue").csrf();
    let r = amy.post(
        &format!("/console/reports/{report_id}/disclose"),
        &[("csrf", &csrf), ("reason", "curious")],
    );
    assert_eq!(r.status, 403);

    // An admin discloses, with a reason; no reason, no disclosure.
    let mut root = Client::login(&s.base, "root", PW);
    let csrf = root.get("/console/queue").csrf();
    let r = root.post(
        &format!("/console/reports/{report_id}/disclose"),
        &[("csrf", &csrf), ("reason", " ")],
    );
    assert_eq!(r.status, 400);
    let r = root.post(
        &format!("/console/reports/{report_id}/disclose"),
        &[
            ("csrf", &csrf),
            ("reason", "police request 2026-114"),
            ("decision", &decision),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    for secret in [name, phone, email, account] {
        assert!(r.body.contains(secret), "disclosure shows {secret}");
    }
    assert_eq!(r.headers["cache-control"], "no-store, private");

    let data = dir.path().join("data");
    let (code, audit, _) = cleanweb(&data, &["audit", "export", "--format", "jsonl"], "");
    assert_eq!(code, 0);
    let disclosures: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"report.disclose\""))
        .collect();
    assert_eq!(disclosures.len(), 1, "{audit}");
    assert!(
        disclosures[0].contains("police request 2026-114") && disclosures[0].contains("user:root")
    );
    s.stop();

    // Nothing in the data directory (at any depth) or the log holds the
    // plaintext.
    let mut files = vec![log.clone()];
    files.extend(files_under(&data));
    assert!(files.len() > 2, "the scan found the store: {files:?}");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for secret in [name, phone, email, account, "13912345678"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds {secret:?}",
                f.display()
            );
        }
    }
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("report received"),
        "the log was written"
    );
    assert!(
        std::fs::metadata(data.join("report.key")).is_ok(),
        "the key sits beside the database"
    );
}

/// Every file under `dir`, subdirectories included.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let kind = e.file_type().unwrap();
            if kind.is_dir() {
                dirs.push(e.path());
            } else if kind.is_file() {
                files.push(e.path());
            }
        }
    }
    files
}

#[test]
fn bursts_need_a_solved_challenge_and_floods_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(
        dir.path(),
        "[reports]\nfree_per_minute = 1\nmax_per_hour = 4\npow_difficulty = 8\n",
    );
    let body = json!({"text": "约炮"});
    assert_eq!(report(&s, body.clone()).0, 201);
    let (status, problem) = report(&s, body.clone());
    assert_eq!(status, 429);
    let challenge = problem["challenge"].as_str().unwrap().to_owned();
    assert_eq!(problem["difficulty"], 8);
    let n = cleanweb_reports::solve(&challenge, 8);
    let with_pow = |c: &str, n: u64| {
        let r = s.post_typed_headers(
            "/v1/reports",
            "application/json",
            &[("X-Cleanweb-Pow", &format!("{c}:{n}"))],
            body.to_string().as_bytes(),
        );
        r.status
    };
    let wrong = (0..)
        .find(|x| cleanweb_reports::leading_zero_bits(&challenge, *x) < 8)
        .unwrap();
    assert_eq!(with_pow(&challenge, wrong), 429, "a wrong answer");
    assert_eq!(with_pow(&challenge, n), 201, "solved");
    assert_eq!(with_pow(&challenge, n), 429, "a challenge is good once");
    // The hourly cap (4) holds even with solutions: two accepted so far.
    for _ in 0..2 {
        let (_, p) = report(&s, body.clone());
        let c = p["challenge"].as_str().unwrap().to_owned();
        assert_eq!(with_pow(&c, cleanweb_reports::solve(&c, 8)), 201);
    }
    let (_, p) = report(&s, body.clone());
    let c = p["challenge"].as_str().map(str::to_owned);
    assert_eq!(c, None, "refused outright: {p}");
    assert_eq!(p["type"], "urn:cleanweb:problem:rate-limited");
}

#[test]
fn bad_reports_get_clear_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let cases = [
        (json!({}), 422, "needs a URL"),
        (json!({"description": "only words"}), 422, "needs a URL"),
        (json!({"urls": ["javascript:alert(1)"]}), 422, "only http"),
        (
            json!({"image": b64(b"<html><script>x</script>")}),
            422,
            "not a PNG",
        ),
        (
            json!({"urls": vec!["http://a.example/"; 11]}),
            413,
            "at most 10",
        ),
        (json!({"text": "x".repeat(5001)}), 413, "longer than"),
        (
            json!({"text": "x", "category": "politics"}),
            422,
            "unknown category",
        ),
        (
            json!({"text": "x", "contact": {"name": "n".repeat(201)}}),
            422,
            "longer than 200",
        ),
    ];
    for (body, status, detail) in cases {
        let (got, v) = report(&s, body.clone());
        assert_eq!(got, status, "{body}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains(detail),
            "{body}: {v}"
        );
    }
    let r = s.post_raw("/v1/reports", None, b"{not json");
    assert_eq!(r.status, 400);
    // Only JSON: a browser cannot send that cross-site without a preflight.
    let r = s.post_typed("/v1/reports", None, "text/plain", br#"{"text":"x"}"#);
    assert_eq!(r.status, 415, "{}", r.body);
    // The form refuses posts another site's page makes.
    let r = s.post_typed_headers(
        "/report",
        "multipart/form-data; boundary=b",
        &[("Sec-Fetch-Site", "cross-site")],
        b"--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nx\r\n--b--\r\n",
    );
    assert_eq!(r.status, 403);
    let r = s.post_typed_headers(
        "/report",
        "multipart/form-data; boundary=b",
        &[("Sec-Fetch-Site", "same-origin")],
        "--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n约炮\r\n--b--\r\n".as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.contains("id=\"receipt\""));
    // (The body cap is tested in the server crate, without a socket: a
    // server that refuses mid-upload may reset the connection first.)
    assert_eq!(s.get("/v1/reports/NOT-A-CODE", None).status, 404);
    assert_eq!(s.get("/v1/reports/0000-0000-0000-0000", None).status, 404);
    // A receipt in a URL: no cache may keep the answer.
    let r = receipt(&s, json!({"text": "约炮 lily"}));
    let mut web = Client::new(&s.base);
    for path in [
        format!("/v1/reports/{r}"),
        format!("/report/status?receipt={r}"),
    ] {
        let page = web.get(&path);
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(
            page.headers.get("cache-control").map(String::as_str),
            Some("no-store"),
            "{path}"
        );
    }
    // The form's refusals are in the reader's language.
    let form = |lang: &str| {
        s.post_typed_headers(
            "/report",
            "multipart/form-data; boundary=b",
            &[("Sec-Fetch-Site", "same-origin"), ("Accept-Language", lang)],
            b"--b\r\nContent-Disposition: form-data; name=\"urls\"\r\n\r\njavascript:alert(1)\r\n--b--\r\n",
        )
    };
    let zh = form("zh-CN");
    assert_eq!(zh.status, 422, "{}", zh.body);
    assert!(zh.body.contains("只能举报以"), "{}", zh.body);
    let en = form("en");
    assert_eq!(en.status, 422, "{}", en.body);
    assert!(en.body.contains("can be reported"), "{}", en.body);
}

#[test]
fn a_confirmed_case_pays_its_first_reporter_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(
        dir.path(),
        "[rewards]\nenabled = true\ncurrency = \"CNY\"\n\n[rewards.amounts.\"sexual.services\"]\nstandard = 5000\nsevere = 20000\n",
    );
    let text = "加微信 约炮 包夜 全套服务 联系 lily520";
    let first = receipt(
        &s,
        json!({"text": text, "category": "sexual.services", "contact": {"name": "First Reporter", "account": "alipay:first@example.org"}}),
    );
    let second = receipt(
        &s,
        json!({"text": text, "category": "sexual.services", "contact": {"name": "Second Reporter", "email": "second@example.org"}}),
    );
    triaged(&s, &first);
    let d = report_decisions(&s)[0].clone();
    let id = d["decision_id"].as_str().unwrap().to_owned();
    let mut amy = Client::login(&s.base, "amy", PW);
    let r = amy.decide(
        &id,
        &[("outcome", "violation"), ("category", "sexual.services")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    for rc in [&first, &second] {
        assert_eq!(
            s.get(&format!("/v1/reports/{rc}"), None).json()["status"],
            "confirmed"
        );
    }
    let data = dir.path().join("data");
    let (code, csv, err) = cleanweb(
        &data,
        &["rewards", "export", "--reason", "monthly payout"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "one entry: {csv}");
    // The text names services next to a contact: the engine blocks it, so
    // the case is severe and pays the severe amount (20000 fen).
    assert_eq!(d["decision"]["verdict"], "block", "{d}");
    let amount = "200.00";
    assert!(
        lines[1].contains("First Reporter") && lines[1].contains("alipay:first@example.org"),
        "{csv}"
    );
    assert!(
        lines[1].contains(amount) && lines[1].contains("owed"),
        "{csv}"
    );
    assert!(!csv.contains("Second Reporter"));
    let (code, _, err) = cleanweb(&data, &["rewards", "export", "--reason", " "], "");
    assert_ne!(code, 0, "a reason is required: {err}");
    let reward_id = lines[1].split(',').next().unwrap().to_owned();
    let (code, _, err) = cleanweb(&data, &["rewards", "pay", &reward_id], "");
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = cleanweb(&data, &["rewards", "pay", &reward_id], "");
    assert_ne!(code, 0, "paid once");
    let (_, audit, _) = cleanweb(&data, &["audit", "export", "--format", "jsonl"], "");
    assert!(audit.contains("\"rewards.export\"") && audit.contains("monthly payout"));
    assert!(audit.contains("\"reward.paid\""));
    let mut root = Client::login(&s.base, "root", PW);
    let ledger = root.get("/console/rewards");
    assert!(
        ledger.body.contains(&format!("{amount} CNY")),
        "{}",
        ledger.body
    );
    assert!(ledger.body.contains("Paid"));
}

#[test]
fn images_reported_as_involving_minors_are_escalated_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    use base64::Engine as _;
    let photo = common::photo();
    let r = receipt(
        &s,
        json!({"image": base64::engine::general_purpose::STANDARD.encode(&photo), "category": "sexual.minors"}),
    );
    triaged(&s, &r);
    let id = report_decisions(&s)[0]["decision_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut amy = Client::login(&s.base, "amy", PW);
    assert!(
        !amy.get("/console/queue").body.contains(&id),
        "not in the reviewers' queue"
    );
    let mut root = Client::login(&s.base, "root", PW);
    assert!(
        root.get("/console/queue?queue=escalated")
            .body
            .contains(&id)
    );
    let page = root.get(&format!("/console/items/{id}"));
    assert!(page.body.contains("id=\"withheld\""), "{}", page.body);
    assert!(!page.body.contains("/console/media/"));
    assert_eq!(root.get(&format!("/console/media/{id}")).status, 403);
}

/// A benign PNG of one colour, distinct per `shade`.
fn plain_png(shade: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 48, image::Rgb([shade, 90, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Every entry of a zip, by name.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut v).unwrap();
            (f.name().unwrap().into_owned(), v)
        })
        .collect()
}

#[test]
fn case_bundles_over_http_are_signed_audited_and_leave_minors_content_out() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (explicit, minors) = (plain_png(10), plain_png(200));
    // One report at a time, so each case is the newest triaged.
    let case_of = |body: Value| {
        let r = receipt(&s, body);
        triaged(&s, &r);
        report_decisions(&s)[0]["decision"]["meta"]["case"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let case_a = case_of(
        json!({"image": b64(&explicit), "category": "sexual.explicit", "description": "seen on a forum"}),
    );
    let case_b = case_of(json!({"image": b64(&minors), "category": "sexual.minors"}));
    assert_ne!(case_a, case_b);
    let sha = cleanweb_store::sha256_hex;
    let (status, headers, zip_a) =
        s.get_bytes(&format!("/v1/evidence/export?case={case_a}"), Some(s.key()));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&zip_a));
    assert_eq!(headers["content-type"], "application/zip");
    let fingerprint = headers["x-evidence-key"].to_str().unwrap().to_owned();
    let data = dir.path().join("data");
    let (code, key, err) = cleanweb(&data, &["evidence", "key"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        key.contains(&fingerprint),
        "the server signs with DATA/evidence.key"
    );
    let file_a = dir.path().join("a.zip");
    std::fs::write(&file_a, &zip_a).unwrap();
    let (code, out, _) = cleanweb(
        &data,
        &[
            "evidence",
            "verify",
            file_a.to_str().unwrap(),
            "--fingerprint",
            &fingerprint,
        ],
        "",
    );
    assert_eq!(code, 0, "{out}");
    let files = unzip(&zip_a);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(
        manifest["cases"][0]["reports"][0]["description"],
        "seen on a forum"
    );
    assert!(manifest["cases"][0]["reports"][0].get("contact").is_none());
    let media = manifest["decisions"][0]["media"].as_str().unwrap();
    assert_eq!(files[media], explicit, "the original picture is kept");
    let report = String::from_utf8(files["report.html"].clone()).unwrap();
    assert!(report.contains("base64,"), "a blurred thumbnail");

    // Reported as minors: listed by its hashes only, its bytes nowhere.
    let (status, _, zip_b) =
        s.get_bytes(&format!("/v1/evidence/export?case={case_b}"), Some(s.key()));
    assert_eq!(status, 200);
    let files = unzip(&zip_b);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["decisions"][0]["withheld"], true);
    assert!(manifest["decisions"][0]["media"].is_null());
    assert_eq!(manifest["withheld"][0]["image_sha256"], sha(&minors));
    assert!(
        !files.keys().any(|k| k.starts_with("media/")),
        "{:?}",
        files.keys()
    );
    for (name, bytes) in &files {
        assert!(
            !bytes.windows(minors.len()).any(|w| w == minors.as_slice()),
            "{name} holds the picture"
        );
    }

    // Admins only, one subject, known cases; every export is audited.
    let (status, _, _) = s.get_bytes(&format!("/v1/evidence/export?case={case_a}"), None);
    assert_eq!(status, 401);
    let (status, _, _) = s.get_bytes(
        &format!("/v1/evidence/export?case={case_a}&sweep=x"),
        Some(s.key()),
    );
    assert_eq!(status, 400);
    let (status, _, _) = s.get_bytes(
        &format!("/v1/evidence/export?case={}", uuid::Uuid::nil()),
        Some(s.key()),
    );
    assert_eq!(status, 404);
    let exports: Vec<Value> = common::audit_log(&data)
        .into_iter()
        .filter(|e| e["action"] == "evidence.export")
        .collect();
    assert_eq!(exports.len(), 2, "{exports:?}");
    assert!(
        exports[0]["actor"].as_str().unwrap().starts_with("key:"),
        "{exports:?}"
    );
    assert_eq!(exports[1]["details"]["withheld"], 1);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(
        dir.path(),
        "[reports]\nfree_per_minute = 1\nmax_per_hour = 100\npow_difficulty = 8\n\n[server]\ntrusted_proxies = [\"127.0.0.1\"]\n",
    );
    let send = |forwarded: &str| {
        s.post_typed_headers(
            "/v1/reports",
            "application/json",
            &[("X-Forwarded-For", forwarded)],
            r#"{"text":"约炮"}"#.as_bytes(),
        )
        .status
    };
    assert_eq!(send("198.51.100.1"), 201);
    assert_eq!(
        send("198.51.100.1"),
        429,
        "the same client, over its free rate"
    );
    assert_eq!(send("198.51.100.2"), 201, "another client behind the proxy");
    // A forged first hop does not buy a new budget: the proxy's hop counts.
    assert_eq!(send("203.0.113.9, 198.51.100.1"), 429);
}

#[test]
fn cases_a_restart_left_untriaged_are_triaged_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = setup(dir.path(), "");
    let key = s.key().to_owned();
    // Text: the one place it is kept is the upload blob filed with the
    // report (a decision keeps text in its own row, deleted below).
    let code = receipt(
        &s,
        json!({"text": "约炮 全套服务", "category": "sexual.services", "description": "a post"}),
    );
    triaged(&s, &code);
    s.stop();
    // The state a crash between intake and triage leaves: the case filed,
    // its upload kept, no decision.
    let db = data.join("cleanweb.db");
    let reset = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
             c.execute(\"DELETE FROM decisions WHERE source='report'\"); \
             c.execute(\"UPDATE cases SET status='received', decision_id=NULL, triage_error=NULL\"); \
             c.commit()",
            db.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(reset.success());
    let cfg = dir.path().join("cleanweb.toml");
    let s = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let st = triaged(&s, &code);
    assert_eq!(st["status"], "in_review", "{st}");
    let decisions = s
        .get("/v1/decisions?source=report&limit=10", Some(&key))
        .json();
    let decisions = decisions["decisions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(decisions.len(), 1, "triaged once more, once: {decisions:?}");
    // From the kept text itself, not a placeholder for missing content.
    assert_eq!(
        decisions[0]["decision"]["verdict"], "block",
        "{decisions:?}"
    );
}

//! The console end to end in real headless Chromium (Debian's chromium
//! and chromium-driver, which `scripts/deps` installs): a reviewer signs
//! in, opens the queue, reveals a blurred image, decides `violation` with
//! the keyboard, and the platform's receiver gets a correctly signed
//! takedown.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;
use common::web::{Receiver, add_user};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const PW: &str = "correct horse battery";

/// ChromeDriver on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Driver {
    let bin =
        std::env::var("CLEANWEB_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    assert!(
        Path::new(&bin).exists(),
        "{bin} is missing: scripts/deps installs chromium and chromium-driver"
    );
    // A free port can be taken between our probe and chromedriver's bind:
    // then chromedriver exits, and another port is tried.
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Driver {
                    child,
                    url: format!("http://127.0.0.1:{port}"),
                    _profile: tempfile::tempdir().unwrap(),
                };
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("chromedriver could not take a port");
}

async fn browser(driver: &Driver) -> Client {
    let chromium =
        std::env::var("CLEANWEB_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-dev-shm-usage",
                "--disable-extensions", "--lang=en-US", "--window-size=1280,1024",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.expect(script)
}

/// Signs in through the login form and waits for the queue.
async fn sign_in(c: &Client, base: &str, name: &str) {
    c.goto(&format!("{base}/console/login")).await.unwrap();
    c.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PW)
        .await
        .unwrap();
    click(c, "login").await;
    wait_for(c, "return location.pathname === '/console/queue'").await;
}

async fn click(c: &Client, id: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn text_of(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

/// Polls a script until it returns true. A script that fails counts as
/// not yet: right after a click that navigates, the old document may be
/// unloading. The deadline is generous for a loaded 2-core machine.
async fn wait_for(c: &Client, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if matches!(c.execute(script, vec![]).await, Ok(v) if v == json!(true)) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {script}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn a_reviewer_reveals_an_image_decides_violation_and_the_platform_gets_a_signed_takedown() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_user(&data, "amy", "reviewer", PW);
    let receiver = Receiver::start(vec![]);
    let cfg = dir.path().join("cleanweb.toml");
    std::fs::write(
        &cfg,
        format!(
            "[image]\nnudity = false\n\n[[webhooks]]\nname = \"platform\"\nurl = \"{}\"\nsecret = \"e2e-secret\"\n",
            receiver.url
        ),
    )
    .unwrap();
    let s = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let photo = common::photo();
    use base64::Engine as _;
    let r = s.post_json(
        "/v1/moderate",
        Some(s.key()),
        &json!({"id": "ad-1", "text": "sexy lingerie <script>document.title='pwned'</script>",
                "image": base64::engine::general_purpose::STANDARD.encode(&photo)}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["verdict"], "review");
    let decision = r.json()["decision_id"].as_str().unwrap().to_owned();

    let driver = chromedriver();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(&driver).await;
        sign_in(&c, &s.base, "amy").await;
        let queue = c.source().await.unwrap();
        assert!(
            queue.contains(&format!("/console/items/{decision}")),
            "the item is queued"
        );

        // Open the next item: the page shows the text inert, the image blurred.
        click(&c, "next").await;
        wait_for(
            &c,
            &format!("return location.pathname === '/console/items/{decision}'"),
        )
        .await;
        assert_ne!(
            c.title().await.unwrap(),
            "pwned",
            "the item's script did not run"
        );
        let text = text_of(&c, "text").await;
        assert!(text.contains("<script>"), "shown as text: {text}");
        wait_for(
            &c,
            "const m = document.getElementById('media'); return m.complete && m.naturalWidth > 0",
        )
        .await;
        let filter = "return getComputedStyle(document.getElementById('media')).filter";
        let blurred = js(&c, filter).await;
        assert!(
            blurred.as_str().unwrap().contains("blur"),
            "not blurred: {blurred}"
        );
        assert!(
            blurred.as_str().unwrap().contains("grayscale"),
            "not greyscale: {blurred}"
        );

        // Reveal by click.
        click(&c, "media").await;
        wait_for(
            &c,
            "return document.getElementById('media').classList.contains('revealed')",
        )
        .await;
        // Move the pointer away so hover does not count, then check.
        click(&c, "text").await;
        // The filter eases out over a transition: wait for its end.
        wait_for(
            &c,
            "return getComputedStyle(document.getElementById('media')).filter === 'none'",
        )
        .await;

        // Decide with the keyboard shortcut `v`.
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: 'v' })
            .then(KeyAction::Up { value: 'v' });
        c.perform_actions(keys).await.unwrap();
        wait_for(
            &c,
            "return location.pathname === '/console/queue' && !!document.getElementById('flash')",
        )
        .await;
        let flash = text_of(&c, "flash").await;
        assert!(flash.contains(&decision), "{flash}");
        c.close().await.unwrap();
    });

    let hook = receiver.next(Duration::from_secs(20));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        cleanweb_webhook::verify(
            b"e2e-secret",
            &hook.headers["x-cleanweb-signature"],
            &hook.body,
            now,
            300
        ),
        "the takedown's signature does not verify"
    );
    let body: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["decision_id"], decision);
    assert_eq!(body["item_id"], "ad-1");
    assert_eq!(body["category"], "sexual.suggestive");
    assert_eq!(body["reviewer"], "amy");
}

#[test]
fn pages_work_in_chinese_from_accept_language() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data, &[]);
    let driver = chromedriver();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--lang=zh-CN",
                            format!("--user-data-dir={}", driver._profile.path().display())],
                   "prefs": {"intl.accept_languages": "zh-CN,zh"}}),
        );
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a Chromium session");
        c.goto(&format!("{}/console/login", s.base)).await.unwrap();
        let h1 = c
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(h1, "登录审核控制台");
        c.close().await.unwrap();
    });
}

#[test]
fn a_member_of_the_public_reports_an_image_and_follows_it_to_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_user(&data, "amy", "reviewer", PW);
    let cfg = dir.path().join("cleanweb.toml");
    std::fs::write(
        &cfg,
        "[image]\nnudity = false\n\n[rewards]\nenabled = true\n\n[rewards.amounts.\"sexual.explicit\"]\nstandard = 3000\nsevere = 9000\n",
    )
    .unwrap();
    let s = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let photo = common::photo_path().canonicalize().unwrap();
    let driver = chromedriver();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let receipt = rt.block_on(async {
        let c = browser(&driver).await;
        // The form, as the public sees it.
        c.goto(&format!("{}/report", s.base)).await.unwrap();
        c.find(Locator::Id("image"))
            .await
            .unwrap()
            .send_keys(photo.to_str().unwrap())
            .await
            .unwrap();
        c.find(Locator::Css("textarea[name=description]"))
            .await
            .unwrap()
            .send_keys("seen in a group chat")
            .await
            .unwrap();
        c.find(Locator::Id("contact_name")).await.unwrap().send_keys("Li Si").await.unwrap();
        c.find(Locator::Id("contact_email"))
            .await
            .unwrap()
            .send_keys("lisi@example.org")
            .await
            .unwrap();
        click(&c, "submit").await;
        wait_for(&c, "return !!document.getElementById('receipt')").await;
        let receipt = text_of(&c, "receipt").await;
        assert_eq!(receipt.len(), 19, "{receipt}");

        // Its status page.
        c.find(Locator::Id("status-link")).await.unwrap().click().await.unwrap();
        wait_for(&c, "return !!document.getElementById('status')").await;
        let status = js(&c, "return document.getElementById('status').dataset.status").await;
        assert!(status == json!("received") || status == json!("in_review"), "{status}");

        // A reviewer confirms it in the console.
        sign_in(&c, &s.base, "amy").await;
        // Triage runs in the background: wait for the case to be queued.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            c.goto(&format!("{}/console/next", s.base)).await.unwrap();
            if js(&c, "return location.pathname.startsWith('/console/items/')").await == json!(true) {
                break;
            }
            assert!(Instant::now() < deadline, "the reported image never reached the queue");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let case = text_of(&c, "case").await;
        assert!(case.contains("seen in a group chat"), "{case}");
        assert!(!case.contains("Li Si") && !case.contains("lisi@"), "no contact for reviewers");
        js(&c, "document.querySelector('select[name=category]').value = 'sexual.explicit'; return true").await;
        click(&c, "violation").await;
        wait_for(&c, "return location.pathname === '/console/queue'").await;

        // The public status page says so.
        c.goto(&format!("{}/report/status?receipt={}", s.base, receipt.to_lowercase()))
            .await
            .unwrap();
        wait_for(&c, "return !!document.getElementById('status')").await;
        assert_eq!(
            js(&c, "return document.getElementById('status').dataset.status").await,
            json!("confirmed")
        );
        c.close().await.unwrap();
        receipt
    });
    assert_eq!(
        s.get(&format!("/v1/reports/{receipt}"), None).json()["status"],
        "confirmed"
    );
    // The ledger holds the first reporter's reward.
    let (code, csv, err) =
        common::cleanweb(&data, &["rewards", "export", "--reason", "e2e check"], "");
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(
        rows[0].contains("Li Si") && rows[0].contains("30.00") && rows[0].contains("owed"),
        "{csv}"
    );
}

/// An admin works a site through the Sites pages in Chromium: finds it,
/// puts it in rectification with a deadline (past, so it is overdue at
/// once), filters the overdue ones, starts a re-inspection, and reads the
/// same pages in Chinese. An auditor reads the pages and cannot act.
#[test]
fn an_admin_puts_a_site_in_rectification_and_follows_it_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_user(&data, "root", "admin", PW);
    add_user(&data, "ada", "auditor", PW);
    let s = Server::start(&data, &[]);
    for site in ["bad.example", "other.example"] {
        common::cleanweb_ok(
            &data,
            &["sites", "add", site, "--reason", "reported three times"],
        );
    }
    let driver = chromedriver();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(&driver).await;
        sign_in(&c, &s.base, "root").await;
        c.goto(&format!("{}/console/sites", s.base)).await.unwrap();
        assert!(text_of(&c, "site-count").await.starts_with("2 sites"));
        c.find(Locator::LinkText("bad.example"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "return location.pathname === '/console/sites/bad.example'").await;
        assert_eq!(text_of(&c, "site-status").await, "Watch");
        c.find(Locator::Css("#change-status option[value=rectification]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        js(&c, "document.getElementById('change-deadline').value = '2026-01-05'; return true").await;
        c.find(Locator::Id("change-reason"))
            .await
            .unwrap()
            .send_keys("notice served on the operator")
            .await
            .unwrap();
        click(&c, "apply").await;
        wait_for(
            &c,
            "const s = document.getElementById('site-status'); return !!s && s.textContent === 'Rectification'",
        )
        .await;
        assert!(text_of(&c, "overdue").await.contains("Overdue"));
        let history = text_of(&c, "history").await;
        assert!(history.contains("notice served on the operator"), "{history}");

        c.goto(&format!("{}/console/sites?overdue=1", s.base)).await.unwrap();
        let listed = text_of(&c, "sites").await;
        assert!(listed.contains("bad.example") && !listed.contains("other.example"), "{listed}");
        assert!(text_of(&c, "site-count").await.contains("1 overdue"));

        c.goto(&format!("{}/console/sites/bad.example", s.base)).await.unwrap();
        click(&c, "inspect").await;
        wait_for(&c, "return !!document.getElementById('notice')").await;

        // The same pages in Chinese, by the user's preference.
        c.find(Locator::Css("select[name=locale] option[value=zh]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.find(Locator::Css("form.prefs button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "return document.documentElement.lang === 'zh-CN'").await;
        c.goto(&format!("{}/console/sites/bad.example", s.base)).await.unwrap();
        assert_eq!(text_of(&c, "site-status").await, "限期整改");
        assert!(text_of(&c, "overdue").await.contains("已逾期"));
        c.goto(&format!("{}/console/sites", s.base)).await.unwrap();
        let h1 = c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
        assert_eq!(h1, "网站登记册");
        c.close().await.unwrap();
    });

    // Auditors read; they do not act.
    let mut ada = common::web::Client::login(&s.base, "ada", PW);
    let page = ada.get("/console/sites/bad.example");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("notice served") && !page.body.contains("id=\"actions\""));
    let refused = ada.post(
        "/console/sites/bad.example/status",
        &[
            ("csrf", &page.csrf()),
            ("status", "closed"),
            ("reason", "x"),
        ],
    );
    assert_eq!(refused.status, 403);
    assert_eq!(
        ada.get("/console/sites/bad.example/evidence.zip").status,
        403
    );
    let mut root = common::web::Client::login(&s.base, "root", PW);
    let bundle = root.get("/console/sites/bad.example/evidence.zip");
    assert_eq!(bundle.status, 200);
    assert_eq!(bundle.headers["content-type"], "application/zip");
    let events = common::audit_log(&data);
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "evidence.export" && e["actor"] == "user:root"),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "site.status" && e["actor"] == "user:root"),
        "{events:?}"
    );
}

/// The report form on a 390 px phone: one field per line, finger-sized,
/// the e-mail checked, no proof-of-work while the address is far from its
/// rate; the status page names what was reported, with dates.
#[test]
fn the_report_form_works_on_a_phone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = dir.path().join("cleanweb.toml");
    std::fs::write(
        &cfg,
        "[image]\nnudity = false\n\n[reports]\nfree_per_minute = 3\n",
    )
    .unwrap();
    let s = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let driver = chromedriver();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(&driver).await;
        c.set_window_size(390, 844).await.unwrap();
        c.goto(&format!("{}/report", s.base)).await.unwrap();
        let width = js(&c, "return window.innerWidth").await;
        assert!(width.as_u64().unwrap() <= 400, "{width}");
        for id in ["urls", "contact_email", "contact_name"] {
            let m = js(
                &c,
                &format!(
                    "const e = document.getElementById('{id}').getBoundingClientRect(); \
                     const l = document.getElementById('{id}').closest('label').getBoundingClientRect(); \
                     return [e.width, e.height, e.top - l.top]"
                ),
            )
            .await;
            let (w, h, below) = (m[0].as_f64().unwrap(), m[1].as_f64().unwrap(), m[2].as_f64().unwrap());
            assert!(w >= 300.0, "{id} is {w} px wide");
            assert!(h >= 40.0, "{id} is {h} px high");
            let why = js(
                &c,
                &format!(
                    "const e = document.getElementById('{id}'); return [getComputedStyle(e).display, e.closest('label').outerHTML.slice(0, 200), getComputedStyle(e.closest('label')).display]"
                ),
            )
            .await;
            assert!(below >= 10.0, "{id} sits below its label ({below}): {why}");
        }
        // Far from the rate: nothing is solved on load.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            js(&c, "return document.querySelector('input[name=pow]').value").await,
            json!("")
        );
        // A mistyped e-mail comes back with the reason, everything kept.
        c.find(Locator::Id("urls")).await.unwrap().send_keys("https://bad.example/page").await.unwrap();
        js(&c, "const e = document.getElementById('contact_email'); e.type = 'text'; e.value = 'lisi-at-example'; return true").await;
        click(&c, "submit").await;
        wait_for(&c, "return !!document.getElementById('error')").await;
        let error = text_of(&c, "error").await;
        assert!(error.contains("not an e-mail address"), "{error}");
        assert_eq!(
            js(&c, "return document.getElementById('urls').value").await,
            json!("https://bad.example/page")
        );
        js(&c, "const e = document.getElementById('contact_email'); e.value = 'lisi@example.org'; return true").await;
        click(&c, "submit").await;
        wait_for(&c, "return !!document.getElementById('receipt')").await;
        let receipt = text_of(&c, "receipt").await;
        c.goto(&format!("{}/report/status?receipt={receipt}", s.base)).await.unwrap();
        wait_for(&c, "return !!document.getElementById('targets')").await;
        let targets = text_of(&c, "targets").await;
        assert!(targets.contains("bad.example/page"), "{targets}");
        // Two dates, relative in the text, UTC on hover.
        let times = js(
            &c,
            "return [...document.querySelectorAll('#targets time')].map(t => t.title + '|' + t.textContent)",
        )
        .await;
        let times = times.as_array().unwrap();
        assert_eq!(times.len(), 2, "{times:?}");
        assert!(
            times.iter().all(|t| t.as_str().unwrap().contains("UTC|just now")),
            "{times:?}"
        );
        // At the free rate, the form starts solving on load.
        let r = s.post_json("/v1/reports", None, &json!({"text": "another one", "category": "sexual.explicit"}));
        assert_eq!(r.status, 201, "{}", r.body);
        c.goto(&format!("{}/report", s.base)).await.unwrap();
        assert_eq!(
            js(&c, "return document.querySelector('input[name=challenge]').dataset.solve").await,
            json!("1")
        );
        wait_for(&c, "return document.querySelector('input[name=pow]').value !== ''").await;
        c.close().await.unwrap();
    });
}

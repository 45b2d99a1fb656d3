//! The review console through the real server: roles, CSRF, XSS, login
//! lockout, claims, decisions, takedown webhooks and their dead letters,
//! and the audit trail they leave.

mod common;

use std::path::Path;
use std::time::Duration;

use common::web::{Client, Receiver, add_user};
use common::{Server, cleanweb, photo};
use serde_json::json;

const PW: &str = "correct horse battery";

fn config(dir: &Path, extra: &str) -> String {
    let path = dir.join("cleanweb.toml");
    std::fs::write(
        &path,
        format!("[review]\nblock_sample_percent = 0.0\n\n[image]\nnudity = false\n\n{extra}"),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

/// A server with an admin, a reviewer and an auditor account.
fn setup(dir: &Path, extra: &str) -> Server {
    let data = dir.join("data");
    for (name, role) in [
        ("root", "admin"),
        ("amy", "reviewer"),
        ("bob", "reviewer"),
        ("ada", "auditor"),
    ] {
        add_user(&data, name, role, PW);
    }
    let cfg = config(dir, extra);
    Server::start(&data, &["--config", &cfg])
}

/// Moderates an item through the API and returns its decision id.
fn submit(s: &Server, item: serde_json::Value) -> String {
    let r = s.post_json("/v1/moderate", Some(s.key()), &item);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["decision_id"]
        .as_str()
        .unwrap_or_else(|| panic!("not stored: {}", r.body))
        .to_owned()
}

#[test]
fn roles_are_enforced_on_every_console_route() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let id = submit(&s, json!({"text": "sexy lingerie here"}));
    let routes: Vec<(&str, String, &[&str])> = vec![
        ("GET", "/console/queue".into(), &["admin", "reviewer"]),
        ("GET", "/console/next".into(), &["admin", "reviewer"]),
        (
            "GET",
            format!("/console/items/{id}"),
            &["admin", "reviewer", "auditor"],
        ),
        (
            "GET",
            format!("/console/media/{id}"),
            &["admin", "reviewer"],
        ),
        (
            "POST",
            format!("/console/items/{id}/decide"),
            &["admin", "reviewer"],
        ),
        (
            "POST",
            format!("/console/items/{id}/release"),
            &["admin", "reviewer"],
        ),
        ("GET", "/console/stats".into(), &["admin", "auditor"]),
        ("GET", "/console/audit".into(), &["admin", "auditor"]),
        ("GET", "/console/webhooks".into(), &["admin"]),
        ("POST", format!("/console/webhooks/{id}/retry"), &["admin"]),
        ("GET", "/console/suggestions".into(), &["admin"]),
        ("POST", "/console/suggestions/1/decide".into(), &["admin"]),
        ("GET", "/console/rewards".into(), &["admin"]),
        ("POST", "/console/rewards/1/paid".into(), &["admin"]),
        (
            "POST",
            format!("/console/reports/{id}/disclose"),
            &["admin"],
        ),
        ("GET", "/console/sites".into(), &["admin", "auditor"]),
        (
            "GET",
            "/console/sites/x.example".into(),
            &["admin", "auditor"],
        ),
        ("POST", "/console/sites/x.example/status".into(), &["admin"]),
        (
            "POST",
            "/console/sites/x.example/confirm".into(),
            &["admin"],
        ),
        (
            "POST",
            "/console/sites/x.example/inspect".into(),
            &["admin"],
        ),
        (
            "GET",
            "/console/sites/x.example/evidence.zip".into(),
            &["admin"],
        ),
        ("GET", "/console/compliance".into(), &["admin", "auditor"]),
        ("POST", format!("/console/items/{id}/takeover"), &["admin"]),
        ("POST", "/console/bulk".into(), &["admin", "reviewer"]),
    ];
    let mut clients = [
        ("admin", Client::login(&s.base, "root", PW)),
        ("reviewer", Client::login(&s.base, "bob", PW)),
        ("auditor", Client::login(&s.base, "ada", PW)),
    ];
    // A form needs the session's token to get as far as the role check.
    let tokens: Vec<String> = clients
        .iter_mut()
        .map(|(role, c)| {
            let home = if *role == "auditor" {
                "/console/stats"
            } else {
                "/console/queue"
            };
            c.get(home).csrf()
        })
        .collect();
    let mut anonymous = Client::new(&s.base);
    for (method, path, allowed) in &routes {
        for ((role, c), csrf) in clients.iter_mut().zip(&tokens) {
            let r = match *method {
                "GET" => c.get(path),
                _ => c.post(
                    path,
                    &[("csrf", csrf), ("outcome", "escalate"), ("note", "roles")],
                ),
            };
            if allowed.contains(&*role) {
                assert!(
                    r.status != 403 && r.status < 500,
                    "{role} {method} {path} answered {}: {}",
                    r.status,
                    r.body
                );
            } else {
                assert_eq!(
                    r.status, 403,
                    "{role} {method} {path} was let through ({})",
                    r.status
                );
                assert!(r.body.contains(*role), "the refusal names the role");
            }
        }
        let r = match *method {
            "GET" => anonymous.get(path),
            _ => anonymous.post(path, &[("outcome", "escalate")]),
        };
        assert_eq!(
            (r.status, r.location.as_deref()),
            (303, Some("/console/login")),
            "anonymous {method} {path}"
        );
    }
    // API keys (even the admin's) cannot use the console, and console
    // sessions cannot use the API.
    let mut key_only = Client::new(&s.base);
    key_only
        .cookies
        .insert("cw_session".into(), s.key().to_owned());
    assert_eq!(key_only.get("/console/queue").status, 303);
    let (_, cookies) = (&clients[0].0, clients[0].1.cookies.clone());
    let session = cookies.get("cw_session").unwrap();
    assert_eq!(s.get("/v1/decisions", Some(session)).status, 401);
}

#[test]
fn forms_need_the_sessions_csrf_token_and_item_text_stays_inert() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let id = submit(
        &s,
        json!({"text": "sexy lingerie <script>alert('pwned')</script><img src=x onerror=alert(1)>"}),
    );
    let mut amy = Client::login(&s.base, "amy", PW);
    let page = amy.get(&format!("/console/items/{id}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains("<script>alert"),
        "script tag rendered live"
    );
    assert!(!page.body.contains("<img src=x"), "img tag rendered live");
    assert!(
        page.body.contains("&lt;script&gt;alert("),
        "the text is shown, escaped"
    );
    let csp = &page.headers["content-security-policy"];
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");

    // No token, a wrong token, another session's token: all refused.
    let mut bob = Client::login(&s.base, "bob", PW);
    let bobs = bob.get("/console/queue").csrf();
    for token in [None, Some("0000"), Some(bobs.as_str())] {
        let mut form = vec![("outcome", "violation"), ("category", "sexual.suggestive")];
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        let r = amy.post(&format!("/console/items/{id}/decide"), &form);
        assert_eq!(r.status, 403, "token {token:?}: {}", r.body);
        assert!(r.body.contains("CSRF"));
    }
    let r = amy.post("/console/logout", &[]);
    assert_eq!(r.status, 403, "logout needs the token too");
    // Every other form, even for an admin who may use it.
    let mut root = Client::login(&s.base, "root", PW);
    for path in [
        "/console/prefs".to_owned(),
        format!("/console/items/{id}/release"),
        format!("/console/webhooks/{id}/retry"),
        format!("/console/reports/{id}/disclose"),
        "/console/rewards/1/paid".to_owned(),
    ] {
        let r = root.post(&path, &[("reason", "audit"), ("locale", "zh")]);
        assert_eq!(r.status, 403, "{path} without a token: {}", r.body);
        assert!(r.body.contains("CSRF"), "{path}: {}", r.body);
    }
    // The item is still undecided.
    assert!(
        amy.get(&format!("/console/items/{id}"))
            .body
            .contains("Waiting for review")
    );
    // What reviewers type is shown inert too: notes in the history, terms
    // in the suggestions, both in the audit log.
    let r = amy.decide(
        &id,
        &[
            ("outcome", "violation"),
            ("category", "sexual.suggestive"),
            ("note", "<script>alert('note')</script>"),
            ("suggest_term", "<b onmouseover=alert(2)>term</b>"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    for path in [
        format!("/console/items/{id}"),
        "/console/suggestions".to_owned(),
        "/console/audit".to_owned(),
    ] {
        let body = root.get(&path).body;
        assert!(
            !body.contains("<script>alert('note')") && !body.contains("<b onmouseover"),
            "{path} rendered markup live"
        );
    }
    assert!(
        root.get(&format!("/console/items/{id}"))
            .body
            .contains("&lt;script&gt;alert(")
    );
    assert!(
        root.get("/console/suggestions")
            .body
            .contains("&lt;b onmouseover")
    );

    // Login itself refuses a form that did not come from the login page.
    let mut stranger = Client::new(&s.base);
    let r = stranger.post(
        "/console/login",
        &[("name", "amy"), ("password", PW), ("csrf", "x")],
    );
    assert_eq!(r.status, 403);

    // Cookies: HttpOnly, SameSite=Strict, Secure by default.
    let mut fresh = Client::new(&s.base);
    let form = fresh.get("/console/login");
    let csrf = form.csrf();
    let r = fresh.post(
        "/console/login",
        &[("name", "amy"), ("password", PW), ("csrf", &csrf)],
    );
    let cookie = r.headers["set-cookie"]
        .lines()
        .find(|c| c.starts_with("cw_session="))
        .unwrap()
        .to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/console"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
}

#[test]
fn repeated_failed_logins_lock_the_account_out() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(
        dir.path(),
        "[console]\nmax_failed_logins = 3\nlockout_secs = 60\n",
    );
    let mut c = Client::new(&s.base);
    for _ in 0..3 {
        assert_eq!(c.try_login("amy", "wrong password!").status, 401);
    }
    // Locked: even the right password is refused for now.
    let r = c.try_login("amy", PW);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Try again in"));
    // The lock is on this address's attempts at this account: guessing
    // across accounts locks the address at four times the limit (12).
    let mut other = Client::new(&s.base);
    for i in 0..9 {
        let r = other.try_login(&format!("nobody{i}"), "wrong password!");
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = other.try_login("nobody", "wrong password!");
    assert_eq!(r.status, 429, "{}", r.body);
    // The failures are audited.
    let (code, out, _) = cleanweb(
        &dir.path().join("data"),
        &["audit", "export", "--format", "jsonl"],
        "",
    );
    assert_eq!(code, 0);
    assert!(out.matches("\"login.failed\"").count() >= 3, "{out}");
}

#[test]
fn claims_keep_two_reviewers_apart() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let id = submit(&s, json!({"text": "sexy lingerie for sale"}));
    let mut amy = Client::login(&s.base, "amy", PW);
    let mut bob = Client::login(&s.base, "bob", PW);
    let r = amy.get("/console/next");
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/console/items/{id}").as_str())
    );
    let page = bob.get(&format!("/console/items/{id}"));
    assert!(
        page.body
            .contains("Another reviewer is working on this item: amy"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("id=\"decide\""),
        "no decision form while amy holds it"
    );
    assert!(bob.get("/console/queue").body.contains("claimed by"));
    // Bob's next skips the claimed item.
    assert_eq!(
        bob.get("/console/next").location.as_deref(),
        Some("/console/queue?done=empty")
    );
    let csrf = bob.get("/console/queue").csrf();
    let r = bob.post(
        &format!("/console/items/{id}/decide"),
        &[("csrf", &csrf), ("outcome", "not_violation")],
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("amy is working on this item"));
    // Amy skips it: the claim is gone at once, and bob's next takes it.
    let page = amy.get(&format!("/console/items/{id}"));
    let r = amy.post(
        &format!("/console/items/{id}/release"),
        &[("csrf", &page.csrf())],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    // She moves on to the next item, not back to the one she skipped.
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/console/next?skip={id}").as_str())
    );
    assert_eq!(
        amy.get(&format!("/console/next?skip={id}"))
            .location
            .as_deref(),
        Some("/console/queue?done=empty")
    );
    assert_eq!(
        bob.get("/console/next").location.as_deref(),
        Some(format!("/console/items/{id}").as_str())
    );
    // A release without the session's token is refused.
    assert_eq!(
        amy.post(&format!("/console/items/{id}/release"), &[])
            .status,
        403
    );
    // Bob holds it now; an admin takes it over (reviewers cannot), audited.
    let mut root = Client::login(&s.base, "root", PW);
    let page = root.get(&format!("/console/items/{id}"));
    assert!(page.body.contains("id=\"takeover\""), "{}", page.body);
    let bobs = bob.get(&format!("/console/items/{id}"));
    assert!(!bobs.body.contains("id=\"takeover\""));
    let r = bob.post(
        &format!("/console/items/{id}/takeover"),
        &[("csrf", &bobs.csrf())],
    );
    assert_eq!(r.status, 403);
    let r = root.post(
        &format!("/console/items/{id}/takeover"),
        &[("csrf", &page.csrf())],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let mine = root.get(&format!("/console/items/{id}"));
    assert!(
        mine.body.contains("id=\"decide\""),
        "the admin holds it now"
    );
    assert!(
        bob.get(&format!("/console/items/{id}"))
            .body
            .contains("working on this item: root")
    );
    let events = common::audit_log(&dir.path().join("data"));
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "review.takeover" && e["details"]["from"] == "bob"),
        "{events:?}"
    );
}

#[test]
fn a_violation_sends_a_signed_takedown_and_failures_reach_the_dead_letter_list() {
    let dir = tempfile::tempdir().unwrap();
    let good = Receiver::start(vec![]);
    // Fails twice, then takes it: two retries with backoff.
    let flaky = Receiver::start(vec![500, 503]);
    let dead = Receiver::start(vec![500]);
    let s = setup(
        dir.path(),
        &format!(
            "[[webhooks]]\nname = \"platform\"\nurl = \"{}\"\nsecret = \"s3cret\"\n\n\
             [[webhooks]]\nname = \"flaky\"\nurl = \"{}\"\nsecret = \"flaky-secret\"\nmax_attempts = 5\nretry_secs = 1\n\n\
             [[webhooks]]\nname = \"broken\"\nurl = \"{}\"\nsecret = \"x\"\nmax_attempts = 1\n",
            good.url, flaky.url, dead.url
        ),
    );
    let id = submit(
        &s,
        json!({"id": "post-9", "text": "sexy lingerie, call now", "url": "https://shop.bad-example.com/p/9", "meta": {"thread": 4}}),
    );
    let mut amy = Client::login(&s.base, "amy", PW);
    let r = amy.decide(
        &id,
        &[
            ("outcome", "violation"),
            ("category", "sexual.services"),
            ("note", "escort ad"),
            ("add_site", "on"),
            ("suggest_term", "call now"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    // On to the next item; with none left, the queue says what was recorded.
    let next = r.location.unwrap();
    assert!(next.starts_with("/console/next?done="), "{next}");
    let after = amy.get(&next);
    assert!(
        after
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/console/queue?done=") && l.ends_with("empty=1")),
        "{:?}",
        after.location
    );

    let hook = good.next(Duration::from_secs(20));
    let sig = &hook.headers["x-cleanweb-signature"];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        cleanweb_webhook::verify(b"s3cret", sig, &hook.body, now, 300),
        "bad signature {sig}"
    );
    assert!(!cleanweb_webhook::verify(
        b"other", sig, &hook.body, now, 300
    ));
    let body: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["event"], "takedown");
    assert_eq!(body["decision_id"], id);
    assert_eq!(body["item_id"], "post-9");
    assert_eq!(body["category"], "sexual.services");
    assert_eq!(body["reviewer"], "amy");
    assert_eq!(body["meta"]["thread"], 4);
    assert_eq!(hook.headers["idempotency-key"], body["delivery_id"]);

    // Retries keep the idempotency key.
    let keys: Vec<String> = (0..3)
        .map(|_| flaky.next(Duration::from_secs(30)).headers["idempotency-key"].clone())
        .collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");

    // The broken one is dead after its one attempt, listed for admins.
    dead.next(Duration::from_secs(20));
    let mut root = Client::login(&s.base, "root", PW);
    let mut page = root.get("/console/webhooks");
    for _ in 0..50 {
        if page.body.contains("id=\"dead\"") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        page = root.get("/console/webhooks");
    }
    assert!(page.body.contains("id=\"dead\""), "{}", page.body);
    assert!(page.body.contains("HTTP 500"));
    // Retrying from the dead-letter list sends it again.
    let at = page.body.find("/retry\"").unwrap();
    let start = page.body[..at].rfind("/console/webhooks/").unwrap();
    let retry_path = format!("{}/retry", &page.body[start..at]);
    let r = root.post(&retry_path, &[("csrf", &page.csrf())]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        dead.next(Duration::from_secs(20)).headers["idempotency-key"].len(),
        36
    );

    // Follow-ups: the site is on the watch list, the term is suggested.
    let sites = s.get("/v1/sites?status=watch", Some(s.key())).json();
    assert!(sites.to_string().contains("bad-example.com"), "{sites}");
    assert!(root.get("/console/suggestions").body.contains("call now"));
    let item = root.get(&format!("/console/items/{id}"));
    assert!(
        item.body
            .contains("amy: Violation sexual.services escort ad"),
        "{}",
        item.body
    );
    assert!(item.body.contains("Takedown webhook platform: Delivered"));

    // Everything is in a chain that verifies.
    let data = dir.path().join("data");
    let (code, out, err) = cleanweb(&data, &["audit", "export", "--format", "jsonl"], "");
    assert_eq!(code, 0, "{err}");
    for action in [
        "\"login\"",
        "\"review.decide\"",
        "\"webhook.delivered\"",
        "\"webhook.dead\"",
        "\"webhook.retry\"",
        "\"site.status\"",
    ] {
        assert!(out.contains(action), "{action} not audited");
    }
    let (code, out, err) = cleanweb(&data, &["audit", "verify"], "");
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn minors_media_is_never_sent_and_goes_to_escalation() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let key = s.key().to_owned();
    use base64::Engine as _;
    let image = photo();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&image);
    // Decided before anyone knew what the picture was.
    let earlier = submit(&s, json!({"image": b64, "text": "sexy lingerie"}));
    let r = s.post_json(
        "/v1/banks",
        Some(&key),
        &json!({"name": "csam", "signal": "pdq", "category": "sexual.minors", "action": "block"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.post_typed(
        "/v1/banks/csam/images",
        Some(&key),
        "application/octet-stream",
        &image,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Banked now, decided before: the picture is withheld already, before
    // any decision about it says minors.
    let mut amy = Client::login(&s.base, "amy", PW);
    let media = amy.get(&format!("/console/media/{earlier}"));
    assert_eq!(media.status, 403, "the bank withholds it");
    assert!(!media.headers["content-type"].starts_with("image/"));
    let id = submit(&s, json!({"image": b64, "text": "look"}));
    assert!(
        !amy.get("/console/queue").body.contains(&id),
        "not in the reviewers' queue"
    );
    let mut root = Client::login(&s.base, "root", PW);
    let q = root.get("/console/queue?queue=escalated");
    assert!(q.body.contains(&id), "in the escalation queue");
    let page = root.get(&format!("/console/items/{id}"));
    assert!(page.body.contains("id=\"withheld\""), "{}", page.body);
    assert!(
        !page.body.contains("/console/media/"),
        "no media link at all"
    );
    let media = root.get(&format!("/console/media/{id}"));
    assert_eq!(media.status, 403);
    assert!(!media.headers["content-type"].starts_with("image/"));
    assert!(page.body.contains("csam"), "the hash match is shown");
    // The same picture under the earlier decision is withheld too.
    let page = amy.get(&format!("/console/items/{earlier}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"withheld\""), "{}", page.body);
    assert!(!page.body.contains("/console/media/"));
    assert_eq!(amy.get(&format!("/console/media/{earlier}")).status, 403);
}

#[test]
fn statistics_show_backlog_time_to_decision_and_overturns() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let a = submit(&s, json!({"text": "sexy lingerie one"}));
    let _b = submit(&s, json!({"text": "sexy lingerie two"}));
    let mut amy = Client::login(&s.base, "amy", PW);
    let page = amy.get(&format!("/console/items/{a}"));
    let r = amy.post(
        &format!("/console/items/{a}/decide"),
        &[("csrf", &page.csrf()), ("outcome", "not_violation")],
    );
    assert_eq!(r.status, 303);
    let mut ada = Client::login(&s.base, "ada", PW);
    let stats = ada.get("/console/stats");
    assert_eq!(stats.status, 200);
    assert!(
        stats.body.contains("id=\"backlog-open\">1<"),
        "{}",
        stats.body
    );
    assert!(stats.body.contains("id=\"reviews\">1<"));
    assert!(stats.body.contains("<td>amy</td><td>1</td>"));
    assert!(stats.body.contains("sexual.suggestive"));
    // The auditor reads the audit log in the console, in Chinese too.
    let audit = ada.get("/console/audit");
    assert!(audit.body.contains("review.decide"));
    let csrf = audit.csrf();
    assert_eq!(
        ada.post("/console/prefs", &[("csrf", &csrf), ("locale", "zh")])
            .status,
        303
    );
    assert!(ada.get("/console/audit").body.contains("审计日志"));
}

#[test]
fn false_positives_feed_allow_banks_and_violations_feed_block_banks() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let key = s.key().to_owned();
    for (name, action) in [("seen-ok", "allow"), ("known-bad", "block")] {
        let r = s.post_json(
            "/v1/banks",
            Some(&key),
            &json!({"name": name, "signal": "pdq", "category": "sexual.explicit", "action": action}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(photo());
    let a = submit(&s, json!({"text": "sexy lingerie a", "image": b64}));
    let mut amy = Client::login(&s.base, "amy", PW);
    let page = amy.get(&format!("/console/items/{a}"));
    assert!(page.body.contains("seen-ok (allow)"), "{}", page.body);
    // The wrong kind of bank is refused, with the reason in the flash.
    let r = amy.post(
        &format!("/console/items/{a}/decide"),
        &[
            ("csrf", &page.csrf()),
            ("outcome", "not_violation"),
            ("add_to_bank", "known-bad"),
        ],
    );
    assert!(
        r.location.as_deref().unwrap().contains("does+not+take"),
        "{:?}",
        r.location
    );
    let entries = |bank: &str| {
        s.get(&format!("/v1/banks/{bank}/entries"), Some(&key))
            .json()
    };
    assert_eq!(
        entries("known-bad")["entries"]
            .as_array()
            .map_or(0, Vec::len),
        0
    );
    // A second item with the same picture: the false positive goes to the
    // allow bank, but only on an admin's word (an allow entry silences every
    // later match of the picture).
    let b = submit(&s, json!({"text": "sexy lingerie b", "image": b64}));
    let r = amy.decide(
        &b,
        &[("outcome", "not_violation"), ("add_to_bank", "seen-ok")],
    );
    assert!(
        r.location.as_deref().unwrap().contains("only+an+admin"),
        "{:?}",
        r.location
    );
    assert_eq!(
        entries("seen-ok")["entries"].as_array().map_or(0, Vec::len),
        0
    );
    let mut root = Client::login(&s.base, "root", PW);
    let r = root.decide(
        &b,
        &[("outcome", "not_violation"), ("add_to_bank", "seen-ok")],
    );
    assert_eq!(r.status, 303);
    assert!(
        !r.location.as_deref().unwrap().contains("%3A"),
        "no warning: {:?}",
        r.location
    );
    let allowed = entries("seen-ok");
    assert_eq!(
        allowed["entries"].as_array().map_or(0, Vec::len),
        1,
        "{allowed}"
    );
    assert_eq!(allowed["entries"][0]["external_id"], b);
}

#[test]
fn accepted_suggestions_enter_the_lexicon_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let key = s.key().to_owned();
    let verdict = |text: &str| {
        s.post_json("/v1/moderate", Some(&key), &json!({ "text": text }))
            .json()["verdict"]
            .clone()
    };
    assert_eq!(verdict("call zorblax tonight"), "allow");
    let id = submit(
        &s,
        json!({"text": "sexy lingerie, ask for zorblax at zorblax-shop.com/menu"}),
    );
    let mut amy = Client::login(&s.base, "amy", PW);
    let page = amy.get(&format!("/console/items/{id}"));
    // Links the item carries are listed even when no list knows them.
    assert!(
        page.body.contains("<td class=\"url\">")
            && page.body.contains("zorblax-shop.com&#x2f;menu"),
        "{}",
        page.body
    );
    let r = amy.decide(
        &id,
        &[
            ("outcome", "violation"),
            ("category", "sexual.services"),
            ("suggest_term", "zorblax"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);

    let mut root = Client::login(&s.base, "root", PW);
    let list = root.get("/console/suggestions");
    assert!(list.body.contains("zorblax"), "{}", list.body);
    let sid = list
        .body
        .split("id=\"suggestion-")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    // Reviewers may suggest; only admins decide.
    let amys = amy.get("/console/queue").csrf();
    let r = amy.post(
        &format!("/console/suggestions/{sid}/decide"),
        &[("csrf", &amys), ("outcome", "block")],
    );
    assert_eq!(r.status, 403);
    let r = root.post(
        &format!("/console/suggestions/{sid}/decide"),
        &[("csrf", &list.csrf()), ("outcome", "block")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    // In force at once, without a restart, and recorded as settled.
    assert_eq!(verdict("call zorblax tonight"), "block");
    assert!(
        root.get("/console/suggestions")
            .body
            .contains("accepted (block) by root")
    );
    let r = root.post(
        &format!("/console/suggestions/{sid}/decide"),
        &[("csrf", &list.csrf()), ("outcome", "dismiss")],
    );
    assert_eq!(r.status, 404, "settled once");
    // The store's lexicon survives a restart, and the change is audited.
    let data = dir.path().join("data");
    s.stop();
    let cfg = dir.path().join("cleanweb.toml");
    let s = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let r = s.post_json(
        "/v1/moderate",
        Some(&key),
        &json!({"text": "call zorblax tonight"}),
    );
    assert_eq!(r.json()["verdict"], "block", "{}", r.body);
    s.stop();
    let events = common::audit_log(&data);
    assert!(events.iter().any(|e| e["action"] == "lexicon.accept"
        && e["subject"] == "zorblax"
        && e["actor"] == "user:root"));
    assert!(
        events.iter().any(|e| e["action"] == "engine.reload"
            && e["details"]["changed"] == json!(["lexicon:store"])),
        "{events:?}"
    );
}

/// The queue pages through every item (counts, rel links) and finds items
/// by text, platform id, hash and receipt.
#[test]
fn the_queue_pages_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    for batch in 0..3 {
        let items: Vec<serde_json::Value> = (0..80)
            .map(|i| json!({"id": format!("post-{batch}-{i}"), "text": format!("sexy lingerie number {batch}x{i}")}))
            .collect();
        let r = s.post_json(
            "/v1/moderate/batch",
            Some(s.key()),
            &json!({"items": items}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let mut amy = Client::login(&s.base, "amy", PW);
    let first = amy.get("/console/queue?sort=oldest");
    assert!(first.body.contains("1–100 of 240"), "{}", first.body);
    assert!(first.body.contains("rel=\"next\"") && !first.body.contains("rel=\"prev\""));
    let last = amy.get("/console/queue?sort=oldest&page=2");
    assert!(last.body.contains("201–240 of 240"), "{}", last.body);
    assert!(last.body.contains("rel=\"prev\"") && !last.body.contains("rel=\"next\""));
    // Pages do not overlap: the oldest item is on page 0 only.
    assert!(first.body.contains("number 0x0<") || first.body.contains("number 0x0 "));
    assert!(!last.body.contains("number 0x0<"));

    let found = amy.get("/console/queue?q=2x17");
    assert!(
        found.body.contains("1–1 of 1") && found.body.contains("number 2x17"),
        "{}",
        found.body
    );
    let r = s.post_json(
        "/v1/moderate",
        Some(s.key()),
        &json!({"text": "sexy lingerie from a user", "meta": {"user": "u-spammer-77"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let by_user = amy.get("/console/queue?q=u-spammer-77");
    assert!(
        by_user.body.contains("1–1 of 1") && by_user.body.contains("from a user"),
        "{}",
        by_user.body
    );
    let by_id = amy.get("/console/queue?q=post-1-5");
    assert!(
        by_id.body.contains("1–1 of 1") && by_id.body.contains("number 1x5"),
        "{}",
        by_id.body
    );
    assert!(
        amy.get("/console/queue?q=%25")
            .body
            .contains(&s_queue_nothing()),
        "LIKE wildcards are literal"
    );

    let r = s.post_json(
        "/v1/reports",
        None,
        &json!({"text": "an escort ad with a phone number", "category": "sexual.services"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let receipt = r.json()["receipt"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let page = amy.get(&format!("/console/queue?q={}", receipt.to_lowercase()));
        if page.body.contains("1–1 of 1") {
            assert!(page.body.contains("escort ad"), "{}", page.body);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", page.body);
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn s_queue_nothing() -> String {
    "The queue is empty.".to_owned()
}

/// The item page shows a page's HTML with its evidence, the item's own
/// fields and a copyable URL; minors defaults the category; escalating
/// needs a note; auditors read without deciding or seeing media.
#[test]
fn item_pages_show_everything_and_default_safely() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let page = submit(
        &s,
        json!({"html": "<html><body><p>hot porn videos here</p></body></html>",
               "url": "https://forum.example/t/1",
               "meta": {"user": "u-991", "board": "chat"}}),
    );
    let mut root = Client::login(&s.base, "root", PW);
    let item = root.get(&format!("/console/items/{page}"));
    assert!(item.body.contains("id=\"html\""), "{}", item.body);
    assert!(
        item.body.contains("<mark") && item.body.contains("&lt;p&gt;"),
        "{}",
        item.body
    );
    assert!(
        item.body.contains("u-991") && item.body.contains("board"),
        "{}",
        item.body
    );
    assert!(
        item.body
            .contains("value=\"https:&#x2f;&#x2f;forum.example&#x2f;t&#x2f;1\""),
        "{}",
        item.body
    );
    // Escalating without saying why is refused, with the reason.
    let csrf = item.csrf();
    let r = root.post(
        &format!("/console/items/{page}/decide"),
        &[("csrf", &csrf), ("outcome", "escalate")],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Say why you escalate"), "{}", r.body);

    // Reported as involving minors: the form defaults to that category.
    let r = s.post_json(
        "/v1/reports",
        None,
        &json!({"text": "selling videos of children", "category": "sexual.minors"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let minors = loop {
        let q = root.get("/console/queue?queue=escalated");
        if let Some(at) = q.body.find("/console/items/") {
            break q.body[at + 15..at + 51].to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not escalated: {}",
            q.body
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let form = root.get(&format!("/console/items/{minors}"));
    assert!(
        form.body
            .contains("<option value=\"sexual.minors\" selected>"),
        "{}",
        form.body
    );

    let mut ada = Client::login(&s.base, "ada", PW);
    let read = ada.get(&format!("/console/items/{page}"));
    assert_eq!(read.status, 200);
    assert!(
        !read.body.contains("id=\"decide\""),
        "auditors do not decide"
    );
    let pictured = submit(
        &s,
        json!({"text": "sexy lingerie pic", "image": base64_photo()}),
    );
    let read = ada.get(&format!("/console/items/{pictured}"));
    assert!(read.body.contains("id=\"media-hidden\"") && !read.body.contains("/console/media/"));
    assert_eq!(ada.get(&format!("/console/media/{pictured}")).status, 403);
}

fn base64_photo() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(photo())
}

/// The audit log reads newest first, pages both ways, filters, and links
/// a subject to its events; bad addresses get the console's error pages.
#[test]
fn the_audit_log_pages_newest_first_and_errors_are_pages() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    for i in 0..130 {
        let r = s.post_json(
            "/v1/sites",
            Some(s.key()),
            &json!({"site": format!("d{i}.example"), "status": "watch", "reason": "seen"}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let mut ada = Client::login(&s.base, "ada", PW);
    let seqs = |body: &str| -> Vec<u64> {
        body.split("<tr><td>")
            .skip(1)
            .filter_map(|r| r.split('<').next()?.parse().ok())
            .collect()
    };
    let first = ada.get("/console/audit");
    let page1 = seqs(&first.body);
    assert_eq!(page1.len(), 100, "{}", first.body);
    assert!(
        page1.windows(2).all(|w| w[0] > w[1]),
        "newest first: {page1:?}"
    );
    assert!(
        first.body.contains("d129.example"),
        "the newest event is on the first page"
    );
    assert!(!first.body.contains("id=\"newer\""));
    let older = format!("/console/audit?before={}", page1[99]);
    assert!(
        first.body.contains(&older.replace('&', "&amp;")),
        "{}",
        first.body
    );
    let second = ada.get(&older);
    let page2 = seqs(&second.body);
    assert!(!page2.is_empty() && page2[0] == page1[99] - 1, "{page2:?}");
    assert!(second.body.contains("id=\"newer\""));
    let back = ada.get(&format!("/console/audit?after={}", page2[0]));
    assert_eq!(seqs(&back.body), page1, "newer goes back to the first page");

    let one = ada.get("/console/audit?subject=d5.example");
    assert_eq!(seqs(&one.body).len(), 1, "{}", one.body);
    let sites = ada.get("/console/audit?action=site.&actor=key%3A");
    assert_eq!(seqs(&sites.body).len(), 100);

    for (path, status) in [
        ("/console/audit?before=abc", 400),
        ("/console/stats?days=abc", 400),
        ("/console/queue?page=-1", 400),
        ("/console/no-such-page", 404),
    ] {
        let r = ada.get(path);
        assert_eq!(r.status, status, "{path}");
        assert!(
            r.headers["content-type"].starts_with("text/html")
                && r.body.contains("<main id=\"main\">"),
            "{path}: {}",
            r.body
        );
    }
}

/// A spam wave is one queue row and one decision: each item still gets its
/// own review and audit event; what needs a person one by one is left out.
#[test]
fn bulk_decisions_take_grouped_rows_and_leave_the_sensitive_ones() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path(), "");
    let wave: Vec<String> = (0..5)
        .map(|_| submit(&s, json!({"text": "buy sexy lingerie now"})))
        .collect();
    let other = submit(&s, json!({"text": "sexy lingerie, other words"}));
    let mut amy = Client::login(&s.base, "amy", PW);
    let queue = amy.get("/console/queue");
    assert!(queue.body.contains("×5"), "{}", queue.body);
    let grouped = queue
        .body
        .split("name=\"ids\" value=\"")
        .skip(1)
        .map(|v| v.split('"').next().unwrap().to_owned())
        .find(|v| v.contains(','))
        .expect("a grouped row");
    assert_eq!(grouped.split(',').count(), 5);
    for id in &wave {
        assert!(grouped.contains(id.as_str()));
    }
    let csrf = queue.csrf();
    let refused = amy.post(
        "/console/bulk",
        &[("csrf", &csrf), ("ids", &grouped), ("outcome", "violation")],
    );
    assert_eq!(refused.status, 400, "a violation needs its category");
    let done = amy.post(
        "/console/bulk",
        &[
            ("csrf", &csrf),
            ("ids", &grouped),
            ("ids", &other),
            ("ids", "not-a-uuid"),
            ("outcome", "violation"),
            ("category", "sexual.suggestive"),
            ("note", "spam wave"),
        ],
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        done.location.as_deref().unwrap().contains("bulk=6%2C0"),
        "{:?}",
        done.location
    );
    let decided = common::audit_log(&dir.path().join("data"))
        .into_iter()
        .filter(|e| e["action"] == "review.decide")
        .count();
    assert_eq!(decided, 6, "one audit event per item");
    assert!(
        amy.get("/console/queue")
            .body
            .contains("The queue is empty.")
    );
    // Without the token nothing happens.
    let forged = amy.post(
        "/console/bulk",
        &[("ids", &other), ("outcome", "not_violation")],
    );
    assert_eq!(forged.status, 403);
}

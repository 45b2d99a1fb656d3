//! Blocklists through the real binary: import in every format, match,
//! export in every format, re-import, and a zone `named-checkzone` accepts.

mod common;

use std::path::Path;

use common::cleanweb;

fn run(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = cleanweb(dir, args, "");
    assert_eq!(code, 0, "cleanweb {args:?}: {err}");
    out
}

fn import_domains(data: &Path, list: &str, file: &Path) {
    let f = file.to_str().unwrap();
    run(
        data,
        &[
            "blocklist",
            "import",
            "--list",
            list,
            "--format",
            "domains",
            f,
        ],
    );
}

fn export_rpz(data: &Path, zone: &Path) {
    run(
        data,
        &[
            "blocklist",
            "export",
            "--format",
            "rpz",
            "--out",
            zone.to_str().unwrap(),
        ],
    );
}

fn verdict(dir: &Path, url: &str) -> serde_json::Value {
    let out = run(dir, &["url", "check", "--json", url]);
    serde_json::from_str(out.trim()).unwrap()
}

#[test]
fn every_format_imports_matches_and_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("ut1/adult")).unwrap();
    std::fs::write(
        src.join("domains.txt"),
        "# list\nporn-one.test\nexample.org/bad/\n",
    )
    .unwrap();
    std::fs::write(
        src.join("hosts.txt"),
        "127.0.0.1 localhost\n0.0.0.0 porn-two.test\n",
    )
    .unwrap();
    std::fs::write(
        src.join("adblock.txt"),
        "! x\n||porn-three.test^\n@@||safe.porn-three.test^\n",
    )
    .unwrap();
    std::fs::write(src.join("ut1/adult/domains"), "porn-four.test\n").unwrap();
    std::fs::write(src.join("ut1/adult/urls"), "host.test/adult/\n").unwrap();
    std::fs::write(src.join("list.csv"), "domain,note\nporn-five.test,x\n").unwrap();
    for (fmt, file) in [
        ("domains", "domains.txt"),
        ("hosts", "hosts.txt"),
        ("adblock", "adblock.txt"),
        ("ut1", "ut1/adult"),
        ("csv", "list.csv"),
    ] {
        let p = src.join(file);
        run(
            &data,
            &[
                "blocklist",
                "import",
                "--list",
                fmt,
                "--format",
                fmt,
                p.to_str().unwrap(),
            ],
        );
    }
    for (url, want) in [
        ("http://www.porn-one.test/", "block"),
        ("https://example.org/bad/page.html", "block"),
        ("https://example.org/good/", "allow"),
        ("porn-two.test", "block"),
        ("http://a.porn-three.test/", "block"),
        ("http://safe.porn-three.test/", "allow"),
        ("http://PORN-FOUR.test./x", "block"),
        ("http://host.test/adult/x.jpg", "block"),
        ("http://porn-five.test", "block"),
        ("http://unlisted.test", "allow"),
    ] {
        assert_eq!(verdict(&data, url)["verdict"], want, "{url}");
    }

    // Export in each format and import the export into a fresh store.
    let again = tmp.path().join("again");
    for (fmt, import_as) in [
        ("plain", "domains"),
        ("hosts", "hosts"),
        ("adblock", "adblock"),
    ] {
        let out = tmp.path().join(format!("export.{fmt}"));
        run(
            &data,
            &[
                "blocklist",
                "export",
                "--format",
                fmt,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        run(
            &again,
            &[
                "blocklist",
                "import",
                "--list",
                fmt,
                "--format",
                import_as,
                "--replace",
                out.to_str().unwrap(),
            ],
        );
    }
    let sg = tmp.path().join("squid");
    run(
        &data,
        &[
            "blocklist",
            "export",
            "--format",
            "squidguard",
            "--out",
            sg.to_str().unwrap(),
        ],
    );
    run(
        &again,
        &[
            "blocklist",
            "import",
            "--list",
            "sg",
            "--format",
            "ut1",
            sg.to_str().unwrap(),
        ],
    );
    for url in [
        "http://x.porn-one.test/",
        "http://porn-two.test/",
        "http://porn-four.test/",
        "http://porn-five.test/",
    ] {
        assert_eq!(
            verdict(&again, url)["verdict"],
            "block",
            "{url} after round trip"
        );
        let hits = verdict(&again, url)["hits"].as_array().unwrap().len();
        assert_eq!(hits, 4, "{url}: every export carried it");
    }
    assert_eq!(
        verdict(&again, "http://host.test/adult/a")["hits"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "urls via squidGuard"
    );

    let listed = run(&data, &["blocklist", "list"]);
    assert_eq!(listed.lines().count(), 5, "{listed}");
    run(&data, &["blocklist", "remove", "--list", "csv"]);
    assert_eq!(verdict(&data, "http://porn-five.test")["verdict"], "allow");
}

#[test]
fn rpz_export_is_a_zone_named_checkzone_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = tmp.path().join("d.txt");
    std::fs::write(
        &src,
        "porn.test\nxn--fsqu00a.xn--0zwm56d\nsub.domain.example\n",
    )
    .unwrap();
    import_domains(&data, "a", &src);
    let zone = tmp.path().join("rpz.zone");
    export_rpz(&data, &zone);
    let text = std::fs::read_to_string(&zone).unwrap();
    assert!(text.contains("*.porn.test CNAME ."), "{text}");
    let check = std::process::Command::new("named-checkzone")
        .args(["rpz.cleanweb.test", zone.to_str().unwrap()])
        .output()
        .expect("named-checkzone (scripts/deps installs bind9-utils)");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // The serial goes up with every change.
    let serial = |t: &str| -> u64 {
        let at = t.find("( ").unwrap() + 2;
        t[at..].split_whitespace().next().unwrap().parse().unwrap()
    };
    let before = serial(&text);
    import_domains(&data, "a", &src);
    export_rpz(&data, &zone);
    assert!(serial(&std::fs::read_to_string(&zone).unwrap()) > before);
}

#[test]
fn the_engine_labels_links_to_listed_sites() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = tmp.path().join("d.txt");
    std::fs::write(&src, "bad-videos.test\n").unwrap();
    import_domains(&data, "adult", &src);
    let out = run(
        &data,
        &[
            "check",
            "--json",
            "--no-store",
            "watch at bad-videos[.]test/clip today",
        ],
    );
    let d: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(d["verdict"], "block", "{d}");
    let label = &d["labels"][0];
    assert_eq!(label["category"], "link.blocked");
    assert_eq!(label["source"], "url.blocklist");
    let ev = label["evidence"].as_array().unwrap();
    let url = ev.iter().find(|e| e["kind"] == "url").unwrap();
    assert_eq!(url["url"], "http://bad-videos.test/clip");
    assert_eq!(url["entry"], "bad-videos.test");
    let span = ev.iter().find(|e| e["kind"] == "span").unwrap();
    assert_eq!(
        (span["start"].as_u64(), span["end"].as_u64()),
        (Some(9), Some(31))
    );
    assert_eq!(span["matched"], "bad-videos[.]test/clip");

    // An HTML page: its text is read with offsets into the source, and its
    // links are resolved against base_url.
    let page = r#"<html><body><p>看<b>色</b>情</p><a href="/v/1">clip</a></body></html>"#;
    let item = serde_json::json!({"id": "p", "html": page, "base_url": "https://bad-videos.test/"});
    let (_, out, err) = cleanweb(
        &data,
        &["check", "--jsonl", "--no-store"],
        &format!("{item}\n"),
    );
    let d: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(d["verdict"], "block", "{d}");
    assert!(d.get("warnings").is_none(), "{d}");
    let labels = d["labels"].as_array().unwrap();
    let text = labels
        .iter()
        .find(|l| l["source"] == "text.lexicon")
        .expect("text label");
    let span = &text["evidence"][0];
    let chars: Vec<char> = page.chars().collect();
    let (s0, e0) = (
        span["start"].as_u64().unwrap() as usize,
        span["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(span["field"], "html");
    assert_eq!(chars[s0..e0].iter().collect::<String>(), "色</b>情");
    assert_eq!(span["matched"], "色</b>情");
    let link = labels
        .iter()
        .find(|l| l["source"] == "url.blocklist")
        .expect("link label");
    let ev = link["evidence"].as_array().unwrap();
    assert!(
        ev.iter()
            .any(|e| e["kind"] == "url" && e["url"] == "https://bad-videos.test/v/1"),
        "{link}"
    );
    assert!(
        ev.iter()
            .any(|e| e["kind"] == "span" && e["matched"] == "/v/1"),
        "{link}"
    );
}

#[test]
fn lists_are_served_over_http_and_reloaded_into_the_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = tmp.path().join("d.txt");
    std::fs::write(&src, "one.test\n").unwrap();
    import_domains(&data, "adult", &src);
    let s = common::Server::start(&data, &[]);
    let key = s.key().to_owned();
    let r = s.get("/v1/blocklists/adult.hosts", Some(&key));
    assert_eq!((r.status, r.body.as_str()), (200, "0.0.0.0 one.test\n"));
    assert!(
        s.get("/v1/blocklists/adult.rpz", Some(&key))
            .body
            .contains("*.one.test CNAME .")
    );
    assert_eq!(s.get("/v1/blocklists/nope.rpz", Some(&key)).status, 404);
    assert_eq!(s.get("/v1/blocklists/adult.rpz", None).status, 401);
    let moderate = |text: &str| {
        s.post_json(
            "/v1/moderate",
            Some(&key),
            &serde_json::json!({ "text": text }),
        )
        .json()["verdict"]
            .clone()
    };
    assert_eq!(moderate("see two.test"), "allow");
    std::fs::write(&src, "two.test\n").unwrap();
    import_domains(&data, "adult", &src);
    assert_eq!(
        s.post_json("/v1/admin/reload", Some(&key), &serde_json::json!({}))
            .status,
        200
    );
    assert_eq!(moderate("see two.test"), "block");
    let url_item = s
        .post_json(
            "/v1/moderate",
            Some(&key),
            &serde_json::json!({ "url": "https://www.one.test/x" }),
        )
        .json();
    assert_eq!(url_item["verdict"], "block", "{url_item}");
    assert!(
        url_item.get("warnings").is_none(),
        "the url field is read: {url_item}"
    );
}

#[test]
fn the_site_registry_drives_the_closed_sites_list() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    run(
        &data,
        &[
            "sites",
            "add",
            "https://www.bad-site.co.uk/x",
            "--reason",
            "reported",
            "--evidence",
            "report:ABC",
        ],
    );
    run(
        &data,
        &[
            "sites",
            "status",
            "bad-site.co.uk",
            "warned",
            "--reason",
            "notice sent",
            "--actor",
            "alice",
        ],
    );
    let (code, _, err) = cleanweb(
        &data,
        &[
            "sites",
            "status",
            "bad-site.co.uk",
            "rectification",
            "--reason",
            "r",
        ],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("deadline"), "{err}");
    run(
        &data,
        &[
            "sites",
            "status",
            "bad-site.co.uk",
            "rectification",
            "--reason",
            "r",
            "--deadline",
            "2026-12-31",
        ],
    );
    assert_eq!(
        verdict(&data, "http://m.bad-site.co.uk/")["verdict"],
        "allow",
        "not closed yet"
    );
    run(
        &data,
        &[
            "sites",
            "status",
            "bad-site.co.uk",
            "closed",
            "--reason",
            "deadline passed",
            "--actor",
            "bob",
        ],
    );
    let v = verdict(&data, "http://m.bad-site.co.uk/");
    assert_eq!(v["verdict"], "block");
    assert_eq!(v["hits"][0]["list"], "sites-closed");
    let rpz = run(&data, &["blocklist", "export", "--format", "rpz"]);
    assert!(rpz.contains("*.bad-site.co.uk CNAME ."), "{rpz}");

    let (code, _, err) = cleanweb(
        &data,
        &[
            "sites",
            "status",
            "bad-site.co.uk",
            "watch",
            "--reason",
            "x",
        ],
        "",
    );
    assert_ne!(code, 0, "closed goes to restored, not back to watch");
    assert!(err.contains("from closed to watch"), "{err}");

    let history = run(&data, &["sites", "history", "bad-site.co.uk"]);
    let statuses: Vec<&str> = history
        .lines()
        .map(|l| l.split('\t').nth(2).unwrap())
        .collect();
    assert_eq!(statuses, ["watch", "warned", "rectification", "closed"]);
    assert!(
        history.contains("by bob") && history.contains("evidence report:ABC"),
        "{history}"
    );

    run(
        &data,
        &[
            "sites",
            "status",
            "bad-site.co.uk",
            "restored",
            "--reason",
            "cleaned up",
        ],
    );
    assert_eq!(
        verdict(&data, "http://m.bad-site.co.uk/")["verdict"],
        "allow"
    );
    let listed = run(&data, &["sites", "list", "--status", "restored"]);
    assert_eq!(listed.lines().count(), 1);
}

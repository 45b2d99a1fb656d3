//! Sweeps and checks over what platforms hold, through the real binary: a
//! tree of zip, nested zip, 7z, tar.gz, tar.xz, EPUB, DOCX, XLSX, ODT, PDF,
//! APK, IPA, subtitles, a playlist and legacy-charset text names
//! every flagged member and no benign one, deletes outermost files, resumes
//! without re-deciding members, and sweeps a playlist fetched by URL.

mod common;

use std::io::{Cursor, Read, Write};
use std::net::TcpListener;
use std::path::Path;

use common::{cleanweb, cleanweb_ok as run};
use zip::write::SimpleFileOptions;

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar_of(files)).unwrap();
    gz.finish().unwrap()
}

const PLAYLIST: &str = "#EXTM3U\n#EXTINF:-1 group-title=\"新闻\",CCTV-13 新闻\nhttp://tv.example/13.m3u8\n#EXTINF:-1 group-title=\"Movies\",Channel 7\nhttp://adult-streams.test/live/7\n#EXTINF:-1 group-title=\"成人频道\",午夜激情 无码AV\nhttp://cdn.example/x\n";

/// The tree: what blocks is named `bad`, what must pass `ok`.
fn tree(root: &Path) {
    std::fs::create_dir_all(root.join("uploads")).unwrap();
    let inner = zip_of(&[("bad.txt", "同城上门服务 包夜特价 加V: mm520xx".as_bytes())]);
    let docx_body = r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Hot porn videos and live sex cams, free tonight</w:t></w:r></w:p></w:body></w:document>"#;
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", docx_body.as_bytes()),
    ]);
    let write = |p: &str, b: &[u8]| std::fs::write(root.join(p), b).unwrap();
    write(
        "uploads/batch.zip",
        &zip_of(&[
            ("ok/recipe.txt", b"a bread recipe: flour, water, salt"),
            ("nested/inner.zip", &inner),
            ("docs/flyer.docx", &docx),
        ]),
    );
    write(
        "uploads/ok-notes.tar.gz",
        &tar_gz(&[
            ("a.txt", b"meeting notes for monday"),
            ("b.txt", b"the garden needs water"),
        ]),
    );
    write("box.m3u", PLAYLIST.as_bytes());
    let (gbk, _, _) =
        encoding_rs::GBK.encode("本店提供上门服务，包夜特价，全套服务，加微信详谈。欢迎来电。");
    write("bad-gbk.txt", &gbk);
    let (ok_gbk, _, _) =
        encoding_rs::GBK.encode("今天天气很好，我们一起去公园散步，然后回家做饭。");
    write("ok-gbk.txt", &ok_gbk);
    let whole = zip_of(&[("x.txt", b"words")]);
    write("damaged.zip", &whole[..whole.len() / 2]);
    more_formats(root);
}

fn page(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>{body}</p></body></html>"
    )
}

/// An EPUB, an ODT, an XLSX, a 7z, a PDF, subtitles and a tar.xz.
fn more_formats(root: &Path) {
    let write = |p: &str, b: &[u8]| std::fs::write(root.join(p), b).unwrap();
    let opf = r#"<package><metadata></metadata><manifest><item id="a" href="ok1.xhtml" media-type="application/xhtml+xml"/><item id="b" href="bad.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="a"/><itemref idref="b"/></spine></package>"#;
    let (ok1, bad) = (
        page("a chapter about the garden in spring"),
        page("hardcore sex tonight and hot porn videos"),
    );
    write(
        "novel.epub",
        &zip_of(&[
            ("mimetype", b"application/epub+zip"),
            (
                "META-INF/container.xml",
                br#"<container><rootfiles><rootfile full-path="OEBPS/content.opf"/></rootfiles></container>"#,
            ),
            ("OEBPS/content.opf", opf.as_bytes()),
            ("OEBPS/ok1.xhtml", ok1.as_bytes()),
            ("OEBPS/bad.xhtml", bad.as_bytes()),
        ]),
    );
    let content = br#"<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text><text:p>Dear neighbours, the meeting is on Monday.</text:p></office:text></office:body></office:document-content>"#;
    write(
        "ok-letter.odt",
        &zip_of(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", content),
        ]),
    );
    let cells = "<sst><si><t>同城上门服务 包夜特价 加V: mm520xx</t></si></sst>";
    write(
        "prices.xlsx",
        &zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/sharedStrings.xml", cells.as_bytes()),
        ]),
    );
    let mut w = sevenz_rust2::ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
    for (name, bytes) in [
        ("bad.txt", &b"hot porn videos number 3"[..]),
        ("ok.txt", b"a bread recipe"),
    ] {
        w.push_archive_entry(sevenz_rust2::ArchiveEntry::new_file(name), Some(bytes))
            .unwrap();
    }
    write("bundle.7z", &w.finish().unwrap().into_inner());
    write("leaflet.pdf", &pdf("Hot porn videos and live sex cams"));
    write(
        "ok-film.srt",
        b"1\n00:00:01,000 --> 00:00:02,000\nThe train leaves at noon.\n",
    );
    let mut xz = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).unwrap();
    xz.write_all(&tar_of(&[("ok-a.txt", b"server started")]))
        .unwrap();
    write("ok-logs.tar.xz", &xz.finish().unwrap());
    write(
        "app.apk",
        &zip_of(&[
            ("AndroidManifest.xml", b"\x03\x00\x08\x00binary"),
            ("classes.dex", b"dex\n035"),
            (
                "assets/www/index.html",
                b"<html><body>hot porn videos, live sex cams</body></html>",
            ),
        ]),
    );
    let info = br#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>CFBundleDisplayName</key><string>Night Chat</string></dict></plist>"#;
    write(
        "chat.ipa",
        &zip_of(&[
            ("Payload/Chat.app/Info.plist", info),
            (
                "Payload/Chat.app/en.lproj/Localizable.strings",
                b"\"promo\" = \"hardcore sex tonight, hot porn videos\";\n",
            ),
        ]),
    );
}

/// A tar of `files`, folded member by member into one builder.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let builder = files
        .iter()
        .fold(tar::Builder::new(Vec::new()), |mut b, (name, bytes)| {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o600);
            b.append_data(&mut header, name, *bytes).unwrap();
            b
        });
    builder.into_inner().unwrap()
}

/// A one-page PDF with `words` in Helvetica.
fn pdf(words: &str) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages = doc.new_object_id();
    let font = doc.add_object(
        dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica"},
    );
    let ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 24.into()]),
        Operation::new("Td", vec![72.into(), 700.into()]),
        Operation::new("Tj", vec![Object::string_literal(words)]),
        Operation::new("ET", vec![]),
    ];
    let content = doc.add_object(Stream::new(
        dictionary! {},
        Content { operations: ops }.encode().unwrap(),
    ));
    let page = doc.add_object(
        dictionary! {"Type" => "Page", "Parent" => pages, "Contents" => content,
        "Resources" => dictionary! {"Font" => dictionary! {"F1" => font}},
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()]},
    );
    doc.objects.insert(
        pages,
        Object::Dictionary(
            dictionary! {"Type" => "Pages", "Kids" => vec![Object::from(page)], "Count" => 1},
        ),
    );
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages});
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

fn lines(path: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

#[test]
fn a_sweep_of_containers_names_every_flagged_member_and_no_benign_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, root, out) = (
        tmp.path().join("data"),
        tmp.path().join("tree"),
        tmp.path().join("out"),
    );
    tree(&root);
    common::import_list(&data, "adult", "adult-streams.test\n");
    let o = out.to_str().unwrap();
    // Stop part-way, then resume: no member is decided twice.
    let (_, _, err) = cleanweb(
        &data,
        &[
            "scan",
            root.to_str().unwrap(),
            "--out",
            o,
            "--stop-after",
            "3",
        ],
        "",
    );
    let id = err
        .split("--resume ")
        .nth(1)
        .and_then(|s| s.split(['`', ')']).next())
        .unwrap_or_else(|| panic!("{err}"))
        .to_owned();
    let (code, _, err) = cleanweb(&data, &["scan", "--resume", &id, "--json"], "");
    assert_eq!(code, 0, "{err}");
    let last: serde_json::Value = serde_json::from_str(err.trim().lines().last().unwrap()).unwrap();
    let total = last["done"].as_u64().unwrap() + last["resumed"].as_u64().unwrap_or(0);
    // 3 zip members, 2 tar members, 3 channels, 2 texts, 1 damaged zip;
    // 2 chapters, 1 letter, 1 sheet, 2 in the 7z, 1 page, 1 subtitle file, 1 in the tar.xz;
    // an APK's page and an IPA's words.
    assert_eq!(total, 22, "{err}");

    assert_eq!(
        lines(&out.join("deletions.txt")),
        [
            "app.apk",
            "bad-gbk.txt",
            "box.m3u",
            "bundle.7z",
            "chat.ipa",
            "leaflet.pdf",
            "novel.epub",
            "prices.xlsx",
            "uploads/batch.zip"
        ]
    );
    let causes = lines(&out.join("deletions.csv"));
    let members: Vec<&str> = causes
        .iter()
        .filter_map(|l| l.split(',').nth(1))
        .filter(|m| !m.is_empty() && *m != "member")
        .collect();
    assert_eq!(
        members,
        [
            "app.apk!/assets/www/index.html",
            "box.m3u!/2 Channel 7",
            "box.m3u!/3 午夜激情 无码AV",
            "bundle.7z!/bad.txt",
            "chat.ipa!/Payload/Chat.app/Info.plist",
            "leaflet.pdf!/page 1",
            "novel.epub!/OEBPS/bad.xhtml",
            "prices.xlsx!/text",
            "uploads/batch.zip!/docs/flyer.docx!/text",
            "uploads/batch.zip!/nested/inner.zip!/bad.txt",
        ],
        "{causes:?}"
    );
    let findings = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    let findings: Vec<serde_json::Value> = findings
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for f in &findings {
        let key = f["key"].as_str().unwrap();
        assert!(
            !key.contains("ok") || f["verdict"] == "error",
            "a benign member was flagged: {f}"
        );
    }
    let broken = findings.iter().find(|f| f["key"] == "damaged.zip").unwrap();
    assert_eq!(broken["verdict"], "error");
    assert!(
        broken["decision"].as_str().unwrap().contains("zip"),
        "{broken}"
    );
    // The channel on the blocklist is flagged by its URL, and says so.
    let channel = findings
        .iter()
        .find(|f| f["key"] == "box.m3u!/2 Channel 7")
        .unwrap();
    assert!(
        channel.to_string().contains("adult-streams.test"),
        "{channel}"
    );
}

#[test]
fn check_reads_a_files_members() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, root) = (tmp.path().join("data"), tmp.path().join("tree"));
    tree(&root);
    let zip = root.join("uploads/batch.zip");
    let out = run(
        &data,
        &[
            "check",
            "--no-store",
            "--json",
            "--file",
            zip.to_str().unwrap(),
        ],
    );
    let decisions = common::json_lines(&out);
    let verdicts: Vec<(String, String)> = decisions
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_owned(),
                d["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let z = zip.display().to_string();
    assert_eq!(
        verdicts,
        [
            (format!("{z}!/ok/recipe.txt"), "allow".to_owned()),
            (
                format!("{z}!/nested/inner.zip!/bad.txt"),
                "block".to_owned()
            ),
            (format!("{z}!/docs/flyer.docx!/text"), "block".to_owned()),
        ]
    );
}

#[test]
fn a_playlist_url_is_fetched_and_swept_by_channel() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let body = PLAYLIST.as_bytes();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: audio/x-mpegurl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body);
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let (data, out) = (tmp.path().join("data"), tmp.path().join("out"));
    let url = format!("http://127.0.0.1:{port}/tv.m3u");
    // Loopback is refused unless allowed, as for crawls.
    let (code, _, err) = cleanweb(&data, &["scan", "--format", "m3u", &url], "");
    assert_ne!(code, 0);
    assert!(err.contains("cannot fetch"), "{err}");
    run(
        &data,
        &[
            "scan",
            "--format",
            "m3u",
            &url,
            "--allow-private",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let causes = std::fs::read_to_string(out.join("deletions.csv")).unwrap();
    assert!(causes.contains("!/3 午夜激情 无码AV"), "{causes}");
    assert!(!causes.contains("CCTV"), "{causes}");
}

#[test]
fn an_uploaded_archive_gets_one_decision_naming_its_members() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, root) = (tmp.path().join("data"), tmp.path().join("tree"));
    tree(&root);
    let bytes = std::fs::read(root.join("uploads/batch.zip")).unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, "[limits]\nmax_file_bytes = 200000\n").unwrap();
    let server = common::Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let key = server.key().to_owned();
    let boundary = "cleanweb-file-boundary";
    let form = |name: &str, bytes: &[u8]| {
        let mut form = Vec::new();
        form.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\nup-7\r\n")
                .as_bytes(),
        );
        form.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/zip\r\n\r\n").as_bytes());
        form.extend_from_slice(bytes);
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        form
    };
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = server.post_typed(
        "/v1/moderate/file",
        Some(&key),
        &ct,
        &form("../batch.zip", &bytes),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert_eq!(d["id"], "up-7");
    assert_eq!(d["verdict"], "block");
    assert_eq!(d["members"], 3);
    let flagged: Vec<&str> = d["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        flagged,
        [
            "batch.zip!/nested/inner.zip!/bad.txt",
            "batch.zip!/docs/flyer.docx!/text"
        ]
    );
    assert!(d["flagged"][0]["decision_id"].is_string(), "{d}");
    assert!(
        d["labels"].as_array().unwrap().iter().all(|l| l["member"]
            .as_str()
            .is_some_and(|m| m.starts_with("batch.zip!/"))),
        "{d}"
    );
    // The stored member decision is there to review.
    let id = d["flagged"][0]["decision_id"].as_str().unwrap();
    let stored = server.get(&format!("/v1/decisions/{id}"), Some(&key));
    assert_eq!(stored.status, 200, "{}", stored.body);

    // Over the upload limit: 413, and no part of it is kept.
    let big = vec![b'a'; 300_000];
    let r = server.post_typed("/v1/moderate/file", Some(&key), &ct, &form("big.txt", &big));
    assert_eq!(r.status, 413, "{}", r.body);
    let r = server.post_typed("/v1/moderate/file", None, &ct, &form("a.zip", &bytes));
    assert_eq!(r.status, 401);
    server.stop();
}

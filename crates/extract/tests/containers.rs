//! Archives, documents, packages and playlists built here, read back
//! through the public interface: every member under its path, and every
//! hostile shape an error member while the rest goes on.

use std::io::{Cursor, Write};
use std::ops::ControlFlow;

use cleanweb_core::Item;
use cleanweb_extract::{Limits, Member, read_bytes, read_file};
use zip::write::SimpleFileOptions;

fn read(name: &str, bytes: Vec<u8>, limits: &Limits) -> Vec<Member> {
    let mut out = Vec::new();
    read_bytes(name, bytes, limits, &mut |m| {
        out.push(m);
        ControlFlow::Continue(())
    });
    out
}

fn paths(members: &[Member]) -> Vec<&str> {
    members.iter().map(|m| m.path.as_str()).collect()
}

fn text(m: &Member) -> &str {
    let item = m
        .item
        .as_ref()
        .unwrap_or_else(|e| panic!("{}: {e}", m.path));
    item.text.as_deref().or(item.html.as_deref()).unwrap_or("")
}

fn error(m: &Member) -> &str {
    m.item.as_ref().err().map(String::as_str).unwrap_or("")
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn png(side: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(side, side, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg(side: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(side, side, |x, y| image::Rgb([x as u8, 40, y as u8]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *bytes).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn nested_archives_name_every_member() {
    let (gbk, _, _) = encoding_rs::GBK.encode("本店提供上门服务，价格面议，欢迎来电咨询详情。");
    let inner = zip_of(&[("b.txt", "里面的文字".as_bytes())]);
    let tgz = gzip(&tar_of(&[
        ("docs/c.txt", b"in a tarball"),
        ("page.html", b"<html><body>hi</body></html>"),
    ]));
    let outer = zip_of(&[
        ("a.txt", b"plain words"),
        ("dir/inner.zip", &inner),
        ("photo.png", &png(8)),
        ("notes.tar.gz", &tgz),
        ("gbk.txt", &gbk),
    ]);
    let m = read("up/outer.zip", outer, &Limits::default());
    assert_eq!(
        paths(&m),
        [
            "up/outer.zip!/a.txt",
            "up/outer.zip!/dir/inner.zip!/b.txt",
            "up/outer.zip!/photo.png",
            "up/outer.zip!/notes.tar.gz!/docs/c.txt",
            "up/outer.zip!/notes.tar.gz!/page.html",
            "up/outer.zip!/gbk.txt",
        ]
    );
    assert_eq!(text(&m[0]), "plain words");
    assert_eq!(text(&m[1]), "里面的文字");
    assert!(m[2].item.as_ref().unwrap().image.is_some());
    assert!(m[4].item.as_ref().unwrap().html.is_some());
    assert!(text(&m[5]).contains("上门服务"), "{}", text(&m[5]));
    // Every member's item carries its path as its id.
    assert_eq!(
        m[1].item.as_ref().unwrap().id.as_deref(),
        Some(m[1].path.as_str())
    );
    assert_eq!(Member::outer(&m[3].path), "up/outer.zip");
}

#[test]
fn every_compression_reads_and_a_plain_file_is_itself() {
    let tar = tar_of(&[("x.txt", b"xz words")]);
    let mut xz = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).unwrap();
    xz.write_all(&tar).unwrap();
    let xz = xz.finish().unwrap();
    let m = read("a.tar.xz", xz, &Limits::default());
    assert_eq!(paths(&m), ["a.tar.xz!/x.txt"]);
    assert_eq!(text(&m[0]), "xz words");

    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(b"bz words").unwrap();
    let m = read("notes.txt.bz2", bz.finish().unwrap(), &Limits::default());
    assert_eq!(paths(&m), ["notes.txt.bz2!/notes.txt"]);
    assert_eq!(text(&m[0]), "bz words");

    let m = read(
        "t.tar",
        tar_of(&[("y.txt", b"tar words")]),
        &Limits::default(),
    );
    assert_eq!(paths(&m), ["t.tar!/y.txt"]);

    let m = read("plain.txt", b"just text".to_vec(), &Limits::default());
    assert_eq!(paths(&m), ["plain.txt"]);
    assert_eq!(text(&m[0]), "just text");
}

#[test]
fn hostile_members_are_error_rows_and_the_rest_goes_on() {
    // Traversal, a symlink and a member past the size limit, among good ones.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = SimpleFileOptions::default();
    w.start_file("../evil.txt", o).unwrap();
    w.write_all(b"climb").unwrap();
    w.add_symlink("link", "/etc/passwd", o).unwrap();
    w.start_file("big.txt", o).unwrap();
    w.write_all(&[b'a'; 3000]).unwrap();
    w.start_file("ok.txt", o).unwrap();
    w.write_all(b"fine").unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let limits = Limits {
        max_member_bytes: 1000,
        ..Limits::default()
    };
    let m = read("h.zip", bytes, &limits);
    assert_eq!(
        paths(&m),
        [
            "h.zip!/../evil.txt",
            "h.zip!/link",
            "h.zip!/big.txt",
            "h.zip!/ok.txt"
        ]
    );
    assert!(error(&m[0]).contains("unsafe"), "{}", error(&m[0]));
    assert!(error(&m[1]).contains("link"), "{}", error(&m[1]));
    assert!(error(&m[2]).contains("limit"), "{}", error(&m[2]));
    assert_eq!(text(&m[3]), "fine");

    // Tar: a symlink and a traversal name.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "shadow", "/etc/shadow").unwrap();
    let mut h = tar::Header::new_old();
    h.set_size(5);
    h.set_cksum();
    // The builder refuses `..`, as a writer should; a hostile one does not.
    h.as_old_mut().name[..10].copy_from_slice(b"../up.txt\0");
    h.set_cksum();
    b.append(&h, &b"climb"[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(4);
    b.append_data(&mut h, "good.txt", &b"good"[..]).unwrap();
    let m = read("t.tar", b.into_inner().unwrap(), &Limits::default());
    assert_eq!(
        paths(&m),
        ["t.tar!/shadow", "t.tar!/../up.txt", "t.tar!/good.txt"],
        "{:?}",
        m.last()
    );
    assert!(error(&m[0]).contains("/etc/shadow"), "{}", error(&m[0]));
    assert!(error(&m[1]).contains("unsafe"));
    assert_eq!(text(&m[2]), "good");
}

#[test]
fn encrypted_and_broken_archives_are_named() {
    let mut bytes = zip_of(&[("secret.txt", b"hidden words"), ("open.txt", b"open words")]);
    // Set the "encrypted" flag of the first member in its local and central headers.
    for sig in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
        let at = bytes.windows(4).position(|w| w == sig).unwrap();
        let flags = at + if sig[2] == 3 { 6 } else { 8 };
        bytes[flags] |= 1;
    }
    let m = read("e.zip", bytes, &Limits::default());
    assert_eq!(paths(&m), ["e.zip!/secret.txt", "e.zip!/open.txt"]);
    assert!(error(&m[0]).contains("encrypted"), "{}", error(&m[0]));
    assert_eq!(text(&m[1]), "open words");

    let whole = zip_of(&[("a.txt", b"words")]);
    let m = read(
        "cut.zip",
        whole[..whole.len() / 2].to_vec(),
        &Limits::default(),
    );
    assert_eq!(paths(&m), ["cut.zip"]);
    assert!(error(&m[0]).contains("zip"), "{}", error(&m[0]));

    let tgz = gzip(&tar_of(&[("a.txt", &[b'x'; 5000]), ("b.txt", b"bb")]));
    let m = read(
        "cut.tgz",
        tgz[..tgz.len() - 30].to_vec(),
        &Limits::default(),
    );
    assert!(m.iter().any(|m| !error(m).is_empty()), "{:?}", paths(&m));

    for junk in [
        &b""[..],
        b"PK\x03\x04",
        b"\x1f\x8b\x08garbage",
        b"BZh9nope",
        b"%PDF-1.4 nonsense",
    ] {
        let m = read("junk", junk.to_vec(), &Limits::default());
        assert_eq!(m.len(), 1, "{junk:?}");
    }
}

#[test]
fn nesting_and_member_counts_are_bounded() {
    let mut bytes = b"the bottom".to_vec();
    for _ in 0..6 {
        bytes = zip_of(&[("in.zip", &bytes)]);
    }
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let m = read("deep.zip", bytes, &limits);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].path, "deep.zip!/in.zip!/in.zip!/in.zip");
    assert!(error(&m[0]).contains("deeper than 3"), "{}", error(&m[0]));

    let many: Vec<(String, Vec<u8>)> = (0..50)
        .map(|i| (format!("{i}.txt"), b"x".to_vec()))
        .collect();
    let files: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let m = read("many.zip", zip_of(&files), &limits);
    assert_eq!(m.len(), 11);
    assert!(error(&m[10]).contains("more than 10 members"));

    let limits = Limits {
        max_total_bytes: 25,
        ..Limits::default()
    };
    let m = read("many.zip", zip_of(&files), &limits);
    assert_eq!(m.len(), 26);
    assert!(error(&m[25]).contains("in all"), "{}", error(&m[25]));
}

#[test]
fn a_file_on_disk_reads_as_bytes_do() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.zip");
    std::fs::write(&p, zip_of(&[("a.txt", b"on disk")])).unwrap();
    let mut got = Vec::new();
    read_file(&p, "x.zip", &Limits::default(), &mut |m| {
        got.push(m);
        ControlFlow::Continue(())
    });
    assert_eq!(paths(&got), ["x.zip!/a.txt"]);
    let lazy: Vec<Member> =
        cleanweb_extract::members(p, "x.zip".into(), Limits::default()).collect();
    assert_eq!(paths(&lazy), ["x.zip!/a.txt"]);
    let missing: Vec<Member> =
        cleanweb_extract::members(dir.path().join("nope"), "nope".into(), Limits::default())
            .collect();
    assert!(error(&missing[0]).contains("cannot open"));
}

#[test]
fn epub_reads_its_spine_and_pictures() {
    let container = br#"<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;
    let opf = r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" xmlns:dc="http://purl.org/dc/elements/1.1/"><metadata><dc:title>夜色小说</dc:title><dc:creator>某人</dc:creator></metadata>
<manifest><item id="c2" href="text/ch2.xhtml" media-type="application/xhtml+xml"/><item id="c1" href="text/ch1.xhtml" media-type="application/xhtml+xml"/><item id="cover" href="img/cover.png" media-type="image/png"/><item id="css" href="s.css" media-type="text/css"/></manifest>
<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>"#;
    let page = |t: &str| {
        format!(
            "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>{t}</p></body></html>"
        )
    };
    let (p1, p2) = (page("第一章"), page("第二章"));
    let cover = png(64);
    let bytes = zip_of(&[
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", container),
        ("OEBPS/content.opf", opf.as_bytes()),
        ("OEBPS/text/ch2.xhtml", p2.as_bytes()),
        ("OEBPS/text/ch1.xhtml", p1.as_bytes()),
        ("OEBPS/img/cover.png", &cover),
        ("OEBPS/s.css", b"p{}"),
    ]);
    let m = read("book.epub", bytes, &Limits::default());
    assert_eq!(
        paths(&m),
        [
            "book.epub!/metadata",
            "book.epub!/OEBPS/text/ch1.xhtml",
            "book.epub!/OEBPS/text/ch2.xhtml",
            "book.epub!/OEBPS/img/cover.png",
        ]
    );
    assert!(text(&m[0]).contains("夜色小说"));
    assert!(
        m[1].item
            .as_ref()
            .unwrap()
            .html
            .as_deref()
            .unwrap()
            .contains("第一章")
    );
    assert!(m[3].item.as_ref().unwrap().image.is_some());
}

#[test]
fn office_documents_read_as_text_and_pictures() {
    let doc = r#"<?xml version="1.0"?><w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Call me</w:t></w:r><w:r><w:t xml:space="preserve"> tonight</w:t></w:r></w:p><w:p><w:r><w:t>第二段</w:t></w:r></w:p></w:body></w:document>"#.as_bytes();
    let core = r#"<cp:coreProperties xmlns:cp="c" xmlns:dc="d"><dc:title>标题</dc:title></cp:coreProperties>"#.as_bytes();
    let pic = png(64);
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("docProps/core.xml", core),
        ("word/document.xml", doc),
        ("word/media/image1.png", &pic),
        ("word/media/image2.emf", b"\x01\x00\x00\x00not a picture"),
    ]);
    let m = read("a.docx", docx, &Limits::default());
    assert_eq!(paths(&m), ["a.docx!/text", "a.docx!/word/media/image1.png"]);
    assert_eq!(text(&m[0]), "标题\n\nCall me tonight\n第二段");

    let slide = |t: &str| {
        format!("<p:sld xmlns:a=\"a\" xmlns:p=\"p\"><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:sld>")
    };
    let (s1, s2, s10) = (slide("one"), slide("two"), slide("ten"));
    let pptx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("ppt/slides/slide10.xml", s10.as_bytes()),
        ("ppt/slides/slide2.xml", s2.as_bytes()),
        ("ppt/slides/slide1.xml", s1.as_bytes()),
    ]);
    let m = read("deck.pptx", pptx, &Limits::default());
    assert_eq!(text(&m[0]), "one\n\ntwo\n\nten");

    let xlsx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        (
            "xl/workbook.xml",
            r#"<workbook><sheets><sheet name="价目表" sheetId="1"/></sheets></workbook>"#
                .as_bytes(),
        ),
        (
            "xl/sharedStrings.xml",
            r#"<sst><si><t>包夜</t></si><si><t>800</t></si></sst>"#.as_bytes(),
        ),
    ]);
    let m = read("p.xlsx", xlsx, &Limits::default());
    assert_eq!(text(&m[0]), "价目表\n\n包夜\n800");

    let content = br#"<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text><text:h>Heading</text:h><text:p>a<text:s/>b</text:p></office:text></office:body></office:document-content>"#;
    let odt = zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", content),
        ("Pictures/1.png", &pic),
    ]);
    let m = read("b.odt", odt, &Limits::default());
    assert_eq!(paths(&m), ["b.odt!/text", "b.odt!/Pictures/1.png"]);
    assert_eq!(text(&m[0]), "Heading\na b");
}

#[test]
fn pdf_pages_and_their_jpegs_are_members() {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(
        dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica"},
    );
    let photo = jpeg(32);
    let image = doc.add_object(Stream::new(
        dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => 32, "Height" => 32,
        "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode"},
        photo.clone(),
    ));
    // 64x64 RGB pixels, zlib-packed as PDF's FlateDecode writes them.
    let pixels: Vec<u8> = (0..64 * 64 * 3).map(|i| (i % 251) as u8).collect();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&pixels).unwrap();
    let raw = doc.add_object(Stream::new(
        dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => 64, "Height" => 64,
        "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "FlateDecode"},
        z.finish().unwrap(),
    ));
    let mut kids = Vec::new();
    for (i, words) in ["Free live cams tonight", "Second page words"]
        .iter()
        .enumerate()
    {
        let ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 24.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal(*words)]),
            Operation::new("ET", vec![]),
        ];
        let content = doc.add_object(Stream::new(
            dictionary! {},
            Content { operations: ops }.encode().unwrap(),
        ));
        let mut resources = dictionary! {"Font" => dictionary! {"F1" => font}};
        resources.set(
            "XObject",
            if i == 0 {
                dictionary! {"Im1" => image}
            } else {
                dictionary! {"Im1" => raw}
            },
        );
        let page = doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "Resources" => resources, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()]});
        kids.push(Object::from(page));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => kids, "Count" => 2}),
    );
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();

    let m = read("f.pdf", bytes.clone(), &Limits::default());
    assert_eq!(
        paths(&m),
        [
            "f.pdf!/page 1",
            "f.pdf!/page 1/picture 1.jpg",
            "f.pdf!/page 2",
            "f.pdf!/page 2/picture 1.png"
        ]
    );
    assert!(
        text(&m[0]).contains("Free live cams tonight"),
        "{}",
        text(&m[0])
    );
    assert_eq!(
        m[1].item.as_ref().unwrap().image.as_deref(),
        Some(photo.as_slice())
    );
    let png =
        image::load_from_memory(m[3].item.as_ref().unwrap().image.as_deref().unwrap()).unwrap();
    assert_eq!(png.to_rgb8().into_raw(), pixels);

    let limits = Limits {
        max_pdf_pages: 1,
        ..Limits::default()
    };
    let m = read("f.pdf", bytes, &limits);
    assert_eq!(m.len(), 3);
    assert_eq!(m.last().unwrap().path, "f.pdf!/page 2");
    assert!(error(m.last().unwrap()).contains("only the first 1"));
}

/// A minimal `resources.arsc`: the table header, then a UTF-8 string pool.
fn arsc(strings: &[&str]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for s in strings {
        offsets.push(data.len() as u32);
        data.push(s.encode_utf16().count() as u8);
        data.push(s.len() as u8);
        data.extend_from_slice(s.as_bytes());
        data.push(0);
    }
    let start = 28 + 4 * strings.len() as u32;
    let mut pool = Vec::new();
    for v in [1u16, 28] {
        pool.extend_from_slice(&v.to_le_bytes());
    }
    for v in [
        start + data.len() as u32,
        strings.len() as u32,
        0,
        0x100,
        start,
        0,
    ] {
        pool.extend_from_slice(&v.to_le_bytes());
    }
    for o in offsets {
        pool.extend_from_slice(&o.to_le_bytes());
    }
    pool.extend_from_slice(&data);
    let mut table = Vec::new();
    table.extend_from_slice(&2u16.to_le_bytes());
    table.extend_from_slice(&12u16.to_le_bytes());
    table.extend_from_slice(&(12 + pool.len() as u32).to_le_bytes());
    table.extend_from_slice(&1u32.to_le_bytes());
    table.extend_from_slice(&pool);
    table
}

#[test]
fn app_packages_show_their_words_pictures_and_pages() {
    let table = arsc(&["同城约会", "res/drawable/big.png", "Meet singles nearby"]);
    let (big, icon) = (png(64), png(16));
    let apk = zip_of(&[
        ("AndroidManifest.xml", b"\x03\x00\x08\x00binary"),
        ("classes.dex", b"dex\n035"),
        ("resources.arsc", &table),
        ("res/drawable/big.png", &big),
        ("res/drawable/icon.png", &icon),
        (
            "assets/www/index.html",
            b"<html><body>welcome</body></html>",
        ),
    ]);
    let m = read("app.apk", apk, &Limits::default());
    assert_eq!(
        paths(&m),
        [
            "app.apk!/resources.arsc",
            "app.apk!/res/drawable/big.png",
            "app.apk!/assets/www/index.html"
        ]
    );
    assert_eq!(text(&m[0]), "同城约会\nMeet singles nearby\n");

    let info = r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>CFBundleDisplayName</key><string>夜聊</string><key>CFBundleIdentifier</key><string>com.example.chat</string></dict></plist>"#.as_bytes();
    let ipa = zip_of(&[
        ("Payload/Chat.app/Info.plist", info),
        (
            "Payload/Chat.app/en.lproj/Localizable.strings",
            b"\"greet\" = \"Hot girls online\";\n",
        ),
        ("Payload/Chat.app/splash.png", &big),
    ]);
    let m = read("chat.ipa", ipa, &Limits::default());
    assert_eq!(
        paths(&m),
        [
            "chat.ipa!/Payload/Chat.app/Info.plist",
            "chat.ipa!/Payload/Chat.app/splash.png"
        ]
    );
    assert_eq!(text(&m[0]), "夜聊\ncom.example.chat\nHot girls online");
}

#[test]
fn playlists_and_subtitles() {
    let m3u = "#EXTM3U\n#EXTINF:-1 group-title=\"新闻\",CCTV-13\nhttp://tv.example/13.m3u8\n#EXTINF:-1 group-title=\"成人频道\",午夜激情\nhttp://adult.example/live\n";
    let m = read("tv/box.m3u", m3u.as_bytes().to_vec(), &Limits::default());
    assert_eq!(
        paths(&m),
        ["tv/box.m3u!/1 CCTV-13", "tv/box.m3u!/2 午夜激情"]
    );
    let item: &Item = m[1].item.as_ref().unwrap();
    assert_eq!(item.text.as_deref(), Some("午夜激情\n成人频道"));
    assert_eq!(item.url.as_deref(), Some("http://adult.example/live"));
    assert_eq!(item.meta.as_ref().unwrap()["group"], "成人频道");

    let srt = "1\n00:00:01,000 --> 00:00:02,000\nHello\n";
    let m = read("film.srt", srt.as_bytes().to_vec(), &Limits::default());
    assert_eq!(paths(&m), ["film.srt"]);
    assert_eq!(text(&m[0]), "Hello\n");
}

#[test]
fn seven_zip_archives_read_member_by_member() {
    let mut w = sevenz_rust2::ArchiveWriter::new(Cursor::new(Vec::new())).unwrap();
    for (name, bytes) in [
        ("a/one.txt", &b"first words"[..]),
        ("two.txt", b"second words"),
    ] {
        w.push_archive_entry(sevenz_rust2::ArchiveEntry::new_file(name), Some(bytes))
            .unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    let m = read("x.7z", bytes.clone(), &Limits::default());
    assert_eq!(paths(&m), ["x.7z!/a/one.txt", "x.7z!/two.txt"]);
    assert_eq!(text(&m[1]), "second words");
    let m = read(
        "cut.7z",
        bytes[..bytes.len() - 10].to_vec(),
        &Limits::default(),
    );
    assert!(m.iter().any(|m| error(m).contains("7z")), "{:?}", paths(&m));
}

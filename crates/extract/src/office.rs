//! Documents that are zips of XML: EPUB (its spine as HTML, its pictures),
//! Office Open XML (DOCX, XLSX, PPTX) and OpenDocument (ODT, ODS, ODP), whose
//! words become one text member and whose pictures are members of their own.

use std::io::{Read, Seek};
use std::ops::ControlFlow;

use cleanweb_core::Item;
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::archive::Zip;
use crate::{Flow, Walk};

/// The words of an XML part, with line breaks at paragraphs, rows and
/// breaks. Markup is dropped; entities are resolved; no DTD is read.
pub(crate) fn xml_text(xml: &str, out: &mut String) {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Text(t)) => out.push_str(&t.xml10_content()),
            Ok(Event::CData(t)) => out.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) => {
                let entity = format!("&{};", r.xml10_content());
                if let Ok(s) = quick_xml::escape::unescape(&entity) {
                    out.push_str(&s);
                }
            }
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                match e.local_name().as_ref() {
                    "tab" => out.push('\t'),
                    "s" => out.push(' '),
                    "br" | "line-break" | "cr" => out.push('\n'),
                    // Sheet names are attributes.
                    "sheet" => {
                        for a in e.attributes().flatten() {
                            if a.key.local_name().as_ref() == "name"
                                && let Ok(v) =
                                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            {
                                out.push_str(&v);
                                out.push('\n');
                            }
                        }
                    }
                    _ => {}
                }
            }
            Ok(Event::End(e)) => {
                if matches!(
                    e.local_name().as_ref(),
                    "p" | "h"
                        | "tr"
                        | "si"
                        | "title"
                        | "subject"
                        | "description"
                        | "keywords"
                        | "creator"
                        | "li"
                        | "div"
                ) {
                    out.push('\n');
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Resolves `href` against the directory of `base` inside a zip, with
/// `..` and `%20`-style escapes, as EPUB manifests write them.
fn resolve(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or(href);
    let href = percent_decode(href);
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for p in href.split('/') {
        match p {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.retain(|p| !p.is_empty());
    parts.join("/")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = b.get(i + 1..i + 3)
            && let Ok(h) = std::str::from_utf8(h)
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An attribute's value on the first element named `element`.
fn attribute_of(xml: &str, element: &str, attribute: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.local_name().as_ref() == element => {
                return e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == attribute)
                    .and_then(|a| {
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .ok()
                            .map(|v| v.into_owned())
                    });
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

/// An EPUB package: the metadata's words, the manifest (id → href, type)
/// and the spine's order.
#[derive(Debug, Default)]
struct Package {
    metadata: String,
    manifest: Vec<(String, String, String)>,
    spine: Vec<String>,
}

fn package(opf: &str) -> Package {
    let mut p = Package::default();
    let mut reader = Reader::from_str(opf);
    let mut in_metadata = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == name)
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        })
                        .unwrap_or_default()
                };
                match e.local_name().as_ref() {
                    "metadata" => in_metadata = true,
                    "item" => p
                        .manifest
                        .push((attr("id"), attr("href"), attr("media-type"))),
                    "itemref" => p.spine.push(attr("idref")),
                    _ => {}
                }
            }
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                "metadata" => in_metadata = false,
                "title" | "description" | "subject" | "creator" if in_metadata => {
                    p.metadata.push('\n')
                }
                _ => {}
            },
            Ok(Event::Text(t)) if in_metadata => p.metadata.push_str(t.xml10_content().trim()),
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    p
}

fn is_picture(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"]
        .iter()
        .any(|e| lower.ends_with(e))
}

impl Walk<'_> {
    /// A member read by name for a document: text, or `None` when it is
    /// missing or refused (a fatal error ends the document).
    fn part<R: Read + Seek>(
        &mut self,
        zip: &mut Zip<R>,
        name: &str,
    ) -> ControlFlow<(), Option<String>> {
        match zip.member(self, name) {
            None => ControlFlow::Continue(None),
            Some(Ok(b)) => ControlFlow::Continue(Some(String::from_utf8_lossy(&b).into_owned())),
            Some(Err((e, fatal))) => {
                self.error(zip.child(name), e)?;
                if fatal {
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(None)
            }
        }
    }

    /// The pictures among `names`, each a member; what does not decode as
    /// a picture (EMF, fonts) is skipped, as a document's own furniture.
    fn pictures<R: Read + Seek>(&mut self, zip: &mut Zip<R>, names: &[String], depth: u32) -> Flow {
        for name in names.iter().filter(|n| is_picture(n)) {
            let child = zip.child(name);
            match zip.member(self, name) {
                Some(Ok(bytes)) if image::guess_format(&bytes).is_ok() => {
                    self.bytes(child, bytes, depth + 1)?
                }
                Some(Err((e, fatal))) => {
                    self.error(child, e)?;
                    if fatal {
                        return ControlFlow::Break(());
                    }
                }
                _ => {}
            }
        }
        ControlFlow::Continue(())
    }

    /// The words of several XML parts as one text member named `child`.
    fn parts_as_text<R: Read + Seek>(
        &mut self,
        zip: &mut Zip<R>,
        parts: &[String],
        child: &str,
    ) -> Flow {
        let mut text = String::new();
        for name in parts {
            if let Some(xml) = self.part(zip, name)? {
                xml_text(&xml, &mut text);
                text.push('\n');
            }
            if text.len() > self.limits.max_member_bytes {
                break;
            }
        }
        let text = text.trim();
        if text.is_empty() {
            return ControlFlow::Continue(());
        }
        self.emit(zip.child(child), Ok(Item::text(text)))
    }

    pub(crate) fn epub<R: Read + Seek>(&mut self, zip: &mut Zip<R>, depth: u32) -> Flow {
        let names = zip.names();
        let opf_path = self
            .part(zip, "META-INF/container.xml")?
            .and_then(|c| attribute_of(&c, "rootfile", "full-path"));
        let package = match &opf_path {
            Some(p) => self.part(zip, p)?.map(|opf| package(&opf)),
            None => None,
        };
        let (documents, pictures): (Vec<String>, Vec<String>) = match (&opf_path, package) {
            (Some(opf_path), Some(p)) => {
                let metadata = p.metadata.trim();
                if !metadata.is_empty() {
                    self.emit(zip.child("metadata"), Ok(Item::text(metadata)))?;
                }
                let href = |id: &str| {
                    p.manifest
                        .iter()
                        .find(|(i, _, _)| i == id)
                        .map(|(_, h, _)| resolve(opf_path, h))
                };
                let spine = p.spine.iter().filter_map(|id| href(id)).collect();
                let pictures = p
                    .manifest
                    .iter()
                    .filter(|(_, _, t)| t.starts_with("image/"))
                    .map(|(_, h, _)| resolve(opf_path, h))
                    .collect();
                (spine, pictures)
            }
            // No readable package: every page and picture, in zip order.
            _ => (
                names
                    .iter()
                    .filter(|n| {
                        let l = n.to_ascii_lowercase();
                        l.ends_with(".xhtml") || l.ends_with(".html") || l.ends_with(".htm")
                    })
                    .cloned()
                    .collect(),
                names.iter().filter(|n| is_picture(n)).cloned().collect(),
            ),
        };
        for doc in &documents {
            if let Some(html) = self.part(zip, doc)? {
                let item = Item {
                    html: Some(html),
                    ..Item::default()
                };
                self.emit(zip.child(doc), Ok(item))?;
            }
        }
        self.pictures(zip, &pictures, depth)
    }

    pub(crate) fn ooxml<R: Read + Seek>(
        &mut self,
        zip: &mut Zip<R>,
        names: &[String],
        depth: u32,
    ) -> Flow {
        let numbered = |prefix: &str| {
            let mut v: Vec<&String> = names
                .iter()
                .filter(|n| n.starts_with(prefix) && n.ends_with(".xml"))
                .collect();
            // slide2 before slide10.
            v.sort_by_key(|n| {
                let digits: String = n[prefix.len()..]
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                (digits.parse::<u64>().unwrap_or(u64::MAX), (*n).clone())
            });
            v.into_iter().cloned().collect::<Vec<_>>()
        };
        let mut parts = vec!["docProps/core.xml".to_owned()];
        parts.extend(
            [
                "word/document.xml",
                "word/footnotes.xml",
                "word/endnotes.xml",
                "word/comments.xml",
                "xl/workbook.xml",
                "xl/sharedStrings.xml",
            ]
            .map(str::to_owned),
        );
        for prefix in [
            "word/header",
            "word/footer",
            "xl/worksheets/sheet",
            "ppt/slides/slide",
            "ppt/notesSlides/notesSlide",
        ] {
            parts.extend(numbered(prefix));
        }
        parts.retain(|p| names.contains(p));
        self.parts_as_text(zip, &parts, "text")?;
        let media: Vec<String> = names
            .iter()
            .filter(|n| n.contains("/media/"))
            .cloned()
            .collect();
        self.pictures(zip, &media, depth)
    }

    pub(crate) fn odf<R: Read + Seek>(
        &mut self,
        zip: &mut Zip<R>,
        names: &[String],
        depth: u32,
    ) -> Flow {
        let parts: Vec<String> = ["meta.xml", "content.xml", "styles.xml"]
            .iter()
            .map(|s| s.to_string())
            .filter(|p| names.contains(p))
            .collect();
        self.parts_as_text(zip, &parts, "text")?;
        let pictures: Vec<String> = names
            .iter()
            .filter(|n| n.starts_with("Pictures/"))
            .cloned()
            .collect();
        self.pictures(zip, &pictures, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_words_keep_paragraphs_and_entities() {
        let mut out = String::new();
        xml_text(
            "<w:document><w:body><w:p><w:r><w:t>A &amp; B</w:t></w:r><w:r><w:tab/><w:t>c</w:t></w:r></w:p><w:p><w:t><![CDATA[第二段]]></w:t></w:p></w:body></w:document>",
            &mut out,
        );
        assert_eq!(out, "A & B\tc\n第二段\n");
    }

    #[test]
    fn manifest_paths_resolve_against_the_package() {
        assert_eq!(
            resolve("OEBPS/content.opf", "text/ch%201.xhtml#x"),
            "OEBPS/text/ch 1.xhtml"
        );
        assert_eq!(resolve("OEBPS/content.opf", "../img/a.png"), "img/a.png");
        assert_eq!(resolve("content.opf", "a.html"), "a.html");
        assert_eq!(resolve("a/b.opf", "../../../x"), "x");
    }

    #[test]
    fn a_package_lists_its_spine() {
        let p = package(
            r#"<package><metadata><dc:title>书名</dc:title></metadata><manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/><item id="i" href="i.png" media-type="image/png"/></manifest><spine><itemref idref="c1"/></spine></package>"#,
        );
        assert_eq!(p.metadata.trim(), "书名");
        assert_eq!(p.spine, ["c1"]);
        assert_eq!(p.manifest.len(), 2);
    }
}

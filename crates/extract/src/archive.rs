//! Zip archives, tar archives, and single compressed streams (gz, bz2, xz).
//! A zip that is a document or an app package goes to its own reader.

use std::io::{Chain, Cursor, Read, Seek};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::budget::{Counting, RatioGuard, read_member};
use crate::{Flow, Format, SEP, Walk, first_bytes, unsafe_name};
use std::ops::ControlFlow;

/// Whether a 512-byte block is a tar header: the ustar magic, or (for v7
/// archives) a checksum that adds up.
pub(crate) fn is_tar(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    if &head[257..262] == b"ustar" {
        return true;
    }
    let field = &head[148..156];
    let digits: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .map(|&b| b as char)
        .collect();
    let Ok(stored) = u32::from_str_radix(digits.trim(), 8) else {
        return false;
    };
    let sum: u32 = head[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u32
            }
        })
        .sum();
    head[0] != 0 && sum == stored
}

/// What a zip holds, by its member names: a document or package read by
/// its structure, or an archive read member by member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ZipKind {
    Epub,
    Ooxml,
    Odf,
    Apk,
    Ipa,
    Plain,
}

fn zip_kind(names: &[String], mimetype: Option<&str>) -> ZipKind {
    let has = |n: &str| names.iter().any(|m| m == n);
    match mimetype {
        Some("application/epub+zip") => return ZipKind::Epub,
        Some(m) if m.starts_with("application/vnd.oasis.opendocument") => return ZipKind::Odf,
        _ => {}
    }
    if has("[Content_Types].xml")
        && names
            .iter()
            .any(|n| n.starts_with("word/") || n.starts_with("xl/") || n.starts_with("ppt/"))
    {
        return ZipKind::Ooxml;
    }
    if has("AndroidManifest.xml") && (has("classes.dex") || has("resources.arsc")) {
        return ZipKind::Apk;
    }
    if names
        .iter()
        .any(|n| n.starts_with("Payload/") && n.ends_with(".app/Info.plist"))
    {
        return ZipKind::Ipa;
    }
    ZipKind::Plain
}

/// An open zip, for readers of documents and packages that pick members by name.
pub(crate) struct Zip<R: Read + Seek> {
    pub archive: zip::ZipArchive<R>,
    pub path: String,
}

impl<R: Read + Seek> Zip<R> {
    /// One member by name, bounded; `None` when it is not there.
    pub fn member(
        &mut self,
        walk: &mut Walk<'_>,
        name: &str,
    ) -> Option<Result<Vec<u8>, (String, bool)>> {
        let index = self.archive.index_for_name(name)?;
        Some(self.member_at(walk, index))
    }

    pub fn member_at(
        &mut self,
        walk: &mut Walk<'_>,
        index: usize,
    ) -> Result<Vec<u8>, (String, bool)> {
        let mut file = self.archive.by_index(index).map_err(|e| {
            let e = e.to_string();
            if e.to_ascii_lowercase().contains("password") {
                ("an encrypted member: not read".to_owned(), false)
            } else {
                (format!("cannot read: {e}"), false)
            }
        })?;
        let (size, packed) = (file.size(), file.compressed_size());
        read_member(
            &mut file,
            Some(size),
            Some(packed),
            walk.limits,
            &mut walk.budget,
        )
    }

    /// The member names, in the archive's order.
    pub fn names(&self) -> Vec<String> {
        (0..self.archive.len())
            .filter_map(|i| self.archive.name_for_index(i)?.ok().map(|n| n.into_owned()))
            .collect()
    }

    pub fn child(&self, name: &str) -> String {
        format!("{}{SEP}{name}", self.path)
    }
}

impl Walk<'_> {
    pub(crate) fn zip<R: Read + Seek>(&mut self, path: String, reader: R, depth: u32) -> Flow {
        let archive = match zip::ZipArchive::new(reader) {
            Ok(a) => a,
            Err(e) => return self.error(path, format!("not a readable zip archive: {e}")),
        };
        let mut zip = Zip { archive, path };
        let names = zip.names();
        let mimetype = match zip.member(self, "mimetype") {
            Some(Ok(b)) if b.len() < 200 => Some(String::from_utf8_lossy(&b).trim().to_owned()),
            _ => None,
        };
        match zip_kind(&names, mimetype.as_deref()) {
            ZipKind::Epub => self.epub(&mut zip, depth),
            ZipKind::Ooxml => self.ooxml(&mut zip, &names, depth),
            ZipKind::Odf => self.odf(&mut zip, &names, depth),
            ZipKind::Apk => self.apk(&mut zip, &names, depth),
            ZipKind::Ipa => self.ipa(&mut zip, &names, depth),
            ZipKind::Plain => self.zip_members(&mut zip, depth),
        }
    }

    /// Every member of a plain zip, in order, each read as what it is.
    fn zip_members<R: Read + Seek>(&mut self, zip: &mut Zip<R>, depth: u32) -> Flow {
        for index in 0..zip.archive.len() {
            let meta = zip.archive.by_index_raw(index).map(|f| {
                (
                    f.name().map(|n| n.into_owned()).unwrap_or_default(),
                    f.is_dir(),
                    f.is_symlink(),
                )
            });
            let (name, dir, link) = match meta {
                Ok(m) => m,
                Err(e) => {
                    self.error(zip.child(&format!("#{index}")), format!("cannot read: {e}"))?;
                    continue;
                }
            };
            if dir {
                continue;
            }
            let child = zip.child(&name);
            if unsafe_name(&name) {
                self.error(
                    child,
                    "an unsafe member name (it climbs out of the archive): not read",
                )?;
                continue;
            }
            if link {
                self.error(child, "a symbolic link: not followed")?;
                continue;
            }
            let read = zip.member_at(self, index);
            if let Some(bytes) = self.member_bytes(&child, read)? {
                self.bytes(child, bytes, depth + 1)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// A compressed stream or a tar: decompressed as it is read, with the
    /// ratio watched over the whole stream.
    pub(crate) fn stream(
        &mut self,
        path: String,
        format: Format,
        reader: Box<dyn Read + '_>,
        depth: u32,
    ) -> Flow {
        if format == Format::Tar {
            return self.tar(path, reader, depth);
        }
        let compressed = Arc::new(AtomicU64::new(0));
        let counted = Counting {
            inner: reader,
            count: compressed.clone(),
        };
        let inflated: Box<dyn Read + '_> = match format {
            Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
            Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(counted)),
            // A hostile header may ask for a gigabyte-sized dictionary.
            _ => Box::new(lzma_rust2::XzReader::new_mem_limit(
                counted,
                true,
                128 << 10,
            )),
        };
        let mut guarded = RatioGuard {
            inner: inflated,
            compressed,
            out: 0,
            ratio: self.limits.max_ratio,
            slack: self.limits.ratio_slack,
        };
        let head = match first_bytes(&mut guarded) {
            Ok(h) => h,
            Err(e) => return self.error(path, format!("cannot decompress: {e}")),
        };
        let tar = is_tar(&head);
        let rest = Cursor::new(head).chain(guarded);
        if tar {
            return self.tar(path, Box::new(rest), depth);
        }
        let inner = inner_name(&path);
        let child = format!("{path}{SEP}{inner}");
        let mut rest: Chain<Cursor<Vec<u8>>, _> = rest;
        match read_member(&mut rest, None, None, self.limits, &mut self.budget) {
            Ok(bytes) => self.bytes(child, bytes, depth + 1),
            Err((e, _)) => self.error(child, e),
        }
    }

    fn tar(&mut self, path: String, reader: Box<dyn Read + '_>, depth: u32) -> Flow {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return self.error(path, format!("not a readable tar archive: {e}")),
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // The stream is lost past a bad header or a failed read.
                    self.error(path, format!("cannot read the archive: {e}"))?;
                    return ControlFlow::Break(());
                }
            };
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let child = format!("{path}{SEP}{name}");
            let kind = entry.header().entry_type();
            if kind.is_dir() || kind.is_pax_global_extensions() {
                continue;
            }
            if unsafe_name(&name) {
                self.error(
                    child,
                    "an unsafe member name (it climbs out of the archive): not read",
                )?;
                continue;
            }
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                self.error(child, format!("a link to {target:?}: not followed"))?;
                continue;
            }
            if !(kind.is_file() || kind.is_contiguous()) {
                self.error(child, "not a regular file: not read")?;
                continue;
            }
            let size = entry.size();
            let read = read_member(&mut entry, Some(size), None, self.limits, &mut self.budget);
            if let Some(bytes) = self.member_bytes(&child, read)? {
                self.bytes(child, bytes, depth + 1)?;
            }
        }
        ControlFlow::Continue(())
    }
}

impl Walk<'_> {
    /// A 7z archive, member by member. Solid blocks are decompressed in
    /// order, so skipping a member still inflates it: the file's byte
    /// total and time bound that, and the dictionary is capped.
    pub(crate) fn sevenz<R: Read + Seek>(&mut self, path: String, reader: R, depth: u32) -> Flow {
        let opened = sevenz_rust2::ArchiveReader::new_with_memory_limit(
            reader,
            sevenz_rust2::Password::empty(),
            128 << 10,
        );
        let mut archive = match opened {
            Ok(a) => a,
            Err(e) => {
                let e = e.to_string();
                let why = if e.to_ascii_lowercase().contains("password") {
                    "an encrypted 7z archive: not read".to_owned()
                } else {
                    format!("not a readable 7z archive: {e}")
                };
                return self.error(path, why);
            }
        };
        // The sweep already runs on every core.
        archive.set_thread_count(1);
        let mut flow = Flow::Continue(());
        let result = archive.for_each_entries(|entry, member| {
            if entry.is_directory || !entry.has_stream {
                return Ok(true);
            }
            let child = format!("{path}{SEP}{}", entry.name);
            let step = if unsafe_name(&entry.name) {
                self.error(
                    child,
                    "an unsafe member name (it climbs out of the archive): not read",
                )
            } else {
                match read_member(
                    member,
                    Some(entry.size),
                    None,
                    self.limits,
                    &mut self.budget,
                ) {
                    Ok(bytes) => self.bytes(child, bytes, depth + 1),
                    Err((e, fatal)) => {
                        let f = self.error(child, e);
                        if fatal { Flow::Break(()) } else { f }
                    }
                }
            };
            if step.is_break() {
                flow = Flow::Break(());
                return Ok(false);
            }
            Ok(true)
        });
        match result {
            Err(e) if flow.is_continue() => {
                self.error(path, format!("cannot read the 7z archive: {e}"))
            }
            _ => flow,
        }
    }
}

/// The name a compressed stream's content goes by: `notes.txt.gz` holds `notes.txt`.
fn inner_name(path: &str) -> String {
    let last = path.rsplit(SEP).next().unwrap_or(path);
    let file = last.rsplit('/').next().unwrap_or(last);
    for ext in [".gz", ".bz2", ".xz", ".tgz", ".tbz2", ".txz"] {
        if file.len() > ext.len()
            && let Some(stem) = file.get(..file.len() - ext.len())
            && file[file.len() - ext.len()..].eq_ignore_ascii_case(ext)
        {
            return stem.to_owned();
        }
    }
    format!("{file}.out")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compressed_stream_is_named_for_its_content() {
        assert_eq!(inner_name("a/notes.txt.gz"), "notes.txt");
        assert_eq!(inner_name("x.zip!/b.XZ"), "b");
        assert_eq!(inner_name("blob"), "blob.out");
    }

    #[test]
    fn tar_headers_are_told_from_text() {
        let mut h = [0u8; 512];
        h[..4].copy_from_slice(b"file");
        h[257..262].copy_from_slice(b"ustar");
        assert!(is_tar(&h));
        assert!(!is_tar(&[b'a'; 512]));
        assert!(!is_tar(b"short"));
    }
}

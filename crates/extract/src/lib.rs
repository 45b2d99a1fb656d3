//! Containers and documents as the items inside them.
//!
//! Platforms hold archives, e-books, office files, PDFs, app packages,
//! subtitles and IPTV playlists, not loose text. This crate opens each and
//! hands every member on as an [`Item`] with a path such as
//! `outer.zip!/dir/inner.zip!/file.txt`, so a sweep moderates members as it
//! moderates files, and a finding says where inside the file it is.
//!
//! Everything is hostile input. Members are streamed from the container,
//! never written to disk; every read goes through one [`Budget`] per
//! outermost file, which bounds the bytes inflated, the compression ratio,
//! the members, the nesting depth and the time ([`Limits`]). A member that
//! breaks a member-level bound becomes an error member and the rest go on; a
//! container-level bound (total bytes, ratio of a stream, time, members)
//! ends the container with one error member.
//!
//! ```
//! use std::ops::ControlFlow;
//! let mut seen = Vec::new();
//! cleanweb_extract::read_bytes("hello.txt", b"hello".to_vec(), &Default::default(), &mut |m| {
//!     seen.push(m.path);
//!     ControlFlow::Continue(())
//! });
//! assert_eq!(seen, ["hello.txt"]);
//! ```
//!
//! It does not moderate, fetch or write anything: detection stays in the
//! engine, and a playlist's stream URLs are items for the URL checks.
#![deny(missing_docs)]

mod app;
mod archive;
mod budget;
mod office;
mod pdf;
mod playlist;
mod text;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use cleanweb_core::Item;

pub use budget::Budget;
pub use text::{decode_text, subtitle_text};

/// The separator between a container's path and a member's path inside it.
pub const SEP: &str = "!/";

/// One member of a file: where it is, and its item or why it could not be read.
#[derive(Debug)]
pub struct Member {
    /// `outer.zip!/dir/inner.zip!/file.txt`; a file that is not a container
    /// is its own only member, under its own name.
    pub path: String,
    /// The member as an item (its `id` is the path), or why it was refused.
    pub item: Result<Item, String>,
}

impl Member {
    /// The outermost file: what a platform can delete.
    pub fn outer(path: &str) -> &str {
        path.split(SEP).next().unwrap_or(path)
    }
}

/// Bounds on what one outermost file may cost.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// The largest member held in memory, uncompressed, in bytes.
    pub max_member_bytes: usize,
    /// All bytes inflated from one outermost file, skipped members included.
    pub max_total_bytes: u64,
    /// Inflated bytes per compressed byte, past [`Limits::ratio_slack`].
    pub max_ratio: u64,
    /// Bytes any stream may inflate before the ratio is checked, so small
    /// repetitive files pass.
    pub ratio_slack: u64,
    /// Members of one outermost file, at every depth.
    pub max_entries: u64,
    /// Containers inside containers: 1 reads the members of a zip, but not
    /// those of a zip inside it.
    pub max_depth: u32,
    /// PDF pages read; later pages are reported as not read.
    pub max_pdf_pages: usize,
    /// Objects a PDF may hold.
    pub max_pdf_objects: usize,
    /// Wall time for one outermost file.
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_member_bytes: 16 << 20,
            max_total_bytes: 1 << 30,
            max_ratio: 200,
            ratio_slack: 4 << 20,
            max_entries: 20_000,
            max_depth: 4,
            max_pdf_pages: 500,
            max_pdf_objects: 200_000,
            time: Duration::from_secs(120),
        }
    }
}

impl Limits {
    /// The bounds a deployment's `[limits]` set: members as large as its
    /// largest image or video, and the `max_archive_*` keys.
    pub fn from_config(l: &cleanweb_core::config::Limits) -> Limits {
        Limits {
            max_member_bytes: l.max_image_bytes.max(l.max_video_bytes),
            max_total_bytes: l.max_archive_bytes,
            max_ratio: l.max_compression_ratio,
            max_entries: l.max_archive_members,
            max_depth: l.max_archive_depth,
            max_pdf_pages: l.max_pdf_pages,
            time: Duration::from_secs(l.max_archive_seconds),
            ..Limits::default()
        }
    }
}

/// What a file is, told by its first bytes (and, for formats without a
/// signature, its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Zip,
    SevenZ,
    Gzip,
    Bzip2,
    Xz,
    Tar,
    Pdf,
    Playlist,
    Subtitles,
    Leaf,
}

fn extension(name: &str) -> String {
    let last = name.rsplit(SEP).next().unwrap_or(name);
    let file = last.rsplit('/').next().unwrap_or(last);
    match file.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => String::new(),
    }
}

fn sniff(name: &str, head: &[u8]) -> Format {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return Format::Zip;
    }
    if starts(&[0x1f, 0x8b]) {
        return Format::Gzip;
    }
    if starts(b"7z\xbc\xaf\x27\x1c") {
        return Format::SevenZ;
    }
    if starts(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        return Format::Bzip2;
    }
    if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Format::Xz;
    }
    if archive::is_tar(head) {
        return Format::Tar;
    }
    if starts(b"%PDF-") {
        return Format::Pdf;
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let ext = extension(name);
    if text.starts_with(b"#EXTM3U") || matches!(ext.as_str(), "m3u" | "m3u8") {
        return Format::Playlist;
    }
    if matches!(ext.as_str(), "srt" | "vtt" | "ass" | "ssa")
        || text.starts_with(b"WEBVTT")
        || text.starts_with(b"[Script Info]")
    {
        return Format::Subtitles;
    }
    Format::Leaf
}

/// Reads a file on disk as its members, calling `visit` with each in order;
/// `visit` returns `Break` to stop early. `name` is what paths start with
/// (the sweep's key for the file). Never fails: what cannot be read is an
/// error member.
pub fn read_file(
    path: &Path,
    name: &str,
    limits: &Limits,
    visit: &mut dyn FnMut(Member) -> ControlFlow<()>,
) {
    let mut walk = Walk::new(limits, visit);
    walk.file(path, name);
}

/// Reads bytes already in memory as their members; see [`read_file`].
pub fn read_bytes(
    name: &str,
    bytes: Vec<u8>,
    limits: &Limits,
    visit: &mut dyn FnMut(Member) -> ControlFlow<()>,
) {
    let mut walk = Walk::new(limits, visit);
    let _ = walk.bytes(name.to_owned(), bytes, 0);
}

/// The members of a file on disk, lazily: for a container, a reader
/// thread runs [`read_file`] a few members ahead, so memory holds only
/// those, and dropping the iterator stops it at its next member. A file
/// that holds no members is read here, with no thread.
pub fn members(
    path: PathBuf,
    name: String,
    limits: Limits,
) -> Box<dyn Iterator<Item = Member> + Send> {
    let opened = match Opened::open(&path) {
        Ok(o) => o,
        Err(e) => {
            return Box::new(std::iter::once(Member {
                path: name,
                item: Err(e),
            }));
        }
    };
    if !is_container(&name, &opened.head) {
        let mut one = Vec::with_capacity(1);
        Walk::new(&limits, &mut |m| {
            one.push(m);
            ControlFlow::Continue(())
        })
        .opened(opened, &name);
        return Box::new(one.into_iter());
    }
    let (tx, rx) = mpsc::sync_channel::<Member>(4);
    let spawned = std::thread::Builder::new()
        .name("extract".into())
        .spawn(move || {
            let mut send = |m| match tx.send(m) {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            };
            Walk::new(&limits, &mut send).opened(opened, &name);
        });
    let failed = spawned.err().map(|e| Member {
        path: String::new(),
        item: Err(format!("cannot start a reader thread: {e}")),
    });
    Box::new(failed.into_iter().chain(rx))
}

/// Whether a name ends like a container's (for estimates that open nothing;
/// [`is_container`] reads the bytes).
pub fn named_like_container(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        ".zip", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".epub", ".docx",
        ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".pdf", ".apk", ".ipa", ".m3u", ".m3u8",
    ]
    .iter()
    .any(|e| lower.ends_with(e))
}

/// Whether a file of this name and first bytes holds members (a container or a document).
pub fn is_container(name: &str, head: &[u8]) -> bool {
    !matches!(sniff(name, head), Format::Leaf | Format::Subtitles)
}

type Flow = ControlFlow<()>;

/// One outermost file's traversal: the limits, what is spent, and where members go.
struct Walk<'a> {
    limits: &'a Limits,
    budget: Budget,
    visit: &'a mut dyn FnMut(Member) -> ControlFlow<()>,
}

impl<'a> Walk<'a> {
    fn new(limits: &'a Limits, visit: &'a mut dyn FnMut(Member) -> ControlFlow<()>) -> Self {
        Walk {
            limits,
            budget: Budget::new(limits),
            visit,
        }
    }

    /// Hands a member on, or ends the file when it holds too many.
    fn emit(&mut self, path: String, item: Result<Item, String>) -> Flow {
        if let Err(e) = self.budget.count_entry() {
            (self.visit)(Member { path, item: Err(e) })?;
            return ControlFlow::Break(());
        }
        let item = item.map(|mut i| {
            i.id = Some(path.clone());
            i
        });
        (self.visit)(Member { path, item })
    }

    fn error(&mut self, path: String, message: impl Into<String>) -> Flow {
        self.emit(path, Err(message.into()))
    }

    fn file(&mut self, path: &Path, name: &str) {
        match Opened::open(path) {
            Ok(opened) => self.opened(opened, name),
            Err(e) => {
                let _ = self.error(name.to_owned(), e);
            }
        }
    }

    /// A file already opened and sniffed, read as what it is.
    fn opened(&mut self, opened: Opened, name: &str) {
        let Opened { file, head } = opened;
        let format = sniff(name, &head);
        let _ = match format {
            // Seekable formats read from the file itself, not a copy.
            Format::Zip => self.zip(name.to_owned(), file, 0),
            Format::SevenZ => self.sevenz(name.to_owned(), file, 0),
            Format::Gzip | Format::Bzip2 | Format::Xz | Format::Tar => {
                self.stream(name.to_owned(), format, Box::new(file), 0)
            }
            _ => match read_bounded(file, self.limits.max_member_bytes) {
                Ok(bytes) => self.dispatch(name.to_owned(), format, bytes, 0),
                Err(e) => self.error(name.to_owned(), e),
            },
        };
    }

    /// A member's bytes, or why they could not be read: the error becomes
    /// an error member, and a fatal one ends the file.
    fn member_bytes(
        &mut self,
        child: &str,
        read: Result<Vec<u8>, (String, bool)>,
    ) -> ControlFlow<(), Option<Vec<u8>>> {
        match read {
            Ok(bytes) => ControlFlow::Continue(Some(bytes)),
            Err((e, fatal)) => {
                self.error(child.to_owned(), e)?;
                if fatal {
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(None)
            }
        }
    }

    /// Bytes of a member (or of a whole file), read as whatever they are.
    fn bytes(&mut self, path: String, bytes: Vec<u8>, depth: u32) -> Flow {
        let format = sniff(&path, &bytes[..bytes.len().min(512)]);
        self.dispatch(path, format, bytes, depth)
    }

    fn dispatch(&mut self, path: String, format: Format, bytes: Vec<u8>, depth: u32) -> Flow {
        if let Err(e) = self.budget.check_time() {
            self.error(path, e)?;
            return ControlFlow::Break(());
        }
        let container = !matches!(format, Format::Leaf | Format::Subtitles);
        if container && depth >= self.limits.max_depth && depth > 0 {
            return self.error(
                path,
                format!(
                    "a container nested deeper than {} levels: not opened",
                    self.limits.max_depth
                ),
            );
        }
        match format {
            Format::Zip => self.zip(path, std::io::Cursor::new(bytes), depth),
            Format::SevenZ => self.sevenz(path, std::io::Cursor::new(bytes), depth),
            Format::Gzip | Format::Bzip2 | Format::Xz | Format::Tar => {
                self.stream(path, format, Box::new(std::io::Cursor::new(bytes)), depth)
            }
            Format::Pdf => self.pdf(path, bytes),
            Format::Playlist => self.playlist(path, &bytes),
            Format::Subtitles => {
                let item = text::subtitle_item(&path, &bytes);
                self.emit(path, item)
            }
            Format::Leaf => {
                let item = leaf(bytes);
                self.emit(path, item)
            }
        }
    }
}

/// A file opened once, with its first bytes (what it is told by) read.
struct Opened {
    file: File,
    head: Vec<u8>,
}

impl Opened {
    fn open(path: &Path) -> Result<Opened, String> {
        let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let head = first_bytes(&mut file).map_err(|e| format!("cannot read: {e}"))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| format!("cannot read: {e}"))?;
        Ok(Opened { file, head })
    }
}

/// Up to 512 bytes from the start of `r`: enough for every signature sniffed.
fn first_bytes(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    r.take(512).read_to_end(&mut head)?;
    Ok(head)
}

/// All of `r`, or an error once it passes `max` bytes (nothing past
/// `max + 1` is read).
pub fn read_bounded(r: impl Read, max: usize) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    r.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() > max {
        return Err(format!("larger than {max} bytes"));
    }
    Ok(bytes)
}

/// A file that holds no members: a video or a picture by its magic bytes,
/// HTML by its markup, otherwise text in whatever charset it is written in.
pub fn leaf(bytes: Vec<u8>) -> Result<Item, String> {
    if cleanweb_video::is_video(&bytes) {
        return Ok(Item {
            video: Some(bytes),
            ..Item::default()
        });
    }
    if image::guess_format(&bytes).is_ok() {
        return Ok(Item {
            image: Some(bytes),
            ..Item::default()
        });
    }
    let text = decode_text(&bytes).ok_or("binary data: not text, a picture or a video")?;
    Ok(text_or_html(text))
}

/// Text as HTML when it starts like a page, otherwise as plain text.
fn text_or_html(text: String) -> Item {
    let head: String = text
        .chars()
        .take(1024)
        .collect::<String>()
        .to_ascii_lowercase();
    let html = ["<!doctype html", "<html", "<head", "<body"]
        .iter()
        .any(|m| head.contains(m));
    if html {
        Item {
            html: Some(text),
            ..Item::default()
        }
    } else {
        Item::text(text)
    }
}

/// Whether a member's name could climb out of its container (`../`, an
/// absolute path, a drive letter) or hides a NUL; such members are refused.
fn unsafe_name(name: &str) -> bool {
    name.starts_with('/')
        || name.starts_with('\\')
        || name.contains('\0')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split(['/', '\\']).any(|c| c == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_told() {
        for bad in [
            "../etc/passwd",
            "a/../../b",
            "/etc/shadow",
            "C:\\x",
            "a\\..\\b",
            "a\0b",
        ] {
            assert!(unsafe_name(bad), "{bad:?}");
        }
        for good in ["a/b.txt", "..hidden", "a/..b/c", "x"] {
            assert!(!unsafe_name(good), "{good:?}");
        }
    }

    #[test]
    fn outer_names_the_file_to_delete() {
        assert_eq!(Member::outer("a/b.zip!/c.zip!/d.txt"), "a/b.zip");
        assert_eq!(Member::outer("plain.txt"), "plain.txt");
    }

    #[test]
    fn formats_are_told_by_content_then_name() {
        assert_eq!(sniff("x", b"PK\x03\x04rest"), Format::Zip);
        assert_eq!(sniff("x.bin", b"%PDF-1.7"), Format::Pdf);
        assert_eq!(sniff("x", b"\xef\xbb\xbf#EXTM3U\n"), Format::Playlist);
        assert_eq!(sniff("tv.m3u8", b"http://a/b"), Format::Playlist);
        assert_eq!(sniff("film.SRT", b"1\n00:00"), Format::Subtitles);
        assert_eq!(sniff("notes.txt", b"hello"), Format::Leaf);
        assert_eq!(sniff("x", b"BZh9"), Format::Bzip2);
        assert_eq!(sniff("x", b"BZhx"), Format::Leaf);
    }
}

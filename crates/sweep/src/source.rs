//! Sweep sources: a directory tree, one file, a JSONL or CSV export, or a
//! URL list, read lazily as numbered entries in a deterministic order, so a
//! resumed sweep numbers every item as the first run did. Archives,
//! documents, packages and playlists in a tree (or as the one file) are
//! read as their members (`cleanweb-extract`), each an entry keyed
//! `outer.zip!/dir/file.txt`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use cleanweb_core::Item;
use serde::{Deserialize, Serialize};

/// What a sweep source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A directory tree: every regular file is an item, depth first, names
    /// sorted; a container's members are items in its place.
    Dir,
    /// One file: itself, or its members when it is a container.
    File,
    /// A JSONL export: one item as JSON a line.
    Jsonl,
    /// A CSV export with a header; columns map to item fields.
    Csv,
    /// A URL list: one URL a line; blank lines and `#` comments skipped.
    Urls,
}

impl Kind {
    /// The lowercase name, as stored and as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dir => "dir",
            Kind::File => "file",
            Kind::Jsonl => "jsonl",
            Kind::Csv => "csv",
            Kind::Urls => "urls",
        }
    }

    /// A directory is a tree; an export is told by its extension; any
    /// other file holding members (an archive, a document, a package, a
    /// playlist) is read as one file.
    pub fn detect(path: &Path) -> Option<Kind> {
        if path.is_dir() {
            return Some(Kind::Dir);
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("jsonl" | "ndjson") => Some(Kind::Jsonl),
            Some("csv") => Some(Kind::Csv),
            _ => {
                let mut head = [0u8; 512];
                let n = File::open(path).and_then(|mut f| f.read(&mut head)).ok()?;
                let name = path.file_name()?.to_string_lossy();
                cleanweb_extract::is_container(&name, &head[..n]).then_some(Kind::File)
            }
        }
    }
}

/// How a source is read; stored with the sweep so a resume reads the same.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// What the source is.
    pub kind: Kind,
    /// CSV: item field → column name (`text`, `html`, `url`, `base_url`,
    /// `id`, `image_path`). Columns named like a field map by default.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Largest file (directory sweeps) or line (JSONL) read, in bytes.
    pub max_bytes: usize,
    /// Cut into jobs for `cleanweb worker` processes instead of run here.
    #[serde(default)]
    pub distributed: bool,
    /// Bounds on archives, documents and playlists; their members are at
    /// most `max_bytes` whatever this says. Stored, so a resume reads alike.
    #[serde(default)]
    pub archive: Option<cleanweb_extract::Limits>,
}

/// One numbered entry: its key (path, id or URL) and the item, or why it
/// could not be read.
#[derive(Debug)]
pub struct Entry {
    /// Position in the source, from 0; the same on every run, so a resume skips what is recorded.
    pub seq: u64,
    /// Path relative to the root, item id or URL: what reports and deletion lists name.
    pub key: String,
    /// The item, or why this entry could not be read.
    pub item: Result<Item, String>,
}

/// Why a source could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The source's path.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The source is malformed (for CSV: a bad header or a missing column).
    #[error("{0}")]
    Invalid(String),
}

/// The entries of a source, lazily.
pub fn entries(
    root: &Path,
    options: &Options,
) -> Result<Box<dyn Iterator<Item = Entry> + Send>, SourceError> {
    let io = |source| SourceError::Io {
        path: root.display().to_string(),
        source,
    };
    let max = options.max_bytes;
    let limits = cleanweb_extract::Limits {
        max_member_bytes: max,
        ..options.archive.clone().unwrap_or_default()
    };
    Ok(match options.kind {
        Kind::Dir => Box::new(numbered(walk(root).flat_map(move |(path, key)| {
            cleanweb_extract::members(path, key, limits.clone())
        }))),
        Kind::File => {
            if !root.is_file() {
                return Err(io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "not a file",
                )));
            }
            let name = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| root.display().to_string());
            Box::new(numbered(cleanweb_extract::members(
                root.to_owned(),
                name,
                limits,
            )))
        }
        Kind::Jsonl => {
            let base = root.parent().unwrap_or(Path::new(".")).to_owned();
            let reader = BufReader::with_capacity(1 << 16, File::open(root).map_err(io)?);
            Box::new(lines(reader, max).enumerate().map(move |(seq, line)| {
                let seq = seq as u64;
                match line {
                    Ok(bytes) => jsonl_entry(seq, &bytes, &base, max),
                    Err(e) => Entry {
                        seq,
                        key: format!("line {}", seq + 1),
                        item: Err(e),
                    },
                }
            }))
        }
        Kind::Csv => csv_entries(root, options)?,
        Kind::Urls => {
            let reader = BufReader::new(File::open(root).map_err(io)?);
            Box::new(
                lines(reader, max)
                    .filter(|l| {
                        l.as_ref()
                            .map(|b| !b.iter().all(u8::is_ascii_whitespace) && !b.starts_with(b"#"))
                            .unwrap_or(true)
                    })
                    .enumerate()
                    .map(|(seq, line)| {
                        let seq = seq as u64;
                        match line.map(|b| String::from_utf8_lossy(&b).trim().to_owned()) {
                            Ok(url) => Entry {
                                seq,
                                key: url.clone(),
                                item: Ok(Item {
                                    id: Some(url.clone()),
                                    url: Some(url),
                                    ..Item::default()
                                }),
                            },
                            Err(e) => Entry {
                                seq,
                                key: format!("line {}", seq + 1),
                                item: Err(e),
                            },
                        }
                    }),
            )
        }
    })
}

/// Members as numbered entries.
fn numbered(
    members: impl Iterator<Item = cleanweb_extract::Member> + Send,
) -> impl Iterator<Item = Entry> + Send {
    members.enumerate().map(|(seq, m)| Entry {
        seq: seq as u64,
        key: m.path,
        item: m.item,
    })
}

/// Counts a source's entries without reading their content (for
/// progress); `None` when that would mean opening containers. A tree is
/// judged by file names only, so counting opens nothing; a container with
/// an unusual name makes the total (and the ETA) an underestimate.
pub fn count(root: &Path, options: &Options) -> Option<u64> {
    match options.kind {
        Kind::Dir => {
            let mut n = 0u64;
            for (_, key) in walk(root) {
                if cleanweb_extract::named_like_container(&key) {
                    return None;
                }
                n += 1;
            }
            Some(n)
        }
        Kind::File => None,
        _ => entries(root, options).ok().map(|e| e.count() as u64),
    }
}

/// Every regular file under `root` as (path, path relative to root),
/// depth first, names sorted; symlinks are not followed (so a link cycle or
/// a link out of the tree is never read).
fn walk(root: &Path) -> impl Iterator<Item = (PathBuf, String)> + Send + use<> {
    let root = root.to_owned();
    let mut stack: Vec<PathBuf> = vec![root.clone()];
    std::iter::from_fn(move || {
        while let Some(p) = stack.pop() {
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                let mut children: Vec<PathBuf> = match std::fs::read_dir(&p) {
                    Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                    Err(_) => continue,
                };
                // Reverse-sorted onto the stack, so they pop in order.
                children.sort();
                stack.extend(children.into_iter().rev());
            } else if meta.is_file() {
                let key = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
                return Some((p, key));
            }
        }
        None
    })
}

fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    cleanweb_extract::read_bounded(file, max)
}

/// A file's item by its content, not its name: a video or an image by its
/// magic bytes, HTML by its markup, other text in whatever charset it is in.
pub fn item_from_bytes(key: &str, bytes: Vec<u8>) -> Result<Item, String> {
    let mut item = cleanweb_extract::leaf(bytes)?;
    item.id = Some(key.to_owned());
    Ok(item)
}

/// Lines of at most `max` bytes; a longer one is an error entry, skipped
/// to its end without being held in memory. Trailing newlines are removed.
fn lines(
    mut reader: impl BufRead + Send,
    max: usize,
) -> impl Iterator<Item = Result<Vec<u8>, String>> + Send {
    std::iter::from_fn(move || {
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let buf = match reader.fill_buf() {
                Ok(b) => b,
                Err(e) => return Some(Err(format!("read error: {e}"))),
            };
            if buf.is_empty() {
                return if line.is_empty() && !too_long {
                    None
                } else if too_long {
                    Some(Err(format!("line longer than {max} bytes")))
                } else {
                    Some(Ok(line))
                };
            }
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            if !too_long {
                if line.len() + chunk.len() > max {
                    too_long = true;
                    line.clear();
                } else {
                    line.extend_from_slice(chunk);
                }
            }
            let used = done.unwrap_or(buf.len());
            reader.consume(used);
            if done.is_some() {
                if too_long {
                    return Some(Err(format!("line longer than {max} bytes")));
                }
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Some(Ok(line));
            }
        }
    })
}

fn jsonl_entry(seq: u64, bytes: &[u8], base: &Path, max: usize) -> Entry {
    let fallback = format!("line {}", seq + 1);
    let media = MediaLimits {
        image: max,
        video: max,
    };
    match item_from_json(bytes, base, media) {
        Ok(item) => Entry {
            seq,
            key: item.id.clone().unwrap_or(fallback),
            item: Ok(item),
        },
        Err((id, e)) => Entry {
            seq,
            key: id.unwrap_or(fallback),
            item: Err(e),
        },
    }
}

/// The largest media files an item may name, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct MediaLimits {
    /// For `image_path`.
    pub image: usize,
    /// For `video_path`.
    pub video: usize,
}

fn path_field(
    object: &mut serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<String>, String> {
    match object.remove(name) {
        None => Ok(None),
        Some(serde_json::Value::String(p)) => Ok(Some(p)),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

/// One JSON item, as `check --jsonl` takes it: the API's fields plus
/// `image_path` and `video_path` (relative to `base`). The error carries the id if there was
/// one.
pub fn item_from_json(
    bytes: &[u8],
    base: &Path,
    max: MediaLimits,
) -> Result<Item, (Option<String>, String)> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| (None, format!("invalid JSON: {e}")))?;
    let id = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
    let Some(object) = value.as_object_mut() else {
        return Err((
            id,
            "each line must be a JSON object such as {\"id\":\"1\",\"text\":\"...\"}".into(),
        ));
    };
    let image_path = path_field(object, "image_path").map_err(|e| (id.clone(), e))?;
    let video_path = path_field(object, "video_path").map_err(|e| (id.clone(), e))?;
    let mut item: Item =
        serde_json::from_value(value).map_err(|e| (id.clone(), format!("invalid item: {e}")))?;
    for (path, field, slot, max) in [
        (image_path, "image", &mut item.image, max.image),
        (video_path, "video", &mut item.video, max.video),
    ] {
        let Some(path) = path else { continue };
        if slot.is_some() {
            return Err((id, format!("give {field} or {field}_path, not both")));
        }
        let path = base.join(path);
        *slot = Some(
            read_bounded(&path, max)
                .map_err(|e| (id.clone(), format!("{}: {e}", path.display())))?,
        );
    }
    Ok(item)
}

fn csv_entries(
    root: &Path,
    options: &Options,
) -> Result<Box<dyn Iterator<Item = Entry> + Send>, SourceError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(root)
        .map_err(|e| SourceError::Invalid(format!("{}: {e}", root.display())))?;
    let headers = reader
        .headers()
        .map_err(|e| SourceError::Invalid(format!("{}: {e}", root.display())))?
        .clone();
    const FIELDS: [&str; 6] = ["id", "text", "html", "url", "base_url", "image_path"];
    let mut index: BTreeMap<&'static str, usize> = BTreeMap::new();
    for field in FIELDS {
        let column = options.columns.get(field).map_or(field, String::as_str);
        if let Some(i) = headers.iter().position(|h| h == column) {
            index.insert(field, i);
        } else if options.columns.contains_key(field) {
            return Err(SourceError::Invalid(format!(
                "{}: no column {column:?} (for {field}); the columns are {:?}",
                root.display(),
                headers.iter().collect::<Vec<_>>()
            )));
        }
    }
    if !["text", "html", "url", "image_path"]
        .iter()
        .any(|f| index.contains_key(f))
    {
        return Err(SourceError::Invalid(format!(
            "{}: no column to moderate; name one text, html, url or image_path, or map one with --column text=COLUMN",
            root.display()
        )));
    }
    let base = root.parent().unwrap_or(Path::new(".")).to_owned();
    let max = options.max_bytes;
    Ok(Box::new(reader.into_records().enumerate().map(
        move |(seq, record)| {
            let seq = seq as u64;
            let fallback = format!("row {}", seq + 1);
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    return Entry {
                        seq,
                        key: fallback,
                        item: Err(format!("bad CSV row: {e}")),
                    };
                }
            };
            let get = |f: &str| {
                index
                    .get(f)
                    .and_then(|&i| record.get(i))
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            let mut item = Item {
                id: get("id"),
                text: get("text"),
                html: get("html"),
                url: get("url"),
                base_url: get("base_url"),
                ..Item::default()
            };
            let key = item.id.clone().unwrap_or(fallback);
            if let Some(p) = get("image_path") {
                match read_bounded(&base.join(&p), max) {
                    Ok(bytes) => item.image = Some(bytes),
                    Err(e) => {
                        return Entry {
                            seq,
                            key,
                            item: Err(format!("{p}: {e}")),
                        };
                    }
                }
            }
            Entry {
                seq,
                key,
                item: Ok(item),
            }
        },
    )))
}

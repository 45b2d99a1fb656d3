//! Evidence bundles: a zip holding the evidence files, `manifest.json`
//! (what is in the bundle and why, with the SHA-256 of every file),
//! `manifest.sig` (the evidence key's Ed25519 signature of the manifest's
//! exact bytes, hex) and `evidence-key.pub` (the public key, hex, also in
//! the manifest). [`verify`] checks all of it and names the first file
//! that does not match.

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};

use sha2::{Digest, Sha256};

use crate::key::{EvidenceKey, PublicKey};

/// The manifest's name in a bundle.
pub const MANIFEST: &str = "manifest.json";
/// The signature's name.
pub const SIGNATURE: &str = "manifest.sig";
/// The public key's name.
pub const PUBLIC_KEY: &str = "evidence-key.pub";
/// The manifest's `format`.
pub const FORMAT: &str = "cleanweb-evidence/1";

/// Why a bundle cannot be written or does not verify.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Writing or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The zip is unreadable.
    #[error("not a readable zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// A file name is empty, absolute, has `..`, or is taken.
    #[error("bad or repeated file name in the bundle: {0:?}")]
    Name(String),
    /// A required part is missing.
    #[error("the bundle has no {0}")]
    Missing(String),
    /// The manifest is not what this format says.
    #[error("manifest.json is malformed: {0}")]
    Manifest(String),
    /// The signature does not verify with the bundled key.
    #[error("manifest.sig is not a valid signature of manifest.json by the bundled key")]
    Signature,
    /// A file's digest or size differs from the manifest's.
    #[error("{0} does not match its SHA-256 in the manifest")]
    Digest(String),
    /// A file is in the zip but not in the manifest.
    #[error("{0} is in the bundle but not in the manifest")]
    Unlisted(String),
    /// Past a bound (entries, sizes).
    #[error("{0}")]
    TooLarge(String),
}

/// One file of a bundle, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileEntry {
    /// Its path inside the zip.
    pub path: String,
    /// Lowercase hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

/// Writes a bundle: files first, then the signed manifest.
pub struct BundleWriter<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
    files: Vec<FileEntry>,
}

fn options(deflate: bool) -> zip::write::SimpleFileOptions {
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(false)
}

fn reserved(path: &str) -> bool {
    matches!(path, MANIFEST | SIGNATURE | PUBLIC_KEY)
}

fn bad_name(path: &str) -> bool {
    path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
}

impl<W: Write + Seek> BundleWriter<W> {
    /// A bundle written to `out`.
    pub fn new(out: W) -> Self {
        BundleWriter {
            zip: zip::ZipWriter::new(out),
            files: Vec::new(),
        }
    }

    /// The files added so far.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// Adds a file. Already compressed data (WARC.gz, pictures) is stored,
    /// the rest deflated.
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> Result<FileEntry, BundleError> {
        if bad_name(path) || reserved(path) || self.files.iter().any(|f| f.path == path) {
            return Err(BundleError::Name(path.to_owned()));
        }
        let deflate = [".html", ".json", ".txt", ".csv"]
            .iter()
            .any(|e| path.ends_with(e));
        self.zip.start_file(path, options(deflate))?;
        self.zip.write_all(bytes)?;
        let entry = FileEntry {
            path: path.to_owned(),
            sha256: hex::encode(Sha256::digest(bytes)),
            bytes: bytes.len() as u64,
        };
        self.files.push(entry.clone());
        Ok(entry)
    }

    /// Starts a file written in pieces (a large WARC made of many
    /// captures), so it never has to be in memory whole; the digest is
    /// taken as it is written. Finish it with [`Streaming::finish`].
    pub fn stream(&mut self, path: &str) -> Result<Streaming<'_, W>, BundleError> {
        if bad_name(path) || reserved(path) || self.files.iter().any(|f| f.path == path) {
            return Err(BundleError::Name(path.to_owned()));
        }
        self.zip.start_file(path, options(false))?;
        Ok(Streaming {
            bundle: self,
            path: path.to_owned(),
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    /// Completes `manifest` (a JSON object) with `format`, `files` and
    /// `public_key`, writes it, its signature and the public key, and
    /// closes the zip. Returns the output and the manifest's SHA-256.
    pub fn finish(
        mut self,
        mut manifest: serde_json::Map<String, serde_json::Value>,
        key: &EvidenceKey,
    ) -> Result<(W, String), BundleError> {
        let public = key.public().to_hex();
        manifest.insert("format".into(), FORMAT.into());
        manifest.insert(
            "files".into(),
            serde_json::to_value(&self.files).map_err(|e| BundleError::Manifest(e.to_string()))?,
        );
        manifest.insert("public_key".into(), public.clone().into());
        let body = serde_json::to_vec_pretty(&serde_json::Value::Object(manifest))
            .map_err(|e| BundleError::Manifest(e.to_string()))?;
        let signature = hex::encode(key.sign(&body));
        self.zip.start_file(MANIFEST, options(true))?;
        self.zip.write_all(&body)?;
        self.zip.start_file(SIGNATURE, options(false))?;
        self.zip.write_all(format!("{signature}\n").as_bytes())?;
        self.zip.start_file(PUBLIC_KEY, options(false))?;
        self.zip.write_all(format!("{public}\n").as_bytes())?;
        let out = self.zip.finish()?;
        Ok((out, hex::encode(Sha256::digest(&body))))
    }
}

/// A file of a bundle being written in pieces.
pub struct Streaming<'a, W: Write + Seek> {
    bundle: &'a mut BundleWriter<W>,
    path: String,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write + Seek> Streaming<'_, W> {
    /// Appends a piece.
    pub fn write(&mut self, piece: &[u8]) -> Result<(), BundleError> {
        self.bundle.zip.write_all(piece)?;
        self.hasher.update(piece);
        self.bytes += piece.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Ends the file and lists it.
    pub fn finish(self) -> FileEntry {
        let entry = FileEntry {
            path: self.path,
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
        };
        self.bundle.files.push(entry.clone());
        entry
    }
}

/// Bounds for [`verify`]: a bundle handed in may be hostile.
#[derive(Clone, Copy, Debug)]
pub struct VerifyLimits {
    /// Most entries in the zip.
    pub max_entries: usize,
    /// Most bytes of the manifest.
    pub max_manifest_bytes: u64,
    /// Most inflated bytes over all files.
    pub max_total_bytes: u64,
}

impl Default for VerifyLimits {
    fn default() -> Self {
        VerifyLimits {
            max_entries: 100_000,
            max_manifest_bytes: 256 << 20,
            max_total_bytes: 64 << 30,
        }
    }
}

/// A bundle that verified.
#[derive(Debug)]
pub struct Verified {
    /// The key that signed it.
    pub key: PublicKey,
    /// Its files (the manifest's list).
    pub files: Vec<FileEntry>,
    /// The manifest.
    pub manifest: serde_json::Value,
}

fn read_small<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    max: u64,
) -> Result<Vec<u8>, BundleError> {
    let f = zip
        .by_name(name)
        .map_err(|_| BundleError::Missing(name.to_owned()))?;
    let mut out = Vec::new();
    f.take(max + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(BundleError::TooLarge(format!("{name} is over {max} bytes")));
    }
    Ok(out)
}

/// Checks a bundle: the signature of the manifest by the bundled key, then
/// every file's size and SHA-256 in the manifest's order, then that the
/// zip holds nothing else. The first failure is the error. Whether the
/// key is the deployment's is the caller's to check, by its fingerprint.
pub fn verify<R: Read + Seek>(input: R, limits: VerifyLimits) -> Result<Verified, BundleError> {
    let mut zip = zip::ZipArchive::new(input)?;
    if zip.len() > limits.max_entries {
        return Err(BundleError::TooLarge(format!(
            "the bundle has {} entries, over {}",
            zip.len(),
            limits.max_entries
        )));
    }
    let body = read_small(&mut zip, MANIFEST, limits.max_manifest_bytes)?;
    let sig_hex = read_small(&mut zip, SIGNATURE, 1024)?;
    let key_hex = read_small(&mut zip, PUBLIC_KEY, 1024)?;
    let key = PublicKey::from_hex(&String::from_utf8_lossy(&key_hex))
        .map_err(|_| BundleError::Manifest("evidence-key.pub is not a public key".into()))?;
    let signature = hex::decode(String::from_utf8_lossy(&sig_hex).trim())
        .map_err(|_| BundleError::Signature)?;
    if !key.verifies(&body, &signature) {
        return Err(BundleError::Signature);
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| BundleError::Manifest(e.to_string()))?;
    if manifest["format"] != FORMAT {
        return Err(BundleError::Manifest(format!(
            "format is {}, not {FORMAT}",
            manifest["format"]
        )));
    }
    if manifest["public_key"].as_str() != Some(key.to_hex().as_str()) {
        return Err(BundleError::Manifest(
            "public_key differs from evidence-key.pub".into(),
        ));
    }
    let files: Vec<FileEntry> = serde_json::from_value(manifest["files"].clone())
        .map_err(|e| BundleError::Manifest(format!("files: {e}")))?;
    let mut listed = BTreeMap::new();
    let mut budget = limits.max_total_bytes;
    for f in &files {
        if listed.insert(f.path.as_str(), ()).is_some() || reserved(&f.path) {
            return Err(BundleError::Manifest(format!("{} is listed twice", f.path)));
        }
        if f.bytes > budget {
            return Err(BundleError::TooLarge(format!(
                "the files are over {} bytes",
                limits.max_total_bytes
            )));
        }
        budget -= f.bytes;
        let entry = zip
            .by_name(&f.path)
            .map_err(|_| BundleError::Missing(f.path.clone()))?;
        // One byte more than listed is enough to tell a longer file.
        let mut hasher = Sha256::new();
        let n = std::io::copy(&mut entry.take(f.bytes + 1), &mut hasher)
            .map_err(|_| BundleError::Digest(f.path.clone()))?;
        if n != f.bytes || hex::encode(hasher.finalize()) != f.sha256 {
            return Err(BundleError::Digest(f.path.clone()));
        }
    }
    for name in zip.file_names() {
        let name = name?;
        if !reserved(&name) && !listed.contains_key(name.as_ref()) && !name.ends_with('/') {
            return Err(BundleError::Unlisted(name.into_owned()));
        }
    }
    Ok(Verified {
        key,
        files,
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn key() -> EvidenceKey {
        EvidenceKey::from_hex(&"07".repeat(32)).unwrap()
    }

    fn bundle() -> Vec<u8> {
        let mut w = BundleWriter::new(Cursor::new(Vec::new()));
        let mut warc = w.stream("warc/captures.warc.gz").unwrap();
        warc.write(b"warc ").unwrap();
        warc.write(b"bytes").unwrap();
        assert_eq!(warc.len(), 10);
        let listed = warc.finish();
        assert_eq!(listed.sha256, hex::encode(Sha256::digest(b"warc bytes")));
        w.add("report.html", b"<p>report</p>").unwrap();
        assert!(w.add("report.html", b"again").is_err());
        assert!(w.add("../x", b"").is_err());
        assert!(w.add(MANIFEST, b"").is_err());
        let mut m = serde_json::Map::new();
        m.insert("subject".into(), serde_json::json!({"site": "bad.example"}));
        w.finish(m, &key()).unwrap().0.into_inner()
    }

    /// The bundle with `name`'s contents changed by `edit`, everything else
    /// copied as it was.
    fn rewritten(zip: &[u8], name: &str, edit: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut src = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..src.len() {
            let mut f = src.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            let this = f.name().unwrap().into_owned();
            if this == name {
                edit(&mut bytes);
            }
            w.start_file(this, options(false)).unwrap();
            w.write_all(&bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn a_bundle_verifies_and_every_change_is_named() {
        let b = bundle();
        let ok = verify(Cursor::new(&b), VerifyLimits::default()).unwrap();
        assert_eq!(ok.files.len(), 2);
        assert_eq!(ok.key, key().public());
        assert_eq!(ok.manifest["subject"]["site"], "bad.example");

        let flipped = rewritten(&b, "report.html", |v| v[3] ^= 1);
        let e = verify(Cursor::new(&flipped), VerifyLimits::default()).unwrap_err();
        assert!(
            matches!(&e, BundleError::Digest(p) if p == "report.html"),
            "{e}"
        );
        let longer = rewritten(&b, "warc/captures.warc.gz", |v| v.push(b'!'));
        let e = verify(Cursor::new(&longer), VerifyLimits::default()).unwrap_err();
        assert!(
            matches!(&e, BundleError::Digest(p) if p.starts_with("warc/")),
            "{e}"
        );
        let manifest = rewritten(&b, MANIFEST, |v| {
            let s = String::from_utf8(v.clone()).unwrap();
            *v = s.replace("bad.example", "other.example").into_bytes();
        });
        assert!(matches!(
            verify(Cursor::new(&manifest), VerifyLimits::default()),
            Err(BundleError::Signature)
        ));
        // Re-signed by someone else: it verifies, under another fingerprint.
        let other = EvidenceKey::from_hex(&"09".repeat(32)).unwrap();
        let mut w = BundleWriter::new(Cursor::new(Vec::new()));
        w.add("report.html", b"<p>forged</p>").unwrap();
        let forged = w
            .finish(serde_json::Map::new(), &other)
            .unwrap()
            .0
            .into_inner();
        let v = verify(Cursor::new(&forged), VerifyLimits::default()).unwrap();
        assert_ne!(v.key.fingerprint(), key().public().fingerprint());
        // A key swapped in without re-signing is caught.
        let swapped = rewritten(&b, PUBLIC_KEY, |v| {
            *v = format!("{}\n", other.public().to_hex()).into_bytes()
        });
        assert!(verify(Cursor::new(&swapped), VerifyLimits::default()).is_err());
        // Something added is named.
        let mut src = zip::ZipArchive::new(Cursor::new(&b)).unwrap();
        let mut w = zip::ZipWriter::new_append(Cursor::new(b.clone())).unwrap();
        w.start_file("extra.txt", options(false)).unwrap();
        w.write_all(b"x").unwrap();
        let added = w.finish().unwrap().into_inner();
        assert!(src.by_name("extra.txt").is_err());
        let e = verify(Cursor::new(&added), VerifyLimits::default()).unwrap_err();
        assert!(
            matches!(&e, BundleError::Unlisted(p) if p == "extra.txt"),
            "{e}"
        );
        assert!(matches!(
            verify(Cursor::new(b"not a zip"), VerifyLimits::default()),
            Err(BundleError::Zip(_))
        ));
    }
}

//! Evidence blobs: the images behind decisions, kept in a content-addressed
//! directory (`DATA/blobs/ab/cdef…`, named by SHA-256) so the console can
//! show them and platforms can preserve them for legal follow-up.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A content-addressed file store.
#[derive(Clone, Debug)]
pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    pub fn new(root: impl Into<PathBuf>) -> Blobs {
        Blobs { root: root.into() }
    }

    /// The blob store of a data directory.
    pub fn in_data_dir(data_dir: &Path) -> Blobs {
        Blobs::new(data_dir.join("blobs"))
    }

    /// The path of a blob; `None` unless `sha` is 64 lowercase hex digits,
    /// so a name from a request can never leave the store's directory.
    fn path(&self, sha: &str) -> Option<PathBuf> {
        let ok = sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| self.root.join(&sha[..2]).join(&sha[2..]))
    }

    /// Stores bytes under their SHA-256 (once: a blob never changes) and
    /// returns it. The file appears whole or not at all.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = sha256_hex(bytes);
        let path = self
            .path(&sha)
            .ok_or_else(|| std::io::Error::other("bad digest"))?;
        if path.exists() {
            return Ok(sha);
        }
        let dir = path
            .parent()
            .ok_or_else(|| std::io::Error::other("no parent"))?;
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{}.{}", &sha[2..], rand::random::<u64>()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        Ok(sha)
    }

    /// A blob's bytes, if stored.
    pub fn get(&self, sha: &str) -> std::io::Result<Option<Vec<u8>>> {
        let Some(path) = self.path(sha) else {
            return Ok(None);
        };
        match std::fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_content_addressed_and_names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::in_data_dir(dir.path());
        let sha = b.put(b"abc").unwrap();
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(b.put(b"abc").unwrap(), sha, "idempotent");
        assert_eq!(b.get(&sha).unwrap().as_deref(), Some(&b"abc"[..]));
        assert!(dir.path().join("blobs/ba").join(&sha[2..]).is_file());
        for bad in ["../../etc/passwd", "", &sha.to_uppercase(), &sha[..63]] {
            assert_eq!(b.get(bad).unwrap(), None, "{bad:?}");
        }
        assert_eq!(b.get(&"0".repeat(64)).unwrap(), None);
    }
}

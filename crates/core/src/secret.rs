//! Key files: secrets kept beside the data, never in the database, readable
//! by their owner only. The report key and the evidence key are such files.

use std::io::Write;
use std::path::Path;

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// The file cannot be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// Others can read it.
    #[error("key file {0} is readable by other users; chmod 600 it")]
    Permissions(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretFileError + '_ {
    move |source| SecretFileError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads a key file, refusing one that group or others may read.
pub fn read_private(path: &Path) -> Result<String, SecretFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(SecretFileError::Permissions(path.display().to_string()));
        }
    }
    std::fs::read_to_string(path).map_err(io(path))
}

/// Creates a key file holding `contents`, mode 600, synced; fails if the
/// file exists, so a key is never overwritten.
pub fn create_private(path: &Path, contents: &str) -> Result<(), SecretFileError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io(path))?;
    f.write_all(contents.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn created_files_are_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        create_private(&path, "secret\n").unwrap();
        assert_eq!(read_private(&path).unwrap(), "secret\n");
        assert!(create_private(&path, "other").is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_private(&path),
            Err(SecretFileError::Permissions(_))
        ));
    }
}

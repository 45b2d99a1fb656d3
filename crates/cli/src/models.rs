//! `cleanweb models`: fetch and check the model files, and the one place
//! the CLI and the server load the nudity model from.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Subcommand;
use cleanweb_core::ImageConfig;
use cleanweb_models::{Asset, Installed, OCR_ASSETS, image_assets, install, install_all, verified};
use cleanweb_nudity::Model;

use crate::setup::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Fetch the pinned models (nudity, OCR) and ONNX Runtime with pip, verify their SHA-256 and cache them
    Install,
    /// Show what is installed and whether it verifies
    Status,
}

pub fn run(global: &GlobalArgs, cmd: ModelsCommand) -> anyhow::Result<ExitCode> {
    let dir = global.models_dir();
    match cmd {
        ModelsCommand::Install => {
            let assets = all_assets()?;
            for done in install_all(&dir, &assets, &mut |m| eprintln!("cleanweb: {m}"))? {
                match done {
                    Installed::AlreadyPresent(p) => {
                        println!("{}\tpresent, verified", crate::shown(&p))
                    }
                    Installed::Fetched(p) => println!("{}\tfetched, verified", crate::shown(&p)),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Status => {
            let mut ok = true;
            for asset in all_assets()? {
                match verified(&dir, &asset) {
                    Ok(p) => println!("{}\tok\t{}", crate::shown(&p), asset.licence),
                    Err(e) => {
                        ok = false;
                        println!("{}\t{e}", asset.file)
                    }
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// Every pinned asset: the nudity model, the runtime and the OCR models.
fn all_assets() -> anyhow::Result<Vec<Asset>> {
    let mut assets = image_assets()?;
    assets.extend(OCR_ASSETS);
    Ok(assets)
}

/// The runtime library and model file the config asks for, fetched and
/// verified if they are the pinned ones.
pub fn ensure(dir: &Path, config: &ImageConfig) -> anyhow::Result<(PathBuf, PathBuf)> {
    let mut paths = Vec::new();
    for (asset, chosen) in image_assets()?
        .into_iter()
        .zip([config.model_path.as_ref(), config.runtime_path.as_ref()])
    {
        let path = match chosen {
            Some(p) => p.clone(),
            None => match install(dir, &asset, &mut |m| tracing::info!("{m}"))? {
                Installed::AlreadyPresent(p) | Installed::Fetched(p) => p,
            },
        };
        paths.push(path);
    }
    match paths.as_slice() {
        [model, runtime] => Ok((model.clone(), runtime.clone())),
        _ => anyhow::bail!("unexpected model asset list"),
    }
}

type Cached = (PathBuf, PathBuf, usize, Arc<Model>);

/// One model per process: engine rebuilds (reloads) share it.
static LOADED: Mutex<Option<Cached>> = Mutex::new(None);

pub fn load(dir: &Path, config: &ImageConfig) -> anyhow::Result<Arc<Model>> {
    let (model, runtime) = ensure(dir, config)?;
    let mut cached = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((m, r, s, loaded)) = cached.as_ref()
        && *m == model
        && *r == runtime
        && *s == config.sessions
    {
        return Ok(loaded.clone());
    }
    let loaded = Arc::new(Model::load(&runtime, &model, config.sessions)?);
    *cached = Some((model, runtime, config.sessions, loaded.clone()));
    Ok(loaded)
}

/// The OCR models, one set per process (engine rebuilds share it).
type CachedOcr = (
    PathBuf,
    usize,
    cleanweb_core::OcrDetect,
    Arc<cleanweb_ocr::Ocr>,
);
static OCR: Mutex<Option<CachedOcr>> = Mutex::new(None);

/// The OCR models on the configured runtime, fetched and verified first.
pub fn load_ocr(dir: &Path, config: &ImageConfig) -> anyhow::Result<Arc<cleanweb_ocr::Ocr>> {
    let runtime = match &config.runtime_path {
        Some(p) => p.clone(),
        None => match install(dir, &cleanweb_models::ONNXRUNTIME, &mut |m| {
            tracing::info!("{m}")
        })? {
            Installed::AlreadyPresent(p) | Installed::Fetched(p) => p,
        },
    };
    let mut cached = OCR.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((r, s, d, loaded)) = cached.as_ref()
        && *r == runtime
        && *s == config.sessions
        && *d == config.ocr_detect
    {
        return Ok(loaded.clone());
    }
    let mut paths = Vec::new();
    for done in install_all(dir, &OCR_ASSETS, &mut |m| tracing::info!("{m}"))? {
        match done {
            Installed::AlreadyPresent(p) | Installed::Fetched(p) => paths.push(p),
        }
    }
    let [det, cls, rec] = paths.as_slice() else {
        anyhow::bail!("unexpected OCR asset list");
    };
    let files = cleanweb_ocr::ModelFiles { det, cls, rec };
    let size = match config.ocr_detect {
        cleanweb_core::OcrDetect::Reference => cleanweb_ocr::det::DetectSize::Reference,
        cleanweb_core::OcrDetect::Fast => cleanweb_ocr::det::DetectSize::Fast,
    };
    let loaded =
        Arc::new(cleanweb_ocr::Ocr::load(&runtime, files, config.sessions)?.with_detect_size(size));
    *cached = Some((runtime, config.sessions, config.ocr_detect, loaded.clone()));
    Ok(loaded)
}

/// OCR for the engine, loaded on the first picture; `None` when `[image]
/// ocr` is off.
pub fn lazy_ocr(dir: &Path, config: &cleanweb_core::Config) -> Option<Arc<cleanweb_ocr::LazyOcr>> {
    if config.image.ocr == cleanweb_core::OcrMode::Off {
        return None;
    }
    let (dir, image) = (dir.to_owned(), config.image.clone());
    Some(Arc::new(cleanweb_ocr::LazyOcr::new(Box::new(move || {
        load_ocr(&dir, &image).map_err(|e| format!("{e:#}"))
    }))))
}

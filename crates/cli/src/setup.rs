//! What every command shares: the data directory, the config, the engine and
//! the store, built the same way for all of them.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use cleanweb_core::Config;
use cleanweb_engine::Engine;
use cleanweb_store::SqliteStore;

#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// Data directory holding the database and caches [default: the per-user data directory]
    #[arg(long, global = true, env = "CLEANWEB_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file (TOML); see config/cleanweb.example.toml for every key
    #[arg(long, global = true, env = "CLEANWEB_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra lexicon files, loaded on top of the built-in one (repeatable)
    #[arg(long = "lexicon", global = true, value_name = "FILE")]
    pub lexicons: Vec<PathBuf>,
    /// The store: a postgres:// URL for PostgreSQL [default: the SQLite file in the data directory]
    #[arg(long, global = true, env = "CLEANWEB_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Where model files are cached [default: DATA/models]
    #[arg(long, global = true, env = "CLEANWEB_MODELS_DIR", value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// The key that seals reporters' contact details (a file holding 64 hex
    /// digits, mode 600) [default: CLEANWEB_REPORT_KEY (hex), else
    /// DATA/report.key; with PostgreSQL one of the two is required]
    #[arg(
        long,
        global = true,
        env = "CLEANWEB_REPORT_KEY_FILE",
        value_name = "FILE"
    )]
    pub report_key_file: Option<PathBuf>,
    /// The key that signs evidence bundles (a file holding 64 hex digits,
    /// mode 600) [default: CLEANWEB_EVIDENCE_KEY (hex), else
    /// DATA/evidence.key; with PostgreSQL one of the two is required]
    #[arg(
        long,
        global = true,
        env = "CLEANWEB_EVIDENCE_KEY_FILE",
        value_name = "FILE"
    )]
    pub evidence_key_file: Option<PathBuf>,
    /// Log filter, e.g. info or cleanweb_server=debug
    #[arg(
        long,
        global = true,
        env = "CLEANWEB_LOG",
        default_value = "info",
        value_name = "FILTER"
    )]
    pub log: String,
}

/// A key kept in a file outside the database (the report key, the
/// evidence key).
pub trait KeyFile: Sized {
    /// The environment variable holding it in hex.
    const ENV: &'static str;
    /// The command-line flag naming its file.
    const FLAG: &'static str;
    /// Its file's name in the data directory.
    const DEFAULT_FILE: &'static str;
    /// What it is called in messages.
    const WHAT: &'static str;
    fn from_hex(hex: &str) -> anyhow::Result<Self>;
    fn load(path: &Path) -> anyhow::Result<Self>;
    fn create(path: &Path) -> anyhow::Result<Self>;
}

/// `KeyFile` for a key type whose own `from_hex`, `load` and `create` do the work.
macro_rules! key_file {
    ($ty:ty, $env:literal, $flag:literal, $file:literal, $what:literal) => {
        impl KeyFile for $ty {
            const ENV: &'static str = $env;
            const FLAG: &'static str = $flag;
            const DEFAULT_FILE: &'static str = $file;
            const WHAT: &'static str = $what;
            fn from_hex(hex: &str) -> anyhow::Result<Self> {
                Ok(<$ty>::from_hex(hex)?)
            }
            fn load(path: &Path) -> anyhow::Result<Self> {
                Ok(<$ty>::load(path)?)
            }
            fn create(path: &Path) -> anyhow::Result<Self> {
                Ok(<$ty>::create(path)?)
            }
        }
    };
}

key_file!(
    cleanweb_reports::ReportKey,
    "CLEANWEB_REPORT_KEY",
    "report-key-file",
    "report.key",
    "report key"
);
key_file!(
    cleanweb_evidence::key::EvidenceKey,
    "CLEANWEB_EVIDENCE_KEY",
    "evidence-key-file",
    "evidence.key",
    "evidence key"
);

/// Where a key came from.
#[derive(Debug)]
pub enum KeySource {
    Environment,
    File,
    DefaultFile(PathBuf),
    Created(PathBuf),
}

impl GlobalArgs {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    pub fn models_dir(&self) -> PathBuf {
        self.models_dir
            .clone()
            .unwrap_or_else(|| self.data_dir().join("models"))
    }

    /// Whether the store is PostgreSQL (the rule `cleanweb_store::open`
    /// follows), shared by several nodes.
    pub fn uses_postgres(&self) -> bool {
        self.database
            .as_deref()
            .is_some_and(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
    }

    /// The report key: CLEANWEB_REPORT_KEY (hex), --report-key-file, or
    /// DATA/report.key; see [`GlobalArgs::key`].
    pub fn report_key(
        &self,
        create: bool,
    ) -> anyhow::Result<Option<(cleanweb_reports::ReportKey, KeySource)>> {
        self.key(self.report_key_file.as_deref(), create)
    }

    /// The evidence signing key: CLEANWEB_EVIDENCE_KEY (hex),
    /// --evidence-key-file, or DATA/evidence.key; see [`GlobalArgs::key`].
    pub fn evidence_key(
        &self,
        create: bool,
    ) -> anyhow::Result<Option<(cleanweb_evidence::key::EvidenceKey, KeySource)>> {
        self.key(self.evidence_key_file.as_deref(), create)
    }

    /// A key kept outside the database: from its environment variable
    /// (hex), its file flag, or its file in DATA. With `create`, a missing
    /// DATA file is made (and the caller warns); `Ok(None)` when there is
    /// none and `create` is off. Giving both the variable and the file is
    /// an error, and so is, with `create`, a PostgreSQL store without
    /// either: every node sharing the database must use the same key, so
    /// none may make a key of its own.
    fn key<K: KeyFile>(
        &self,
        file: Option<&Path>,
        create: bool,
    ) -> anyhow::Result<Option<(K, KeySource)>> {
        let env_key = std::env::var(K::ENV).ok();
        match (env_key, file) {
            (Some(_), Some(path)) => anyhow::bail!(
                "both {} and --{} ({}) give the {}; set only one, so it is clear which key is used",
                K::ENV,
                K::FLAG,
                path.display(),
                K::WHAT
            ),
            (Some(hex), None) => {
                let key = K::from_hex(&hex).context(K::ENV)?;
                return Ok(Some((key, KeySource::Environment)));
            }
            (None, Some(path)) => return Ok(Some((K::load(path)?, KeySource::File))),
            (None, None) => {}
        }
        if self.uses_postgres() {
            // A key beside one node's data would not be the other nodes' key.
            if create {
                anyhow::bail!(
                    "a PostgreSQL store needs the {} given: set {} (64 hex digits) or --{} \
                     to the same key on every node (none is created, as each node would make its own)",
                    K::WHAT,
                    K::ENV,
                    K::FLAG
                );
            }
            return Ok(None);
        }
        // Beside the database file, never inside it.
        let path = self.data_dir().join(K::DEFAULT_FILE);
        if path.exists() {
            return Ok(Some((K::load(&path)?, KeySource::DefaultFile(path))));
        }
        if !create {
            return Ok(None);
        }
        std::fs::create_dir_all(self.data_dir())?;
        let key = K::create(&path)?;
        Ok(Some((key, KeySource::Created(path))))
    }

    pub fn config(&self) -> anyhow::Result<Config> {
        match &self.config {
            Some(path) => Ok(Config::load(path)?),
            None => Ok(Config::default()),
        }
    }

    /// The engine with the built-in detectors and the lexicons of the config
    /// and the command line, read afresh on every call (reloads use this).
    pub fn engine(&self, config: &Config) -> anyhow::Result<Engine> {
        let video = video_decoder(config);
        self.engine_sharing(config, &cleanweb_match::SharedBanks::default(), video)
    }

    /// The engine, with its hash banks loaded afresh from the store into
    /// `banks`, a handle writers keep to add and remove hashes live, and the
    /// process's video decoder (one, so its bound on decodes holds).
    pub fn engine_sharing(
        &self,
        config: &Config,
        banks: &cleanweb_match::SharedBanks,
        video: Option<std::sync::Arc<cleanweb_engine::video::Decoder>>,
    ) -> anyhow::Result<Engine> {
        let mut lexicon_files = Vec::new();
        for path in config.text.lexicons.iter().chain(&self.lexicons) {
            // Read once: the same text is parsed and digested.
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the lexicon {}", path.display()))?;
            lexicon_files.push((path.display().to_string(), text));
        }
        let accepted = self
            .read_store(|store| async move { Ok(store.accepted_terms().await?) })?
            .unwrap_or_default();
        let nudity: Option<std::sync::Arc<dyn cleanweb_core::Detector>> = if config.image.nudity {
            let (dir, image) = (self.models_dir(), config.image.clone());
            let loader: cleanweb_nudity::Loader =
                Box::new(move || crate::models::load(&dir, &image).map_err(|e| format!("{e:#}")));
            Some(std::sync::Arc::new(cleanweb_nudity::NudityDetector::lazy(
                loader,
                config.image.classes.clone(),
            )))
        } else {
            None
        };
        let loaded = self.load_banks()?;
        *banks.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        let (engine, built) =
            cleanweb_service::engine::build(cleanweb_service::engine::EngineSources {
                config,
                lexicon_files,
                accepted,
                lists: cleanweb_url::Lists::load(&self.data_dir())?,
                banks: banks.clone(),
                nudity,
                video,
                ocr: crate::models::lazy_ocr(&self.models_dir(), config),
            })?;
        if built.skipped_terms > 0 {
            tracing::warn!(
                skipped = built.skipped_terms,
                "accepted terms the lexicon format cannot hold are skipped"
            );
        }
        Ok(engine)
    }

    /// The hash banks of the store, indexed. Runs its own small runtime, as
    /// it is called both before the server's runtime exists and from reloads
    /// on blocking threads. A data directory without a store has no banks.
    pub fn load_banks(&self) -> anyhow::Result<cleanweb_match::Banks> {
        let banks = self.read_store(|store| async move {
            let mut out = Vec::new();
            for b in store.banks().await? {
                let entries = store.bank_entries(&b.name).await?;
                out.push((b, entries));
            }
            Ok(out)
        })?;
        Ok(cleanweb_match::Banks::new(banks.unwrap_or_default()))
    }

    /// Runs `read` against the store on a small runtime of its own: engine
    /// builds run before the server's runtime exists, and in reloads on
    /// blocking threads. `None` for a data directory without a store yet.
    fn read_store<T, Fut>(
        &self,
        read: impl FnOnce(std::sync::Arc<dyn cleanweb_store::Store>) -> Fut,
    ) -> anyhow::Result<Option<T>>
    where
        Fut: std::future::Future<Output = anyhow::Result<T>>,
    {
        if self.database.is_none() && !SqliteStore::path_in(&self.data_dir()).exists() {
            return Ok(None);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let store = self.store().await?;
            let out = read(std::sync::Arc::clone(&store)).await;
            store.close().await;
            out.map(Some)
        })
    }

    pub async fn store(&self) -> anyhow::Result<std::sync::Arc<dyn cleanweb_store::Store>> {
        let dir = self.data_dir();
        cleanweb_store::open(self.database.as_deref(), &dir)
            .await
            .with_context(|| match &self.database {
                Some(_) => "cannot open the PostgreSQL store given by --database".to_string(),
                None => format!("cannot open the store in {}", crate::shown(&dir)),
            })
    }
}

fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "cleanweb")
        .map(|d| d.data_dir().to_owned())
        .unwrap_or_else(|| Path::new("cleanweb-data").to_owned())
}

pub fn init_tracing(args: &GlobalArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr: stdout carries results (decisions, keys).
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The video decoder, when ffmpeg and ffprobe are installed; without them a
/// video item gets a warning instead of a verdict on its frames.
pub fn video_decoder(config: &Config) -> Option<std::sync::Arc<cleanweb_engine::video::Decoder>> {
    match cleanweb_engine::video::Decoder::locate(config.limits.max_video_decodes) {
        Ok(d) => Some(std::sync::Arc::new(d)),
        Err(e) => {
            tracing::warn!("{e}; video items are not analysed");
            None
        }
    }
}

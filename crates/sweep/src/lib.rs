//! Clean-up sweeps: everything a platform already holds, through the same
//! `Engine::moderate` as live traffic, resumably.
//!
//! The flow: a source (directory tree, JSONL or CSV export, URL list) is
//! read lazily as numbered entries in a fixed order ([`source`]); entries go
//! in batches through the engine on every core and are recorded, with their
//! decisions, one transaction per batch ([`run`]); the outputs are written
//! from the store at the end ([`report`]). A sweep killed at any point
//! resumes from the store: a seq is recorded once or not at all.
#![deny(missing_docs)]

pub mod crawl;
pub mod report;
pub mod run;
pub mod source;
pub mod worker;

use std::path::Path;

pub use report::{Outputs, write as write_outputs};
pub use run::{BATCH, Counts, run};
pub use source::{Entry, Kind, MediaLimits, Options, entries, item_from_bytes, item_from_json};
pub use worker::{WorkerOptions, distribute, work};

/// A new sweep record, running: a short time-ordered id, its outputs in
/// `out` or `DATA/sweeps/ID`.
pub fn new_sweep(
    data_dir: &Path,
    source: String,
    kind: &str,
    options: serde_json::Value,
    out: Option<std::path::PathBuf>,
) -> cleanweb_store::Sweep {
    let id = uuid::Uuid::now_v7().simple().to_string()[..16].to_owned();
    let out = out.unwrap_or_else(|| data_dir.join("sweeps").join(&id));
    let now = cleanweb_store::now_ms();
    cleanweb_store::Sweep {
        id,
        created_at_ms: now,
        updated_at_ms: now,
        source,
        kind: kind.into(),
        options,
        status: "running".into(),
        out_dir: out.display().to_string(),
    }
}

/// Why a sweep, crawl or report could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] cleanweb_store::StoreError),
    /// The source could not be opened or read.
    #[error(transparent)]
    Source(#[from] source::SourceError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Bad options or start URL, or a background task failed; the message says which.
    #[error("{0}")]
    Invalid(String),
}

impl SweepError {
    fn io(path: &Path, source: std::io::Error) -> SweepError {
        SweepError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

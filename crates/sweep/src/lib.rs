//! Clean-up sweeps: everything a platform already holds, through the same
//! `Engine::moderate` as live traffic, resumably.
//!
//! The flow: a source (directory tree, JSONL or CSV export, URL list) is
//! read lazily as numbered entries in a fixed order ([`source`]); entries go
//! in batches through the engine on every core and are recorded, with their
//! decisions, one transaction per batch ([`run`]); the outputs are written
//! from the store at the end ([`report`]). A sweep killed at any point
//! resumes from the store: a seq is recorded once or not at all.
#![warn(missing_docs)]

pub mod crawl;
pub mod report;
pub mod run;
pub mod source;
pub mod worker;

use std::path::Path;

pub use report::{Outputs, write as write_outputs};
pub use run::{BATCH, Counts, run};
pub use source::{Entry, Kind, Options, entries, item_from_bytes, item_from_json};
pub use worker::{WorkerOptions, distribute, work};

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] cleanweb_store::StoreError),
    #[error(transparent)]
    Source(#[from] source::SourceError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
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

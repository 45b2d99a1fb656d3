//! cleanweb's use cases, with no HTTP in them.
//!
//! The doors (the HTTP API, the review console, the CLI and the sweeps)
//! parse a request, call one function here and render its answer. What a
//! decision, a bank change or a site change *means* (what is stored, what is
//! audited, which live index is updated) is written once, in this crate:
//!
//! - [`engine`]: the engine, built from the config and its sources;
//! - [`evidence`]: signed evidence bundles about a site, a case or a sweep;
//! - [`files`]: a whole file (an archive, a document) moderated as its members;
//! - [`record`]: which decisions the store keeps;
//! - [`compliance`]: the monthly accountability report (HTML with SVG charts, CSV, JSON);
//! - [`curator`]: bank changes, through the store and the live index;
//! - [`reports`]: taking a public report and triaging its cases;
//! - [`review`]: a reviewer's decision, its settlement and follow-ups;
//! - [`sites`]: the site registry's one write path;
//! - [`time`]: the times doors take and show.
//!
//! It does no detection (that is the engine's) and decides no state
//! transition (those are pure functions in `cleanweb-core`); it sequences
//! them with the store.
#![deny(missing_docs)]

pub mod compliance;
pub mod curator;
pub mod engine;
pub mod evidence;
pub mod files;
pub mod record;
pub mod reports;
pub mod review;
pub mod sites;
pub mod time;

pub use curator::{CurateError, Curator};
pub use record::Keeper;

//! Shared types of cleanweb.
//!
//! Every front door (HTTP API, CLI, sweeps, reports) speaks in these types, and
//! every detector produces [`Label`]s that the [`Policy`] turns into a
//! [`Verdict`]. This crate holds no detection logic and does no I/O beyond
//! reading a config file.
//!
//! ```
//! use cleanweb_core::{Category, Label, Policy, Verdict};
//! let policy = Policy::default();
//! let label = Label::new(Category::SexualExplicit, 0.95, "text.lexicon");
//! assert_eq!(policy.verdict(&[label]), Verdict::Block);
//! ```

mod action;
pub mod audit;
pub mod auth;
mod bank;
mod category;
pub mod config;
mod decision;
mod detector;
mod item;
mod policy;
pub mod review;
pub mod rewards;
pub mod secret;
pub mod site;

pub use action::Action;
pub use audit::{AuditEvent, AuditRecord};
pub use bank::{Bank, BankEntry, Signal};
pub use category::{Category, Verdict};
pub use config::{ClassRule, Config, ConfigError, ImageConfig, Limits, OcrDetect, OcrMode};
pub use decision::{Decision, Evidence, FileDecision, Label, MemberOutcome};
pub use detector::{
    DecodedImage, DecodedVideo, DetectError, Detector, FrameHash, Input, Rgb, TextPart, VideoFrame,
};
pub use item::{Item, ItemError, Source};
pub use policy::{Policy, PolicyError, Thresholds};
pub use site::{SiteEvent, SiteEventKind, SiteStatus};

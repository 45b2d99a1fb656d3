//! Text detection: a normalizer that undoes common disguises while keeping a
//! map back to the original characters, a lexicon format, and a matcher that
//! turns lexicon hits into labels with evidence spans.
//!
//! ```
//! use cleanweb_core::{Detector, Input, Item};
//! use cleanweb_text::LexiconDetector;
//! let detector = LexiconDetector::default();
//! let item = Item::text("看色 情视频");
//! let mut labels = Vec::new();
//! detector.detect(&Input::from_item(&item), &mut labels).unwrap();
//! assert_eq!(labels[0].category.as_str(), "sexual.explicit");
//! ```
//!
//! What this crate deliberately does not do: network or storage, and any
//! category outside the sexual taxonomy.
#![deny(missing_docs)]

mod contact;
mod detector;
mod fold;
pub mod lexicon;
pub mod normalize;
mod phonetic;

pub use detector::{LexiconDetector, SOURCE as LEXICON_SOURCE};
pub use lexicon::{Entry, Kind, Lexicon, LexiconError, Severity, lexicon_safe};
pub use normalize::{Normalized, normalize};

//! Hash banks: named sets of known images' hashes, matched against every
//! image the engine sees.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Action, Category};

/// The kind of hash a bank holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    /// PDQ perceptual hash, matched within a distance threshold.
    Pdq,
    /// MD5 of the file bytes, matched exactly.
    Md5,
    /// SHA-256 of the file bytes, matched exactly.
    Sha256,
    /// vPDQ: a video's frame hashes, matched by HMA's rule (the share of
    /// frames within the threshold of a frame of the other video).
    Vpdq,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Pdq => "pdq",
            Signal::Md5 => "md5",
            Signal::Sha256 => "sha256",
            Signal::Vpdq => "vpdq",
        }
    }

    /// Hex digits in a hash of this kind; a vPDQ entry's hash is the
    /// SHA-256 of its frame list, which `BankEntry::frames` holds.
    pub fn hex_len(self) -> usize {
        match self {
            Signal::Pdq | Signal::Sha256 | Signal::Vpdq => 64,
            Signal::Md5 => 32,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Signal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pdq" => Ok(Signal::Pdq),
            "md5" => Ok(Signal::Md5),
            "sha256" => Ok(Signal::Sha256),
            "vpdq" => Ok(Signal::Vpdq),
            o => Err(format!("unknown signal {o:?} (pdq, md5, sha256 or vpdq)")),
        }
    }
}

/// A bank's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Bank {
    pub name: String,
    pub signal: Signal,
    pub category: Category,
    /// An `allow` bank suppresses other banks' matches for the same image
    /// (default `block`).
    #[serde(default = "default_action")]
    pub action: Action,
    /// Largest PDQ distance that matches (default 31).
    #[serde(default = "default_threshold")]
    pub threshold: u32,
    /// Also match rotations and flips of the image (default true).
    #[serde(default = "default_true")]
    pub dihedral: bool,
    /// vPDQ: the share of the query's frames, in percent, that must match a
    /// frame of the banked video (default 80, as HMA).
    #[serde(default = "default_query_pct")]
    pub query_pct: u32,
    /// vPDQ: the share of the banked video's frames, in percent, that must
    /// be matched (default 0, as HMA: a clip cut from it matches).
    #[serde(default)]
    pub compared_pct: u32,
}

fn default_query_pct() -> u32 {
    80
}

fn default_action() -> Action {
    Action::Block
}

fn default_threshold() -> u32 {
    31
}

fn default_true() -> bool {
    true
}

/// One known hash in a bank, with where it came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BankEntry {
    /// Lowercase hex.
    pub hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_by: Option<String>,
    /// Unix milliseconds.
    #[serde(default)]
    pub added_at_ms: i64,
    /// vPDQ entries: the video's frames in HMA's signal format, a JSON list
    /// of `"pdq_hex,quality,timestamp"` strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<String>,
}

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
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Pdq => "pdq",
            Signal::Md5 => "md5",
            Signal::Sha256 => "sha256",
        }
    }

    /// Hex digits in a hash of this kind.
    pub fn hex_len(self) -> usize {
        match self {
            Signal::Pdq | Signal::Sha256 => 64,
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
            o => Err(format!("unknown signal {o:?} (pdq, md5 or sha256)")),
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
}

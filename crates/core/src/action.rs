//! What a match against a list or bank does to an item.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a hit in a blocklist or hash bank does to an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Block,
    Review,
    /// An allow list or bank: its hits suppress the others' hits.
    Allow,
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "block" => Ok(Action::Block),
            "review" => Ok(Action::Review),
            "allow" => Ok(Action::Allow),
            o => Err(format!(
                "unknown action {o:?} (expected block, review or allow)"
            )),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Block => "block",
            Action::Review => "review",
            Action::Allow => "allow",
        })
    }
}

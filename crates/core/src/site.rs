//! The site registry's vocabulary: a site is a registrable domain whose status
//! follows an enforcement lifecycle. Status is never stored on its own: it is
//! the status of the site's latest event, so the history is the record.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `watch` → `warned` → `rectification` (with a deadline) → `closed` or
/// `restored`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SiteStatus {
    Watch,
    Warned,
    Rectification,
    Closed,
    Restored,
}

impl SiteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteStatus::Watch => "watch",
            SiteStatus::Warned => "warned",
            SiteStatus::Rectification => "rectification",
            SiteStatus::Closed => "closed",
            SiteStatus::Restored => "restored",
        }
    }

    /// Whether the lifecycle allows going from `self` to `next`.
    pub fn can_become(self, next: SiteStatus) -> bool {
        use SiteStatus::*;
        matches!(
            (self, next),
            (Watch, Warned | Rectification | Closed)
                | (Warned, Rectification | Closed | Restored | Watch)
                | (Rectification, Closed | Restored | Warned)
                | (Closed, Restored)
                | (Restored, Watch | Warned | Closed)
        )
    }
}

impl fmt::Display for SiteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SiteStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "watch" => SiteStatus::Watch,
            "warned" => SiteStatus::Warned,
            "rectification" => SiteStatus::Rectification,
            "closed" => SiteStatus::Closed,
            "restored" => SiteStatus::Restored,
            o => {
                return Err(format!(
                    "unknown site status {o:?} (watch, warned, rectification, closed, restored)"
                ));
            }
        })
    }
}

/// One change of a site's status: who, why, when, on what evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SiteEvent {
    /// The registrable domain.
    pub domain: String,
    pub status: SiteStatus,
    pub actor: String,
    pub reason: String,
    /// References to evidence: decision ids, report receipts, URLs.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// For `rectification`: the deadline, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<i64>,
    /// Unix milliseconds.
    pub at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_only_its_steps() {
        use SiteStatus::*;
        assert!(Watch.can_become(Warned) && Warned.can_become(Rectification));
        assert!(Rectification.can_become(Closed) && Closed.can_become(Restored));
        assert!(!Closed.can_become(Watch), "a closed site is restored first");
        assert!(!Watch.can_become(Watch), "no event without a change");
        assert!(!Watch.can_become(Restored), "nothing to restore");
    }
}

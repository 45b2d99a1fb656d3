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

/// What a registry event records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SiteEventKind {
    /// A change of status (the lifecycle applies).
    #[default]
    Status,
    /// A re-inspection: the status stays, a next status may be proposed
    /// for an admin to confirm.
    Inspection,
}

impl SiteEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteEventKind::Status => "status",
            SiteEventKind::Inspection => "inspection",
        }
    }
}

impl FromStr for SiteEventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "status" => Ok(SiteEventKind::Status),
            "inspection" => Ok(SiteEventKind::Inspection),
            o => Err(format!("unknown site event kind {o:?}")),
        }
    }
}

/// What a re-inspection proposes from what it found: `closed` if anything
/// still violates, `restored` if pages were read and none does, nothing if
/// no page could be read (the site is down or refuses us: people decide).
pub fn inspection_proposal(pages_read: u64, violations: u64) -> Option<SiteStatus> {
    if violations > 0 {
        Some(SiteStatus::Closed)
    } else if pages_read > 0 {
        Some(SiteStatus::Restored)
    } else {
        None
    }
}

/// The proposal waiting for an admin: the latest event's, if it is an
/// inspection that proposed a status the lifecycle allows.
pub fn pending_proposal(latest: &SiteEvent) -> Option<SiteStatus> {
    (latest.kind == SiteEventKind::Inspection)
        .then_some(latest.proposal)
        .flatten()
        .filter(|p| latest.status.can_become(*p))
}

/// Past its rectification deadline with no decision yet (the latest event
/// carries the deadline; an inspection keeps it).
pub fn is_overdue(latest: &SiteEvent, now_ms: i64) -> bool {
    latest.status == SiteStatus::Rectification && latest.deadline_ms.is_some_and(|d| d <= now_ms)
}

/// Overdue and not yet re-inspected since the deadline: what the
/// scheduler inspects.
pub fn due_for_inspection(latest: &SiteEvent, now_ms: i64) -> bool {
    is_overdue(latest, now_ms)
        && !(latest.kind == SiteEventKind::Inspection
            && latest.deadline_ms.is_some_and(|d| latest.at_ms >= d))
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
    /// A status change, or a re-inspection.
    #[serde(default)]
    pub kind: SiteEventKind,
    /// What an inspection proposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<SiteStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspections_propose_and_deadlines_fall_due() {
        assert_eq!(inspection_proposal(10, 1), Some(SiteStatus::Closed));
        assert_eq!(inspection_proposal(10, 0), Some(SiteStatus::Restored));
        assert_eq!(inspection_proposal(0, 0), None);
        let mut e = SiteEvent {
            domain: "d.example".into(),
            status: SiteStatus::Rectification,
            actor: "a".into(),
            reason: "r".into(),
            evidence: vec![],
            deadline_ms: Some(100),
            at_ms: 10,
            kind: SiteEventKind::Status,
            proposal: None,
        };
        assert!(!is_overdue(&e, 99) && is_overdue(&e, 100));
        assert!(due_for_inspection(&e, 100));
        assert_eq!(pending_proposal(&e), None);
        e.kind = SiteEventKind::Inspection;
        e.at_ms = 150;
        e.proposal = Some(SiteStatus::Closed);
        assert!(is_overdue(&e, 200), "an inspection decides nothing");
        assert!(!due_for_inspection(&e, 200), "inspected since the deadline");
        assert_eq!(pending_proposal(&e), Some(SiteStatus::Closed));
        e.at_ms = 50;
        assert!(
            due_for_inspection(&e, 200),
            "inspected before the deadline only"
        );
    }

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

//! The site registry's one write path, for the CLI, the API and the
//! console: append the event (the store checks the lifecycle), audit it,
//! then bring the closed-sites blocklist in step so exports and the engine
//! see the change.

use std::path::Path;

use cleanweb_core::{SiteEvent, SiteStatus};
use cleanweb_store::Store;

/// Why a site change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The input has no registrable domain.
    #[error("{0:?} is not a site: give a domain or URL with a registrable domain")]
    NotASite(String),
    /// The lifecycle does not allow the change (the store's words).
    #[error("{0}")]
    Lifecycle(String),
    /// A rectification without a deadline.
    #[error("a rectification needs a deadline")]
    NoDeadline,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] cleanweb_store::StoreError),
    /// The closed-sites list could not be written.
    #[error(transparent)]
    List(#[from] cleanweb_url::BlocklistError),
}

/// A requested status change.
#[derive(Clone, Debug)]
pub struct Change {
    /// A domain or URL; its registrable domain is the site.
    pub site: String,
    /// The new status.
    pub status: SiteStatus,
    /// Who asks for it.
    pub actor: String,
    /// Why, in the actor's words.
    pub reason: String,
    /// References to what supports it (`decision:ID`, URLs).
    pub evidence: Vec<String>,
    /// When a rectification is due, in Unix milliseconds.
    pub deadline_ms: Option<i64>,
}

/// Records a status change; returns the event as stored.
pub async fn change_status(
    store: &dyn Store,
    data_dir: &Path,
    change: Change,
) -> Result<SiteEvent, SiteError> {
    let domain = cleanweb_url::registrable_domain(&change.site)
        .ok_or_else(|| SiteError::NotASite(change.site.clone()))?;
    if change.status == SiteStatus::Rectification && change.deadline_ms.is_none() {
        return Err(SiteError::NoDeadline);
    }
    let event = SiteEvent {
        domain,
        status: change.status,
        actor: change.actor,
        reason: change.reason,
        evidence: change.evidence,
        deadline_ms: change.deadline_ms,
        at_ms: cleanweb_store::now_ms(),
    };
    store
        .record_site_event(&event)
        .await?
        .map_err(SiteError::Lifecycle)?;
    store
        .append_audit(&cleanweb_core::AuditEvent {
            actor: event.actor.clone(),
            action: "site.status".into(),
            subject: event.domain.clone(),
            details: serde_json::json!({
                "status": event.status.as_str(), "reason": event.reason,
                "evidence": event.evidence, "deadline_ms": event.deadline_ms,
            }),
        })
        .await?;
    let closed = store
        .sites(Some(SiteStatus::Closed))
        .await?
        .into_iter()
        .map(|e| e.domain)
        .collect();
    let dir = data_dir.to_owned();
    tokio::task::spawn_blocking(move || cleanweb_url::sync_closed_sites(&dir, closed))
        .await
        .map_err(|e| SiteError::Lifecycle(format!("list update failed: {e}")))??;
    Ok(event)
}

/// Puts a site on watch unless the registry knows it already: a site with a
/// history keeps its status, and the new evidence is for whoever handles it.
/// Answers the event when one was recorded.
pub async fn watch_if_new(
    store: &dyn Store,
    data_dir: &Path,
    change: Change,
) -> Result<Option<SiteEvent>, SiteError> {
    let domain = cleanweb_url::registrable_domain(&change.site)
        .ok_or_else(|| SiteError::NotASite(change.site.clone()))?;
    if !store.site_history(&domain).await?.is_empty() {
        return Ok(None);
    }
    let change = Change {
        status: SiteStatus::Watch,
        ..change
    };
    change_status(store, data_dir, change).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(site: &str, status: SiteStatus) -> Change {
        Change {
            site: site.into(),
            status,
            actor: "reviewer".into(),
            reason: "seen in review".into(),
            evidence: vec!["decision:1".into()],
            deadline_ms: None,
        }
    }

    #[tokio::test]
    async fn a_known_site_keeps_its_status_and_a_new_one_is_watched() {
        let dir = tempfile::tempdir().unwrap();
        let store = cleanweb_store::open(None, dir.path()).await.unwrap();
        let s = store.as_ref();
        let first = watch_if_new(
            s,
            dir.path(),
            change("https://www.bad.example.com/x", SiteStatus::Watch),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(first.domain, "example.com");
        change_status(s, dir.path(), change("example.com", SiteStatus::Closed))
            .await
            .unwrap();
        let again = watch_if_new(s, dir.path(), change("example.com", SiteStatus::Watch))
            .await
            .unwrap();
        assert!(again.is_none());
        assert_eq!(
            store.sites(Some(SiteStatus::Closed)).await.unwrap().len(),
            1
        );
        assert!(matches!(
            change_status(s, dir.path(), change("localhost", SiteStatus::Watch)).await,
            Err(SiteError::NotASite(_))
        ));
        assert!(matches!(
            change_status(
                s,
                dir.path(),
                change("example.org", SiteStatus::Rectification)
            )
            .await,
            Err(SiteError::NoDeadline)
        ));
    }
}

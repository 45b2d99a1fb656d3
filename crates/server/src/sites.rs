//! The site registry's one write path, shared by the CLI and the API: append
//! the event (the store checks the lifecycle), then bring the closed-sites
//! blocklist in step so exports and the engine see the change.

use std::path::Path;

use cleanweb_core::{SiteEvent, SiteStatus};
use cleanweb_store::Store;

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("{0:?} is not a site: give a domain or URL with a registrable domain")]
    NotASite(String),
    #[error("{0}")]
    Lifecycle(String),
    #[error("a rectification needs a deadline")]
    NoDeadline,
    #[error(transparent)]
    Store(#[from] cleanweb_store::StoreError),
    #[error(transparent)]
    List(#[from] cleanweb_url::BlocklistError),
}

/// A requested status change.
#[derive(Clone, Debug)]
pub struct Change {
    /// A domain or URL; its registrable domain is the site.
    pub site: String,
    pub status: SiteStatus,
    pub actor: String,
    pub reason: String,
    pub evidence: Vec<String>,
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

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

/// Appends a registry event (the store checks the lifecycle) and its audit
/// event, named `action`, about the site.
async fn record(
    store: &dyn Store,
    event: &SiteEvent,
    action: &str,
    details: serde_json::Value,
) -> Result<(), SiteError> {
    store
        .record_site_event(event)
        .await?
        .map_err(SiteError::Lifecycle)?;
    store
        .append_audit(&cleanweb_core::AuditEvent {
            actor: event.actor.clone(),
            action: action.to_owned(),
            subject: event.domain.clone(),
            details,
        })
        .await?;
    Ok(())
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
        kind: cleanweb_core::SiteEventKind::Status,
        proposal: None,
    };
    let details = serde_json::json!({
        "status": event.status.as_str(), "reason": event.reason,
        "evidence": event.evidence, "deadline_ms": event.deadline_ms,
    });
    record(store, &event, "site.status", details).await?;
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

/// How a re-inspection crawls: the crawler's limits, with evidence kept.
#[derive(Clone, Debug)]
pub struct InspectOptions {
    /// Where to start [default: `https://DOMAIN/`].
    pub start: Option<String>,
    /// Most pages and pictures fetched.
    pub max_pages: u64,
    /// Most link hops from the start.
    pub max_depth: u32,
    /// Between requests (robots.txt may ask for more).
    pub delay: std::time::Duration,
    /// Limits of each fetch; `allow_private` only for sites of your own.
    pub fetch: cleanweb_fetch::FetchLimits,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions {
            start: None,
            max_pages: 200,
            max_depth: 3,
            delay: std::time::Duration::from_millis(500),
            fetch: cleanweb_fetch::FetchLimits {
                max_bytes: 8 << 20,
                timeout: std::time::Duration::from_secs(15),
                ..Default::default()
            },
        }
    }
}

/// Re-inspects a site in the registry: a bounded crawl that keeps every
/// fetch as WARC evidence (a sweep of kind `crawl`), then an `inspection`
/// event in the registry's history with what it found and what it proposes
/// (`closed` if anything still violates, `restored` if the pages read are
/// clean, nothing if none could be read), audited. The status does not
/// change: an admin confirms the proposal ([`confirm`]).
pub async fn inspect(
    store: &dyn Store,
    engine: std::sync::Arc<cleanweb_engine::Engine>,
    data_dir: &Path,
    site: &str,
    actor: &str,
    options: &InspectOptions,
) -> Result<SiteEvent, SiteError> {
    let domain =
        cleanweb_url::registrable_domain(site).ok_or_else(|| SiteError::NotASite(site.into()))?;
    let current = store
        .site_history(&domain)
        .await?
        .pop()
        .ok_or_else(|| SiteError::Lifecycle(format!("{domain} is not in the registry")))?;
    let start = options
        .start
        .clone()
        .unwrap_or_else(|| format!("https://{domain}/"));
    if cleanweb_url::registrable_domain(&start).as_deref() != Some(domain.as_str()) {
        return Err(SiteError::NotASite(format!("{start} is not on {domain}")));
    }
    let sweep = cleanweb_sweep::new_sweep(
        data_dir,
        start,
        "crawl",
        serde_json::json!({
            "max_pages": options.max_pages, "max_depth": options.max_depth,
            "delay_ms": options.delay.as_millis() as u64, "max_bytes": options.fetch.max_bytes,
            "timeout_secs": options.fetch.timeout.as_secs(), "allow_private": options.fetch.allow_private,
            "warc": true, "inspection": domain,
        }),
        None,
    );
    store.create_sweep(&sweep).await?;
    let crawl = cleanweb_sweep::crawl::CrawlOptions {
        max_pages: options.max_pages,
        max_depth: options.max_depth,
        delay: options.delay,
        fetch: options.fetch.clone(),
        warc: Some(Path::new(&sweep.out_dir).join("crawl.warc.gz")),
    };
    let failed = |e: cleanweb_sweep::SweepError| {
        SiteError::Lifecycle(format!("the re-inspection of {domain} failed: {e}"))
    };
    cleanweb_sweep::crawl::crawl(engine, store, &sweep, &crawl, &mut |_, _| true)
        .await
        .map_err(failed)?;
    let done = store
        .sweep(&sweep.id)
        .await?
        .ok_or_else(|| SiteError::Lifecycle("the inspection's sweep vanished".into()))?;
    cleanweb_sweep::write_outputs(store, &done)
        .await
        .map_err(failed)?;
    let counts = store.sweep_counts(&sweep.id).await?;
    let count = |v: &str| counts.iter().find(|(k, _)| k == v).map_or(0, |(_, n)| *n);
    let (violations, read, errors) = (
        count("block") + count("review"),
        count("allow") + count("block") + count("review"),
        count("error"),
    );
    let proposal = cleanweb_core::site::inspection_proposal(read, violations);
    let proposes = proposal.map_or("no proposal: nothing could be read".to_owned(), |p| {
        format!("proposes {p}")
    });
    let event = SiteEvent {
        domain: domain.clone(),
        status: current.status,
        actor: actor.to_owned(),
        reason: format!(
            "re-inspection: {read} pages and pictures read, {violations} violating, {errors} errors; {proposes}"
        ),
        evidence: vec![format!("sweep:{}", sweep.id)],
        deadline_ms: current.deadline_ms,
        at_ms: cleanweb_store::now_ms(),
        kind: cleanweb_core::SiteEventKind::Inspection,
        proposal,
    };
    let details = serde_json::json!({
        "sweep": sweep.id, "read": read, "violations": violations, "errors": errors,
        "proposal": proposal.map(|p| p.as_str()), "status": event.status.as_str(),
    });
    record(store, &event, "site.inspection", details).await?;
    Ok(event)
}

/// Confirms the proposal of a site's latest inspection: the status change
/// it proposed, with the admin's reason and the inspection's evidence.
pub async fn confirm(
    store: &dyn Store,
    data_dir: &Path,
    site: &str,
    actor: &str,
    reason: &str,
) -> Result<SiteEvent, SiteError> {
    let domain =
        cleanweb_url::registrable_domain(site).ok_or_else(|| SiteError::NotASite(site.into()))?;
    let latest = store.site_history(&domain).await?.pop();
    let (Some(latest), Some(status)) = (
        latest.clone(),
        latest
            .as_ref()
            .and_then(cleanweb_core::site::pending_proposal),
    ) else {
        return Err(SiteError::Lifecycle(format!(
            "{domain} has no inspection proposal waiting"
        )));
    };
    change_status(
        store,
        data_dir,
        Change {
            site: domain,
            status,
            actor: actor.to_owned(),
            reason: reason.to_owned(),
            evidence: latest.evidence,
            deadline_ms: None,
        },
    )
    .await
}

/// Sites past their rectification deadline with no decision, by deadline.
pub async fn overdue(store: &dyn Store, now_ms: i64) -> Result<Vec<SiteEvent>, SiteError> {
    let mut sites: Vec<SiteEvent> = store
        .sites(Some(SiteStatus::Rectification))
        .await?
        .into_iter()
        .filter(|e| cleanweb_core::site::is_overdue(e, now_ms))
        .collect();
    sites.sort_by_key(|e| (e.deadline_ms, e.domain.clone()));
    Ok(sites)
}

/// Re-inspects every site whose deadline has passed and that has not been
/// inspected since (one at a time: the crawls are polite). Returns the
/// inspection events; a site that fails is logged and tried next time.
pub async fn inspect_due(
    store: &dyn Store,
    engine: std::sync::Arc<cleanweb_engine::Engine>,
    data_dir: &Path,
    options: &InspectOptions,
    now_ms: i64,
) -> Result<Vec<SiteEvent>, SiteError> {
    let mut done = Vec::new();
    for site in overdue(store, now_ms).await? {
        if !cleanweb_core::site::due_for_inspection(&site, now_ms) {
            continue;
        }
        match inspect(
            store,
            engine.clone(),
            data_dir,
            &site.domain,
            "system",
            options,
        )
        .await
        {
            Ok(e) => done.push(e),
            Err(e) => tracing::warn!(site = %site.domain, error = %e, "re-inspection failed"),
        }
    }
    Ok(done)
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

    #[tokio::test]
    async fn a_proposal_is_confirmed_once_and_deadlines_fall_due() {
        let dir = tempfile::tempdir().unwrap();
        let store = cleanweb_store::open(None, dir.path()).await.unwrap();
        let s = store.as_ref();
        change_status(s, dir.path(), change("late.example", SiteStatus::Watch))
            .await
            .unwrap();
        let mut rect = change("late.example", SiteStatus::Rectification);
        rect.deadline_ms = Some(1_000);
        change_status(s, dir.path(), rect).await.unwrap();
        assert!(
            confirm(s, dir.path(), "late.example", "root", "why")
                .await
                .is_err()
        );
        let now = cleanweb_store::now_ms();
        assert_eq!(overdue(s, now).await.unwrap().len(), 1);
        let inspection = SiteEvent {
            domain: "late.example".into(),
            status: SiteStatus::Rectification,
            actor: "system".into(),
            reason: "re-inspection".into(),
            evidence: vec!["sweep:abc".into()],
            deadline_ms: Some(1_000),
            at_ms: now,
            kind: cleanweb_core::SiteEventKind::Inspection,
            proposal: Some(SiteStatus::Closed),
        };
        s.record_site_event(&inspection).await.unwrap().unwrap();
        assert!(!cleanweb_core::site::due_for_inspection(&inspection, now));
        let closed = confirm(s, dir.path(), "late.example", "root", "still bad")
            .await
            .unwrap();
        assert_eq!(closed.status, SiteStatus::Closed);
        assert_eq!(closed.evidence, ["sweep:abc"], "the inspection's evidence");
        assert!(overdue(s, now).await.unwrap().is_empty());
        assert!(
            confirm(s, dir.path(), "late.example", "root", "again")
                .await
                .is_err(),
            "nothing is waiting any more"
        );
        let lists = cleanweb_url::Lists::load(dir.path()).unwrap();
        let c = cleanweb_url::canonicalize("http://late.example/").unwrap();
        assert!(!lists.check(&c).is_empty(), "closed sites are blocked");
    }

    /// Flags pages whose HTML says BAD: a stand-in for the lexicon.
    const SAYS_BAD: crate::testing::FlagIf = crate::testing::FlagIf {
        fields: &["html"],
        pick: |item| item.html.as_deref().is_some_and(|h| h.contains("BAD")),
    };

    #[tokio::test]
    async fn a_passed_deadline_triggers_one_reinspection_that_keeps_evidence() {
        let port = crate::testing::site(|request| {
            let (status, body) = if request.starts_with("GET / ") {
                ("200 OK", "<a href='/still'>more</a> welcome")
            } else if request.starts_with("GET /still ") {
                ("200 OK", "<p>still BAD here</p>")
            } else {
                ("404 Not Found", "no")
            };
            (status, "text/html", body.as_bytes().to_vec())
        })
        .port();
        let dir = tempfile::tempdir().unwrap();
        let store = cleanweb_store::open(None, dir.path()).await.unwrap();
        let s = store.as_ref();
        change_status(s, dir.path(), change("127.0.0.1", SiteStatus::Watch))
            .await
            .unwrap();
        let mut rect = change("127.0.0.1", SiteStatus::Rectification);
        rect.deadline_ms = Some(cleanweb_store::now_ms() - 1_000);
        change_status(s, dir.path(), rect).await.unwrap();
        let engine = std::sync::Arc::new(
            cleanweb_engine::Engine::new(Default::default(), Default::default())
                .with_detector(std::sync::Arc::new(SAYS_BAD)),
        );
        // Only for this test: the local server stands in for the site.
        let options = InspectOptions {
            start: Some(format!("http://127.0.0.1:{port}/")),
            delay: std::time::Duration::ZERO,
            fetch: cleanweb_fetch::FetchLimits {
                allow_private: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let now = cleanweb_store::now_ms();
        let done = inspect_due(s, engine.clone(), dir.path(), &options, now)
            .await
            .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].proposal, Some(SiteStatus::Closed), "{:?}", done[0]);
        assert_eq!(
            done[0].status,
            SiteStatus::Rectification,
            "nothing changes yet"
        );
        assert!(done[0].reason.contains("1 violating"), "{}", done[0].reason);
        let again = inspect_due(s, engine, dir.path(), &options, now + 1)
            .await
            .unwrap();
        assert!(again.is_empty(), "inspected once per deadline");
        let kept = s
            .captures(
                &cleanweb_store::CaptureQuery {
                    domain: Some("127.0.0.1".into()),
                    ..Default::default()
                },
                100,
            )
            .await
            .unwrap();
        assert!(kept.len() >= 3, "robots.txt, the pages: {kept:?}");
        assert!(kept.iter().all(|c| c.sweep_id.is_some()));
    }
}

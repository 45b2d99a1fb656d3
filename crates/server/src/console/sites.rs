//! The site registry in the console: the list (filters by status, overdue,
//! search), a site's page (history, inspection proposal, decisions,
//! reports, evidence), and the admins' actions on it (status change,
//! inspect now, confirm a proposal, download the evidence bundle). Admins
//! act; auditors read. Every action goes through the registry's one write
//! path (`service::sites`), which audits it.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cleanweb_core::SiteStatus;
use cleanweb_core::auth::UserRole;
use cleanweb_core::site::{is_overdue, pending_proposal};
use cleanweb_service::sites::{Change, SiteError};
use serde::{Deserialize, Serialize};

use super::session::ConsoleUser;
use super::{Page, page_error, store_error, when};
use crate::AppState;

const READERS: &[UserRole] = &[UserRole::Admin, UserRole::Auditor];
const ADMINS: &[UserRole] = &[UserRole::Admin];
/// Rows on one page of the list.
const PAGE: usize = 100;
/// Decisions and cases shown on a site's page.
const SHOWN: u32 = 200;

#[derive(Deserialize)]
pub struct ListParams {
    status: Option<String>,
    overdue: Option<String>,
    q: Option<String>,
    page: Option<usize>,
}

#[derive(Serialize)]
struct SiteRow {
    domain: String,
    status: &'static str,
    since: String,
    deadline: Option<String>,
    overdue: bool,
    last_inspection: Option<String>,
    proposal: Option<&'static str>,
    reports: u64,
}

/// How many reports name the site (cases whose URL is on it).
async fn report_count(state: &AppState, domain: &str) -> Result<u64, cleanweb_store::StoreError> {
    Ok(state
        .store
        .cases_with_url(domain, 1000)
        .await?
        .iter()
        .filter(|c| {
            c.url
                .as_deref()
                .and_then(cleanweb_url::registrable_domain)
                .as_deref()
                == Some(domain)
        })
        .map(|c| c.report_count)
        .sum())
}

pub async fn list(
    State(state): State<AppState>,
    u: ConsoleUser,
    super::ConsoleQuery(p): super::ConsoleQuery<ListParams>,
) -> Response {
    if let Err(r) = u.require(READERS) {
        return r.into_response();
    }
    let status: Option<SiteStatus> = p.status.as_deref().and_then(|s| s.parse().ok());
    let only_overdue = p.overdue.as_deref() == Some("1");
    let q = p.q.as_deref().unwrap_or("").trim().to_ascii_lowercase();
    let now = cleanweb_store::now_ms();
    let latest = match state.store.sites(status).await {
        Ok(s) => s,
        Err(e) => return store_error(&u, e),
    };
    let matching: Vec<_> = latest
        .into_iter()
        .filter(|e| q.is_empty() || e.domain.contains(&q))
        .filter(|e| !only_overdue || is_overdue(e, now))
        .collect();
    let overdue_total = matching.iter().filter(|e| is_overdue(e, now)).count();
    let page = p.page.unwrap_or(0);
    let total = matching.len();
    let mut rows = Vec::new();
    for e in matching.into_iter().skip(page * PAGE).take(PAGE) {
        let history = match state.store.site_history(&e.domain).await {
            Ok(h) => h,
            Err(err) => return store_error(&u, err),
        };
        let since = history
            .iter()
            .rev()
            .find(|h| h.kind == cleanweb_core::SiteEventKind::Status)
            .map_or(e.at_ms, |h| h.at_ms);
        let reports = match report_count(&state, &e.domain).await {
            Ok(n) => n,
            Err(err) => return store_error(&u, err),
        };
        rows.push(SiteRow {
            status: e.status.as_str(),
            since: when(since),
            deadline: e.deadline_ms.map(when),
            overdue: is_overdue(&e, now),
            last_inspection: history
                .iter()
                .rev()
                .find(|h| h.kind == cleanweb_core::SiteEventKind::Inspection)
                .map(|h| when(h.at_ms)),
            proposal: pending_proposal(&e).map(|s| s.as_str()),
            reports,
            domain: e.domain,
        });
    }
    Page::for_user("sites.html", &u)
        .with("rows", &rows)
        .with("total", &total)
        .with("overdue_total", &overdue_total)
        .with("page", &page)
        .with("more", &(total > (page + 1) * PAGE))
        .with("status", &status.map(|s| s.as_str()))
        .with("only_overdue", &only_overdue)
        .with("q", &q)
        .with(
            "statuses",
            &["watch", "warned", "rectification", "closed", "restored"],
        )
        .into_response()
}

#[derive(Serialize)]
struct EventRow {
    at: String,
    status: &'static str,
    inspection: bool,
    proposal: Option<&'static str>,
    actor: String,
    reason: String,
    evidence: Vec<String>,
    deadline: Option<String>,
}

#[derive(Serialize)]
struct DecisionRow {
    id: String,
    at: String,
    verdict: String,
    categories: String,
    url: Option<String>,
}

#[derive(Serialize)]
struct CaseRow {
    id: String,
    decision: Option<String>,
    url: Option<String>,
    category: String,
    status: &'static str,
    reports: u64,
    at: String,
}

fn on_site(url: Option<&str>, domain: &str) -> bool {
    url.and_then(cleanweb_url::registrable_domain).as_deref() == Some(domain)
}

pub async fn site(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(domain): Path<String>,
    super::ConsoleQuery(notice): super::ConsoleQuery<Notice>,
) -> Response {
    if let Err(r) = u.require(READERS) {
        return r.into_response();
    }
    let Some(domain) = cleanweb_url::registrable_domain(&domain) else {
        return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]);
    };
    let history = match state.store.site_history(&domain).await {
        Ok(h) if !h.is_empty() => h,
        Ok(_) => return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]),
        Err(e) => return store_error(&u, e),
    };
    let on_domain = cleanweb_store::CaptureQuery {
        domain: Some(domain.clone()),
        ..Default::default()
    };
    let (decisions, cases, captures) = match tokio::try_join!(
        state.store.decisions_with_url(&domain, SHOWN),
        state.store.cases_with_url(&domain, SHOWN),
        state.store.captures(&on_domain, 10_000),
    ) {
        Ok(x) => x,
        Err(e) => return store_error(&u, e),
    };
    let latest = history.last().cloned();
    let now = cleanweb_store::now_ms();
    let events: Vec<EventRow> = history
        .iter()
        .rev()
        .map(|e| EventRow {
            at: when(e.at_ms),
            status: e.status.as_str(),
            inspection: e.kind == cleanweb_core::SiteEventKind::Inspection,
            proposal: e.proposal.map(|p| p.as_str()),
            actor: e.actor.clone(),
            reason: e.reason.clone(),
            evidence: e.evidence.clone(),
            deadline: e.deadline_ms.map(when),
        })
        .collect();
    let decisions: Vec<DecisionRow> = decisions
        .into_iter()
        .filter(|d| on_site(d.url.as_deref(), &domain))
        .map(|d| DecisionRow {
            id: d.id.to_string(),
            at: when(d.created_at_ms),
            verdict: d.decision.verdict.to_string(),
            categories: d
                .decision
                .labels
                .iter()
                .map(|l| l.category.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            url: d.url,
        })
        .collect();
    let cases: Vec<CaseRow> = cases
        .into_iter()
        .filter(|c| on_site(c.url.as_deref(), &domain))
        .map(|c| CaseRow {
            id: c.id.to_string(),
            decision: c.decision_id.map(|d| d.to_string()),
            url: c.url,
            category: c.category,
            status: c.status.as_str(),
            reports: c.report_count,
            at: when(c.created_at_ms),
        })
        .collect();
    let status = latest.as_ref().map(|e| e.status);
    let next: Vec<&str> = ["watch", "warned", "rectification", "closed", "restored"]
        .into_iter()
        .filter(|s| {
            s.parse::<SiteStatus>()
                .is_ok_and(|n| status.is_some_and(|c| c.can_become(n)))
        })
        .collect();
    Page::for_user("site.html", &u)
        .with("domain", &domain)
        .with("status", &status.map(|s| s.as_str()))
        .with(
            "deadline",
            &latest.as_ref().and_then(|e| e.deadline_ms).map(when),
        )
        .with(
            "overdue",
            &latest.as_ref().is_some_and(|e| is_overdue(e, now)),
        )
        .with(
            "proposal",
            &latest
                .as_ref()
                .and_then(pending_proposal)
                .map(|s| s.as_str()),
        )
        .with("events", &events)
        .with("decisions", &decisions)
        .with("cases", &cases)
        .with("captures", &captures.len())
        .with(
            "capture_bytes",
            &captures.iter().map(|c| c.bytes).sum::<u64>(),
        )
        .with("next", &next)
        .with("can_export", &state.evidence_key.is_some())
        .with("notice", &notice.notice)
        .into_response()
}

#[derive(Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: Option<String>,
    status: Option<String>,
    reason: Option<String>,
    deadline: Option<String>,
}

fn back(domain: &str, notice: Option<&str>) -> Response {
    let mut to = format!("/console/sites/{domain}");
    if let Some(n) = notice {
        to.push_str("?notice=");
        to.push_str(n);
    }
    Redirect::to(&to).into_response()
}

fn site_error(u: &ConsoleUser, e: SiteError) -> Response {
    match e {
        SiteError::Store(e) => store_error(u, e),
        SiteError::NoDeadline => page_error(
            u.locale,
            StatusCode::BAD_REQUEST,
            "error_site_deadline",
            &[],
        ),
        e => page_error(
            u.locale,
            StatusCode::CONFLICT,
            "error_site_refused",
            &[("why", &e.to_string())],
        ),
    }
}

/// The reason given, trimmed and bounded; `None` if there is none.
fn reason_of(reason: Option<&str>) -> Option<String> {
    reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(2000).collect())
}

/// A server started without a data directory keeps no registry lists.
fn unavailable(u: &ConsoleUser) -> Response {
    page_error(
        u.locale,
        StatusCode::SERVICE_UNAVAILABLE,
        "error_store",
        &[],
    )
}

fn no_reason(u: &ConsoleUser) -> Response {
    page_error(u.locale, StatusCode::BAD_REQUEST, "error_site_reason", &[])
}

pub async fn change(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(domain): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    if let Err(r) = u.check_form(f.csrf.as_deref(), ADMINS) {
        return r.into_response();
    }
    let Some(dir) = state.data_dir.clone() else {
        return unavailable(&u);
    };
    let Some(reason) = reason_of(f.reason.as_deref()) else {
        return no_reason(&u);
    };
    let Some(Ok(status)) = f.status.as_deref().map(str::parse::<SiteStatus>) else {
        return page_error(u.locale, StatusCode::BAD_REQUEST, "error_not_found", &[]);
    };
    let deadline_ms = match f
        .deadline
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(d) => match cleanweb_service::time::parse_time(d) {
            Ok(ms) => Some(ms),
            Err(_) => {
                return page_error(
                    u.locale,
                    StatusCode::BAD_REQUEST,
                    "error_site_deadline",
                    &[],
                );
            }
        },
        None => None,
    };
    let change = Change {
        site: domain.clone(),
        status,
        actor: u.actor(),
        reason,
        evidence: Vec::new(),
        deadline_ms,
    };
    match cleanweb_service::sites::change_status(state.store.as_ref(), &dir, change).await {
        Ok(e) => back(&e.domain, None),
        Err(e) => site_error(&u, e),
    }
}

#[derive(Deserialize)]
pub struct ReasonForm {
    csrf: Option<String>,
    reason: Option<String>,
}

pub async fn confirm(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(domain): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Response {
    if let Err(r) = u.check_form(f.csrf.as_deref(), ADMINS) {
        return r.into_response();
    }
    let Some(dir) = state.data_dir.clone() else {
        return unavailable(&u);
    };
    let Some(reason) = reason_of(f.reason.as_deref()) else {
        return no_reason(&u);
    };
    match cleanweb_service::sites::confirm(state.store.as_ref(), &dir, &domain, &u.actor(), &reason)
        .await
    {
        Ok(e) => back(&e.domain, None),
        Err(e) => site_error(&u, e),
    }
}

/// Sites this process is re-inspecting from the console: a second click
/// while a crawl runs starts no second crawl.
static INSPECTING: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<String>>> =
    std::sync::LazyLock::new(Default::default);

/// Takes a site off [`INSPECTING`] when its crawl ends, however it ends.
struct Inspecting(String);

impl Drop for Inspecting {
    fn drop(&mut self) {
        if let Ok(mut set) = INSPECTING.lock() {
            set.remove(&self.0);
        }
    }
}

/// Starts a re-inspection in the background (a crawl takes minutes); its
/// event appears in the history when it is done.
pub async fn inspect(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(domain): Path<String>,
    Form(f): Form<super::CsrfOnly>,
) -> Response {
    if let Err(r) = u.check_form(f.csrf.as_deref(), ADMINS) {
        return r.into_response();
    }
    let Some(dir) = state.data_dir.clone() else {
        return unavailable(&u);
    };
    let Some(domain) = cleanweb_url::registrable_domain(&domain) else {
        return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]);
    };
    match state.store.site_history(&domain).await {
        Ok(h) if !h.is_empty() => {}
        Ok(_) => return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]),
        Err(e) => return store_error(&u, e),
    }
    let fresh = INSPECTING
        .lock()
        .map(|mut set| set.insert(domain.clone()))
        .unwrap_or(false);
    if !fresh {
        return back(&domain, Some("inspecting"));
    }
    let running = Inspecting(domain.clone());
    let (store, engine, actor, site) = (
        state.store.clone(),
        state.engine.load_full(),
        u.actor(),
        domain.clone(),
    );
    tokio::spawn(async move {
        let _running = running;
        let options = cleanweb_service::sites::InspectOptions::default();
        if let Err(e) =
            cleanweb_service::sites::inspect(store.as_ref(), engine, &dir, &site, &actor, &options)
                .await
        {
            tracing::warn!(%site, error = %e, "re-inspection from the console failed");
        }
    });
    back(&domain, Some("inspecting"))
}

/// The site's signed evidence bundle (admins; the export is audited).
pub async fn bundle(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(domain): Path<String>,
) -> Response {
    if let Err(r) = u.require(ADMINS) {
        return r.into_response();
    }
    crate::evidence::stream_bundle(
        &state,
        cleanweb_service::evidence::Subject::Site(domain),
        &u.actor(),
    )
    .await
    .unwrap_or_else(|p| {
        let key = if p.status == StatusCode::NOT_FOUND.as_u16() {
            "error_not_found"
        } else {
            "error_store"
        };
        page_error(
            u.locale,
            StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            key,
            &[],
        )
    })
}

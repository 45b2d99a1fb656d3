//! The console's other pages: statistics and the audit log (auditors and
//! admins), webhook deliveries and lexicon suggestions (admins), and
//! preferences (everyone).

use std::collections::BTreeMap;

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cleanweb_core::Verdict;
use cleanweb_core::auth::UserRole;
use cleanweb_core::review::Outcome;
use cleanweb_store::{ReviewRecord, now_ms};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::session::ConsoleUser;
use super::{CsrfOnly, Page, audit, page_error, store_error};
use crate::AppState;

const AUDITORS: &[UserRole] = &[UserRole::Admin, UserRole::Auditor];
const ADMINS: &[UserRole] = &[UserRole::Admin];

pub async fn home(u: ConsoleUser) -> Response {
    let to = if u.user.role == UserRole::Auditor {
        "/console/stats"
    } else {
        "/console/queue"
    };
    Redirect::to(to).into_response()
}

#[derive(Deserialize)]
pub struct PrefsForm {
    csrf: Option<String>,
    locale: Option<String>,
    show_media: Option<String>,
}

pub async fn prefs(
    State(state): State<AppState>,
    u: ConsoleUser,
    Form(f): Form<PrefsForm>,
) -> Response {
    if let Err(r) = u.check_csrf(f.csrf.as_deref()) {
        return r.into_response();
    }
    let locale = f
        .locale
        .as_deref()
        .filter(|l| super::i18n::LOCALES.contains(l));
    let show = f.show_media.as_deref() == Some("on");
    if let Err(e) = state.store.set_user_prefs(&u.user.name, locale, show).await {
        return store_error(&u, e);
    }
    Redirect::to("/console").into_response()
}

#[derive(Deserialize)]
pub struct StatsParams {
    days: Option<u32>,
}

/// The `p`-th percentile (0..=100) of sorted values, nearest rank.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) => {
            let s = ms.max(0) / 1000;
            if s < 120 {
                format!("{s} s")
            } else if s < 7200 {
                format!("{} min", s / 60)
            } else {
                format!("{:.1} h", s as f64 / 3600.0)
            }
        }
    }
}

#[derive(Serialize, Default)]
struct ReviewerStats {
    name: String,
    decisions: u64,
    violations: u64,
    not_violations: u64,
    escalations: u64,
}

/// What the statistics page shows, computed from reviews and decisions in a
/// window.
#[derive(Serialize, Default, Debug, PartialEq)]
pub struct Stats {
    pub reviews: u64,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    /// Reviews of machine blocks judged not a violation (false positives).
    pub false_positives: u64,
    /// Of reviewed machine blocks, the share overturned, in percent.
    pub overturn_percent: Option<f64>,
    /// Of reviewed `review` decisions, the share found a violation.
    pub confirm_percent: Option<f64>,
}

pub fn review_stats(reviews: &[ReviewRecord]) -> Stats {
    // Time to decision counts each item's first final review.
    let mut first: BTreeMap<Uuid, i64> = BTreeMap::new();
    for r in reviews.iter().filter(|r| r.outcome != Outcome::Escalate) {
        first
            .entry(r.decision_id)
            .or_insert(r.at_ms - r.decided_at_ms);
    }
    let mut times: Vec<i64> = first.into_values().collect();
    times.sort_unstable();
    let final_of = |v: Verdict| {
        reviews
            .iter()
            .filter(move |r| r.machine_verdict == v && r.outcome != Outcome::Escalate)
    };
    let blocks = final_of(Verdict::Block).count() as u64;
    let fp = final_of(Verdict::Block)
        .filter(|r| r.outcome == Outcome::NotViolation)
        .count() as u64;
    let reviewed = final_of(Verdict::Review).count() as u64;
    let confirmed = final_of(Verdict::Review)
        .filter(|r| r.outcome == Outcome::Violation)
        .count() as u64;
    let pct = |a: u64, b: u64| (b > 0).then(|| (a as f64 * 1000.0 / b as f64).round() / 10.0);
    Stats {
        reviews: reviews.len() as u64,
        p50_ms: percentile(&times, 50),
        p95_ms: percentile(&times, 95),
        false_positives: fp,
        overturn_percent: pct(fp, blocks),
        confirm_percent: pct(confirmed, reviewed),
    }
}

/// Reviews the statistics page reads (oldest first in its window), so the
/// page stays quick; past it the page says its figures are partial.
const MAX_STATS_REVIEWS: u32 = 200_000;

pub async fn stats(
    State(state): State<AppState>,
    u: ConsoleUser,
    super::ConsoleQuery(p): super::ConsoleQuery<StatsParams>,
) -> Response {
    if let Err(r) = u.require(AUDITORS) {
        return r.into_response();
    }
    let days = p.days.unwrap_or(30).clamp(1, 366);
    let since = now_ms() - i64::from(days) * 86_400_000;
    let reviews = match state.store.reviews_since(since, MAX_STATS_REVIEWS).await {
        Ok(r) => r,
        Err(e) => return store_error(&u, e),
    };
    let (open, escalated) = match state
        .store
        .queue_counts(state.console.review.block_sample_per_10k())
        .await
    {
        Ok(c) => c,
        Err(e) => return store_error(&u, e),
    };
    let volume = match state.store.decision_volume(since, i64::MAX).await {
        Ok(v) => v,
        Err(e) => return store_error(&u, e),
    };
    let per_day = match state.store.decisions_per_day(since).await {
        Ok(d) => d,
        Err(e) => return store_error(&u, e),
    };
    let s = review_stats(&reviews);
    let mut per_reviewer: BTreeMap<String, ReviewerStats> = BTreeMap::new();
    for r in &reviews {
        let e = per_reviewer
            .entry(r.reviewer.clone())
            .or_insert_with(|| ReviewerStats {
                name: r.reviewer.clone(),
                ..Default::default()
            });
        e.decisions += 1;
        match r.outcome {
            Outcome::Violation => e.violations += 1,
            Outcome::NotViolation => e.not_violations += 1,
            Outcome::Escalate => e.escalations += 1,
        }
    }
    let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_source: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for (source, cats, verdict, n) in volume {
        for c in cats.split_whitespace() {
            *by_category.entry(c.to_owned()).or_default() += n;
        }
        let slot = match verdict.as_str() {
            "allow" => 0,
            "review" => 1,
            _ => 2,
        };
        by_source.entry(source).or_default()[slot] += n;
    }
    use cleanweb_service::compliance::{Count, svg_bars};
    let day = |ms: i64| cleanweb_service::time::format_ms(ms)[..10].to_owned();
    let mut reviews_per_day: BTreeMap<i64, u64> = BTreeMap::new();
    for r in &reviews {
        *reviews_per_day
            .entry(r.at_ms / 86_400_000 * 86_400_000)
            .or_default() += 1;
    }
    let count = |name: String, count: u64| Count { name, count };
    let chart_days = svg_bars(
        &super::message(u.locale, "stats_per_day", &[]),
        &per_day
            .iter()
            .map(|(d, n, _)| count(day(*d), *n))
            .collect::<Vec<_>>(),
    );
    let chart_flagged = svg_bars(
        &super::message(u.locale, "stats_flagged_per_day", &[]),
        &per_day
            .iter()
            .map(|(d, _, f)| count(day(*d), *f))
            .collect::<Vec<_>>(),
    );
    let chart_reviews = svg_bars(
        &super::message(u.locale, "stats_reviews_per_day", &[]),
        &reviews_per_day
            .iter()
            .map(|(d, n)| count(day(*d), *n))
            .collect::<Vec<_>>(),
    );
    let chart_reviewers = svg_bars(
        &super::message(u.locale, "stats_per_reviewer", &[]),
        &per_reviewer
            .values()
            .map(|r| count(r.name.clone(), r.decisions))
            .collect::<Vec<_>>(),
    );
    Page::for_user("stats.html", &u)
        .with_markup("chart_days", chart_days)
        .with_markup("chart_flagged", chart_flagged)
        .with_markup("chart_reviews", chart_reviews)
        .with_markup("chart_reviewers", chart_reviewers)
        .with("capped", &(reviews.len() >= MAX_STATS_REVIEWS as usize))
        .with("max_reviews", &MAX_STATS_REVIEWS)
        .with("days", &days)
        .with("open", &open)
        .with("escalated", &escalated)
        .with("reviews", &s.reviews)
        .with("p50", &duration(s.p50_ms))
        .with("p95", &duration(s.p95_ms))
        .with("false_positives", &s.false_positives)
        .with("overturn", &s.overturn_percent)
        .with("confirm", &s.confirm_percent)
        .with("reviewers", &per_reviewer.into_values().collect::<Vec<_>>())
        .with("by_category", &by_category)
        .with("by_source", &by_source)
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct AuditParams {
    before: Option<String>,
    after: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    subject: Option<String>,
    /// A date or time (from).
    since: Option<String>,
    /// A date or time (to, not included).
    until: Option<String>,
}

/// Rows on one audit page.
const AUDIT_PAGE: u32 = 100;

#[derive(Serialize)]
struct AuditRow {
    seq: u64,
    at: String,
    actor: String,
    action: String,
    subject: String,
    /// The subject is a decision the reader may open.
    item: bool,
    details: String,
    hash: String,
}

/// A filter value, trimmed, `None` if empty.
fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.chars().take(200).collect())
}

pub async fn audit_page(
    state: &AppState,
    u: &ConsoleUser,
    p: &AuditParams,
) -> Result<Page, Response> {
    let bad = |()| page_error(u.locale, StatusCode::BAD_REQUEST, "error_bad_query", &[]);
    let number = |v: &Option<String>| -> Result<Option<u64>, ()> {
        given(v).map(|s| s.parse::<u64>().map_err(drop)).transpose()
    };
    let time = |v: &Option<String>| -> Result<Option<i64>, ()> {
        given(v)
            .map(|s| cleanweb_service::time::parse_time(&s).map_err(drop))
            .transpose()
    };
    let q = cleanweb_store::AuditQuery {
        before: number(&p.before).map_err(bad)?,
        after: number(&p.after).map_err(bad)?,
        actor: given(&p.actor),
        action: given(&p.action),
        subject: given(&p.subject),
        since_ms: time(&p.since).map_err(bad)?,
        until_ms: time(&p.until).map_err(bad)?,
        limit: AUDIT_PAGE,
    };
    let events = state
        .store
        .audit_search(&q)
        .await
        .map_err(|e| store_error(u, e))?;
    // Older: below this page's last row; newer: above its first. Each is
    // offered only when there is such a row.
    let (newest, oldest) = (events.first().map(|e| e.seq), events.last().map(|e| e.seq));
    let full = events.len() == AUDIT_PAGE as usize;
    let older = oldest.filter(|&o| o > 1 && (full || q.after.is_some()));
    let newer = newest.filter(|_| q.before.is_some() || (q.after.is_some() && full));
    let rows: Vec<AuditRow> = events
        .into_iter()
        .map(|e| AuditRow {
            seq: e.seq,
            at: super::when(e.at_ms),
            item: e.event.action.starts_with("review.")
                || e.event.action.starts_with("webhook.")
                || e.event.action == "report.disclose",
            actor: e.event.actor,
            action: e.event.action,
            subject: e.event.subject,
            details: e.event.details.to_string(),
            hash: e.hash.chars().take(12).collect(),
        })
        .collect();
    let keep = |k: &str, v: &Option<String>| {
        given(v).map(|v| {
            format!(
                "&{k}={}",
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            )
        })
    };
    let filters: String = [
        keep("actor", &p.actor),
        keep("action", &p.action),
        keep("subject", &p.subject),
        keep("since", &p.since),
        keep("until", &p.until),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(Page::for_user("audit.html", u)
        .with("rows", &rows)
        .with("older", &older)
        .with("newer", &newer)
        .with("filters", &filters)
        .with("actor", &given(&p.actor))
        .with("action", &given(&p.action))
        .with("subject", &given(&p.subject))
        .with("since", &given(&p.since))
        .with("until", &given(&p.until)))
}

pub async fn audit_log(
    State(state): State<AppState>,
    u: ConsoleUser,
    super::ConsoleQuery(p): super::ConsoleQuery<AuditParams>,
) -> Response {
    if let Err(r) = u.require(AUDITORS) {
        return r.into_response();
    }
    match audit_page(&state, &u, &p).await {
        Ok(page) => page.into_response(),
        Err(r) => r,
    }
}

#[derive(Serialize)]
struct DeliveryRow {
    id: String,
    webhook: String,
    subject: String,
    status: String,
    attempts: u32,
    last_error: Option<String>,
    created: String,
}

pub async fn webhooks(State(state): State<AppState>, u: ConsoleUser) -> Response {
    if let Err(r) = u.require(ADMINS) {
        return r.into_response();
    }
    let rows = |ds: Vec<cleanweb_store::Delivery>| -> Vec<DeliveryRow> {
        ds.into_iter()
            .map(|d| DeliveryRow {
                id: d.id.to_string(),
                webhook: d.webhook,
                subject: d.subject,
                status: d.status,
                attempts: d.attempts,
                last_error: d.last_error,
                created: super::when(d.created_at_ms),
            })
            .collect()
    };
    let dead = match state.store.deliveries(Some("dead"), 500).await {
        Ok(d) => rows(d),
        Err(e) => return store_error(&u, e),
    };
    let recent = match state.store.deliveries(None, 100).await {
        Ok(d) => rows(d),
        Err(e) => return store_error(&u, e),
    };
    let configured = state
        .console
        .webhooks
        .as_ref()
        .map(|s| s.names())
        .unwrap_or_default();
    Page::for_user("webhooks.html", &u)
        .with("dead", &dead)
        .with("recent", &recent)
        .with("configured", &configured)
        .into_response()
}

pub async fn retry_webhook(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Err(r) = u.check_form(f.csrf.as_deref(), ADMINS) {
        return r.into_response();
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]);
    };
    match state.store.retry_delivery(id).await {
        Ok(true) => {
            audit(
                &state,
                &u.actor(),
                "webhook.retry",
                &id.to_string(),
                serde_json::json!({}),
            )
            .await;
            if let Some(s) = &state.console.webhooks {
                s.wake();
            }
            Redirect::to("/console/webhooks").into_response()
        }
        Ok(false) => page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]),
        Err(e) => store_error(&u, e),
    }
}

#[derive(Deserialize)]
pub struct DiscloseForm {
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    decision: Option<String>,
}

/// Opens a reporter's sealed contact for an admin, with a reason, and
/// writes the disclosure to the audit log before showing anything.
pub async fn disclose(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(id): Path<String>,
    Form(f): Form<DiscloseForm>,
) -> Response {
    if let Err(r) = u.check_form(f.csrf.as_deref(), ADMINS) {
        return r.into_response();
    }
    let reason: String = f.reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return page_error(u.locale, StatusCode::BAD_REQUEST, "error_need_reason", &[]);
    }
    let Some(rs) = state.reports.clone() else {
        return page_error(
            u.locale,
            StatusCode::SERVICE_UNAVAILABLE,
            "error_no_key",
            &[],
        );
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]);
    };
    let report = match state.store.report(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]),
        Err(e) => return store_error(&u, e),
    };
    let Some(sealed) = &report.contact else {
        return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]);
    };
    let contact = match rs.key.open(&id.to_string(), sealed) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(report = %id, error = %e, "a sealed contact did not open");
            return page_error(
                u.locale,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error_no_key",
                &[],
            );
        }
    };
    // Audited first: if the log cannot be written, nothing is shown.
    let event = cleanweb_core::AuditEvent {
        actor: u.actor(),
        action: "report.disclose".into(),
        subject: id.to_string(),
        details: serde_json::json!({"reason": reason, "fields": contact_fields(&contact)}),
    };
    if let Err(e) = state.store.append_audit(&event).await {
        return store_error(&u, e);
    }
    let mut resp = Page::for_user("disclosure.html", &u)
        .with("contact", &contact)
        .with("reason", &reason)
        .with(
            "decision",
            &f.decision.filter(|d| Uuid::parse_str(d).is_ok()),
        )
        .into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store, private"),
    );
    resp
}

/// Which fields a contact has (for the audit log: never the values).
pub fn contact_fields(c: &cleanweb_reports::Contact) -> Vec<&'static str> {
    [
        ("name", c.name.is_some()),
        ("phone", c.phone.is_some()),
        ("email", c.email.is_some()),
        ("account", c.account.is_some()),
    ]
    .into_iter()
    .filter(|(_, has)| *has)
    .map(|(n, _)| n)
    .collect()
}

#[derive(Serialize)]
struct RewardRow {
    id: i64,
    case: String,
    decision: Option<String>,
    category: String,
    amount: String,
    currency: String,
    capped: bool,
    status: String,
    paid_by: Option<String>,
    created: String,
}

pub async fn rewards(State(state): State<AppState>, u: ConsoleUser) -> Response {
    if let Err(r) = u.require(ADMINS) {
        return r.into_response();
    }
    let rewards = match state.store.rewards(None).await {
        Ok(r) => r,
        Err(e) => return store_error(&u, e),
    };
    let mut rows = Vec::with_capacity(rewards.len());
    for r in rewards {
        let decision = match state.store.case(r.case_id).await {
            Ok(c) => c.and_then(|c| c.decision_id).map(|d| d.to_string()),
            Err(e) => return store_error(&u, e),
        };
        rows.push(RewardRow {
            id: r.id,
            case: r.case_id.to_string(),
            decision,
            category: r.category,
            amount: cleanweb_core::rewards::format_amount(r.amount),
            currency: r.currency,
            capped: r.capped,
            status: r.status,
            paid_by: r.paid_by,
            created: super::when(r.created_at_ms),
        });
    }
    Page::for_user("rewards.html", &u)
        .with("rows", &rows)
        .into_response()
}

pub async fn reward_paid(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Err(r) = u.check_form(f.csrf.as_deref(), ADMINS) {
        return r.into_response();
    }
    match state.store.mark_reward_paid(id, &u.user.name).await {
        Ok(true) => {
            audit(
                &state,
                &u.actor(),
                "reward.paid",
                &id.to_string(),
                serde_json::json!({}),
            )
            .await;
            Redirect::to("/console/rewards").into_response()
        }
        Ok(false) => page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]),
        Err(e) => store_error(&u, e),
    }
}

#[derive(Serialize)]
struct SuggestionRow {
    id: i64,
    term: String,
    category: &'static str,
    decision: Option<String>,
    by: String,
    at: String,
    status: String,
    severity: Option<String>,
    decided_by: Option<String>,
    /// The lexicon format can hold it (else it can only be dismissed).
    acceptable: bool,
}

pub async fn suggestions(State(state): State<AppState>, u: ConsoleUser) -> Response {
    if let Err(r) = u.require(ADMINS) {
        return r.into_response();
    }
    let rows: Vec<SuggestionRow> = match state.store.lexicon_suggestions(500).await {
        Ok(s) => s
            .into_iter()
            .map(|r| SuggestionRow {
                id: r.id,
                acceptable: cleanweb_engine::text::lexicon_safe(&r.suggestion.term),
                term: r.suggestion.term,
                category: r.suggestion.category.as_str(),
                decision: r.suggestion.decision_id.map(|d| d.to_string()),
                by: r.suggestion.suggested_by,
                at: super::when(r.suggestion.at_ms),
                status: r.status,
                severity: r.severity,
                decided_by: r.decided_by,
            })
            .collect(),
        Err(e) => return store_error(&u, e),
    };
    Page::for_user("suggestions.html", &u)
        .with("rows", &rows)
        .into_response()
}

#[derive(Deserialize)]
pub struct SuggestionForm {
    csrf: Option<String>,
    /// `block`, `review` (accept with that severity) or `dismiss`.
    outcome: String,
}

/// An admin accepts a suggested term into the store's lexicon, or
/// dismisses it. Accepting reloads the engine at once (audited, like any
/// reload); other nodes take the term on their next reload.
pub async fn decide_suggestion(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(id): Path<i64>,
    Form(f): Form<SuggestionForm>,
) -> Response {
    use cleanweb_store::SuggestionOutcome;
    if let Err(r) = u.check_form(f.csrf.as_deref(), ADMINS) {
        return r.into_response();
    }
    let outcome = match f.outcome.as_str() {
        "block" => SuggestionOutcome::Accept { block: true },
        "review" => SuggestionOutcome::Accept { block: false },
        "dismiss" => SuggestionOutcome::Dismiss,
        _ => return page_error(u.locale, StatusCode::BAD_REQUEST, "error_bad_form", &[]),
    };
    let pending = match state.store.suggestion(id).await {
        Ok(s) => s.filter(|r| r.status == "pending"),
        Err(e) => return store_error(&u, e),
    };
    let Some(pending) = pending else {
        return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]);
    };
    let accepting = outcome != SuggestionOutcome::Dismiss;
    if accepting && !cleanweb_engine::text::lexicon_safe(&pending.suggestion.term) {
        return page_error(u.locale, StatusCode::BAD_REQUEST, "error_bad_term", &[]);
    }
    let event = cleanweb_core::AuditEvent {
        actor: u.actor(),
        action: if accepting {
            "lexicon.accept".into()
        } else {
            "lexicon.dismiss".into()
        },
        subject: pending.suggestion.term.clone(),
        details: serde_json::json!({
            "suggestion": id,
            "category": pending.suggestion.category.as_str(),
            "severity": f.outcome,
            "suggested_by": pending.suggestion.suggested_by,
        }),
    };
    match state
        .store
        .decide_suggestion(id, outcome, &u.user.name, &event)
        .await
    {
        Ok(Some(_)) => {}
        Ok(None) => return page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]),
        Err(e) => return store_error(&u, e),
    }
    if accepting && let Err(e) = state.reload_audited(&u.actor()).await {
        // The term is accepted and stays so; it takes effect on the next
        // reload that succeeds.
        tracing::error!(error = %e, "reload after accepting a term failed");
        return page_error(
            u.locale,
            StatusCode::UNPROCESSABLE_ENTITY,
            "error_reload",
            &[("error", &e)],
        );
    }
    axum::response::Redirect::to("/console/suggestions").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(outcome: Outcome, machine: Verdict, wait_ms: i64, id: u128) -> ReviewRecord {
        ReviewRecord {
            id: 0,
            decision_id: Uuid::from_u128(id),
            reviewer: "r".into(),
            outcome,
            category: None,
            note: String::new(),
            machine_verdict: machine,
            decided_at_ms: 0,
            at_ms: wait_ms,
        }
    }

    #[test]
    fn stats_count_first_final_reviews_and_overturns() {
        let rs = vec![
            review(Outcome::Escalate, Verdict::Review, 1, 1),
            review(Outcome::Violation, Verdict::Review, 10_000, 1),
            review(Outcome::NotViolation, Verdict::Review, 20_000, 2),
            review(Outcome::NotViolation, Verdict::Block, 30_000, 3),
            review(Outcome::Violation, Verdict::Block, 40_000, 4),
        ];
        let s = review_stats(&rs);
        assert_eq!(s.reviews, 5);
        assert_eq!(s.p50_ms, Some(20_000));
        assert_eq!(s.p95_ms, Some(40_000));
        assert_eq!(s.false_positives, 1);
        assert_eq!(s.overturn_percent, Some(50.0));
        assert_eq!(s.confirm_percent, Some(50.0));
        assert_eq!(review_stats(&[]), Stats::default());
        assert_eq!(percentile(&[5], 95), Some(5));
    }
}

#[derive(Deserialize)]
pub struct ComplianceParams {
    month: Option<String>,
    format: Option<String>,
}

/// The month's compliance report (admins and auditors): the standalone
/// page, or its CSV or JSON. The page carries its own styles and inline
/// SVG charts and no script; it is served under a policy that allows
/// exactly that.
pub async fn compliance(
    State(state): State<AppState>,
    u: ConsoleUser,
    super::ConsoleQuery(p): super::ConsoleQuery<ComplianceParams>,
) -> Response {
    use axum::http::{HeaderValue, header};
    use cleanweb_service::compliance::{Month, gather, render_csv, render_html};
    if let Err(r) = u.require(AUDITORS) {
        return r.into_response();
    }
    let label = p.month.unwrap_or_else(|| {
        cleanweb_service::time::format_ms(now_ms())
            .get(..7)
            .unwrap_or("1970-01")
            .to_owned()
    });
    let Ok(month) = Month::parse(&label) else {
        return page_error(u.locale, StatusCode::BAD_REQUEST, "error_month", &[]);
    };
    let report = match gather(
        state.store.as_ref(),
        &month,
        &state.console.review,
        &u.actor(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return store_error(&u, e),
    };
    let (body, kind) = match p.format.as_deref() {
        Some("csv") => (render_csv(&report), "text/csv; charset=utf-8"),
        Some("json") => (
            serde_json::to_string_pretty(&report).unwrap_or_default(),
            "application/json",
        ),
        _ => match render_html(&report) {
            Ok(h) => (h, "text/html; charset=utf-8"),
            Err(e) => return store_error(&u, e),
        },
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

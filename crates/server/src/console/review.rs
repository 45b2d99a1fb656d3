//! The reviewer's pages: the queue, an item with its evidence, the
//! decision and what follows it, and the (blurred) media.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cleanweb_core::auth::UserRole;
use cleanweb_core::review::{Outcome, ReviewState, is_minors, names_minors};
use cleanweb_core::{Category, Evidence, Source};
use cleanweb_store::{ClaimOutcome, DecisionRecord, Queue, QueueQuery, QueueSort, now_ms};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::session::ConsoleUser;
use super::{Page, i18n, page_error, store_error, when};
use crate::AppState;
use cleanweb_service::review::DecideError;

const REVIEWERS: &[UserRole] = &[UserRole::Admin, UserRole::Reviewer];

#[derive(Deserialize, Default)]
pub struct QueueParams {
    queue: Option<String>,
    category: Option<String>,
    source: Option<String>,
    /// `1h`, `1d`, `7d`: only items younger than this.
    age: Option<String>,
    sort: Option<String>,
    done: Option<String>,
    /// For "next": an item the reviewer just skipped, not to be handed back.
    skip: Option<String>,
    /// Search: item id, platform id, content or image hash, receipt, or
    /// words of the URL or text.
    q: Option<String>,
    /// The page, from 0.
    page: Option<u32>,
    /// After a bulk decision: `decided,skipped`.
    bulk: Option<String>,
    /// Sent on after a decision with nothing left to review.
    empty: Option<String>,
    /// With the decided list: only my decisions (`1`).
    mine: Option<String>,
}

/// Rows on one queue page.
const QUEUE_PAGE: u32 = 100;

#[derive(Serialize)]
struct Row {
    id: String,
    priority: i64,
    verdict: &'static str,
    categories: Vec<&'static str>,
    source: &'static str,
    age: String,
    excerpt: String,
    has_image: bool,
    minors: bool,
    claimed_by: Option<String>,
    /// Every item of the group (same content), comma-separated.
    ids: String,
    /// Items in the group.
    count: usize,
    /// For a reported item: what the reporters said, and how many.
    reported: Option<(String, u64)>,
    /// Where review stands (the decided list shows it).
    state: Option<&'static str>,
}

fn age(ms: i64) -> String {
    let s = (now_ms() - ms).max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn categories(r: &DecisionRecord) -> Vec<&'static str> {
    let mut c: Vec<Category> = r.decision.labels.iter().map(|l| l.category).collect();
    c.sort();
    c.dedup();
    c.into_iter().map(Category::as_str).collect()
}

fn excerpt(r: &DecisionRecord) -> String {
    let text = r.text.as_deref().or(r.url.as_deref()).unwrap_or("");
    let mut s: String = text.chars().take(140).collect();
    if text.chars().nth(140).is_some() {
        s.push('…');
    }
    s
}

fn queue_query(state: &AppState, p: &QueueParams, limit: u32) -> QueueQuery {
    QueueQuery {
        queue: match p.queue.as_deref() {
            Some("escalated") => Queue::Escalated,
            Some("decided") => Queue::Decided,
            _ => Queue::Open,
        },
        category: p.category.as_deref().and_then(|c| c.parse().ok()),
        source: p.source.as_deref().and_then(|s| s.parse::<Source>().ok()),
        min_age_ms: None,
        max_age_ms: p.age.as_deref().and_then(|a| match a {
            "1h" => Some(3_600_000),
            "1d" => Some(86_400_000),
            "7d" => Some(7 * 86_400_000),
            _ => None,
        }),
        sort: match p.sort.as_deref() {
            Some("oldest") => QueueSort::Oldest,
            Some("newest") => QueueSort::Newest,
            _ => QueueSort::Priority,
        },
        block_sample_per_10k: state.console.review.block_sample_per_10k(),
        limit,
        offset: 0,
        search: p.q.clone().filter(|q| !q.trim().is_empty()),
        search_ids: Vec::new(),
        reviewer: None,
    }
}

/// The decisions of the report whose receipt `q` is, if it is one.
async fn receipt_decisions(state: &AppState, q: &str) -> Vec<Uuid> {
    let Some(receipt) = cleanweb_reports::normalize_receipt(q) else {
        return Vec::new();
    };
    match state.store.cases_for_receipt(&receipt.hash()).await {
        Ok(Some(cases)) => cases.into_iter().filter_map(|c| c.decision_id).collect(),
        _ => Vec::new(),
    }
}

/// The queue a reviewer asked for (reviewers and admins only).
async fn load_queue(
    state: &AppState,
    u: &ConsoleUser,
    p: &QueueParams,
    limit: u32,
) -> Result<Vec<cleanweb_store::QueueEntry>, Response> {
    u.require(REVIEWERS).map_err(IntoResponse::into_response)?;
    let mut q = queue_query(state, p, limit);
    if let Some(term) = &q.search {
        q.search_ids = receipt_decisions(state, term).await;
    }
    state.store.queue(&q).await.map_err(|e| store_error(u, e))
}

pub async fn queue(
    State(state): State<AppState>,
    u: ConsoleUser,
    super::ConsoleQuery(p): super::ConsoleQuery<QueueParams>,
) -> Response {
    if let Err(r) = u.require(REVIEWERS) {
        return r.into_response();
    }
    let page = p.page.unwrap_or(0).min(10_000);
    let mut q = queue_query(&state, &p, QUEUE_PAGE);
    q.offset = page * QUEUE_PAGE;
    let mine = p.mine.as_deref() == Some("1");
    if mine {
        q.reviewer = Some(u.user.name.clone());
    }
    // Looking back: newest decided first unless asked otherwise.
    if q.queue == Queue::Decided && p.sort.is_none() {
        q.sort = QueueSort::Newest;
    }
    if let Some(term) = &q.search {
        q.search_ids = receipt_decisions(&state, term).await;
    }
    let (entries, total) =
        match tokio::try_join!(state.store.queue(&q), state.store.queue_total(&q)) {
            Ok(x) => x,
            Err(e) => return store_error(&u, e),
        };
    let counts = match state
        .store
        .queue_counts(state.console.review.block_sample_per_10k())
        .await
    {
        Ok(c) => c,
        Err(e) => return store_error(&u, e),
    };
    // Near-identical items (one content hash) on this page are one row,
    // so a spam wave is decided once.
    let mut rows: Vec<Row> = Vec::new();
    let mut by_content: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for e in &entries {
        if let Some(&at) = by_content.get(e.record.content_sha256.as_str()) {
            let row = &mut rows[at];
            row.ids.push(',');
            row.ids.push_str(&e.record.id.to_string());
            row.count += 1;
            continue;
        }
        let reported = if e.record.source == Source::Report {
            match state.store.case_by_decision(e.record.id).await {
                Ok(c) => c.map(|c| (c.category, c.report_count)),
                Err(err) => return store_error(&u, err),
            }
        } else {
            None
        };
        by_content.insert(e.record.content_sha256.as_str(), rows.len());
        rows.push(Row {
            id: e.record.id.to_string(),
            priority: e.priority,
            verdict: e.record.decision.verdict.as_str(),
            categories: categories(&e.record),
            source: e.record.source.as_str(),
            age: age(e.record.created_at_ms),
            excerpt: excerpt(&e.record),
            has_image: e.record.image_sha256.is_some(),
            minors: is_minors(&e.record.decision),
            claimed_by: e
                .claim
                .as_ref()
                .filter(|c| c.reviewer != u.user.name)
                .map(|c| c.reviewer.clone()),
            ids: e.record.id.to_string(),
            count: 1,
            reported,
            state: e.record.review_state.map(|s| s.as_str()),
        });
    }
    let bulk: Option<(u64, u64)> = p.bulk.as_deref().and_then(|b| {
        let (d, s) = b.split_once(',')?;
        Some((d.parse().ok()?, s.parse().ok()?))
    });
    let all_categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let rows_len = entries.len();
    Page::for_user("queue.html", &u)
        .with("bulk", &bulk)
        .with("rows", &rows)
        .with("open_count", &counts.0)
        .with("escalated_count", &counts.1)
        .with("queue", &p.queue.as_deref().unwrap_or("open"))
        .with("category", &p.category)
        .with("source", &p.source)
        .with("age", &p.age)
        .with("sort", &p.sort)
        .with("done", &p.done)
        .with("empty", &p.empty.is_some())
        .with("mine", &mine)
        .with("q", &p.q.as_deref().unwrap_or(""))
        .with("page", &page)
        .with("total", &total)
        .with("first", &(u64::from(q.offset) + 1).min(total))
        .with("last", &(u64::from(q.offset) + rows_len as u64))
        .with("more", &(u64::from(q.offset) + (rows_len as u64) < total))
        .with("all_categories", &all_categories)
        .with("all_sources", &["api", "cli", "sweep", "report"])
        .into_response()
}

/// Claims the first item nobody else holds and opens it.
pub async fn next(
    State(state): State<AppState>,
    u: ConsoleUser,
    super::ConsoleQuery(p): super::ConsoleQuery<QueueParams>,
) -> Response {
    let entries = match load_queue(&state, &u, &p, 50).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    for e in entries {
        if e.claim.as_ref().is_some_and(|c| c.reviewer != u.user.name)
            || p.skip.as_deref() == Some(e.record.id.to_string().as_str())
        {
            continue;
        }
        match state
            .store
            .claim(e.record.id, &u.user.name, claim_ms(&state))
            .await
        {
            Ok(ClaimOutcome::Mine(_)) => {
                let done = p
                    .done
                    .as_deref()
                    .map(|d| {
                        format!(
                            "?done={}",
                            url::form_urlencoded::byte_serialize(d.as_bytes()).collect::<String>()
                        )
                    })
                    .unwrap_or_default();
                return Redirect::to(&format!("/console/items/{}{done}", e.record.id))
                    .into_response();
            }
            Ok(ClaimOutcome::Held(_)) => continue,
            Err(e) => return store_error(&u, e),
        }
    }
    // Nothing left: the queue says so, and what was just recorded.
    match p.done.as_deref() {
        Some(d) => {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("done", d)
                .append_pair("empty", "1")
                .finish();
            Redirect::to(&format!("/console/queue?{q}")).into_response()
        }
        None => Redirect::to("/console/queue?done=empty").into_response(),
    }
}

fn claim_ms(state: &AppState) -> i64 {
    i64::try_from(state.console.review.claim_minutes.max(1) * 60_000).unwrap_or(i64::MAX / 2)
}

/// A piece of the item's text, highlighted where evidence points.
#[derive(Serialize)]
struct Segment {
    text: String,
    hit: Option<String>,
}

/// Cuts `text` at the span evidence of the `text` field (char offsets),
/// merging overlaps, so the template can mark the hits.
fn segments(text: &str, r: &DecisionRecord) -> Vec<Segment> {
    segments_of("text", text, r)
}

/// `text` (the item's field `field`) cut into pieces, the evidence spans
/// of that field highlighted.
fn segments_of(field_name: &str, text: &str, r: &DecisionRecord) -> Vec<Segment> {
    let mut spans: Vec<(usize, usize, String)> = r
        .decision
        .labels
        .iter()
        .flat_map(|l| {
            l.evidence.iter().filter_map(move |e| match e {
                Evidence::Span {
                    field,
                    start,
                    end,
                    term,
                    ..
                } if field == field_name && start < end => {
                    Some((*start, *end, format!("{term} · {}", l.category)))
                }
                _ => None,
            })
        })
        .collect();
    spans.sort();
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while i < spans.len() {
        let (start, mut end, label) = spans[i].clone();
        let start = start.clamp(pos, chars.len());
        let mut labels = vec![label];
        while i + 1 < spans.len() && spans[i + 1].0 < end {
            i += 1;
            end = end.max(spans[i].1);
            labels.push(spans[i].2.clone());
        }
        let end = end.min(chars.len());
        if start > pos {
            out.push(Segment {
                text: chars[pos..start].iter().collect(),
                hit: None,
            });
            pos = start;
        }
        if end > start {
            labels.dedup();
            out.push(Segment {
                text: chars[start..end].iter().collect(),
                hit: Some(labels.join("; ")),
            });
            pos = end;
        }
        i += 1;
    }
    if pos < chars.len() {
        out.push(Segment {
            text: chars[pos..].iter().collect(),
            hit: None,
        });
    }
    out
}

#[derive(Serialize)]
struct LabelView {
    category: &'static str,
    score: String,
    source: String,
}

#[derive(Serialize)]
struct BoxView {
    class: String,
    score: String,
    rect: String,
}

#[derive(Serialize)]
struct HashView {
    bank: String,
    distance: u32,
    entry: String,
}

#[derive(Serialize)]
struct LinkView {
    url: String,
    list: String,
    entry: String,
}

#[derive(Serialize)]
struct HistoryEntry {
    at: String,
    what: String,
}

/// The stored decision a console path names, or the page that says why
/// there is none.
async fn load_record(
    state: &AppState,
    u: &ConsoleUser,
    id: &str,
) -> Result<DecisionRecord, Response> {
    let not_found = || page_error(u.locale, StatusCode::NOT_FOUND, "error_not_found", &[]);
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    match state.store.decision(id).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(not_found()),
        Err(e) => Err(store_error(u, e)),
    }
}

#[derive(Deserialize, Default)]
pub struct ItemParams {
    /// What the reviewer recorded just before (shown as a notice).
    done: Option<String>,
}

pub async fn item(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(id): Path<String>,
    super::ConsoleQuery(ip): super::ConsoleQuery<ItemParams>,
) -> Response {
    // Auditors read an item they audit; they neither decide nor see media.
    if let Err(r) = u.require(&[UserRole::Admin, UserRole::Reviewer, UserRole::Auditor]) {
        return r.into_response();
    }
    let auditor = u.user.role == UserRole::Auditor;
    let record = match load_record(&state, &u, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let id = record.id;
    // Read once: the history, the case panel and the withholding rule all
    // need them.
    let (reviews, case) = match review_context(&state, record.id).await {
        Ok(c) => c,
        Err(e) => return store_error(&u, e),
    };
    let open = record.review_state.is_none_or(ReviewState::is_open);
    let escalated = record.review_state == Some(ReviewState::Escalated);
    let may_decide = !auditor && open && (!escalated || u.user.role == UserRole::Admin);
    // Opening an item one may decide claims it.
    let mut held_by = None;
    if may_decide {
        match state.store.claim(id, &u.user.name, claim_ms(&state)).await {
            Ok(ClaimOutcome::Held(c)) => held_by = Some(c.reviewer),
            Ok(ClaimOutcome::Mine(_)) => {}
            Err(e) => return store_error(&u, e),
        }
    }
    let d = &record.decision;
    let minors = match media_withheld(&state, &record, case.as_ref(), &reviews).await {
        Ok(m) => m,
        Err(e) => return store_error(&u, e),
    };
    let labels: Vec<LabelView> = d
        .labels
        .iter()
        .map(|l| LabelView {
            category: l.category.as_str(),
            score: format!("{:.2}", l.score),
            source: l.source.clone(),
        })
        .collect();
    let mut boxes = Vec::new();
    let mut hashes = Vec::new();
    let mut links = Vec::new();
    let mut other_spans = Vec::new();
    for e in d.labels.iter().flat_map(|l| &l.evidence) {
        match e {
            Evidence::Region { class, score, rect } => boxes.push(BoxView {
                class: class.clone(),
                score: format!("{score:.2}"),
                rect: format!("{} {} {} {}", rect[0], rect[1], rect[2], rect[3]),
            }),
            Evidence::Hash {
                bank,
                distance,
                entry,
            } => hashes.push(HashView {
                bank: bank.clone(),
                distance: *distance,
                entry: entry.clone(),
            }),
            Evidence::VideoHash {
                bank,
                entry,
                query_pct,
                compared_pct,
            } => hashes.push(HashView {
                bank: bank.clone(),
                distance: 0,
                entry: format!("{entry} ({query_pct:.0}% of the item's frames, {compared_pct:.0}% of the banked video's)"),
            }),
            Evidence::Url { url, list, entry } => links.push(LinkView {
                url: url.clone(),
                list: list.clone(),
                entry: entry.clone(),
            }),
            Evidence::Code {
                format,
                payload,
                class,
                rect,
            } => boxes.push(BoxView {
                class: format!("{format} ({class}): {payload}"),
                score: String::new(),
                rect: format!("{} {} {} {}", rect[0], rect[1], rect[2], rect[3]),
            }),
            Evidence::Ocr {
                frame: None,
                text,
                matched,
                term,
                rect,
                ..
            } => boxes.push(BoxView {
                class: format!("text \u{201c}{text}\u{201d}: {matched} ({term})"),
                score: String::new(),
                rect: format!("{} {} {} {}", rect[0], rect[1], rect[2], rect[3]),
            }),
            Evidence::Ocr {
                frame: Some(frame),
                text,
                matched,
                term,
                ..
            } => other_spans.push(format!("frame {frame} text \u{201c}{text}\u{201d}: {matched} ({term})")),
            Evidence::Span {
                field,
                matched,
                term,
                ..
            } if field != "text" && field != "html" => {
                other_spans.push(format!("{field}: {matched} ({term})"))
            }
            Evidence::Span { .. } => {}
            // The frames themselves are not kept yet; their findings are.
            Evidence::Frame {
                time, class, score, ..
            } => other_spans.push(format!("video {time:.1} s: {class} {score:.2}")),
        }
    }
    // Every link the item carries, not only those on a list: where an item
    // points is part of judging it. Listed ones come first, with their hit.
    let canonical = |u: &str| cleanweb_url::canonicalize(u).map(|c| c.to_string()).ok();
    let mut seen: std::collections::HashSet<String> =
        links.iter().filter_map(|l| canonical(&l.url)).collect();
    let found = record.url.iter().cloned().chain(
        record
            .text
            .as_deref()
            .map(cleanweb_url::extract_links)
            .unwrap_or_default()
            .into_iter()
            .map(|l| l.url),
    );
    for url in found.take(100) {
        if seen.insert(canonical(&url).unwrap_or_else(|| url.clone())) {
            links.push(LinkView {
                url,
                list: String::new(),
                entry: String::new(),
            });
        }
    }
    let mut history = vec![HistoryEntry {
        at: when(record.created_at_ms),
        what: i18n::message(
            u.locale,
            "history_machine",
            &[
                (
                    "verdict",
                    &i18n::message(u.locale, &format!("verdict_{}", d.verdict.as_str()), &[]),
                ),
                (
                    "source",
                    &i18n::message(u.locale, &format!("source_{}", record.source.as_str()), &[]),
                ),
            ],
        ),
    }];
    history.extend(reviews.iter().map(|r| HistoryEntry {
        at: when(r.at_ms),
        what: i18n::message(
            u.locale,
            "history_review",
            &[
                ("reviewer", &r.reviewer),
                (
                    "outcome",
                    &i18n::message(u.locale, &format!("outcome_{}", r.outcome), &[]),
                ),
                ("category", r.category.map_or("", |c| c.as_str())),
                ("note", &r.note),
            ],
        ),
    }));
    match state.store.deliveries_for(&id.to_string()).await {
        Ok(ds) => history.extend(ds.into_iter().map(|dl| HistoryEntry {
            at: when(dl.created_at_ms),
            what: i18n::message(
                u.locale,
                "history_webhook",
                &[
                    ("webhook", &dl.webhook),
                    (
                        "status",
                        &i18n::message(u.locale, &format!("webhooks_state_{}", dl.status), &[]),
                    ),
                    ("attempts", &dl.attempts.to_string()),
                ],
            ),
        })),
        Err(e) => return store_error(&u, e),
    }
    let same_content: Vec<String> = match state
        .store
        .decisions_by_content(&record.content_sha256, 20)
        .await
    {
        Ok(rs) => rs
            .into_iter()
            .filter(|r| r.id != id)
            .map(|r| r.id.to_string())
            .collect(),
        Err(e) => return store_error(&u, e),
    };
    let banks: Vec<(String, String)> = match state.store.banks().await {
        Ok(b) => b
            .into_iter()
            .map(|b| (b.name, b.action.to_string()))
            .collect(),
        Err(e) => return store_error(&u, e),
    };
    let case = match case {
        Some(c) => match case_view(&state, c).await {
            Ok(v) => Some(v),
            Err(e) => return store_error(&u, e),
        },
        None => None,
    };
    let text_segments = record.text.as_deref().map(|t| segments(t, &record));
    let html_segments = record
        .html
        .as_deref()
        .map(|h| segments_of("html", h, &record));
    // The category a violation is filed under unless the reviewer picks
    // another: minors whenever anything names it, else the most severe
    // label (then the most confident).
    let top = if minors {
        Some(Category::SexualMinors.as_str())
    } else {
        d.labels
            .iter()
            .max_by(|a, b| {
                cleanweb_core::review::severity(a.category)
                    .cmp(&cleanweb_core::review::severity(b.category))
                    .then(a.score.total_cmp(&b.score))
            })
            .map(|l| l.category.as_str())
    };
    // The item's own fields (user, board, …), shown as given.
    let meta: Vec<(String, String)> = match &d.meta {
        Some(serde_json::Value::Object(m)) => m
            .iter()
            .take(50)
            .map(|(k, v)| {
                let shown = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), shown.chars().take(500).collect())
            })
            .collect(),
        Some(other) => vec![("meta".into(), other.to_string().chars().take(500).collect())],
        None => Vec::new(),
    };
    let all_categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    Page::for_user("item.html", &u)
        .with("id", &id.to_string())
        .with("verdict", d.verdict.as_str())
        .with("client_id", &d.id)
        .with("source", record.source.as_str())
        .with("created", &when(record.created_at_ms))
        .with("url", &record.url)
        .with("state", &record.review_state.map(|s| s.as_str()))
        .with("labels", &labels)
        .with("segments", &text_segments)
        .with("html_segments", &html_segments)
        .with("meta", &meta)
        .with("other_spans", &other_spans)
        .with("has_image", &record.image_sha256.is_some())
        .with("minors", &minors)
        .with("media_hidden", &auditor)
        .with("boxes", &boxes)
        .with("hashes", &hashes)
        .with("links", &links)
        .with("history", &history)
        .with("same_content", &same_content)
        .with("may_decide", &(may_decide && held_by.is_none()))
        .with("held_by", &held_by)
        .with("done", &ip.done)
        .with("escalated", &escalated)
        .with("banks", &banks)
        .with("top_category", &top)
        .with("all_categories", &all_categories)
        .with("warnings", &d.warnings)
        .with("case", &case)
        .into_response()
}

#[derive(Serialize)]
struct CaseView {
    status: String,
    report_count: u64,
    target: String,
    triage_error: Option<String>,
    reports: Vec<ReportView>,
}

/// A report as reviewers see it: never the contact, only whether one was
/// left (admins can disclose it, audited).
#[derive(Serialize)]
struct ReportView {
    id: String,
    category: String,
    description: String,
    at: String,
    first: bool,
    has_contact: bool,
}

async fn case_view(
    state: &AppState,
    case: cleanweb_store::Case,
) -> Result<CaseView, cleanweb_store::StoreError> {
    let reports = state.store.case_reports(case.id).await?;
    Ok(CaseView {
        status: case.status.as_str().to_owned(),
        report_count: case.report_count,
        target: case.url.unwrap_or(case.target),
        triage_error: case.triage_error,
        reports: reports
            .into_iter()
            .map(|r| ReportView {
                id: r.id.to_string(),
                category: r.category,
                description: r.description,
                at: when(r.created_at_ms),
                first: r.id == case.first_report,
                has_contact: r.contact.is_some(),
            })
            .collect(),
    })
}

/// Most items one bulk decision takes.
const MAX_BULK: usize = 500;

/// One decision for many items: the rows a reviewer ticked in the queue
/// (a spam wave, one hash, one site). Each item is claimed and decided on
/// its own through the same desk as a single decision, so each gets its
/// review, its webhooks and its audit event; items someone else holds,
/// escalated items and anything naming minors are left for one-by-one
/// review. The body is read by hand because the form repeats `ids`.
pub async fn bulk(
    State(state): State<AppState>,
    u: ConsoleUser,
    body: axum::body::Bytes,
) -> Response {
    let mut csrf = None;
    let (mut ids, mut outcome, mut category, mut note) = (Vec::new(), None, None, String::new());
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "csrf" => csrf = Some(v.into_owned()),
            // A grouped row carries all its ids, comma-separated.
            "ids" => ids.extend(
                v.split(',')
                    .filter_map(|i| Uuid::parse_str(i.trim()).ok())
                    .take(MAX_BULK),
            ),
            "outcome" => outcome = v.parse::<Outcome>().ok(),
            "category" => category = v.parse::<Category>().ok(),
            "note" => note = v.chars().take(2000).collect(),
            _ => {}
        }
    }
    if let Err(r) = u.check_form(csrf.as_deref(), REVIEWERS) {
        return r.into_response();
    }
    let Some(outcome) = outcome.filter(|o| *o != Outcome::Escalate) else {
        return page_error(u.locale, StatusCode::BAD_REQUEST, "error_bad_form", &[]);
    };
    if outcome == Outcome::Violation && category.is_none() {
        return page_error(
            u.locale,
            StatusCode::BAD_REQUEST,
            "error_need_category",
            &[],
        );
    }
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(MAX_BULK);
    let who = cleanweb_service::review::Reviewer {
        name: u.user.name.clone(),
        actor: u.actor(),
        admin: u.user.role == UserRole::Admin,
    };
    let (mut decided, mut skipped) = (0usize, 0usize);
    for id in ids {
        let record = match state.store.decision(id).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                skipped += 1;
                continue;
            }
            Err(e) => return store_error(&u, e),
        };
        let (reviews, case) = match review_context(&state, id).await {
            Ok(c) => c,
            Err(e) => return store_error(&u, e),
        };
        let minors = match media_withheld(&state, &record, case.as_ref(), &reviews).await {
            Ok(m) => m,
            Err(e) => return store_error(&u, e),
        };
        if minors
            || record.review_state.is_some_and(|s| !s.is_open())
            || record.review_state == Some(ReviewState::Escalated)
        {
            skipped += 1;
            continue;
        }
        match state.store.claim(id, &u.user.name, claim_ms(&state)).await {
            Ok(ClaimOutcome::Mine(_)) => {}
            Ok(ClaimOutcome::Held(_)) => {
                skipped += 1;
                continue;
            }
            Err(e) => return store_error(&u, e),
        }
        let decide = cleanweb_service::review::Decide {
            outcome,
            category,
            note: note.clone(),
            suggest_term: None,
            add_to_bank: None,
            watch_site: false,
        };
        match state.review_desk().decide(&who, &record, decide).await {
            Ok(done) => {
                decided += 1;
                if done.deliveries > 0
                    && let Some(sender) = &state.console.webhooks
                {
                    sender.wake();
                }
            }
            Err(DecideError::Store(e)) => return store_error(&u, e),
            Err(_) => skipped += 1,
        }
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("bulk", &format!("{decided},{skipped}"))
        .finish();
    Redirect::to(&format!("/console/queue?{query}")).into_response()
}

#[derive(Deserialize)]
pub struct DecideForm {
    csrf: Option<String>,
    outcome: String,
    category: Option<String>,
    #[serde(default)]
    note: String,
    /// A bank to add the image's hash to.
    add_to_bank: Option<String>,
    /// "on": put the item URL's domain on the site registry's watch list.
    add_site: Option<String>,
    /// A term to propose for the lexicon.
    suggest_term: Option<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(id): Path<String>,
    Form(f): Form<DecideForm>,
) -> Response {
    if let Err(r) = u.check_form(f.csrf.as_deref(), REVIEWERS) {
        return r.into_response();
    }
    let Ok(outcome) = f.outcome.parse::<Outcome>() else {
        return page_error(u.locale, StatusCode::BAD_REQUEST, "error_bad_form", &[]);
    };
    // Whoever decides an escalation must know why it was raised.
    if outcome == Outcome::Escalate && f.note.trim().is_empty() {
        return page_error(
            u.locale,
            StatusCode::BAD_REQUEST,
            "error_escalate_reason",
            &[],
        );
    }
    let category = match f.category.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => match c.parse::<Category>() {
            Ok(c) => Some(c),
            Err(_) => return page_error(u.locale, StatusCode::BAD_REQUEST, "error_bad_form", &[]),
        },
        None => None,
    };
    let record = match load_record(&state, &u, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let id = record.id;
    let who = cleanweb_service::review::Reviewer {
        name: u.user.name.clone(),
        actor: u.actor(),
        admin: u.user.role == UserRole::Admin,
    };
    let decide = cleanweb_service::review::Decide {
        outcome,
        category,
        note: f.note,
        suggest_term: f.suggest_term,
        add_to_bank: f.add_to_bank,
        watch_site: f.add_site.as_deref() == Some("on"),
    };
    let warnings = match state.review_desk().decide(&who, &record, decide).await {
        Ok(done) => {
            if done.deliveries > 0
                && let Some(sender) = &state.console.webhooks
            {
                sender.wake();
            }
            done.warnings
        }
        Err(DecideError::NeedCategory) => {
            return page_error(
                u.locale,
                StatusCode::BAD_REQUEST,
                "error_need_category",
                &[],
            );
        }
        Err(DecideError::Refused(refusal)) => {
            use cleanweb_store::ReviewRefusal;
            let why = match &refusal {
                ReviewRefusal::NoDecision => i18n::message(u.locale, "error_not_found", &[]),
                ReviewRefusal::Escalated => i18n::message(u.locale, "refused_escalated", &[]),
                ReviewRefusal::AlreadyDecided => i18n::message(u.locale, "refused_decided", &[]),
                ReviewRefusal::ClaimedBy(name) => {
                    i18n::message(u.locale, "refused_claimed", &[("name", name)])
                }
            };
            return page_error(
                u.locale,
                StatusCode::CONFLICT,
                "error_refused",
                &[("why", &why)],
            );
        }
        Err(DecideError::Store(e)) => return store_error(&u, e),
    };
    for w in &warnings {
        tracing::warn!(decision = %id, warning = %w, "a follow-up action failed");
    }
    let done = if warnings.is_empty() {
        id.to_string()
    } else {
        format!("{id}:{}", warnings.join("; "))
    };
    // On to the next item, as the queue would hand it out.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("done", &done)
        .finish();
    Redirect::to(&format!("/console/next?{query}")).into_response()
}

/// An admin takes over an item another reviewer holds (someone left, or
/// sits on it); the takeover is audited with the previous holder.
pub async fn takeover(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(id): Path<String>,
    Form(f): Form<super::CsrfOnly>,
) -> Response {
    if let Err(r) = u.check_form(f.csrf.as_deref(), &[UserRole::Admin]) {
        return r.into_response();
    }
    let record = match load_record(&state, &u, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let holder = match state
        .store
        .claim(record.id, &u.user.name, claim_ms(&state))
        .await
    {
        Ok(ClaimOutcome::Held(c)) => Some(c.reviewer),
        Ok(ClaimOutcome::Mine(_)) => None,
        Err(e) => return store_error(&u, e),
    };
    if let Some(h) = &holder {
        if let Err(e) = state.store.release_claim(record.id, h).await {
            return store_error(&u, e);
        }
        if let Err(e) = state
            .store
            .claim(record.id, &u.user.name, claim_ms(&state))
            .await
        {
            return store_error(&u, e);
        }
        super::audit(
            &state,
            &u.actor(),
            "review.takeover",
            &record.id.to_string(),
            serde_json::json!({"from": h}),
        )
        .await;
    }
    Redirect::to(&format!("/console/items/{}", record.id)).into_response()
}

/// Gives up one's claim on an item without deciding it, so the next
/// reviewer can take it at once rather than when the claim expires.
pub async fn release(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(id): Path<String>,
    Form(f): Form<super::CsrfOnly>,
) -> Response {
    if let Err(r) = u.check_form(f.csrf.as_deref(), REVIEWERS) {
        return r.into_response();
    }
    let record = match load_record(&state, &u, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Err(e) = state.store.release_claim(record.id, &u.user.name).await {
        return store_error(&u, e);
    }
    Redirect::to(&format!("/console/next?skip={}", record.id)).into_response()
}

/// An item's reviews and public-report case.
async fn review_context(
    state: &AppState,
    decision: Uuid,
) -> Result<
    (
        Vec<cleanweb_store::ReviewRecord>,
        Option<cleanweb_store::Case>,
    ),
    cleanweb_store::StoreError,
> {
    Ok((
        state.store.reviews_of(decision).await?,
        state.store.case_by_decision(decision).await?,
    ))
}

/// Whether an item's media must never reach a browser: the machine, the
/// reporter or a reviewer said it involves minors.
fn withheld_by(
    record: &DecisionRecord,
    case: Option<&cleanweb_store::Case>,
    reviews: &[cleanweb_store::ReviewRecord],
) -> bool {
    let machine = record.decision.labels.iter().map(|l| l.category);
    let reported = case.and_then(|c| c.category.parse::<Category>().ok());
    let reviewed = reviews.iter().filter_map(|r| r.category);
    names_minors(machine.chain(reported).chain(reviewed))
}

/// [`withheld_by`], and also when anything else known about the same
/// picture involves minors: it may sit under several decisions (an older
/// one made before its hash was banked, a sibling with the same content).
async fn media_withheld(
    state: &AppState,
    record: &DecisionRecord,
    case: Option<&cleanweb_store::Case>,
    reviews: &[cleanweb_store::ReviewRecord],
) -> Result<bool, cleanweb_store::StoreError> {
    if withheld_by(record, case, reviews) {
        return Ok(true);
    }
    match record.image_sha256.as_deref() {
        Some(sha) => state.store.image_involves_minors(sha).await,
        None => Ok(false),
    }
}

/// The largest side of a picture sent to the console.
const MEDIA_SIDE: u32 = 1024;

/// The item's image, re-encoded as PNG with the detection boxes drawn on
/// it. Never for `sexual.minors`. Re-encoding means the browser only ever
/// gets pixels we decoded under our limits, never the uploaded bytes.
pub async fn media(
    State(state): State<AppState>,
    u: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = u.require(REVIEWERS) {
        return r.into_response();
    }
    let record = match load_record(&state, &u, &id).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let id = record.id;
    let withhold = match review_context(&state, record.id).await {
        Ok((reviews, case)) => media_withheld(&state, &record, case.as_ref(), &reviews).await,
        Err(e) => Err(e),
    };
    let withhold = match withhold {
        Ok(w) => w,
        Err(e) => return store_error(&u, e),
    };
    if withhold {
        return page_error(u.locale, StatusCode::FORBIDDEN, "error_minors", &[]);
    }
    let bytes = match cleanweb_service::review::kept_image(state.store.as_ref(), &record).await {
        Ok(b) => b,
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    };
    let limits = state.engine.load().decode_limits();
    let boxes: Vec<[u32; 4]> = record
        .decision
        .labels
        .iter()
        .flat_map(|l| &l.evidence)
        .filter_map(|e| match e {
            Evidence::Region { rect, .. }
            | Evidence::Code { rect, .. }
            | Evidence::Ocr {
                rect, frame: None, ..
            } => Some(*rect),
            _ => None,
        })
        .collect();
    let banks = state.banks.clone();
    let png = tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>, String> {
        let rgb = cleanweb_vision::decode_rgb(&bytes, &limits).map_err(|e| e.to_string())?;
        // A picture put in a minors bank after this item was decided is
        // withheld too, though no decision about it says so yet.
        let hashes = cleanweb_match::ImageHashes::of_decoded(&bytes, &rgb);
        let banked_minors = names_minors(
            banks
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .match_image(&hashes)
                .iter()
                .map(|m| m.category),
        );
        if banked_minors {
            return Ok(None);
        }
        render_media(rgb, &boxes).map(Some)
    })
    .await;
    match png {
        Ok(Ok(None)) => page_error(u.locale, StatusCode::FORBIDDEN, "error_minors", &[]),
        Ok(Ok(Some(png))) => {
            let mut resp = png.into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            resp
        }
        Ok(Err(e)) => {
            tracing::warn!(decision = %id, error = %e, "media could not be rendered");
            StatusCode::UNPROCESSABLE_ENTITY.into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `boxes` are evidence rectangles, `[x, y, w, h]` in the original's pixels.
fn render_media(rgb: cleanweb_core::Rgb, boxes: &[[u32; 4]]) -> Result<Vec<u8>, String> {
    let img = image::RgbImage::from_raw(rgb.width, rgb.height, rgb.pixels)
        .ok_or("decoded image has the wrong size")?;
    let scale = (f64::from(MEDIA_SIDE) / f64::from(img.width().max(img.height()))).min(1.0);
    let mut img = if scale < 1.0 {
        let w = ((f64::from(img.width()) * scale).round() as u32).max(1);
        let h = ((f64::from(img.height()) * scale).round() as u32).max(1);
        image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    // Evidence boxes are [x, y, w, h]; the outline wants corners.
    for &[x, y, w, h] in boxes {
        let s = |v: u32| (f64::from(v) * scale).round() as u32;
        let (x2, y2) = (
            x.saturating_add(w.saturating_sub(1)),
            y.saturating_add(h.saturating_sub(1)),
        );
        outline(&mut img, [s(x), s(y), s(x2), s(y2)]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// A 3-pixel red rectangle (x1, y1, x2, y2), clipped to the image. Drawn by
/// hand: four filled strips do not justify an imaging-library dependency.
fn outline(img: &mut image::RgbImage, [x1, y1, x2, y2]: [u32; 4]) {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return;
    }
    let (x1, x2) = (x1.min(w - 1), x2.min(w - 1));
    let (y1, y2) = (y1.min(h - 1), y2.min(h - 1));
    let red = image::Rgb([255, 32, 32]);
    for t in 0..3u32 {
        for x in x1..=x2 {
            img.put_pixel(x, (y1 + t).min(h - 1), red);
            img.put_pixel(x, y2.saturating_sub(t), red);
        }
        for y in y1..=y2 {
            img.put_pixel((x1 + t).min(w - 1), y, red);
            img.put_pixel(x2.saturating_sub(t), y, red);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanweb_core::{Decision, Item, Label, Verdict};

    fn record(text: &str, spans: &[(usize, usize)]) -> DecisionRecord {
        let mut label = Label::new(Category::SexualExplicit, 0.9, "text.lexicon");
        for (s, e) in spans {
            label.evidence.push(Evidence::Span {
                field: "text".into(),
                start: *s,
                end: *e,
                matched: String::new(),
                term: "t".into(),
            });
        }
        let d = Decision {
            id: None,
            verdict: Verdict::Block,
            labels: vec![label],
            elapsed_us: 0,
            warnings: vec![],
            meta: None,
            decision_id: None,
        };
        DecisionRecord::new(Source::Api, &Item::text(text), &d)
    }

    #[test]
    fn segments_cover_the_text_once_and_merge_overlaps() {
        let text = "免费看色情视频 now";
        let r = record(text, &[(3, 5), (4, 7), (20, 30), (9, 9)]);
        let segs = segments(text, &r);
        let joined: String = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, text);
        let hits: Vec<&str> = segs
            .iter()
            .filter(|s| s.hit.is_some())
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(hits, ["色情视频"]);
    }

    #[test]
    fn media_is_reencoded_scaled_and_outlined() {
        let img = image::RgbImage::from_pixel(2048, 1024, image::Rgb([0, 0, 255]));
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let rgb = cleanweb_vision::decode_rgb(png.get_ref(), &Default::default()).unwrap();
        let out = render_media(rgb, &[[100, 100, 400, 300]]).unwrap();
        let back = image::load_from_memory(&out).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (1024, 512));
        assert_eq!(back.get_pixel(50, 60), &image::Rgb([255, 32, 32]));
        assert_eq!(back.get_pixel(100, 100), &image::Rgb([0, 0, 255]));
        // The box is [x, y, w, h]: its right edge is at x + w, scaled.
        assert_eq!(back.get_pixel(249, 100), &image::Rgb([255, 32, 32]));
        assert_eq!(back.get_pixel(230, 100), &image::Rgb([0, 0, 255]));
    }
}

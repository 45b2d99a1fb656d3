//! The public reporting centre: the form (`/report`, no JavaScript needed),
//! the JSON API (`POST /v1/reports`, no key), receipts and status, abuse
//! limits, and automatic triage of what was reported.
//!
//! Intake seals the reporter's contact before it reaches the store, files
//! the report into one case per target (merging by canonical URL or content
//! hash), and triages each new case in the background: the page is fetched
//! through `cleanweb-fetch` (public addresses only, checked after DNS and on
//! every redirect), the content is moderated, and the decision enters the
//! review queue, with the report count raising its priority.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cleanweb_core::config::{ReportsConfig, RewardsConfig};
use cleanweb_core::{Category, Decision, Item, Source, Verdict};
use cleanweb_reports::{
    Contact, Pow, Receipt, ReportKey, content_target, normalize_receipt, url_target,
};
use cleanweb_store::{Case, DecisionRecord, NewReport, NewTarget, now_ms};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::console::session::ClientIp;
use crate::console::{Page, locale_of};
use crate::problem::Problem;

/// The reporting centre's shared parts; `None` in [`AppState`] turns it off.
pub struct ReportsState {
    pub config: ReportsConfig,
    pub rewards: RewardsConfig,
    /// Seals and opens reporter contacts. Never logged, never stored.
    pub key: ReportKey,
    pub pow: Pow,
    limiter: RateLimiter,
    /// Triage runs at most this many at once; the rest wait their turn, so
    /// a burst of reports cannot turn into a burst of fetches.
    triage: tokio::sync::Semaphore,
}

impl ReportsState {
    pub fn new(config: ReportsConfig, rewards: RewardsConfig, key: ReportKey) -> ReportsState {
        ReportsState {
            pow: Pow::new(config.pow_difficulty),
            config,
            rewards,
            key,
            limiter: RateLimiter::default(),
            triage: tokio::sync::Semaphore::new(2),
        }
    }
}

/// Reports per client address in the last minute and hour. In memory, like
/// the login lockout: addresses are not written anywhere.
#[derive(Default)]
struct RateLimiter {
    seen: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

/// Whom a rate applies to: an IPv4 address, or an IPv6 /64 (one subscriber
/// usually holds a whole /64, so single addresses would be free to rotate).
/// Clients without a known address share one bucket.
fn rate_key(ip: Option<IpAddr>) -> IpAddr {
    match ip {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        Some(v4) => v4,
        None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

#[derive(Debug, PartialEq)]
enum Rate {
    Free,
    NeedsChallenge,
    Refused,
}

impl RateLimiter {
    fn check(&self, ip: IpAddr, free_per_minute: u32, max_per_hour: u32) -> Rate {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if seen.len() > 100_000 {
            seen.retain(|_, ts| ts.iter().any(|t| now - *t < Duration::from_secs(3600)));
        }
        let ts = seen.entry(ip).or_default();
        ts.retain(|t| now - *t < Duration::from_secs(3600));
        let last_minute = ts
            .iter()
            .filter(|t| now - **t < Duration::from_secs(60))
            .count();
        if ts.len() >= max_per_hour as usize {
            Rate::Refused
        } else if last_minute >= free_per_minute as usize {
            Rate::NeedsChallenge
        } else {
            Rate::Free
        }
    }

    fn record(&self, ip: IpAddr) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.entry(ip).or_default().push(Instant::now());
    }
}

/// A report as the JSON API takes it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// Pages to report.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Text to report (a message, a post).
    pub text: Option<String>,
    /// An image to report, base64.
    #[schema(value_type = Option<String>)]
    #[serde(default, with = "b64")]
    pub image: Option<Vec<u8>>,
    /// `sexual.explicit`, `sexual.suggestive`, `sexual.services`, `sexual.minors` or `link.blocked`.
    pub category: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Optional; sealed at once, needed only for a reward.
    #[schema(value_type = Option<Object>)]
    pub contact: Option<Contact>,
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptResponse {
    /// Keep it: it is the only way to follow the report.
    pub receipt: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportStatus {
    /// `received`, `in_review`, `confirmed` or `not_confirmed`: the best
    /// news across the report's targets.
    pub status: String,
    pub targets: Vec<TargetStatus>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TargetStatus {
    /// `url`, `image` or `text`.
    pub kind: String,
    pub status: String,
}

/// Why an intake was refused.
#[derive(Debug)]
enum Refusal {
    Invalid(String),
    TooLarge(String),
    /// Over the free rate: solve this first.
    Challenge(String),
    RateLimited,
    Unavailable,
}

impl Refusal {
    fn problem(&self, difficulty: u8) -> Problem {
        match self {
            Refusal::Invalid(m) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-report", m.clone()),
            Refusal::TooLarge(m) => Problem::too_large(m.clone()),
            Refusal::Challenge(c) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "challenge-required",
                format!(
                    "too many reports from this address: solve the challenge (find N so that SHA-256(\"{c}:N\") starts with {difficulty} zero bits) and send it as 'X-Cleanweb-Pow: {c}:N'"
                ),
            )
            .with("challenge", c.clone().into())
            .with("difficulty", difficulty.into()),
            Refusal::RateLimited => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "too many reports from this address; try again in an hour",
            ),
            Refusal::Unavailable => Problem::unavailable("reports cannot be taken right now"),
        }
    }
}

/// A report in the common form both doors produce.
struct Intake {
    urls: Vec<String>,
    text: Option<String>,
    image: Option<Vec<u8>>,
    category: Option<String>,
    description: String,
    contact: Contact,
    /// (challenge, counter), when one was solved.
    pow: Option<(String, u64)>,
}

fn parse_pow(v: &str) -> Option<(String, u64)> {
    let (c, n) = v.trim().rsplit_once(':')?;
    Some((c.to_owned(), n.parse().ok()?))
}

/// Checks, seals and files a report; starts triage of new cases.
async fn take(state: &AppState, ip: Option<IpAddr>, intake: Intake) -> Result<Receipt, Refusal> {
    let Some(rs) = state.reports.clone() else {
        return Err(Refusal::Unavailable);
    };
    let cfg = &rs.config;
    let category = match intake
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => Category::SexualExplicit,
        Some(c) => c
            .parse::<Category>()
            .map_err(|e| Refusal::Invalid(e.to_string()))?,
    };
    let urls: Vec<String> = intake
        .urls
        .iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if urls.len() > cfg.max_urls {
        return Err(Refusal::TooLarge(format!(
            "at most {} URLs per report",
            cfg.max_urls
        )));
    }
    let text = intake
        .text
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    for (name, v) in [
        ("text", text.as_deref()),
        ("description", Some(intake.description.as_str())),
    ] {
        if v.is_some_and(|v| v.chars().count() > cfg.max_text_chars) {
            return Err(Refusal::TooLarge(format!(
                "the {name} is longer than {} characters",
                cfg.max_text_chars
            )));
        }
    }
    if let Some(img) = &intake.image {
        if img.len() > cfg.max_image_bytes {
            return Err(Refusal::TooLarge(format!(
                "the image is larger than {} bytes",
                cfg.max_image_bytes
            )));
        }
        // Upload type check by content, not by name or declared type.
        match image::guess_format(img) {
            Ok(
                image::ImageFormat::Png
                | image::ImageFormat::Jpeg
                | image::ImageFormat::Gif
                | image::ImageFormat::WebP
                | image::ImageFormat::Bmp,
            ) => {}
            _ => {
                return Err(Refusal::Invalid(
                    "the upload is not a PNG, JPEG, GIF, WebP or BMP image".into(),
                ));
            }
        }
    }
    let mut targets: Vec<NewTarget> = Vec::new();
    for u in &urls {
        if u.len() > 2048 {
            return Err(Refusal::TooLarge("a URL is longer than 2048 bytes".into()));
        }
        let target = url_target(u).map_err(Refusal::Invalid)?;
        if !targets.iter().any(|t| t.target == target) {
            targets.push(NewTarget {
                target,
                kind: "url".into(),
                url: Some(u.clone()),
            });
        }
    }
    if let Some(img) = &intake.image {
        targets.push(NewTarget {
            target: content_target(img),
            kind: "image".into(),
            url: None,
        });
    }
    if let Some(t) = &text {
        targets.push(NewTarget {
            target: content_target(t.as_bytes()),
            kind: "text".into(),
            url: None,
        });
    }
    if targets.is_empty() {
        return Err(Refusal::Invalid(
            "a report needs a URL, an image or a text".into(),
        ));
    }
    let contact = intake.contact.cleaned().map_err(Refusal::Invalid)?;
    // Abuse limits come after validation: a malformed report costs nothing.
    let who = rate_key(ip);
    match rs.limiter.check(who, cfg.free_per_minute, cfg.max_per_hour) {
        Rate::Free => {}
        Rate::Refused => return Err(Refusal::RateLimited),
        Rate::NeedsChallenge => {
            let now = now_ms() / 1000;
            let solved = intake
                .pow
                .as_ref()
                .is_some_and(|(c, n)| rs.pow.verify(c, *n, now));
            if !solved {
                return Err(Refusal::Challenge(rs.pow.challenge(now)));
            }
        }
    }
    rs.limiter.record(who);
    let id = Uuid::now_v7();
    let receipt = Receipt::generate();
    let report = NewReport {
        id,
        receipt_hash: receipt.hash(),
        category: category.as_str().to_owned(),
        description: intake.description.trim().to_owned(),
        contact: contact.as_ref().map(|c| rs.key.seal(&id.to_string(), c)),
        reporter_id: contact.as_ref().and_then(|c| rs.key.reporter_id(c)),
        targets,
    };
    let filed = state.store.file_report(&report).await.map_err(|e| {
        tracing::error!(error = %e, "a report could not be stored");
        Refusal::Unavailable
    })?;
    tracing::info!(report = %id, cases = filed.len(), new = filed.iter().filter(|f| f.new).count(), "report received");
    for f in filed.into_iter().filter(|f| f.new) {
        let st = state.clone();
        let content = ReportedContent {
            // The canonical form is what gets fetched: it always has a
            // scheme, and it is what the case is keyed on.
            url: f.target.strip_prefix("url:").map(str::to_owned),
            category,
            image: (f.target.starts_with("sha256:")
                && intake
                    .image
                    .as_deref()
                    .is_some_and(|i| content_target(i) == f.target))
            .then(|| intake.image.clone())
            .flatten(),
            text: text
                .clone()
                .filter(|t| content_target(t.as_bytes()) == f.target),
        };
        tokio::spawn(async move { triage(st, f.case_id, content).await });
    }
    Ok(receipt)
}

struct ReportedContent {
    url: Option<String>,
    /// What the (first) reporter says it is.
    category: Category,
    image: Option<Vec<u8>>,
    text: Option<String>,
}

/// Scans what a new case is about and puts the decision in the queue. A
/// page that cannot be fetched still goes to review, with the reason.
async fn triage(state: AppState, case: Uuid, content: ReportedContent) {
    let Some(rs) = state.reports.clone() else {
        return;
    };
    // Closed only at shutdown, when nothing is triaged any more.
    let Ok(_permit) = rs.triage.acquire().await else {
        return;
    };
    let meta = serde_json::json!({"case": case.to_string()});
    let mut item = Item {
        meta: Some(meta),
        ..Item::default()
    };
    let mut error = None;
    if let Some(url) = &content.url {
        item.url = Some(url.clone());
        let limits = fetch_limits(&rs.config);
        let target = url::Url::parse(url)
            .or_else(|_| url::Url::parse(&format!("http://{url}")))
            .map_err(|e| e.to_string());
        let fetched = match target {
            Ok(u) => tokio::task::spawn_blocking(move || {
                cleanweb_fetch::Fetcher::new(limits)
                    .get(&u)
                    .map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string())),
            Err(e) => Err(e),
        };
        match fetched {
            Ok(page) if (200..300).contains(&page.status) => {
                let ct = page
                    .content_type
                    .as_deref()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if ct.starts_with("image/") {
                    item.image = Some(page.body);
                } else {
                    let max = state.engine.load().limits().max_html_chars;
                    let html: String = String::from_utf8_lossy(&page.body)
                        .chars()
                        .take(max)
                        .collect();
                    item.base_url = Some(page.url.to_string());
                    item.html = Some(html);
                }
            }
            Ok(page) => error = Some(format!("the page answered HTTP {}", page.status)),
            Err(e) => error = Some(e),
        }
    }
    item.image = item.image.or(content.image);
    item.text = content.text;
    let engine = state.engine.load_full();
    let scanned = if item.text.is_some() || item.html.is_some() || item.image.is_some() {
        let it = item.clone();
        tokio::task::spawn_blocking(move || engine.moderate(&it))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
    } else {
        Err(error.clone().unwrap_or_else(|| "nothing to scan".into()))
    };
    let decision = match scanned {
        Ok(d) => d,
        Err(e) => {
            // Nothing scanned: people look at it anyway, told why.
            error.get_or_insert(e);
            Decision {
                id: None,
                verdict: Verdict::Review,
                labels: Vec::new(),
                elapsed_us: 0,
                warnings: Vec::new(),
                meta: item.meta.clone(),
                decision_id: None,
            }
        }
    };
    let mut decision = decision;
    // The page's pictures: the worst one joins the decision, and is the
    // picture reviewers see.
    if let (Some(html), Some(base)) = (&item.html, &item.base_url) {
        let engine = state.engine.load_full();
        if let Some((url, bytes, d)) =
            worst_page_image(engine, html, base, fetch_limits(&rs.config)).await
        {
            decision.verdict = decision.verdict.max(d.verdict);
            decision.labels.extend(d.labels);
            decision
                .warnings
                .push(format!("triage: the image {url} scored {}", d.verdict));
            item.image = Some(bytes);
        }
    }
    if let Some(e) = &error {
        decision.warnings.push(format!("triage: {e}"));
    }
    state.metrics.record_decision(Source::Report, &decision);
    let mut record = DecisionRecord::new(Source::Report, &item, &decision);
    // Reported as involving minors: straight to escalation, media withheld,
    // whatever the machine saw.
    if content.category == Category::SexualMinors {
        record.review_state = Some(cleanweb_core::review::ReviewState::Escalated);
    }
    if let Err(e) = state
        .store
        .set_case_triage(case, Some(&record), error.as_deref())
        .await
    {
        tracing::error!(%case, error = %e, "triage could not be stored");
    } else {
        tracing::info!(%case, verdict = %decision.verdict, error = ?error, "case triaged");
    }
}

/// Triage fetches: public addresses only, always.
fn fetch_limits(cfg: &ReportsConfig) -> cleanweb_fetch::FetchLimits {
    cleanweb_fetch::FetchLimits {
        max_bytes: cfg.fetch_max_bytes,
        timeout: Duration::from_secs(cfg.fetch_timeout_secs.max(1)),
        max_redirects: cfg.fetch_max_redirects,
        allow_private: false,
        ..Default::default()
    }
}

/// Pictures of a reported page that triage fetches and scans.
const MAX_PAGE_IMAGES: usize = 4;

/// Fetches up to [`MAX_PAGE_IMAGES`] pictures the page links to (through
/// the same public-only fetcher), moderates each, and returns the worst
/// with its bytes, if any scored above `allow`.
async fn worst_page_image(
    engine: Arc<cleanweb_engine::Engine>,
    html: &str,
    base: &str,
    limits: cleanweb_fetch::FetchLimits,
) -> Option<(String, Vec<u8>, Decision)> {
    const EXTENSIONS: [&str; 6] = [".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"];
    let mut urls: Vec<String> = Vec::new();
    for l in cleanweb_html::links(html, Some(base)) {
        let Ok(u) = url::Url::parse(&l.url) else {
            continue;
        };
        let path = u.path().to_ascii_lowercase();
        if EXTENSIONS.iter().any(|e| path.ends_with(e)) && !urls.contains(&l.url) {
            urls.push(l.url);
            if urls.len() == MAX_PAGE_IMAGES {
                break;
            }
        }
    }
    if urls.is_empty() {
        return None;
    }
    tokio::task::spawn_blocking(move || {
        let fetcher = cleanweb_fetch::Fetcher::new(limits);
        let mut worst: Option<(String, Vec<u8>, Decision)> = None;
        for u in urls {
            let Ok(parsed) = url::Url::parse(&u) else {
                continue;
            };
            let Ok(got) = fetcher.get(&parsed) else {
                continue;
            };
            let is_image = got
                .content_type
                .as_deref()
                .is_some_and(|c| c.to_ascii_lowercase().starts_with("image/"));
            if !(200..300).contains(&got.status) || !is_image {
                continue;
            }
            let item = Item {
                url: Some(u.clone()),
                image: Some(got.body),
                ..Item::default()
            };
            let Ok(d) = engine.moderate(&item) else {
                continue;
            };
            let rank = |d: &Decision| (d.verdict, cleanweb_core::review::priority(d));
            if d.verdict > Verdict::Allow && worst.as_ref().is_none_or(|w| rank(&d) > rank(&w.2)) {
                worst = Some((u, item.image.unwrap_or_default(), d));
            }
        }
        worst
    })
    .await
    .ok()
    .flatten()
}

/// File a report (no key needed).
#[utoipa::path(post, path = "/v1/reports", tag = "reports",
    request_body = ReportRequest,
    params(("X-Cleanweb-Pow" = Option<String>, Header, description = "challenge:counter, when a 429 asked for one")),
    responses(
        (status = 201, description = "Filed; keep the receipt", body = ReceiptResponse),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing to report, or a bad field", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports: solve the challenge, or wait", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn file_report(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ReceiptResponse>), Problem> {
    let difficulty = state.reports.as_ref().map_or(0, |r| r.pow.difficulty);
    // JSON only: a browser cannot send it from another site without a CORS
    // preflight, which this route never grants.
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the report as JSON with Content-Type: application/json",
        ));
    }
    let req: ReportRequest = serde_json::from_slice(&body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-json",
            format!("malformed report: {e}"),
        )
    })?;
    let pow = headers
        .get("x-cleanweb-pow")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_pow);
    let intake = Intake {
        urls: req.urls,
        text: req.text,
        image: req.image,
        category: req.category,
        description: req.description,
        contact: req.contact.unwrap_or_default(),
        pow,
    };
    let receipt = take(&state, ip, intake)
        .await
        .map_err(|r| r.problem(difficulty))?;
    Ok((
        StatusCode::CREATED,
        Json(ReceiptResponse {
            receipt: receipt.to_string(),
        }),
    ))
}

/// The overall status: confirmed if any target was, then in review, then
/// not confirmed (all of them), else received.
fn overall(cases: &[Case]) -> String {
    let has = |s: &str| cases.iter().any(|c| c.status == s);
    if has("confirmed") {
        "confirmed"
    } else if has("in_review") {
        "in_review"
    } else if !cases.is_empty() && cases.iter().all(|c| c.status == "not_confirmed") {
        "not_confirmed"
    } else {
        "received"
    }
    .to_owned()
}

async fn status_of(state: &AppState, typed: &str) -> Result<Option<ReportStatus>, Problem> {
    let Some(receipt) = normalize_receipt(typed) else {
        return Ok(None);
    };
    let cases = state
        .store
        .cases_for_receipt(&receipt.hash())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "receipt lookup failed");
            Problem::unavailable("cannot look the receipt up right now")
        })?;
    Ok(cases.map(|cases| ReportStatus {
        status: overall(&cases),
        targets: cases
            .iter()
            .map(|c| TargetStatus {
                kind: c.kind.clone(),
                status: c.status.clone(),
            })
            .collect(),
    }))
}

/// A report's status by its receipt (no key needed; never shows other
/// reporters or internal notes).
#[utoipa::path(get, path = "/v1/reports/{receipt}", tag = "reports",
    params(("receipt" = String, Path, description = "The receipt code, as given (dashes optional)")),
    responses(
        (status = 200, body = ReportStatus),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn report_status(
    State(state): State<AppState>,
    Path(receipt): Path<String>,
) -> Result<Json<ReportStatus>, Problem> {
    status_of(&state, &receipt)
        .await?
        .map(Json)
        .ok_or_else(|| Problem::not_found("no report has this receipt code"))
}

/// The report form. It works without JavaScript; with it, a script solves
/// the burst challenge in the background.
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    form_page(
        &state,
        locale_of(&headers),
        StatusCode::OK,
        None,
        &FormValues::default(),
    )
}

#[derive(Default, Serialize)]
struct FormValues {
    urls: String,
    text: String,
    category: String,
    description: String,
    name: String,
    phone: String,
    email: String,
    account: String,
}

fn form_page(
    state: &AppState,
    locale: &'static str,
    status: StatusCode,
    error: Option<String>,
    values: &FormValues,
) -> Response {
    let Some(rs) = &state.reports else {
        return crate::console::page_error(locale, StatusCode::NOT_FOUND, "report_disabled", &[]);
    };
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    Page::new("report.html", locale)
        .with("categories", &categories)
        .with("challenge", &rs.pow.challenge(now_ms() / 1000))
        .with("difficulty", &rs.pow.difficulty)
        .with("error", &error)
        .with("v", values)
        .with("max_image_mb", &(rs.config.max_image_bytes >> 20).max(1))
        .status(status)
        .into_response()
}

/// What the form posted.
#[derive(Default)]
struct PostedForm {
    values: FormValues,
    image: Option<Vec<u8>>,
    challenge: String,
    pow: String,
}

/// Reads the form's fields into `form` (so a refusal can show them again),
/// or says why it cannot.
async fn read_form(
    multipart: &mut Multipart,
    max_image: usize,
    locale: &'static str,
    form: &mut PostedForm,
) -> Result<(), (StatusCode, Option<String>)> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        (StatusCode::BAD_REQUEST, Some(e.body_text()))
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "image" {
            let bytes = field.bytes().await.map_err(bad)?;
            if bytes.len() > max_image {
                let msg = crate::console::message(locale, "report_image_too_large", &[]);
                return Err((StatusCode::PAYLOAD_TOO_LARGE, Some(msg)));
            }
            if !bytes.is_empty() {
                form.image = Some(bytes.to_vec());
            }
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        let v = &mut form.values;
        match name.as_str() {
            "urls" => v.urls = text,
            "text" => v.text = text,
            "category" => v.category = text,
            "description" => v.description = text,
            "name" => v.name = text,
            "phone" => v.phone = text,
            "email" => v.email = text,
            "account" => v.account = text,
            "challenge" => form.challenge = text,
            "pow" => form.pow = text,
            _ => {}
        }
    }
    Ok(())
}

/// The form's POST (multipart, for the image).
pub async fn submit_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let locale = locale_of(&headers);
    // Another site's page may not file reports from its visitors' browsers.
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    if cross_site {
        return crate::console::page_error(locale, StatusCode::FORBIDDEN, "error_csrf", &[]);
    }
    let max_image = state
        .reports
        .as_ref()
        .map_or(0, |r| r.config.max_image_bytes);
    let mut form = PostedForm::default();
    if let Err((status, msg)) = read_form(&mut multipart, max_image, locale, &mut form).await {
        return form_page(&state, locale, status, msg, &form.values);
    }
    let PostedForm {
        values: v,
        image,
        challenge,
        pow,
    } = form;
    let intake = Intake {
        urls: v.urls.lines().map(str::to_owned).collect(),
        text: Some(v.text.clone()),
        image,
        category: Some(v.category.clone()),
        description: v.description.clone(),
        contact: Contact {
            name: Some(v.name.clone()),
            phone: Some(v.phone.clone()),
            email: Some(v.email.clone()),
            account: Some(v.account.clone()),
        },
        pow: pow
            .trim()
            .parse::<u64>()
            .ok()
            .map(|n| (challenge.clone(), n)),
    };
    match take(&state, ip, intake).await {
        Ok(receipt) => Page::new("receipt.html", locale)
            .with("receipt", &receipt.to_string())
            .status(StatusCode::CREATED)
            .into_response(),
        Err(refusal) => {
            let (status, key) = match &refusal {
                Refusal::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, None),
                Refusal::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, None),
                Refusal::Challenge(_) => (StatusCode::TOO_MANY_REQUESTS, Some("report_challenge")),
                Refusal::RateLimited => {
                    (StatusCode::TOO_MANY_REQUESTS, Some("report_rate_limited"))
                }
                Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, Some("error_store")),
            };
            let msg = match (&refusal, key) {
                (Refusal::Invalid(m) | Refusal::TooLarge(m), _) => m.clone(),
                (_, Some(k)) => crate::console::message(locale, k, &[]),
                _ => String::new(),
            };
            form_page(&state, locale, status, Some(msg), &v)
        }
    }
}

#[derive(Deserialize)]
pub struct StatusQuery {
    receipt: Option<String>,
}

/// The status page for a receipt code.
pub async fn status_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StatusQuery>,
) -> Response {
    let locale = locale_of(&headers);
    let typed = q.receipt.unwrap_or_default();
    let (status, code) = if typed.trim().is_empty() {
        (None, StatusCode::OK)
    } else {
        match status_of(&state, &typed).await {
            Ok(Some(s)) => (Some(s), StatusCode::OK),
            Ok(None) => (None, StatusCode::NOT_FOUND),
            Err(p) => return p.into_response(),
        }
    };
    let mut resp = Page::new("report_status.html", locale)
        .with("receipt", &typed)
        .with("found", &status.is_some())
        .with("asked", &!typed.trim().is_empty())
        .with("status", &status)
        .status(code)
        .into_response();
    // The receipt is in the query string: keep it out of referrers.
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(status: &str) -> Case {
        Case {
            id: Uuid::nil(),
            target: String::new(),
            kind: "url".into(),
            url: None,
            category: String::new(),
            status: status.into(),
            report_count: 1,
            first_report: Uuid::nil(),
            decision_id: None,
            triage_error: None,
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    #[test]
    fn the_overall_status_is_the_best_news() {
        assert_eq!(overall(&[case("received"), case("confirmed")]), "confirmed");
        assert_eq!(overall(&[case("received"), case("in_review")]), "in_review");
        assert_eq!(
            overall(&[case("not_confirmed"), case("not_confirmed")]),
            "not_confirmed"
        );
        assert_eq!(
            overall(&[case("not_confirmed"), case("received")]),
            "received"
        );
        assert_eq!(overall(&[]), "received");
    }

    /// Flags images whose URL names them "bad": a stand-in for the model.
    struct BadByName;

    impl cleanweb_core::Detector for BadByName {
        fn name(&self) -> &'static str {
            "test.image"
        }
        fn fields(&self) -> &'static [&'static str] {
            &["image"]
        }
        fn detect(
            &self,
            input: &cleanweb_core::Input<'_>,
            out: &mut Vec<cleanweb_core::Label>,
        ) -> Result<(), cleanweb_core::DetectError> {
            let bad = input.item.url.as_deref().is_some_and(|u| u.contains("bad"));
            if bad && input.item.image.is_some() {
                out.push(cleanweb_core::Label::new(
                    Category::SexualExplicit,
                    0.99,
                    "test.image",
                ));
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_worst_picture_of_a_page_is_found_and_kept() {
        use std::io::{Read, Write};
        let png = {
            let img = image::RgbImage::from_pixel(8, 8, image::Rgb([9, 9, 9]));
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png).unwrap();
            out.into_inner()
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let body = png.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { break };
                let mut buf = [0u8; 2048];
                let n = c.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let (ct, payload) = if req.starts_with("GET /missing") {
                    ("text/plain", b"no".to_vec())
                } else {
                    ("image/png", body.clone())
                };
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    payload.len()
                );
                let _ = c.write_all(&payload);
            }
        });
        let engine = Arc::new(
            cleanweb_engine::Engine::new(Default::default(), Default::default())
                .with_detector(Arc::new(BadByName)),
        );
        let html = "<img src='/ok.png'><img src='/missing.jpg'><a href='/bad.png'>x</a><a href='/page.html'>p</a>";
        // Only for this test: the local server stands in for a public site.
        let limits = cleanweb_fetch::FetchLimits {
            allow_private: true,
            ..Default::default()
        };
        let (url, bytes, d) = worst_page_image(
            engine.clone(),
            html,
            &format!("http://{addr}/"),
            limits.clone(),
        )
        .await
        .expect("the bad picture");
        assert!(url.ends_with("/bad.png"), "{url}");
        assert_eq!(bytes, png);
        assert_eq!(d.verdict, Verdict::Block);
        assert!(
            worst_page_image(
                engine.clone(),
                "<img src='/ok.png'>",
                &format!("http://{addr}/"),
                limits.clone()
            )
            .await
            .is_none()
        );
        // The public-only fetcher refuses the same local pictures.
        assert!(
            worst_page_image(
                engine,
                html,
                &format!("http://{addr}/"),
                fetch_limits(&ReportsConfig::default())
            )
            .await
            .is_none()
        );
    }

    #[tokio::test]
    async fn report_bodies_past_one_images_worth_are_refused_before_parsing() {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().unwrap();
        let store = cleanweb_store::open(None, dir.path()).await.unwrap();
        let engine = cleanweb_engine::Engine::new(Default::default(), Default::default());
        let mut state = AppState::new(engine, store);
        let cfg = ReportsConfig {
            max_image_bytes: 3000,
            ..Default::default()
        };
        let key = ReportKey::from_hex(&"ab".repeat(32)).unwrap();
        state.reports = Some(Arc::new(ReportsState::new(cfg, Default::default(), key)));
        let limit = 3000 / 3 * 4 + (256 << 10);
        // Valid JSON padded with spaces: only the size can refuse it.
        let send = |size: usize| {
            let json = r#"{"text":"约炮"}"#;
            let body = format!("{json}{}", " ".repeat(size - json.len()));
            axum::http::Request::post("/v1/reports")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body))
                .unwrap()
        };
        let over = crate::router(state.clone())
            .oneshot(send(limit + 1))
            .await
            .unwrap();
        assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let under = crate::router(state).oneshot(send(limit - 1)).await.unwrap();
        assert_eq!(under.status(), StatusCode::CREATED);
    }

    #[test]
    fn bursts_need_a_challenge_then_stop() {
        let l = RateLimiter::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..2 {
            assert_eq!(l.check(ip, 2, 4), Rate::Free);
            l.record(ip);
        }
        assert_eq!(l.check(ip, 2, 4), Rate::NeedsChallenge);
        l.record(ip);
        l.record(ip);
        assert_eq!(l.check(ip, 2, 4), Rate::Refused);
        assert_eq!(
            l.check("192.0.2.8".parse().unwrap(), 2, 4),
            Rate::Free,
            "per address"
        );
        assert_eq!(parse_pow("v1.1.ab.cd:42"), Some(("v1.1.ab.cd".into(), 42)));
        assert_eq!(parse_pow("nonsense"), None);
        let key = |s: &str| rate_key(Some(s.parse().unwrap()));
        assert_eq!(
            key("2001:db8:1:2:aaaa::1"),
            key("2001:db8:1:2:bbbb::2"),
            "one /64"
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_eq!(rate_key(None), rate_key(None));
    }
}

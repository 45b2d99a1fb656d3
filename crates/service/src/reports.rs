//! The public reporting centre's use cases: taking a report (validation,
//! abuse limits, sealing the reporter's contact, filing one case per
//! target) and triaging each new case in the background (the page fetched
//! as reported through the public-only fetcher, its pictures, the decision
//! into the review queue). The doors (the JSON API and the form) word the
//! refusals and render the receipt.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use cleanweb_core::config::{ReportsConfig, RewardsConfig};
use cleanweb_core::{Category, Decision, Item, Source, Verdict};
use cleanweb_engine::Engine;
use cleanweb_fetch::content::Content;
use cleanweb_reports::{
    Contact, ContactError, Pow, Receipt, ReportKey, TargetError, content_target, url_target,
};
use cleanweb_store::{Case, DecisionRecord, NewReport, NewTarget, Store, now_ms};
use uuid::Uuid;

/// The reporting centre's desk: what taking and triaging reports needs.
#[derive(Clone)]
pub struct ReportDesk {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The running engine (reloads swap it).
    pub engine: Arc<ArcSwap<Engine>>,
    /// Limits, keys and challenges.
    pub reports: Arc<ReportsState>,
    /// Told of every triage decision stored (the server counts them).
    pub on_triaged: Arc<dyn Fn(&Decision) + Send + Sync>,
}

/// The reporting centre's shared parts; a server without them takes no
/// reports.
pub struct ReportsState {
    /// Limits and fetch settings.
    pub config: ReportsConfig,
    /// Reward rules.
    pub rewards: RewardsConfig,
    /// Seals and opens reporter contacts. Never logged, never stored.
    pub key: ReportKey,
    /// Challenges for bursts.
    pub pow: Pow,
    /// Reports per client address.
    pub limiter: cleanweb_reports::RateLimiter,
    /// Triage runs at most this many at once; the rest wait their turn, so
    /// a burst of reports cannot turn into a burst of fetches.
    pub triage: tokio::sync::Semaphore,
    /// Keep every triage fetch as a WARC capture in the evidence store.
    pub capture: bool,
}

impl ReportsState {
    /// The shared parts, with two triage slots.
    pub fn new(config: ReportsConfig, rewards: RewardsConfig, key: ReportKey) -> ReportsState {
        ReportsState {
            pow: Pow::new(config.pow_difficulty),
            config,
            rewards,
            key,
            limiter: cleanweb_reports::RateLimiter::default(),
            triage: tokio::sync::Semaphore::new(2),
            capture: true,
        }
    }
}

/// What is wrong with a report. The doors word it: English for the API's
/// problem details, the reader's language for the form.
#[derive(Debug)]
#[allow(missing_docs)]
pub enum Invalid {
    Category { given: String, error: String },
    TooManyUrls(usize),
    TextTooLong(usize),
    DescriptionTooLong(usize),
    ImageTooLarge(usize),
    NotAnImage,
    UrlTooLong,
    Url(TargetError),
    Empty,
    Contact(ContactError),
}

/// Longest URL taken, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

impl Invalid {
    /// Too big (413) rather than malformed (422).
    pub fn too_large(&self) -> bool {
        matches!(
            self,
            Invalid::TooManyUrls(_)
                | Invalid::TextTooLong(_)
                | Invalid::DescriptionTooLong(_)
                | Invalid::ImageTooLarge(_)
                | Invalid::UrlTooLong
        )
    }

    /// For the API, which answers in English.
    pub fn english(&self) -> String {
        match self {
            Invalid::Category { error, .. } => error.clone(),
            Invalid::TooManyUrls(max) => format!("at most {max} URLs per report"),
            Invalid::TextTooLong(max) => format!("the text is longer than {max} characters"),
            Invalid::DescriptionTooLong(max) => {
                format!("the description is longer than {max} characters")
            }
            Invalid::ImageTooLarge(max) => format!("the image is larger than {max} bytes"),
            Invalid::NotAnImage => "the upload is not a PNG, JPEG, GIF, WebP or BMP image".into(),
            Invalid::UrlTooLong => format!("a URL is longer than {MAX_URL_BYTES} bytes"),
            Invalid::Url(e) => e.to_string(),
            Invalid::Empty => "a report needs a URL, an image or a text".into(),
            Invalid::Contact(e) => e.to_string(),
        }
    }
}

/// Why an intake was refused.
#[derive(Debug)]
pub enum Refusal {
    /// The report itself is wrong.
    Invalid(Invalid),
    /// Over the free rate: solve this first.
    Challenge(String),
    /// Over the hourly cap.
    RateLimited,
    /// The store failed.
    Unavailable,
}

/// A report in the common form both doors produce.
pub struct Intake {
    #[allow(missing_docs)]
    pub urls: Vec<String>,
    #[allow(missing_docs)]
    pub text: Option<String>,
    #[allow(missing_docs)]
    pub image: Option<Vec<u8>>,
    #[allow(missing_docs)]
    pub category: Option<String>,
    #[allow(missing_docs)]
    pub description: String,
    #[allow(missing_docs)]
    pub contact: Contact,
    /// (challenge, counter), when one was solved.
    pub pow: Option<(String, u64)>,
}

impl ReportDesk {
    /// Checks, seals and files a report; starts triage of new cases.
    pub async fn take(&self, ip: Option<IpAddr>, intake: Intake) -> Result<Receipt, Refusal> {
        let state = self;
        let rs = self.reports.clone();
        let cfg = &rs.config;
        let category = match intake
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => Category::SexualExplicit,
            Some(c) => c.parse::<Category>().map_err(|e| {
                Refusal::Invalid(Invalid::Category {
                    given: c.to_owned(),
                    error: e.to_string(),
                })
            })?,
        };
        let urls: Vec<String> = intake
            .urls
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        if urls.len() > cfg.max_urls {
            return Err(Refusal::Invalid(Invalid::TooManyUrls(cfg.max_urls)));
        }
        let text = intake
            .text
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        let too_long = |v: &str| v.chars().count() > cfg.max_text_chars;
        if text.as_deref().is_some_and(too_long) {
            return Err(Refusal::Invalid(Invalid::TextTooLong(cfg.max_text_chars)));
        }
        if too_long(intake.description.as_str()) {
            return Err(Refusal::Invalid(Invalid::DescriptionTooLong(
                cfg.max_text_chars,
            )));
        }
        if let Some(img) = &intake.image {
            if img.len() > cfg.max_image_bytes {
                return Err(Refusal::Invalid(Invalid::ImageTooLarge(
                    cfg.max_image_bytes,
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
                _ => return Err(Refusal::Invalid(Invalid::NotAnImage)),
            }
        }
        let mut targets: Vec<NewTarget> = Vec::new();
        for u in &urls {
            if u.len() > MAX_URL_BYTES {
                return Err(Refusal::Invalid(Invalid::UrlTooLong));
            }
            let target = url_target(u).map_err(|e| Refusal::Invalid(Invalid::Url(e)))?;
            if !targets.iter().any(|t| t.target == target) {
                targets.push(NewTarget {
                    target,
                    kind: "url".into(),
                    // As given: this is what triage fetches.
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
            return Err(Refusal::Invalid(Invalid::Empty));
        }
        let contact = intake
            .contact
            .cleaned()
            .map_err(|e| Refusal::Invalid(Invalid::Contact(e)))?;
        // Abuse limits come after validation: a malformed report costs nothing.
        let now = now_ms() / 1000;
        let solved = || {
            intake
                .pow
                .as_ref()
                .is_some_and(|(c, n)| rs.pow.verify(c, *n, now))
        };
        match rs.limiter.admit(
            cleanweb_reports::rate_key(ip),
            cfg.free_per_minute,
            cfg.max_per_hour,
            solved,
        ) {
            cleanweb_reports::Rate::Admitted => {}
            cleanweb_reports::Rate::Refused => return Err(Refusal::RateLimited),
            cleanweb_reports::Rate::NeedsChallenge => {
                return Err(Refusal::Challenge(rs.pow.challenge(now)));
            }
        }
        // Uploaded content is kept before the report is filed, so every case
        // that exists can be triaged again after a restart.
        for bytes in [intake.image.as_deref(), text.as_deref().map(str::as_bytes)]
            .into_iter()
            .flatten()
        {
            state.store.keep_report_content(bytes).await.map_err(|e| {
                tracing::error!(error = %e, "reported content could not be stored");
                Refusal::Unavailable
            })?;
        }
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
                // The URL as this reporter gave it, not the merge key: the
                // canonical form drops the port and unescapes the path, so
                // fetching it could fetch another page.
                url: report
                    .targets
                    .iter()
                    .find(|t| t.target == f.target)
                    .and_then(|t| t.url.clone()),
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
            tokio::spawn(async move { triage(st, f.case_id, Pending::Taken(content)).await });
        }
        Ok(receipt)
    }

    /// Queues triage again for every case still waiting for it. Triage runs in
    /// memory, so a restart or a crash drops whatever was in flight; call this
    /// once at start, before serving. Returns how many cases were queued.
    pub async fn resume_triage(&self) -> Result<usize, cleanweb_store::StoreError> {
        let state = self;
        let cases = state.store.untriaged_cases().await?;
        let queued = cases.len();
        for case in cases {
            let st = state.clone();
            tokio::spawn(async move { triage(st, case.id, Pending::Stored(case)).await });
        }
        Ok(queued)
    }
}

/// The WARC captures of a triage's fetches, shared with the fetching tasks
/// so that a triage cut short by its deadline keeps what it fetched.
type Captures = Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// Keeps a fetch in `sink`, if triage keeps evidence.
fn keep(sink: &Option<Captures>, f: &cleanweb_fetch::Fetched) {
    let Some(sink) = sink else { return };
    match cleanweb_evidence::capture(f) {
        Ok(bytes) => {
            if let Ok(mut v) = sink.lock() {
                v.push((f.url.to_string(), bytes));
            }
        }
        Err(e) => tracing::warn!(url = %f.url, error = %e, "triage capture not kept"),
    }
}

/// What a case's triage starts from.
enum Pending {
    /// A report just taken, its content in hand.
    Taken(ReportedContent),
    /// A case found waiting in the store after a restart. Its content is
    /// read only when its turn comes, so a backlog does not sit in memory.
    Stored(Case),
}

struct ReportedContent {
    /// As the reporter gave it: what triage fetches.
    url: Option<String>,
    /// What the (first) reporter says it is.
    category: Category,
    image: Option<Vec<u8>>,
    text: Option<String>,
}

/// A stored case's content: its URL as first reported, or the uploaded
/// image or text kept under its hash; and why it is missing, if it is.
async fn stored_content(state: &ReportDesk, case: &Case) -> (ReportedContent, Option<String>) {
    let mut content = ReportedContent {
        url: None,
        category: case.category.parse().unwrap_or(Category::SexualExplicit),
        image: None,
        text: None,
    };
    if case.kind == "url" {
        // Cases filed without the URL have only the merge key to go on.
        content.url = case
            .url
            .clone()
            .or_else(|| case.target.strip_prefix("url:").map(str::to_owned));
        return (content, None);
    }
    let Some(sha) = case.target.strip_prefix("sha256:") else {
        return (
            content,
            Some(format!("unknown case target {:?}", case.target)),
        );
    };
    let error = match state.store.blob(sha).await {
        Ok(Some(bytes)) if case.kind == "image" => {
            content.image = Some(bytes);
            None
        }
        Ok(Some(bytes)) => match String::from_utf8(bytes) {
            Ok(t) => {
                content.text = Some(t);
                None
            }
            Err(_) => Some("the reported text is not UTF-8".to_owned()),
        },
        Ok(None) => Some("the reported content was not kept".to_owned()),
        Err(e) => Some(format!("the reported content could not be read: {e}")),
    };
    (content, error)
}

/// The most one triage may take, fetches and scans together: a slow site
/// must not hold a triage slot, and the cases waiting behind it.
const TRIAGE_BUDGET: Duration = Duration::from_secs(60);

/// Scans what a new case is about and puts the decision in the queue. A
/// page that cannot be fetched, or a triage out of time, still goes to
/// review, with the reason.
async fn triage(state: ReportDesk, case: Uuid, pending: Pending) {
    let rs = state.reports.clone();
    // Closed only at shutdown, when nothing is triaged any more.
    let Ok(_permit) = rs.triage.acquire().await else {
        return;
    };
    let deadline = tokio::time::Instant::now() + TRIAGE_BUDGET;
    let (content, mut error) = match pending {
        Pending::Taken(c) => (c, None),
        Pending::Stored(c) => stored_content(&state, &c).await,
    };
    let reported = Item {
        meta: Some(serde_json::json!({"case": case.to_string()})),
        url: content.url.clone(),
        image: content.image,
        text: content.text,
        ..Item::default()
    };
    let sink: Option<Captures> = rs.capture.then(Captures::default);
    let scanned = tokio::time::timeout_at(
        deadline,
        scan(&state, &rs, reported.clone(), deadline, sink.clone()),
    )
    .await;
    let (mut item, decision, problem) = scanned.unwrap_or_else(|_| {
        let why = format!("triage did not finish within {} s", TRIAGE_BUDGET.as_secs());
        (reported, None, Some(why))
    });
    if let Some(p) = problem {
        error.get_or_insert(p);
    }
    // Nothing scanned: people look at it anyway, told why.
    let mut decision = decision.unwrap_or_else(|| Decision {
        id: None,
        verdict: Verdict::Review,
        labels: Vec::new(),
        elapsed_us: 0,
        warnings: Vec::new(),
        meta: item.meta.clone(),
        decision_id: None,
    });
    // The page's pictures: the worst one joins the decision, and is the
    // picture reviewers see. They get what is left of the budget; the
    // page's own decision stands if they run out of it.
    if let (Some(html), Some(base)) = (&item.html, &item.base_url) {
        let engine = state.engine.load_full();
        let engine_now = engine.clone();
        let pictures = worst_page_image(
            engine,
            html,
            base,
            fetch_limits(&rs.config),
            deadline.into_std(),
            sink.clone(),
        );
        match tokio::time::timeout_at(deadline, pictures).await {
            Ok(Some((url, bytes, d))) => {
                // One label per category and source, as the engine merges
                // its own; the page's verdict (review when nothing was
                // scanned) stands unless the picture's is worse.
                let policy = engine_now.policy();
                let mut labels = std::mem::take(&mut decision.labels);
                labels.extend(d.labels);
                decision.labels = policy.merge(labels);
                decision.verdict = decision
                    .verdict
                    .max(d.verdict)
                    .max(policy.verdict(&decision.labels));
                decision
                    .warnings
                    .push(format!("triage: the image {url} scored {}", d.verdict));
                item.image = Some(bytes);
            }
            Ok(None) => {}
            Err(_) => decision.warnings.push(format!(
                "triage: the page's pictures were not all checked within {} s",
                TRIAGE_BUDGET.as_secs()
            )),
        }
    }
    if let Some(e) = &error {
        decision.warnings.push(format!("triage: {e}"));
    }
    let mut record = DecisionRecord::new(Source::Report, &item, &decision);
    // Reported as involving minors: straight to escalation, media withheld,
    // whatever the machine saw.
    if cleanweb_core::review::names_minors([content.category]) {
        record.review_state = Some(cleanweb_core::review::ReviewState::Escalated);
    }
    match state
        .store
        .set_case_triage(case, Some(&record), error.as_deref())
        .await
    {
        Ok(true) => {
            save_captures(&state, case, record.id, sink).await;
            (state.on_triaged)(&decision);
            tracing::info!(%case, verdict = %decision.verdict, error = ?error, "case triaged");
        }
        // Another node, or an earlier run, triaged it first: one decision
        // per case in the queue.
        Ok(false) => tracing::info!(%case, "case was triaged already"),
        Err(e) => tracing::error!(%case, error = %e, "triage could not be stored"),
    }
}

/// Keeps a triaged case's captures in the evidence store, linked to the
/// case, its site and its decision. Evidence lost here is logged, not fatal:
/// the decision is stored and reviewers work from it.
async fn save_captures(state: &ReportDesk, case: Uuid, decision: Uuid, sink: Option<Captures>) {
    let Some(sink) = sink else { return };
    let taken = sink
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default();
    if taken.is_empty() {
        return;
    }
    let captures: Vec<cleanweb_store::NewCapture> = taken
        .into_iter()
        .map(|(url, bytes)| cleanweb_store::NewCapture {
            domain: cleanweb_url::registrable_domain(&url),
            url,
            bytes,
            case_id: Some(case),
            sweep_id: None,
            decision_id: Some(decision),
        })
        .collect();
    if let Err(e) = state.store.save_captures(&captures).await {
        tracing::error!(%case, error = %e, "triage captures could not be stored");
    }
}

/// Fetches what the item names (its URL, exactly as reported) and moderates
/// it, within `deadline`: the item as scanned, its decision (`None`: there
/// was nothing to scan, or the scan failed) and what went wrong on the way.
async fn scan(
    state: &ReportDesk,
    rs: &ReportsState,
    mut item: Item,
    deadline: tokio::time::Instant,
    sink: Option<Captures>,
) -> (Item, Option<Decision>, Option<String>) {
    let mut error = None;
    if let Some(raw) = item.url.clone() {
        let mut limits = fetch_limits(&rs.config);
        limits.timeout = limits
            .timeout
            .min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        let fetched = match cleanweb_reports::fetch_url(&raw) {
            Ok(u) => {
                // Stored with its scheme, so reviewers get a link that works.
                item.url = Some(u.to_string());
                tokio::task::spawn_blocking(move || {
                    let got = cleanweb_fetch::Fetcher::new(limits).get(&u);
                    if let Ok(f) = &got {
                        keep(&sink, f);
                    }
                    got.map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
            }
            Err(e) => Err(e.to_string()),
        };
        match fetched {
            Ok(page) if (200..300).contains(&page.status) => {
                let max = state.engine.load().limits().max_html_chars;
                match cleanweb_fetch::content::read(page, max) {
                    Content::Picture { body, .. } => item.image = Some(body),
                    Content::Video { body, .. } => item.video = Some(body),
                    Content::Page { html, url } => {
                        item.html = Some(html);
                        item.base_url = Some(url.to_string());
                    }
                    Content::Other { content_type } => {
                        error = Some(format!(
                            "the page is neither a page, a picture nor a video ({content_type})"
                        ));
                    }
                }
            }
            Ok(page) => error = Some(format!("the page answered HTTP {}", page.status)),
            Err(e) => error = Some(e),
        }
    }
    if item.text.is_none() && item.html.is_none() && item.image.is_none() {
        let why = error.unwrap_or_else(|| "nothing to scan".into());
        return (item, None, Some(why));
    }
    let engine = state.engine.load_full();
    let it = item.clone();
    let scanned = tokio::task::spawn_blocking(move || engine.moderate(&it))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    match scanned {
        Ok(d) => (item, Some(d), error),
        Err(e) => (item, None, Some(error.unwrap_or(e))),
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

/// The pictures of a page to fetch, at most [`MAX_PAGE_IMAGES`], in page
/// order: every `<img>` (and `<picture>` `<source>`) `src` and `srcset`
/// candidate first, whatever its name (what it is, the fetched type
/// decides), then other links named like pictures (`<a href=…jpg>`
/// galleries).
fn page_pictures(html: &str, base: &str) -> Vec<String> {
    const EXTENSIONS: [&str; 6] = [".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"];
    let (mut sources, mut named) = (Vec::new(), Vec::new());
    for l in cleanweb_html::links(html, Some(base)) {
        let Ok(u) = url::Url::parse(&l.url) else {
            continue;
        };
        if !matches!(u.scheme(), "http" | "https") {
            continue;
        }
        if matches!(l.tag.as_str(), "img" | "source") {
            sources.push(l.url);
        } else {
            let path = u.path().to_ascii_lowercase();
            if EXTENSIONS.iter().any(|e| path.ends_with(e)) {
                named.push(l.url);
            }
        }
    }
    let mut urls: Vec<String> = Vec::new();
    for u in sources.into_iter().chain(named) {
        if !urls.contains(&u) {
            urls.push(u);
            if urls.len() == MAX_PAGE_IMAGES {
                break;
            }
        }
    }
    urls
}

/// Fetches up to [`MAX_PAGE_IMAGES`] pictures of the page (through the same
/// public-only fetcher, none past `deadline`), moderates each, and returns
/// the worst with its bytes, if any scored above `allow`.
async fn worst_page_image(
    engine: Arc<cleanweb_engine::Engine>,
    html: &str,
    base: &str,
    limits: cleanweb_fetch::FetchLimits,
    deadline: Instant,
    sink: Option<Captures>,
) -> Option<(String, Vec<u8>, Decision)> {
    let urls = page_pictures(html, base);
    if urls.is_empty() {
        return None;
    }
    tokio::task::spawn_blocking(move || {
        let mut worst: Option<(String, Vec<u8>, Decision)> = None;
        for u in urls {
            // Each picture gets what is left of the triage's budget.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let Ok(parsed) = url::Url::parse(&u) else {
                continue;
            };
            let fetcher = cleanweb_fetch::Fetcher::new(cleanweb_fetch::FetchLimits {
                timeout: limits.timeout.min(left),
                ..limits.clone()
            });
            let Ok(got) = fetcher.get(&parsed) else {
                continue;
            };
            keep(&sink, &got);
            let ct = got.content_type.as_deref().unwrap_or("");
            if !(200..300).contains(&got.status)
                || !cleanweb_fetch::content::is_picture(ct, &got.body)
            {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Flags images whose URL names them "bad": a stand-in for the model.
    const BAD_BY_NAME: crate::testing::FlagIf = crate::testing::FlagIf {
        fields: &["image"],
        pick: |item| item.image.is_some() && item.url.as_deref().is_some_and(|u| u.contains("bad")),
    };

    #[tokio::test]
    async fn the_worst_picture_of_a_page_is_found_and_kept() {
        let png = {
            let img = image::RgbImage::from_pixel(8, 8, image::Rgb([9, 9, 9]));
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png).unwrap();
            out.into_inner()
        };
        let body = png.clone();
        let addr = crate::testing::site(move |request| {
            if request.starts_with("GET /missing") {
                ("200 OK", "text/plain", b"no".to_vec())
            } else if request.starts_with("GET /octet") {
                // A picture sent with no useful type: known by its bytes.
                ("200 OK", "application/octet-stream", body.clone())
            } else {
                ("200 OK", "image/png", body.clone())
            }
        });
        let engine = Arc::new(
            cleanweb_engine::Engine::new(Default::default(), Default::default())
                .with_detector(Arc::new(BAD_BY_NAME)),
        );
        let base = format!("http://{addr}/");
        let later = || Instant::now() + Duration::from_secs(30);
        // Only for this test: the local server stands in for a public site.
        let limits = cleanweb_fetch::FetchLimits {
            allow_private: true,
            ..Default::default()
        };
        let sink = Captures::default();
        let worst = |html: &'static str| {
            worst_page_image(
                engine.clone(),
                html,
                &base,
                limits.clone(),
                later(),
                Some(sink.clone()),
            )
        };
        let html = "<img src='/ok.png'><img src='/missing.jpg'><a href='/bad.png'>x</a><a href='/page.html'>p</a>";
        let (url, bytes, d) = worst(html).await.expect("the bad picture");
        assert!(url.ends_with("/bad.png"), "{url}");
        // Every picture fetched is kept as evidence, the 404 too.
        {
            let kept = sink.lock().unwrap();
            let urls: Vec<&str> = kept.iter().map(|(u, _)| u.as_str()).collect();
            assert_eq!(urls.len(), 3, "{urls:?}");
            assert!(urls.iter().any(|u| u.ends_with("/bad.png")), "{urls:?}");
            assert!(kept.iter().all(|(_, b)| b.starts_with(&[0x1f, 0x8b])));
        }
        assert_eq!(bytes, png);
        assert_eq!(d.verdict, Verdict::Block);
        assert!(worst("<img src='/ok.png'>").await.is_none());
        // <img> sources count whatever their names; the answer decides.
        let (url, _, _) = worst("<img src='/ok.png'><img srcset='/thumb 1x, /photo?bad 2x'>")
            .await
            .expect("a srcset candidate without an extension");
        assert!(url.ends_with("/photo?bad"), "{url}");
        let (url, _, _) = worst("<img src='/octet/bad'>")
            .await
            .expect("a picture known by its bytes");
        assert!(url.ends_with("/octet/bad"), "{url}");
        assert!(
            worst("<img src='/missing/bad'>").await.is_none(),
            "text is no picture"
        );
        // Out of time: nothing more is fetched.
        assert!(
            worst_page_image(
                engine.clone(),
                html,
                &base,
                limits.clone(),
                Instant::now(),
                None
            )
            .await
            .is_none()
        );
        // The public-only fetcher refuses the same local pictures.
        assert!(
            worst_page_image(
                engine.clone(),
                html,
                &base,
                fetch_limits(&ReportsConfig::default()),
                later(),
                None
            )
            .await
            .is_none()
        );
    }

    #[test]
    fn page_pictures_are_img_sources_first_then_picture_links() {
        let html = "<a href='/big.JPG'>x</a><img src='/a'><picture><source srcset='/b 1x, /c 2x'></picture><img src='/a'><link href='/s.css'><a href='/p.html'>p</a><img src='data:image/png;base64,xx'>";
        assert_eq!(
            page_pictures(html, "https://s.test/"),
            [
                "https://s.test/a",
                "https://s.test/b",
                "https://s.test/c",
                "https://s.test/big.JPG"
            ]
        );
        let many = "<img src='/1'><img src='/2'><img src='/3'><img src='/4'><img src='/5'>";
        assert_eq!(
            page_pictures(many, "https://s.test/").len(),
            MAX_PAGE_IMAGES
        );
    }
}

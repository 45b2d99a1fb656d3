//! Evidence bundles for prosecution and regulators: everything the store
//! holds about a site, a report case or a sweep, gathered into one signed
//! zip (`cleanweb_evidence::bundle`), and audited.
//!
//! `sexual.minors` content never goes into a bundle in clear: a decision
//! that names minors anywhere (its labels, a review, its case's reports, a
//! decision on the same picture) is listed with its content and picture
//! hashes only, and the captures of its URL or case are left out with
//! their hashes kept. Encrypting such content to a recipient was not
//! chosen: a key mishandled once would put the material in the clear; a
//! hash is what a hotline or the police match against their own copy.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Seek, Write};

use base64::Engine as _;
use cleanweb_core::review::names_minors;
use cleanweb_core::{AuditEvent, AuditRecord, Category};
use cleanweb_evidence::bundle::{BundleError, BundleWriter};
use cleanweb_evidence::key::EvidenceKey;
use cleanweb_store::{Capture, CaptureQuery, Case, DecisionRecord, Store, StoreError};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::time::format_ms;

/// What a bundle is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A site, by any URL or host on it (its registrable domain is used).
    Site(String),
    /// A report case.
    Case(Uuid),
    /// A sweep or crawl.
    Sweep(String),
}

impl Subject {
    fn kind(&self) -> &'static str {
        match self {
            Subject::Site(_) => "site",
            Subject::Case(_) => "case",
            Subject::Sweep(_) => "sweep",
        }
    }
}

/// Why a bundle was not made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Nothing by that name.
    #[error("{0}")]
    NotFound(String),
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the bundle failed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// Over a bound of the bundle.
    #[error("{0}")]
    TooLarge(String),
}

/// Bounds of one bundle.
#[derive(Clone, Copy, Debug)]
pub struct ExportLimits {
    /// Most decisions (newest first for a site).
    pub max_decisions: u32,
    /// Most captures.
    pub max_captures: u32,
    /// Most bytes of media and WARC together.
    pub max_bytes: u64,
}

impl Default for ExportLimits {
    fn default() -> Self {
        ExportLimits {
            max_decisions: 5_000,
            max_captures: 10_000,
            max_bytes: 4 << 30,
        }
    }
}

/// What a bundle holds, for the door to report.
#[derive(Clone, Debug, PartialEq)]
pub struct Exported {
    /// SHA-256 of manifest.json, also in the audit event.
    pub manifest_sha256: String,
    /// The signing key's fingerprint.
    pub fingerprint: String,
    /// Decisions listed.
    pub decisions: usize,
    /// Captures listed (kept or withheld).
    pub captures: usize,
    /// Items left out because they name minors.
    pub withheld: usize,
    /// Files in the bundle (the manifest's list).
    pub files: usize,
}

/// What the store holds about the subject.
#[derive(Default)]
struct Gathered {
    site: Option<Value>,
    sweep: Option<Value>,
    cases: Vec<Case>,
    decisions: Vec<DecisionRecord>,
    captures: Vec<Capture>,
    /// Audit subjects the excerpt covers.
    subjects: BTreeSet<String>,
}

fn host_is_in(url: &str, domain: &str) -> bool {
    cleanweb_url::registrable_domain(url).as_deref() == Some(domain)
}

async fn site_json(store: &dyn Store, domain: &str) -> Result<Value, StoreError> {
    let history = store.site_history(domain).await?;
    Ok(json!({
        "domain": domain,
        "status": history.last().map(|e| e.status.as_str()),
        "history": history.iter().map(|e| json!({
            "at": format_ms(e.at_ms), "status": e.status.as_str(), "actor": e.actor,
            "reason": e.reason, "evidence": e.evidence,
            "deadline": e.deadline_ms.map(format_ms),
        })).collect::<Vec<_>>(),
    }))
}

async fn gather(
    store: &dyn Store,
    subject: &Subject,
    limits: &ExportLimits,
) -> Result<Gathered, ExportError> {
    let mut g = Gathered::default();
    let mut decision_ids: Vec<Uuid> = Vec::new();
    match subject {
        Subject::Site(site) => {
            let domain = cleanweb_url::registrable_domain(site)
                .ok_or_else(|| ExportError::NotFound(format!("{site} is not a site")))?;
            g.site = Some(site_json(store, &domain).await?);
            g.decisions = store
                .decisions_with_url(&domain, limits.max_decisions)
                .await?
                .into_iter()
                .filter(|d| d.url.as_deref().is_some_and(|u| host_is_in(u, &domain)))
                .collect();
            g.cases = store
                .cases_with_url(&domain, limits.max_decisions)
                .await?
                .into_iter()
                .filter(|c| {
                    c.url.as_deref().is_some_and(|u| host_is_in(u, &domain))
                        || c.target
                            .strip_prefix("url:")
                            .is_some_and(|u| host_is_in(u, &domain))
                })
                .collect();
            let q = CaptureQuery {
                domain: Some(domain.clone()),
                ..Default::default()
            };
            g.captures = store.captures(&q, limits.max_captures).await?;
            g.subjects.insert(domain);
        }
        Subject::Case(id) => {
            let case = store
                .case(*id)
                .await?
                .ok_or_else(|| ExportError::NotFound(format!("no case {id}")))?;
            let q = CaptureQuery {
                case_id: Some(*id),
                ..Default::default()
            };
            g.captures = store.captures(&q, limits.max_captures).await?;
            if let Some(domain) = case
                .url
                .as_deref()
                .and_then(cleanweb_url::registrable_domain)
            {
                g.site = Some(site_json(store, &domain).await?);
                g.subjects.insert(domain);
            }
            decision_ids.extend(case.decision_id);
            g.cases.push(case);
        }
        Subject::Sweep(id) => {
            let sweep = store
                .sweep(id)
                .await?
                .ok_or_else(|| ExportError::NotFound(format!("no sweep {id}")))?;
            let mut after = None;
            let mut findings = 0u64;
            loop {
                let page = store.sweep_items(id, after, 1000, true).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.seq);
                for item in &page {
                    findings += 1;
                    let detail: Option<Value> = item
                        .detail
                        .as_deref()
                        .and_then(|d| serde_json::from_str(d).ok());
                    let did = detail
                        .as_ref()
                        .and_then(|d| d["decision_id"].as_str())
                        .and_then(|s| Uuid::parse_str(s).ok());
                    if let Some(did) = did
                        && decision_ids.len() < limits.max_decisions as usize
                    {
                        decision_ids.push(did);
                    }
                }
            }
            g.sweep = Some(json!({
                "id": sweep.id, "source": sweep.source, "kind": sweep.kind,
                "status": sweep.status, "created_at": format_ms(sweep.created_at_ms),
                "findings": findings,
            }));
            let q = CaptureQuery {
                sweep_id: Some(id.clone()),
                ..Default::default()
            };
            g.captures = store.captures(&q, limits.max_captures).await?;
            g.subjects.insert(id.clone());
        }
    }
    for id in decision_ids {
        if let Some(d) = store.decision(id).await? {
            g.decisions.push(d);
        }
    }
    for c in &g.cases {
        g.subjects.insert(c.id.to_string());
        if let Some(d) = c.decision_id
            && !g.decisions.iter().any(|x| x.id == d)
            && let Some(rec) = store.decision(d).await?
        {
            g.decisions.push(rec);
        }
    }
    g.decisions.sort_by_key(|d| (d.created_at_ms, d.id));
    g.subjects
        .extend(g.decisions.iter().map(|d| d.id.to_string()));
    Ok(g)
}

/// Whether a case's own category or any of its reports names minors.
fn case_names_minors(case: &Case, reports: &[cleanweb_store::ReportRecord]) -> bool {
    names_minors(
        case.category
            .parse::<Category>()
            .into_iter()
            .chain(reports.iter().filter_map(|r| r.category.parse().ok())),
    )
}

/// Whether anything said about the decision names minors. `reports` holds
/// the reports of the cases already read; others are read here.
async fn involves_minors(
    store: &dyn Store,
    d: &DecisionRecord,
    reviews: &[cleanweb_store::ReviewRecord],
    reports: &BTreeMap<Uuid, Vec<cleanweb_store::ReportRecord>>,
) -> Result<bool, StoreError> {
    if cleanweb_core::review::is_minors(&d.decision)
        || names_minors(reviews.iter().filter_map(|r| r.category))
    {
        return Ok(true);
    }
    if let Some(case) = store.case_by_decision(d.id).await? {
        let named = match reports.get(&case.id) {
            Some(r) => case_names_minors(&case, r),
            None => case_names_minors(&case, &store.case_reports(case.id).await?),
        };
        if named {
            return Ok(true);
        }
    }
    match &d.image_sha256 {
        Some(sha) => store.image_involves_minors(sha).await,
        None => Ok(false),
    }
}

/// A small, strongly blurred JPEG of a picture for report.html, as a
/// `data:` URI; `None` if it does not decode within the usual bounds.
fn blurred_thumbnail(bytes: &[u8]) -> Option<String> {
    let rgb = cleanweb_vision::decode_rgb(bytes, &cleanweb_vision::DecodeLimits::default()).ok()?;
    let img = image::RgbImage::from_raw(rgb.width, rgb.height, rgb.pixels)?;
    let side = 160.0 / f64::from(img.width().max(img.height()).max(1));
    let (w, h) = (
        ((f64::from(img.width()) * side).round() as u32).max(1),
        ((f64::from(img.height()) * side).round() as u32).max(1),
    );
    let small = image::imageops::thumbnail(&img, w, h);
    // Enough that no body detail survives at this size.
    let blurred = image::imageops::blur(&small, 8.0);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 70)
        .encode_image(&blurred)
        .ok()?;
    Some(format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    ))
}

fn extension(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => "png",
        Ok(image::ImageFormat::Jpeg) => "jpg",
        Ok(image::ImageFormat::Gif) => "gif",
        Ok(image::ImageFormat::WebP) => "webp",
        Ok(image::ImageFormat::Bmp) => "bmp",
        _ => "bin",
    }
}

fn audit_json(r: &AuditRecord) -> Value {
    json!({
        "seq": r.seq, "at": format_ms(r.at_ms), "actor": r.event.actor,
        "action": r.event.action, "subject": r.event.subject,
        "details": r.event.details, "prev_hash": r.prev_hash, "hash": r.hash,
    })
}

/// Writes the bundle about `subject` to `out`, signed by `key`, and appends
/// an `evidence.export` audit event naming `actor` and the manifest's hash.
pub async fn export<W: Write + Seek>(
    store: &dyn Store,
    subject: &Subject,
    actor: &str,
    key: &EvidenceKey,
    limits: &ExportLimits,
    out: W,
) -> Result<(W, Exported), ExportError> {
    let g = gather(store, subject, limits).await?;
    // Each case's reports, read once: the minors rule and the manifest both need them.
    let mut reports = BTreeMap::new();
    for c in &g.cases {
        reports.insert(c.id, store.case_reports(c.id).await?);
    }
    let mut bundle = BundleWriter::new(out);
    let mut budget = limits.max_bytes;
    let mut spend = |n: usize| {
        budget = budget.checked_sub(n as u64).ok_or_else(|| {
            ExportError::TooLarge(format!(
                "the bundle's media and captures pass {} bytes",
                limits.max_bytes
            ))
        })?;
        Ok::<_, ExportError>(())
    };
    let mut withheld = Vec::new();
    let mut withheld_urls = BTreeSet::new();
    let mut thumbs = BTreeMap::new();
    let mut added = BTreeSet::new();
    let mut decisions = Vec::new();
    for d in &g.decisions {
        let reviews = store.reviews_of(d.id).await?;
        let minors = involves_minors(store, d, &reviews, &reports).await?;
        let mut media = None;
        if minors {
            withheld.push(json!({
                "what": "decision", "decision_id": d.id, "content_sha256": d.content_sha256,
                "image_sha256": d.image_sha256, "reason": "sexual.minors",
            }));
            withheld_urls.extend(d.url.clone());
        } else if let Some(sha) = &d.image_sha256
            && let Some(bytes) = store.blob(sha).await?
        {
            let path = format!("media/{sha}.{}", extension(&bytes));
            if added.insert(path.clone()) {
                spend(bytes.len())?;
                bundle.add(&path, &bytes)?;
            }
            // Decoding and blurring is CPU work: off the async workers.
            let picture = bytes.clone();
            let thumb = tokio::task::spawn_blocking(move || blurred_thumbnail(&picture))
                .await
                .ok()
                .flatten();
            if let Some(t) = thumb {
                thumbs.insert(sha.clone(), t);
            }
            media = Some(path);
        }
        let labels = serde_json::to_value(&d.decision.labels).unwrap_or_default();
        decisions.push(json!({
            "id": d.id, "created_at": format_ms(d.created_at_ms), "source": d.source.as_str(),
            "verdict": d.decision.verdict, "categories":
                d.decision.labels.iter().map(|l| l.category.as_str()).collect::<Vec<_>>(),
            "labels": if minors { Value::Array(Vec::new()) } else { labels },
            "warnings": d.decision.warnings, "url": d.url,
            "content_sha256": d.content_sha256, "image_sha256": d.image_sha256,
            "media": media, "text": if minors { None } else { d.text.clone() },
            "withheld": minors,
            "review_state": d.review_state.map(|s| s.as_str()),
            "reviews": reviews.iter().map(|r| json!({
                "at": format_ms(r.at_ms), "reviewer": r.reviewer, "outcome": r.outcome.as_str(),
                "category": r.category.map(|c| c.as_str()), "note": r.note,
            })).collect::<Vec<_>>(),
        }));
    }
    let minors_cases: BTreeSet<Uuid> = g
        .cases
        .iter()
        .filter(|c| case_names_minors(c, reports.get(&c.id).map_or(&[], Vec::as_slice)))
        .map(|c| c.id)
        .collect();
    // The captures, kept ones concatenated into one WARC (gzip members
    // concatenate), each at its offset, written one capture at a time.
    const WARC: &str = "warc/captures.warc.gz";
    let mut captures = Vec::new();
    let mut warc = None;
    for c in &g.captures {
        let held_back = withheld_urls.contains(&c.url)
            || c.case_id.is_some_and(|id| minors_cases.contains(&id));
        let mut entry = json!({
            "id": c.id, "url": c.url, "captured_at": format_ms(c.captured_at_ms),
            "sha256": c.sha256, "bytes": c.bytes, "case_id": c.case_id,
            "sweep_id": c.sweep_id, "decision_id": c.decision_id, "withheld": held_back,
        });
        if held_back {
            withheld.push(json!({
                "what": "capture", "capture_id": c.id, "sha256": c.sha256, "reason": "sexual.minors",
            }));
        } else if let Some(bytes) = store.blob(&c.sha256).await? {
            spend(bytes.len())?;
            if warc.is_none() {
                warc = Some(bundle.stream(WARC)?);
            }
            if let Some(w) = warc.as_mut() {
                entry["file"] = WARC.into();
                entry["offset"] = w.len().into();
                w.write(&bytes)?;
            }
        }
        captures.push(entry);
    }
    if let Some(w) = warc {
        w.finish();
    }
    // The audit excerpt: every event about what the bundle holds.
    let mut events = BTreeMap::new();
    for s in &g.subjects {
        for r in store.audit_about(s, 1000).await? {
            events.insert(r.seq, r);
        }
    }
    let head = store.audit_head().await?;
    let subject_id = match subject {
        Subject::Site(_) => g.site.as_ref().map_or(String::new(), |s| {
            s["domain"].as_str().unwrap_or_default().to_owned()
        }),
        Subject::Case(id) => id.to_string(),
        Subject::Sweep(id) => id.clone(),
    };
    let cases: Vec<Value> = {
        let mut out = Vec::new();
        for c in &g.cases {
            let reports = reports.get(&c.id).map_or(&[][..], Vec::as_slice);
            out.push(json!({
                "id": c.id, "target": c.target, "kind": c.kind, "url": c.url,
                "category": c.category, "status": c.status.as_str(),
                "report_count": c.report_count, "created_at": format_ms(c.created_at_ms),
                "decision_id": c.decision_id, "triage_error": c.triage_error,
                // Reporters' identities and contacts stay sealed in the store.
                "reports": reports.iter().map(|r| json!({
                    "id": r.id, "category": r.category, "description": r.description,
                    "created_at": format_ms(r.created_at_ms),
                })).collect::<Vec<_>>(),
            }));
        }
        out
    };
    let mut manifest = serde_json::Map::new();
    manifest.insert(
        "subject".into(),
        json!({"kind": subject.kind(), "id": subject_id}),
    );
    manifest.insert(
        "created_at".into(),
        format_ms(cleanweb_store::now_ms()).into(),
    );
    manifest.insert("created_by".into(), actor.into());
    manifest.insert(
        "generator".into(),
        format!("cleanweb {}", env!("CARGO_PKG_VERSION")).into(),
    );
    manifest.insert("site".into(), g.site.clone().unwrap_or(Value::Null));
    manifest.insert("sweep".into(), g.sweep.clone().unwrap_or(Value::Null));
    manifest.insert("cases".into(), cases.into());
    manifest.insert("decisions".into(), decisions.into());
    manifest.insert("captures".into(), captures.into());
    manifest.insert("withheld".into(), withheld.clone().into());
    manifest.insert(
        "audit".into(),
        json!({
            "head": head.as_ref().map(|h| json!({"seq": h.seq, "hash": h.hash, "at": format_ms(h.at_ms)})),
            "events": events.values().map(audit_json).collect::<Vec<_>>(),
        }),
    );
    let fingerprint = key.public().fingerprint();
    let page =
        cleanweb_evidence::report::render(&Value::Object(manifest.clone()), &thumbs, &fingerprint)
            .map_err(|e| ExportError::Bundle(BundleError::Manifest(e.to_string())))?;
    bundle.add("report.html", page.as_bytes())?;
    let files = bundle.files().len();
    let (out, manifest_sha256) = bundle.finish(manifest, key)?;
    let exported = Exported {
        manifest_sha256,
        fingerprint,
        decisions: g.decisions.len(),
        captures: g.captures.len(),
        withheld: withheld.len(),
        files,
    };
    store
        .append_audit(&AuditEvent {
            actor: actor.to_owned(),
            action: "evidence.export".into(),
            subject: subject_id,
            details: json!({
                "kind": subject.kind(), "manifest_sha256": exported.manifest_sha256,
                "fingerprint": exported.fingerprint, "decisions": exported.decisions,
                "captures": exported.captures, "withheld": exported.withheld,
            }),
        })
        .await?;
    Ok((out, exported))
}

/// Deletes captures older than `retain_days`, except those under the legal
/// hold (an open case; a site in the registry that is not restored); the
/// run is audited with its counts.
pub async fn prune(
    store: &dyn Store,
    retain_days: u32,
    actor: &str,
) -> Result<cleanweb_store::Pruned, StoreError> {
    let before = cleanweb_store::now_ms() - i64::from(retain_days) * 86_400_000;
    store
        .prune_captures(
            before,
            &AuditEvent {
                actor: actor.to_owned(),
                action: "evidence.prune".into(),
                subject: "captures".into(),
                details: json!({"retain_days": retain_days, "before": format_ms(before)}),
            },
        )
        .await
}

/// Signs the audit chain's head with the evidence key and keeps the
/// checkpoint; `None` when the log is empty or its head is signed already.
/// Run on a schedule (the server does, hourly) or by `cleanweb audit
/// checkpoint`.
pub async fn checkpoint_audit(
    store: &dyn Store,
    key: &EvidenceKey,
) -> Result<Option<cleanweb_store::Checkpoint>, StoreError> {
    let Some(head) = store.audit_head().await? else {
        return Ok(None);
    };
    if store
        .checkpoints()
        .await?
        .last()
        .is_some_and(|c| c.seq >= head.seq)
    {
        return Ok(None);
    }
    let message = cleanweb_store::Checkpoint::message(head.seq, &head.hash);
    let c = cleanweb_store::Checkpoint {
        seq: head.seq,
        hash: head.hash.clone(),
        public_key: key.public().to_hex(),
        signature: hex::encode(key.sign(&message)),
        at_ms: cleanweb_store::now_ms(),
    };
    store.save_checkpoint(&c).await?;
    Ok(Some(c))
}

/// The key that signed a checkpoint, if its signature holds.
pub fn checkpoint_signer(
    c: &cleanweb_store::Checkpoint,
) -> Option<cleanweb_evidence::key::PublicKey> {
    let key = cleanweb_evidence::key::PublicKey::from_hex(&c.public_key).ok()?;
    let sig = hex::decode(&c.signature).ok()?;
    key.verifies(&cleanweb_store::Checkpoint::message(c.seq, &c.hash), &sig)
        .then_some(key)
}

//! The /v1 handlers: extract, call the engine or the store, map to a response.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use cleanweb_core::{Decision, Item, ItemError, Source, Verdict};
use cleanweb_store::{DecisionQuery, DecisionRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use cleanweb_service::{CurateError, Keeper};

use crate::AppState;
use crate::problem::{ApiJson, ItemBody, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Items to moderate; at most `limits.max_batch_items`.
    pub items: Vec<Item>,
}

/// One result of a batch: a decision, or why the item was refused.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchResult {
    Decision(Decision),
    Error(ItemFailure),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemFailure {
    pub id: Option<String>,
    pub error: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// One entry per item, in request order.
    pub decisions: Vec<BatchResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub store: String,
    pub detectors: Vec<String>,
}

/// A stored decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredDecision {
    pub decision_id: String,
    /// RFC 3339 time of the decision.
    pub created_at: String,
    pub source: Source,
    pub content_sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub decision: Decision,
}

impl From<DecisionRecord> for StoredDecision {
    fn from(r: DecisionRecord) -> Self {
        let secs = u64::try_from(r.created_at_ms).unwrap_or(0);
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(secs);
        StoredDecision {
            decision_id: r.id.to_string(),
            created_at: humantime::format_rfc3339_millis(at).to_string(),
            source: r.source,
            content_sha256: r.content_sha256,
            text: r.text,
            url: r.url,
            decision: r.decision,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionList {
    pub decisions: Vec<StoredDecision>,
    /// Pass as `before` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionParams {
    /// Only this verdict.
    #[param(value_type = Option<String>)]
    pub verdict: Option<Verdict>,
    /// Only this front door: api, cli, sweep, report.
    #[param(value_type = Option<String>)]
    pub source: Option<Source>,
    /// Only decisions older than this decision id.
    pub before: Option<Uuid>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// Moderate one item.
#[utoipa::path(post, path = "/v1/moderate", tag = "moderation",
    request_body(content(
        (Item = "application/json"),
        (Item = "multipart/form-data"),
    ), description = "An item as JSON, or an upload form: the file parts `image` and `video`, and text parts `id`, `text`, `html`, `url`, `base_url`"),
    responses(
        (status = 200, description = "The decision", body = Decision),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong key", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or field over a limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The item has no content", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The engine is full: retry after the Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn moderate(
    State(state): State<AppState>,
    ItemBody(item): ItemBody,
) -> Result<Json<Decision>, Problem> {
    let mut results = run_engine(&state, vec![item]).await?;
    let (item, result) = results
        .pop()
        .ok_or_else(|| Problem::internal("engine returned nothing"))?;
    let decision = result?;
    let mut stored = persist(&state, vec![(item, decision)]).await;
    stored
        .pop()
        .map(Json)
        .ok_or_else(|| Problem::internal("decision lost"))
}

/// Moderate up to `limits.max_batch_items` items in one request, in parallel.
#[utoipa::path(post, path = "/v1/moderate/batch", tag = "moderation",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per item, in order", body = BatchResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong key", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit, or too many items", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The engine is full: retry after the Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn moderate_batch(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, Problem> {
    let max = state.engine.load().limits().max_batch_items;
    if req.items.len() > max {
        return Err(Problem::too_large(format!(
            "the batch has {} items, the limit is {max} (limits.max_batch_items)",
            req.items.len()
        )));
    }
    let results = run_engine(&state, req.items).await?;
    let mut out: Vec<Option<BatchResult>> = Vec::with_capacity(results.len());
    let mut ok: Vec<(usize, Item, Decision)> = Vec::new();
    for (i, (item, r)) in results.into_iter().enumerate() {
        match r {
            Ok(d) => {
                ok.push((i, item, d));
                out.push(None);
            }
            Err(e) => out.push(Some(BatchResult::Error(ItemFailure {
                id: item.id,
                error: e.to_string(),
            }))),
        }
    }
    let positions: Vec<usize> = ok.iter().map(|(i, _, _)| *i).collect();
    let stored = persist(&state, ok.into_iter().map(|(_, it, d)| (it, d)).collect()).await;
    for (pos, d) in positions.into_iter().zip(stored) {
        out[pos] = Some(BatchResult::Decision(d));
    }
    Ok(Json(BatchResponse {
        decisions: out.into_iter().flatten().collect(),
    }))
}

/// List stored decisions, newest first (admin).
#[utoipa::path(get, path = "/v1/decisions", tag = "decisions",
    params(DecisionParams),
    responses(
        (status = 200, body = DecisionList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list_decisions(
    State(state): State<AppState>,
    Query(p): Query<DecisionParams>,
) -> Result<Json<DecisionList>, Problem> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let records = state
        .store
        .decisions(&DecisionQuery {
            verdict: p.verdict,
            source: p.source,
            before: p.before,
            limit,
        })
        .await
        .map_err(store_problem)?;
    let next = (records.len() == limit as usize)
        .then(|| records.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(Json(DecisionList {
        decisions: records.into_iter().map(StoredDecision::from).collect(),
        next,
    }))
}

/// One stored decision (admin).
#[utoipa::path(get, path = "/v1/decisions/{id}", tag = "decisions",
    params(("id" = String, Path, description = "The decision_id")),
    responses(
        (status = 200, body = StoredDecision),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_decision(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StoredDecision>, Problem> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| Problem::not_found(format!("no decision {id:?}: not a decision id")))?;
    match state.store.decision(id).await.map_err(store_problem)? {
        Some(r) => Ok(Json(r.into())),
        None => Err(Problem::not_found(format!("no decision {id}"))),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reloaded {
    pub detectors: Vec<String>,
}

/// Re-read the lexicon files and swap in a new engine without a restart
/// (admin). The same happens on SIGHUP.
#[utoipa::path(post, path = "/v1/admin/reload", tag = "operations",
    responses(
        (status = 200, body = Reloaded),
        (status = 422, description = "A lexicon is invalid; the old engine keeps serving", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn reload(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::Caller>,
) -> Result<Json<Reloaded>, Problem> {
    // A reload is how lexicon changes take effect: audited with what changed.
    let engine = state.reload_audited(&caller.actor()).await.map_err(|e| {
        Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "reload-failed",
            format!("reload refused, the previous engine keeps serving: {e}"),
        )
    })?;
    Ok(Json(Reloaded {
        detectors: engine
            .detector_names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// For squidguard: `domains` (default) or `urls`.
    pub file: Option<String>,
}

/// A blocklist for DNS resolvers, proxies and browsers: `{name}.{format}`
/// with format rpz, hosts, squidguard, adblock or plain.
#[utoipa::path(get, path = "/v1/blocklists/{file}", tag = "blocklists",
    params(("file" = String, Path, description = "NAME.FORMAT, e.g. adult.rpz"), ExportParams),
    responses(
        (status = 200, description = "The list in that format", body = String, content_type = "text/plain"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn blocklist_export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(p): Query<ExportParams>,
) -> Result<impl IntoResponse, Problem> {
    use cleanweb_url::formats::{ExportFormat, export};
    let (name, format) = file.rsplit_once('.').ok_or_else(|| {
        Problem::not_found(format!("{file:?}: ask for NAME.FORMAT, e.g. adult.rpz"))
    })?;
    let format: ExportFormat = format.parse().map_err(Problem::not_found)?;
    let dir = state
        .data_dir
        .clone()
        .ok_or_else(|| Problem::not_found("this server has no blocklists"))?;
    let name = name.to_owned();
    let want = p.file.unwrap_or_else(|| "domains".into());
    let text = tokio::task::spawn_blocking(move || -> Result<String, Problem> {
        let lists =
            cleanweb_url::Lists::load(&dir).map_err(|e| Problem::internal(e.to_string()))?;
        let list = lists
            .get(&name)
            .ok_or_else(|| Problem::not_found(format!("no list named {name:?}")))?;
        let files = export(format, &[list]);
        let pick = files
            .iter()
            .find(|(n, _)| format != ExportFormat::Squidguard || *n == want);
        pick.map(|(_, t)| t.clone()).ok_or_else(|| {
            Problem::not_found(format!("no file {want:?}: squidguard has domains and urls"))
        })
    })
    .await
    .map_err(|_| Problem::internal("the export task failed"))??;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteChange {
    /// A domain or URL; its registrable domain is the site.
    pub site: String,
    pub status: cleanweb_core::SiteStatus,
    pub reason: String,
    #[serde(default)]
    pub evidence: Vec<String>,
    /// RFC 3339 date or time; required for `rectification`.
    pub deadline: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteList {
    /// Each site's latest event, which is its current status.
    pub sites: Vec<cleanweb_core::SiteEvent>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteParams {
    /// Only sites with this status.
    #[param(value_type = Option<String>)]
    pub status: Option<cleanweb_core::SiteStatus>,
}

/// The site registry, current status of each site (admin).
#[utoipa::path(get, path = "/v1/sites", tag = "sites", params(SiteParams),
    responses((status = 200, body = SiteList)), security(("bearer" = [])))]
pub async fn list_sites(
    State(state): State<AppState>,
    Query(p): Query<SiteParams>,
) -> Result<Json<SiteList>, Problem> {
    let sites = state.store.sites(p.status).await.map_err(store_problem)?;
    Ok(Json(SiteList { sites }))
}

/// A site's history, oldest first (admin).
#[utoipa::path(get, path = "/v1/sites/{domain}", tag = "sites",
    params(("domain" = String, Path, description = "A domain or URL")),
    responses((status = 200, body = SiteList), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn site_history(
    State(state): State<AppState>,
    Path(domain): Path<String>,
) -> Result<Json<SiteList>, Problem> {
    let site = cleanweb_url::registrable_domain(&domain)
        .ok_or_else(|| Problem::not_found(format!("{domain:?} is not a site")))?;
    let sites = state
        .store
        .site_history(&site)
        .await
        .map_err(store_problem)?;
    if sites.is_empty() {
        return Err(Problem::not_found(format!("{site} is not in the registry")));
    }
    Ok(Json(SiteList { sites }))
}

/// Change a site's status (admin). Closed sites join the `sites-closed`
/// blocklist at once; reload the engine to apply it to moderation.
#[utoipa::path(post, path = "/v1/sites", tag = "sites", request_body = SiteChange,
    responses(
        (status = 200, body = cleanweb_core::SiteEvent),
        (status = 409, description = "The lifecycle does not allow this change", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn change_site(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::Caller>,
    ApiJson(c): ApiJson<SiteChange>,
) -> Result<Json<cleanweb_core::SiteEvent>, Problem> {
    use cleanweb_service::sites::{Change, SiteError, change_status};
    let dir = state
        .data_dir
        .clone()
        .ok_or_else(|| Problem::unavailable("this server has no data directory"))?;
    let deadline_ms = c
        .deadline
        .as_deref()
        .map(cleanweb_service::time::parse_time)
        .transpose()
        .map_err(Problem::bad_request)?;
    let actor = caller.actor();
    let change = Change {
        site: c.site,
        status: c.status,
        actor,
        reason: c.reason,
        evidence: c.evidence,
        deadline_ms,
    };
    change_status(state.store.as_ref(), &dir, change)
        .await
        .map(Json)
        .map_err(|e| match e {
            SiteError::Lifecycle(m) => {
                Problem::new(axum::http::StatusCode::CONFLICT, "lifecycle", m)
            }
            SiteError::NotASite(_) | SiteError::NoDeadline => Problem::bad_request(e.to_string()),
            other => Problem::internal(other.to_string()),
        })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageHash {
    pub pdq: String,
    pub quality: u8,
    /// Below 50: too flat or small to match on.
    pub low_quality: bool,
    pub md5: String,
    pub sha256: String,
    /// PDQ of the image rotated and flipped: rotate 90, 180, 270, flip X, flip Y, transpose, anti-transpose.
    pub dihedral: Vec<String>,
}

/// Hash an image: the request body is the image file (JPEG, PNG, GIF, WebP, BMP).
#[utoipa::path(post, path = "/v1/hash", tag = "hashes",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, body = ImageHash),
        (status = 422, description = "Not an image, or over a limit", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn hash_image(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<ImageHash>, Problem> {
    use cleanweb_vision::{decode_rgb, luma_from_rgb, md5_hex, pdq_dihedral, sha256_hex};
    // The configured decode limits, as for moderation: a hash request is no
    // way around them.
    let limits = state.engine.load().decode_limits();
    tokio::task::spawn_blocking(move || {
        let rgb = decode_rgb(&body, &limits).map_err(|e| {
            Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "bad-image",
                e.to_string(),
            )
        })?;
        let (w, h) = (rgb.width as usize, rgb.height as usize);
        let (variants, quality) = pdq_dihedral(&luma_from_rgb(&rgb.pixels, w, h), h, w);
        Ok(Json(ImageHash {
            pdq: variants[0].to_string(),
            quality,
            low_quality: quality < 50,
            md5: md5_hex(&body),
            sha256: sha256_hex(&body),
            dihedral: variants[1..].iter().map(|v| v.to_string()).collect(),
        }))
    })
    .await
    .map_err(|_| Problem::internal("the hashing task failed"))?
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BankEntries {
    pub entries: Vec<cleanweb_core::BankEntry>,
}

/// Hash banks (admin).
#[utoipa::path(get, path = "/v1/banks", tag = "banks",
    responses((status = 200, body = [cleanweb_core::Bank])), security(("bearer" = [])))]
pub async fn list_banks(
    State(state): State<AppState>,
) -> Result<Json<Vec<cleanweb_core::Bank>>, Problem> {
    state.store.banks().await.map(Json).map_err(store_problem)
}

/// Create a bank (admin); it matches at once.
#[utoipa::path(post, path = "/v1/banks", tag = "banks", request_body = cleanweb_core::Bank,
    responses((status = 200, body = cleanweb_core::Bank), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_bank(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::Caller>,
    ApiJson(bank): ApiJson<cleanweb_core::Bank>,
) -> Result<Json<cleanweb_core::Bank>, Problem> {
    state
        .curator()
        .create_bank(&bank, &caller.actor())
        .await
        .map_err(curate_problem)?;
    Ok(Json(bank))
}

/// Delete a bank and its entries (admin).
#[utoipa::path(delete, path = "/v1/banks/{name}", tag = "banks",
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn delete_bank(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::Caller>,
    Path(name): Path<String>,
) -> Result<axum::http::StatusCode, Problem> {
    state
        .curator()
        .delete_bank(&name, &caller.actor())
        .await
        .map_err(curate_problem)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Remove one hash from a bank (admin); it stops matching at once.
#[utoipa::path(delete, path = "/v1/banks/{name}/entries/{hash}", tag = "banks",
    params(("name" = String, Path), ("hash" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn remove_bank_entry(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::Caller>,
    Path((name, hash)): Path<(String, String)>,
) -> Result<axum::http::StatusCode, Problem> {
    state
        .curator()
        .remove_entry(&name, &hash, &caller.actor())
        .await
        .map_err(curate_problem)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A refused bank change as a problem: the curator's words, with the status
/// that fits.
fn curate_problem(e: CurateError) -> Problem {
    use axum::http::StatusCode;
    match e {
        CurateError::Exists(_) => Problem::new(StatusCode::CONFLICT, "exists", e.to_string()),
        CurateError::NoBank(_) | CurateError::NotInBank { .. } => Problem::not_found(e.to_string()),
        CurateError::BadImage(_) | CurateError::WrongBank(_) => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "bad-image", e.to_string())
        }
        CurateError::BadName(_)
        | CurateError::BadThreshold(_)
        | CurateError::BadShare(_)
        | CurateError::BadHash { .. } => Problem::bad_request(e.to_string()),
        CurateError::Store(e) => store_problem(e),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AddImageQuery {
    pub note: Option<String>,
    pub source: Option<String>,
    pub external_id: Option<String>,
}

/// Add an image to a bank by its bytes (admin): the hash of the bank's
/// signal is computed here, stored, and matches at once. This is what a
/// reviewer's confirmed decision calls.
#[utoipa::path(post, path = "/v1/banks/{name}/images", tag = "banks",
    params(("name" = String, Path), AddImageQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = cleanweb_core::BankEntry),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an image, or too flat for PDQ", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_bank_image(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::Caller>,
    Path(name): Path<String>,
    Query(q): Query<AddImageQuery>,
    body: axum::body::Bytes,
) -> Result<Json<cleanweb_core::BankEntry>, Problem> {
    let engine = state.engine.load();
    let limits = engine.decode_limits();
    let template = cleanweb_core::BankEntry {
        note: q.note,
        source: q.source,
        external_id: q.external_id,
        ..Default::default()
    };
    let curator = state.curator();
    let added = if cleanweb_engine::video::is_video(&body) {
        let decoder = video_decoder(&engine)?;
        let limits = cleanweb_engine::video_limits(engine.limits());
        let actor = caller.actor();
        curator
            .add_video(&name, body.to_vec(), decoder, limits, template, &actor)
            .await
    } else {
        curator
            .add_image(&name, body.to_vec(), limits, template, &caller.actor())
            .await
    };
    let (entry, _) = added.map_err(curate_problem)?;
    Ok(Json(entry))
}

fn video_decoder(
    engine: &cleanweb_engine::Engine,
) -> Result<std::sync::Arc<cleanweb_engine::video::Decoder>, Problem> {
    engine.video_decoder().cloned().ok_or_else(|| {
        Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "bad-input",
            cleanweb_engine::video::VideoError::Missing.to_string(),
        )
    })
}

/// A bank hit.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatchHit {
    pub bank: String,
    #[schema(value_type = String)]
    pub action: cleanweb_core::Action,
    #[schema(value_type = String)]
    pub category: cleanweb_core::Category,
    pub entry: String,
    pub distance: u32,
    /// Video banks: percent of the item's frames that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_pct: Option<f32>,
    /// Video banks: percent of the banked video's frames that were hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_pct: Option<f32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatchResponse {
    pub matches: Vec<MatchHit>,
}

/// A hash to match, instead of image bytes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchHashRequest {
    pub pdq: Option<String>,
    pub md5: Option<String>,
    pub sha256: Option<String>,
}

/// Match an image or a video (raw bytes) or a hash (`{"pdq"|"md5"|"sha256": hex}` as
/// JSON) against the banks; an allow-bank hit suppresses the others.
#[utoipa::path(post, path = "/v1/match", tag = "banks",
    request_body(content(
        (Vec<u8> = "application/octet-stream"),
        (MatchHashRequest = "application/json"),
    )),
    responses((status = 200, body = MatchResponse),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn match_image(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<MatchResponse>, Problem> {
    let unprocessable =
        |e: String| Problem::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "bad-input", e);
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let engine = state.engine.load_full();
    let found = if !json && cleanweb_engine::video::is_video(&body) {
        let decoder = video_decoder(&engine)?;
        let limits = cleanweb_engine::video_limits(engine.limits());
        let video = tokio::task::spawn_blocking(move || {
            decoder
                .decode_bytes(&body, &limits)
                .map(|v| (body, v))
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| Problem::internal("the hashing task failed"))?
        .map_err(unprocessable)?;
        let banks = state.banks.read().unwrap_or_else(|p| p.into_inner());
        banks.match_video(&video.0, &video.1.hashes)
    } else {
        let hashes = match_hashes(&body, json, engine.decode_limits()).await?;
        let banks = state.banks.read().unwrap_or_else(|p| p.into_inner());
        banks.match_image(&hashes)
    };
    let matches = found
        .into_iter()
        .map(|m| MatchHit {
            // A minors bank's entries (often the stored hash itself) are
            // not handed out: the hit, its bank and distance are enough to
            // act on, and admins read entries through the audited paths.
            entry: if cleanweb_core::review::names_minors([m.category]) {
                String::new()
            } else {
                m.entry
            },
            bank: m.bank,
            action: m.action,
            category: m.category,
            distance: m.distance,
            query_pct: m.shares.map(|s| s.query_pct),
            compared_pct: m.shares.map(|s| s.compared_pct),
        })
        .collect();
    Ok(Json(MatchResponse { matches }))
}

/// The hashes of a `/v1/match` body: a JSON hash request, or image bytes.
async fn match_hashes(
    body: &axum::body::Bytes,
    json: bool,
    limits: cleanweb_vision::DecodeLimits,
) -> Result<cleanweb_match::ImageHashes, Problem> {
    use cleanweb_match::ImageHashes;
    use cleanweb_vision::PdqHash;
    let unprocessable =
        |e: String| Problem::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "bad-input", e);
    Ok(if json {
        let req: MatchHashRequest = serde_json::from_slice(body)
            .map_err(|e| Problem::bad_request(format!("invalid JSON: {e}")))?;
        let pdq = match req.pdq.as_deref() {
            Some(hex) => Some(
                PdqHash::parse(&hex.to_ascii_lowercase())
                    .ok_or_else(|| unprocessable(format!("{hex:?} is not a PDQ hash")))?,
            ),
            None => None,
        };
        ImageHashes {
            // A bare hash has no rotations to try: its one value stands for all.
            pdq: [pdq.unwrap_or_default(); 8],
            quality: if pdq.is_some() { 100 } else { 0 },
            md5: req.md5.unwrap_or_default().to_ascii_lowercase(),
            sha256: req.sha256.unwrap_or_default().to_ascii_lowercase(),
        }
    } else {
        let body = body.clone();
        tokio::task::spawn_blocking(move || ImageHashes::of_bytes(&body, &limits))
            .await
            .map_err(|_| Problem::internal("the hashing task failed"))?
            .map_err(unprocessable)?
    })
}

/// A bank's entries (admin).
#[utoipa::path(get, path = "/v1/banks/{name}/entries", tag = "banks",
    params(("name" = String, Path)), responses((status = 200, body = BankEntries)), security(("bearer" = [])))]
pub async fn bank_entries(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<BankEntries>, Problem> {
    let entries = state
        .store
        .bank_entries(&name)
        .await
        .map_err(store_problem)?;
    Ok(Json(BankEntries { entries }))
}

/// Add entries to a bank (admin); answers how many were new. They match
/// at once: the running index is updated in place, not rebuilt.
#[utoipa::path(post, path = "/v1/banks/{name}/entries", tag = "banks",
    params(("name" = String, Path)), request_body = BankEntries,
    responses((status = 200, description = "Count of new entries", body = u64), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_bank_entries(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::Caller>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<BankEntries>,
) -> Result<Json<u64>, Problem> {
    state
        .curator()
        .add_entries(&name, req.entries, &caller.actor())
        .await
        .map(Json)
        .map_err(curate_problem)
}

/// Liveness and readiness: answers 200 when the store answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    state.store.ping().await.map_err(store_problem)?;
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        store: state.store.kind().into(),
        detectors: state
            .engine
            .load()
            .detector_names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

fn store_problem(e: cleanweb_store::StoreError) -> Problem {
    tracing::error!(error = %e, "store failed");
    Problem::unavailable("the store is not answering; try again")
}

type EngineResult = (Item, Result<Decision, ItemError>);

/// Runs the engine off the async threads: detection is CPU work.
async fn run_engine(state: &AppState, items: Vec<Item>) -> Result<Vec<EngineResult>, Problem> {
    with_engine(state, move |engine| {
        let results = if items.len() == 1 {
            vec![engine.moderate(&items[0])]
        } else {
            engine.moderate_batch(&items)
        };
        items.into_iter().zip(results).collect()
    })
    .await
}

/// Runs `work` on the blocking pool with an engine slot.
pub(crate) async fn with_engine<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&cleanweb_engine::Engine) -> T + Send + 'static,
) -> Result<T, Problem> {
    let engine: Arc<cleanweb_engine::Engine> = state.engine.load_full();
    // The bulkhead: a full engine answers 503 at once rather than queueing
    // work that would outlive its request. The slot is held until the
    // engine's work ends, even if the client has gone.
    let slot = tokio::time::timeout(
        state.engine_wait,
        Arc::clone(&state.engine_slots).acquire_owned(),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .ok_or_else(|| {
        state.metrics.record_engine_busy();
        Problem::unavailable("the engine is busy with other requests; retry shortly")
            .with("retry_after", 1.into())
    })?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work(&engine)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "engine task failed");
        Problem::internal("the engine failed on this request")
    })
}

pub(crate) async fn persist(state: &AppState, made: Vec<(Item, Decision)>) -> Vec<Decision> {
    let keeper = Keeper {
        source: Source::Api,
        store_allow: state.store_allow,
    };
    let mut records = Vec::new();
    let mut out = Vec::with_capacity(made.len());
    for (item, decision) in made {
        state.metrics.record_decision(Source::Api, &decision);
        match keeper.keep(&item, &decision) {
            Some(r) => {
                out.push(r.decision.clone());
                records.push(r);
            }
            None => out.push(decision),
        }
    }
    let count = records.len();
    if let Err(e) = state.decisions.save(records).await {
        tracing::error!(error = %e, count, "could not store decisions");
        state.metrics.record_store_error();
        for d in &mut out {
            if d.decision_id.take().is_some() {
                d.warnings.push("the decision could not be stored".into());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_minors_bank_hit_does_not_reveal_its_entry() {
        use cleanweb_core::{Action, Bank, BankEntry, Category, Signal};
        let dir = tempfile::tempdir().unwrap();
        let store = cleanweb_store::open(None, dir.path()).await.unwrap();
        let state = AppState::new(
            cleanweb_engine::Engine::new(Default::default(), Default::default()),
            store,
        );
        let md5 = "0123456789abcdef0123456789abcdef";
        let bank = |name: &str, category| Bank {
            name: name.into(),
            signal: Signal::Md5,
            category,
            action: Action::Block,
            threshold: 0,
            dihedral: false,
            query_pct: 80,
            compared_pct: 0,
        };
        let entry = BankEntry {
            hash: md5.into(),
            ..BankEntry::default()
        };
        *state.banks.write().unwrap() = cleanweb_match::Banks::new(vec![
            (bank("csam", Category::SexualMinors), vec![entry.clone()]),
            (bank("porn", Category::SexualExplicit), vec![entry]),
        ]);
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let body = format!(r#"{{"md5": "{md5}"}}"#);
        let Json(got) = match_image(State(state), headers, body.into())
            .await
            .unwrap();
        let entry_of = |b: &str| {
            got.matches
                .iter()
                .find(|m| m.bank == b)
                .map(|m| m.entry.clone())
        };
        assert_eq!(entry_of("csam").as_deref(), Some(""), "withheld");
        assert_eq!(entry_of("porn").as_deref(), Some(md5));
    }

    #[tokio::test]
    async fn hashing_obeys_the_configured_decode_limits() {
        let png = {
            let img = image::RgbImage::from_pixel(40, 40, image::Rgb([200, 10, 10]));
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png).unwrap();
            out.into_inner()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = cleanweb_store::open(None, dir.path()).await.unwrap();
        let small = cleanweb_core::Limits {
            max_image_pixels: 1000,
            ..Default::default()
        };
        let engine = cleanweb_engine::Engine::new(Default::default(), small);
        let state = AppState::new(engine, store.clone());
        let refused = hash_image(State(state), png.clone().into()).await;
        assert_eq!(
            refused.err().map(|p| p.status),
            Some(422),
            "1,600 pixels over a 1,000 limit"
        );
        let state = AppState::new(
            cleanweb_engine::Engine::new(Default::default(), Default::default()),
            store,
        );
        assert!(hash_image(State(state), png.into()).await.is_ok());
    }
}

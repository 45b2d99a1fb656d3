//! The cleanweb HTTP API. Handlers are thin: they extract, call the engine or
//! the store, and map to a response. Limits, timeouts, auth, metrics and
//! tracing are layers.
//!
//! Routes: `POST /v1/moderate`, `POST /v1/moderate/batch`, `POST /v1/moderate/file`,
//! `GET /v1/decisions`,
//! `GET /v1/decisions/{id}`, `POST /v1/admin/reload` (need a key; all but
//! moderation need an admin key), and the open `GET /healthz`, `GET /metrics`,
//! `GET /v1/openapi.json`.

mod api;
mod auth;
pub mod console;
mod evidence;
mod files;
pub mod metrics;
mod openapi;
pub mod problem;
pub mod reports;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use cleanweb_engine::Engine;
use cleanweb_store::Store;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

pub use auth::Caller;
pub use metrics::Metrics;
pub use openapi::ApiDoc;
use problem::Problem;

/// Rebuilds the engine from its sources (lexicon files), for reloads.
pub type EngineBuilder = dyn Fn() -> Result<Engine, String> + Send + Sync;

/// What every handler shares, built once at start-up.
#[derive(Clone)]
pub struct AppState {
    /// Swapped whole on reload; requests in flight keep the engine they began with.
    pub engine: Arc<ArcSwap<Engine>>,
    /// How to rebuild the engine; without it, reloads are refused.
    pub rebuild: Option<Arc<EngineBuilder>>,
    pub store: Arc<dyn Store>,
    /// Decisions from concurrent requests, committed together.
    pub decisions: Arc<cleanweb_store::GroupCommit>,
    pub metrics: Arc<Metrics>,
    /// Store `allow` decisions too.
    pub store_allow: bool,
    pub request_timeout: Duration,
    /// The data directory, where blocklists live; None serves no lists.
    pub data_dir: Option<std::path::PathBuf>,
    /// The banks the engine matches against, updated in place by the bank
    /// routes so changes match at once.
    pub banks: cleanweb_match::SharedBanks,
    /// The review console's settings and webhook sender.
    pub console: console::ConsoleState,
    /// The public reporting centre; `None` serves no report routes.
    pub reports: Option<Arc<cleanweb_service::reports::ReportsState>>,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// The bulkhead around the engine: moderation requests running at once.
    pub engine_slots: Arc<tokio::sync::Semaphore>,
    /// How long a request waits for an engine slot before a 503.
    pub engine_wait: Duration,
    /// Signs evidence bundles; `None` serves no exports.
    pub evidence_key: Option<Arc<cleanweb_evidence::key::EvidenceKey>>,
}

impl AppState {
    /// Rebuilds the engine and swaps it in; the old one serves until then.
    pub fn reload(&self) -> Result<Arc<Engine>, String> {
        let rebuild = self.rebuild.as_ref().ok_or_else(|| {
            "this server was started without a way to rebuild its engine".to_owned()
        })?;
        let engine = Arc::new(rebuild()?);
        self.engine.store(Arc::clone(&engine));
        tracing::info!(detectors = ?engine.detector_names(), "engine reloaded");
        Ok(engine)
    }

    /// [`AppState::reload`] on a blocking thread, audited: the event names
    /// what the engine was built from and which of those changed (a
    /// lexicon or the policy), so the log shows when rules changed and who
    /// made them take effect.
    pub async fn reload_audited(&self, actor: &str) -> Result<Arc<Engine>, String> {
        let old = self.engine.load_full();
        let st = self.clone();
        let engine = tokio::task::spawn_blocking(move || st.reload())
            .await
            .map_err(|_| "the reload task failed".to_owned())??;
        let (before, after) = (old.sources(), engine.sources());
        let changed: Vec<&String> = after
            .keys()
            .chain(before.keys().filter(|k| !after.contains_key(*k)))
            .filter(|k| before.get(*k) != after.get(*k))
            .collect();
        console::audit(
            self,
            actor,
            "engine.reload",
            "engine",
            serde_json::json!({
                "detectors": engine.detector_names(),
                "sources": after,
                "changed": changed,
            }),
        )
        .await;
        Ok(engine)
    }

    /// Bank changes through the store and the live index.
    pub fn curator(&self) -> cleanweb_service::Curator<'_> {
        cleanweb_service::Curator::new(self.store.as_ref(), Some(&self.banks))
    }

    /// The reporting centre's desk, when it runs.
    pub fn report_desk(&self) -> Option<cleanweb_service::reports::ReportDesk> {
        let reports = self.reports.clone()?;
        let metrics = self.metrics.clone();
        Some(cleanweb_service::reports::ReportDesk {
            store: self.store.clone(),
            engine: self.engine.clone(),
            reports,
            on_triaged: Arc::new(move |d| {
                metrics.record_decision(cleanweb_core::Source::Report, d)
            }),
        })
    }

    /// The review desk: decisions and their follow-ups.
    pub fn review_desk(&self) -> cleanweb_service::review::Desk<'_> {
        cleanweb_service::review::Desk {
            store: self.store.as_ref(),
            banks: Some(&self.banks),
            webhooks: self
                .console
                .webhooks
                .as_ref()
                .map(|w| w.names())
                .unwrap_or_default(),
            rewards: self.reports.as_ref().map(|r| &r.rewards),
            data_dir: self.data_dir.as_deref(),
            decode_limits: self.engine.load().decode_limits(),
        }
    }

    pub fn new(engine: Engine, store: Arc<dyn Store>) -> Self {
        AppState {
            engine: Arc::new(ArcSwap::from_pointee(engine)),
            rebuild: None,
            decisions: Arc::new(cleanweb_store::GroupCommit::new(Arc::clone(&store))),
            store,
            metrics: Arc::new(Metrics::default()),
            store_allow: false,
            request_timeout: Duration::from_secs(30),
            data_dir: None,
            banks: cleanweb_match::SharedBanks::default(),
            console: console::ConsoleState::default(),
            reports: None,
            trusted_proxies: Arc::new(Vec::new()),
            engine_slots: Arc::new(tokio::sync::Semaphore::new(engine_tasks(0))),
            engine_wait: Duration::from_millis(250),
            evidence_key: None,
        }
    }
}

/// The bulkhead's size: `configured`, or twice the cores for 0.
pub fn engine_tasks(configured: usize) -> usize {
    if configured > 0 {
        configured
    } else {
        std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
    }
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.engine.load().limits().max_body_bytes;
    let file_limit = state.engine.load().limits().max_file_bytes + (64 << 10);
    let admin = Router::new()
        .route("/v1/decisions", get(api::list_decisions))
        .route("/v1/decisions/{id}", get(api::get_decision))
        .route("/v1/admin/reload", post(api::reload))
        .route("/v1/sites", get(api::list_sites).post(api::change_site))
        .route("/v1/sites/{domain}", get(api::site_history))
        .route("/v1/banks", get(api::list_banks).post(api::create_bank))
        .route("/v1/banks/{name}", axum::routing::delete(api::delete_bank))
        .route(
            "/v1/banks/{name}/entries",
            get(api::bank_entries).post(api::add_bank_entries),
        )
        .route(
            "/v1/banks/{name}/entries/{hash}",
            axum::routing::delete(api::remove_bank_entry),
        )
        .route("/v1/banks/{name}/images", post(api::add_bank_image))
        .route("/v1/evidence/export", get(evidence::export_bundle))
        .layer(from_fn(auth::require_admin));
    let keyed = Router::new()
        .route("/v1/moderate", post(api::moderate))
        .route("/v1/moderate/batch", post(api::moderate_batch))
        // An upload may be larger than any JSON body; it is streamed to disk.
        .route(
            "/v1/moderate/file",
            post(files::moderate_file).layer(DefaultBodyLimit::max(file_limit)),
        )
        .route("/v1/hash", post(api::hash_image))
        .route("/v1/match", post(api::match_image))
        .route("/v1/blocklists/{file}", get(api::blocklist_export))
        .merge(admin)
        .layer(from_fn_with_state(state.clone(), auth::require_key));
    // The public report routes take bodies no larger than one image (base64
    // in JSON) and the form's text.
    let report_limit = state
        .reports
        .as_ref()
        .map_or(64 << 10, |r| r.config.max_image_bytes / 3 * 4 + (256 << 10));
    let reporting = Router::new()
        .route("/v1/reports", post(reports::file_report))
        .route("/report", get(reports::form).post(reports::submit_form))
        .layer(DefaultBodyLimit::max(report_limit));
    let open = Router::new()
        .merge(reporting)
        .route("/v1/reports/{receipt}", get(reports::report_status))
        .route("/report/status", get(reports::status_page))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/v1/openapi.json", get(openapi_json));
    Router::new()
        .merge(keyed)
        .merge(open)
        .merge(console::router())
        .fallback(not_found)
        .layer(from_fn_with_state(
            Arc::clone(&state.metrics),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::internal("the server failed on this request").into_response()
        }))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(from_fn(close_after_refusal))
        .with_state(state)
}

/// A request refused before its body was read to the end (a bad type, a
/// missing token, too large) leaves the rest of that body on the wire, so
/// its connection cannot carry another request. An error answer to a
/// request with a body therefore says `Connection: close`, and a client
/// opens a fresh connection instead of failing on the spent one.
async fn close_after_refusal(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let h = req.headers();
    let has_body = h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let mut response = next.run(req).await;
    let status = response.status();
    if has_body && (status.is_client_error() || status.is_server_error()) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address feeds the console's login lockout.
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The request span: method and path, never the query string, and receipt
/// codes cut out (they are the only key to a report's status).
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()))
}

fn loggable_path(path: &str) -> &str {
    if path.starts_with("/v1/reports/") {
        "/v1/reports/{receipt}"
    } else {
        path
    }
}

async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

async fn not_found() -> Problem {
    Problem::not_found("no such route; see /v1/openapi.json")
}

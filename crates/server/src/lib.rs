//! The cleanweb HTTP API. Handlers are thin: they extract, call the engine or
//! the store, and map to a response. Limits, timeouts, auth, metrics and
//! tracing are layers.
//!
//! Routes: `POST /v1/moderate`, `POST /v1/moderate/batch`, `GET /v1/decisions`,
//! `GET /v1/decisions/{id}` (need a key; decisions need an admin key), and the
//! open `GET /healthz`, `GET /metrics`, `GET /v1/openapi.json`.

mod api;
mod auth;
pub mod metrics;
mod openapi;
pub mod problem;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

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

/// What every handler shares, built once at start-up.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    /// Store `allow` decisions too.
    pub store_allow: bool,
    pub request_timeout: Duration,
}

impl AppState {
    pub fn new(engine: Engine, store: Arc<dyn Store>) -> Self {
        AppState {
            engine: Arc::new(engine),
            store,
            metrics: Arc::new(Metrics::default()),
            store_allow: false,
            request_timeout: Duration::from_secs(30),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.engine.limits().max_body_bytes;
    let admin = Router::new()
        .route("/v1/decisions", get(api::list_decisions))
        .route("/v1/decisions/{id}", get(api::get_decision))
        .layer(from_fn(auth::require_admin));
    let keyed = Router::new()
        .route("/v1/moderate", post(api::moderate))
        .route("/v1/moderate/batch", post(api::moderate_batch))
        .merge(admin)
        .layer(from_fn_with_state(state.clone(), auth::require_key));
    let open = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/v1/openapi.json", get(openapi_json));
    Router::new()
        .merge(keyed)
        .merge(open)
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
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

async fn not_found() -> Problem {
    Problem::not_found("no such route; see /v1/openapi.json")
}

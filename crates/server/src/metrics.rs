//! Prometheus metrics, in one registry owned by the server state (no globals,
//! so several servers can live in one process, as the tests do).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use cleanweb_core::{Decision, Source};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    source: String,
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CategoryLabels {
    source: String,
    category: String,
    verdict: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    decisions: Family<VerdictLabels, Counter>,
    categories: Family<CategoryLabels, Counter>,
    store_errors: Counter,
    engine_busy: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cleanweb");
        let requests = Family::<HttpLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 100 µs to ~26 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 19))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        let decisions = Family::<VerdictLabels, Counter>::default();
        registry.register("decisions", "Decisions made, by verdict", decisions.clone());
        let categories = Family::<CategoryLabels, Counter>::default();
        registry.register(
            "decision_labels",
            "Labels on decisions, by category and the decision's verdict",
            categories.clone(),
        );
        let store_errors = Counter::default();
        registry.register(
            "store_errors",
            "Decisions that could not be stored",
            store_errors.clone(),
        );
        let engine_busy = Counter::default();
        registry.register(
            "engine_busy",
            "Moderation requests answered 503 because the engine was full",
            engine_busy.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            decisions,
            categories,
            store_errors,
            engine_busy,
        }
    }
}

impl Metrics {
    pub fn record_decision(&self, source: Source, d: &Decision) {
        let verdict = d.verdict.as_str().to_owned();
        self.decisions
            .get_or_create(&VerdictLabels {
                source: source.as_str().to_owned(),
                verdict: verdict.clone(),
            })
            .inc();
        for l in &d.labels {
            self.categories
                .get_or_create(&CategoryLabels {
                    source: source.as_str().to_owned(),
                    category: l.category.as_str().to_owned(),
                    verdict: verdict.clone(),
                })
                .inc();
        }
    }

    pub fn record_store_error(&self) {
        self.store_errors.inc();
    }

    pub fn record_engine_busy(&self) {
        self.engine_busy.inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Counts and times every request by its route template (never the raw path,
/// which would let clients create unbounded label sets).
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Clients choose the method string; only the standard ones get a label.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS") => m.to_owned(),
        _ => "other".to_owned(),
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let resp = next.run(req).await;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&HttpLabels {
            method,
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}

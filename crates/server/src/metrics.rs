//! Tandem's own `/metrics`, in Prometheus text format: HTTP traffic counted as it happens, and
//! the state of runs, deployments and markets read from the store at scrape time.

use crate::AppState;
use crate::auth::{Auth, Viewer};
use crate::error::{ApiError, ApiResult};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<HttpLabels, Histogram>,
    runs: Family<StateLabels, Gauge>,
    deployments: Family<StateLabels, Gauge>,
    rollouts: Family<StateLabels, Gauge>,
    market_processes: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tandem");
        let requests = Family::<HttpLabels, Counter>::default();
        let latency = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let runs = Family::<StateLabels, Gauge>::default();
        let deployments = Family::<StateLabels, Gauge>::default();
        let rollouts = Family::<StateLabels, Gauge>::default();
        let market_processes = Gauge::default();
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests",
            latency.clone(),
        );
        registry.register("runs", "Pipeline runs by state", runs.clone());
        registry.register("deployments", "Deployments by state", deployments.clone());
        registry.register("rollouts", "Rollouts by state", rollouts.clone());
        registry.register(
            "market_processes",
            "Market processes the server supervises",
            market_processes.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            runs,
            deployments,
            rollouts,
            market_processes,
        }
    }
}

/// Counts and times every request, by route template (not raw path, to bound the series).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    let labels = HttpLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn serve_metrics(_: Auth<Viewer>, State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let store = &state.engine.store;
    let m = &state.metrics;
    m.runs.clear();
    for run in store.list_runs(None, i64::MAX).await? {
        m.runs.get_or_create(&StateLabels { state: run.state }).inc();
    }
    m.deployments.clear();
    for d in store.list_deployments(None).await? {
        m.deployments.get_or_create(&StateLabels { state: d.state }).inc();
    }
    m.rollouts.clear();
    for r in store.list_rollouts(i64::MAX).await? {
        m.rollouts.get_or_create(&StateLabels { state: r.state }).inc();
    }
    m.market_processes.set(state.engine.supervisor.count().await as i64);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &m.registry).map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
}

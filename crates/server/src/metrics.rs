//! Tandem's own `/metrics`, in Prometheus text format: HTTP traffic counted as it happens, and
//! the state of runs, deployments, rollouts, gates, incidents, queues and markets counted in
//! the store at scrape time, and the store's size.

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GateLabels {
    gate: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IncidentLabels {
    state: String,
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

/// Tandem's own Prometheus registry: the HTTP counters [`track`] updates on every request and
/// the gauges [`serve_metrics`] reads from the store at each scrape. One per server, in
/// [`crate::AppState`].
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<HttpLabels, Histogram>,
    runs: Family<StateLabels, Gauge>,
    deployments: Family<StateLabels, Gauge>,
    rollouts: Family<StateLabels, Gauge>,
    gate_failures: Family<GateLabels, Gauge>,
    incidents: Family<IncidentLabels, Gauge>,
    queues: Family<QueueLabels, Gauge>,
    markets: Family<StateLabels, Gauge>,
    market_processes: Gauge,
    store_bytes: Gauge,
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
        let gate_failures = Family::<GateLabels, Gauge>::default();
        let incidents = Family::<IncidentLabels, Gauge>::default();
        let queues = Family::<QueueLabels, Gauge>::default();
        let markets = Family::<StateLabels, Gauge>::default();
        let market_processes = Gauge::default();
        let store_bytes = Gauge::default();
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
            "gate_failures",
            "Failed gate results by gate (probe, bake, metrics, metric:<check>)",
            gate_failures.clone(),
        );
        registry.register("incidents", "Incidents by state and source", incidents.clone());
        registry.register(
            "queue_depth",
            "Work waiting: runs and jobs to start, rollouts queued or awaiting approval, change requests to review",
            queues.clone(),
        );
        registry.register(
            "monitored_markets",
            "Live markets by the monitor's last verdict (up, down)",
            markets.clone(),
        );
        registry.register(
            "market_processes",
            "Market processes the server supervises",
            market_processes.clone(),
        );
        registry.register(
            "store_size_bytes",
            "The database's size on disk in bytes (SQLite's file and its log, or PostgreSQL's pg_database_size)",
            store_bytes.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            runs,
            deployments,
            rollouts,
            gate_failures,
            incidents,
            queues,
            markets,
            market_processes,
            store_bytes,
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
    let counts = state.engine.state_counts().await?;
    let m = &state.metrics;
    let by_state = |family: &Family<StateLabels, Gauge>, rows: &[(String, i64)]| {
        family.clear();
        for (state, n) in rows {
            family.get_or_create(&StateLabels { state: state.clone() }).set(*n);
        }
    };
    by_state(&m.runs, &counts.runs);
    by_state(&m.deployments, &counts.deployments);
    by_state(&m.rollouts, &counts.rollouts);
    by_state(&m.markets, &counts.markets);
    m.gate_failures.clear();
    for (gate, n) in &counts.gate_failures {
        m.gate_failures
            .get_or_create(&GateLabels { gate: gate.clone() })
            .set(*n);
    }
    m.incidents.clear();
    for (state, source, n) in &counts.incidents {
        let labels = IncidentLabels {
            state: state.clone(),
            source: source.clone(),
        };
        m.incidents.get_or_create(&labels).set(*n);
    }
    m.queues.clear();
    for (queue, n) in &counts.queues {
        m.queues.get_or_create(&QueueLabels { queue: queue.clone() }).set(*n);
    }
    m.market_processes.set(state.engine.supervisor.count().await as i64);
    m.store_bytes.set(counts.store_bytes);
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

//! Prometheus metrics at `GET /_saker/metrics` (OpenMetrics text): HTTP requests, ingest,
//! ES|QL queries, the store's buffer and segments, and detection rule executions.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `saker_http_requests` | counter | `method`, `status` (e.g. `2xx`) |
//! | `saker_http_request_duration_seconds` | histogram | `method` |
//! | `saker_ingest_documents` | counter | `result` (`accepted`, `failed`) |
//! | `saker_ingest_bytes` | counter | |
//! | `saker_queries` | counter | `result` (`ok`, `error`) |
//! | `saker_store_indices`, `saker_store_documents`, `saker_store_buffered_documents` (the queue not yet in segments), `saker_store_segments`, `saker_store_bytes` | gauge | |
//! | `saker_rule_executions` | counter | `rule_id`, `status` (`succeeded`, `partial failure`, `failed`) |
//! | `saker_rule_execution_duration_seconds` | histogram | `rule_id` |
//! | `saker_rule_alerts_created` | counter | `rule_id` |
//! | `saker_rule_errors`, `saker_rule_gaps` | counter | `rule_id` |
//!
//! Counters are exposed with OpenMetrics' `_total` suffix.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::{Duration, Instant};

/// A request's method and status class.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    method: String,
    status: String,
}

/// A request's method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabel {
    method: String,
}

/// An outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    result: &'static str,
}

/// A rule.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabel {
    rule_id: String,
}

/// A rule and an execution status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleStatusLabels {
    rule_id: String,
    status: String,
}

fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 4.0, 9))
}

fn rule_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 4.0, 8))
}

/// Every metric the server exposes.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<MethodLabel, Histogram, fn() -> Histogram>,
    ingest_documents: Family<ResultLabel, Counter>,
    ingest_bytes: Counter,
    queries: Family<ResultLabel, Counter>,
    indices: Gauge,
    documents: Gauge,
    buffered: Gauge,
    segments: Gauge,
    bytes: Gauge,
    rule_executions: Family<RuleStatusLabels, Counter>,
    rule_duration: Family<RuleLabel, Histogram, fn() -> Histogram>,
    rule_alerts: Family<RuleLabel, Counter>,
    rule_errors: Family<RuleLabel, Counter>,
    rule_gaps: Family<RuleLabel, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// All metrics at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("saker");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", http_requests.clone());
        let http_duration = Family::<MethodLabel, Histogram, fn() -> Histogram>::new_with_constructor(
            request_histogram as fn() -> Histogram,
        );
        registry.register("http_request_duration_seconds", "HTTP request durations", http_duration.clone());
        let ingest_documents = Family::<ResultLabel, Counter>::default();
        registry.register("ingest_documents", "Documents received for ingest", ingest_documents.clone());
        let ingest_bytes = Counter::default();
        registry.register("ingest_bytes", "Bytes of ingest bodies (decoded)", ingest_bytes.clone());
        let queries = Family::<ResultLabel, Counter>::default();
        registry.register("queries", "ES|QL queries run", queries.clone());
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let indices = gauge(&mut registry, "store_indices", "Indices and data streams");
        let documents = gauge(&mut registry, "store_documents", "Documents stored");
        let buffered =
            gauge(&mut registry, "store_buffered_documents", "Documents acknowledged, in the log, not yet in segments");
        let segments = gauge(&mut registry, "store_segments", "Parquet segments");
        let bytes = gauge(&mut registry, "store_bytes", "Bytes of segments and buffers");
        let rule_executions = Family::<RuleStatusLabels, Counter>::default();
        registry.register("rule_executions", "Detection rule executions", rule_executions.clone());
        let rule_duration = Family::<RuleLabel, Histogram, fn() -> Histogram>::new_with_constructor(
            rule_histogram as fn() -> Histogram,
        );
        registry.register(
            "rule_execution_duration_seconds",
            "Detection rule execution durations",
            rule_duration.clone(),
        );
        let rule_alerts = Family::<RuleLabel, Counter>::default();
        registry.register("rule_alerts_created", "Alerts created by detection rules", rule_alerts.clone());
        let rule_errors = Family::<RuleLabel, Counter>::default();
        registry.register("rule_errors", "Errors of detection rule executions", rule_errors.clone());
        let rule_gaps = Family::<RuleLabel, Counter>::default();
        registry.register("rule_gaps", "Gaps recorded by detection rules", rule_gaps.clone());
        Metrics {
            registry,
            http_requests,
            http_duration,
            ingest_documents,
            ingest_bytes,
            queries,
            indices,
            documents,
            buffered,
            segments,
            bytes,
            rule_executions,
            rule_duration,
            rule_alerts,
            rule_errors,
            rule_gaps,
        }
    }

    /// Counts one answered request.
    pub fn record_request(&self, method: &str, status: StatusCode, took: Duration) {
        let status = format!("{}xx", status.as_u16() / 100);
        self.http_requests.get_or_create(&HttpLabels { method: method.to_string(), status }).inc();
        self.http_duration.get_or_create(&MethodLabel { method: method.to_string() }).observe(took.as_secs_f64());
    }

    /// Counts one ingest call.
    pub fn record_ingest(&self, accepted: u64, failed: u64, bytes: u64) {
        self.ingest_documents.get_or_create(&ResultLabel { result: "accepted" }).inc_by(accepted);
        self.ingest_documents.get_or_create(&ResultLabel { result: "failed" }).inc_by(failed);
        self.ingest_bytes.inc_by(bytes);
    }

    /// Counts one ES|QL query.
    pub fn record_query(&self, ok: bool) {
        self.queries.get_or_create(&ResultLabel { result: if ok { "ok" } else { "error" } }).inc();
    }

    /// Counts one rule execution.
    pub fn record_rule_execution(
        &self,
        rule_id: &str,
        status: &str,
        took: Duration,
        alerts: u64,
        errors: u64,
        gap: bool,
    ) {
        let rule = RuleLabel { rule_id: rule_id.to_string() };
        self.rule_executions
            .get_or_create(&RuleStatusLabels { rule_id: rule_id.to_string(), status: status.to_string() })
            .inc();
        self.rule_duration.get_or_create(&rule).observe(took.as_secs_f64());
        self.rule_alerts.get_or_create(&rule).inc_by(alerts);
        self.rule_errors.get_or_create(&rule).inc_by(errors);
        if gap {
            self.rule_gaps.get_or_create(&rule).inc();
        }
    }

    /// The metrics as OpenMetrics text, with the store's gauges read now.
    pub fn encode(&self, store: &store::Store) -> String {
        let stats = store.indices();
        let sum = |f: fn(&store::IndexStats) -> u64| stats.iter().map(f).sum::<u64>();
        let gauge = |g: &Gauge, v: u64| {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        gauge(&self.indices, stats.len() as u64);
        gauge(&self.documents, sum(|s| s.docs));
        gauge(&self.buffered, sum(|s| s.buffered_docs));
        gauge(&self.segments, sum(|s| s.segments as u64));
        gauge(&self.bytes, sum(|s| s.bytes));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// `GET /_saker/metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics().encode(state.store());
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

/// Middleware counting every request with its status and duration.
pub async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics().record_request(&method, response.status(), started.elapsed());
    response
}

//! The node and cluster endpoints: `GET /` (what clients check before anything else),
//! `HEAD /` (ping), `GET /_cluster/health`, and the answer to paths no route handles.

use crate::error::ApiError;
use crate::request::Params;
use crate::response::{BUILD_HASH, ES_VERSION, empty, json_response};
use crate::{AppState, indices};
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::json;

/// `GET /`: name, cluster and version, shaped as Elasticsearch's.
///
/// Elasticsearch: `RestMainAction`. The official clients (8.0 and later) accept the server when
/// every response carries `X-Elastic-Product: Elasticsearch` (added by
/// [`crate::response::elastic_shape`]); Beats and Elastic Agent read `version.number`.
pub async fn root(State(state): State<AppState>, params: Params) -> Response {
    let config = state.config();
    let body = json!({
        "name": config.node_name,
        "cluster_name": config.cluster_name,
        "cluster_uuid": cluster_uuid(&state),
        "version": {
            "number": ES_VERSION,
            "build_flavor": "default",
            "build_type": "saker",
            "build_hash": BUILD_HASH,
            "build_date": "2025-07-24T00:00:00.000Z",
            "build_snapshot": false,
            "lucene_version": "10.2.2",
            "minimum_wire_compatibility_version": "8.19.0",
            "minimum_index_compatibility_version": "8.0.0",
        },
        "tagline": "You Know, for Search",
    });
    json_response(StatusCode::OK, &body, params.pretty())
}

/// `HEAD /`: 200 while the server runs (the clients' `ping`).
pub async fn ping() -> Response {
    empty(StatusCode::OK)
}

/// `GET /_cluster/health[/{index}]`: one node, every index green (one primary, no replicas).
///
/// Elasticsearch: `RestClusterHealthAction`. `wait_for_status` returns at once: the cluster is
/// never in any other state.
pub async fn cluster_health(
    State(state): State<AppState>,
    index: Option<Path<String>>,
    params: Params,
) -> Result<Response, ApiError> {
    let shards = match index {
        Some(Path(expression)) => indices::resolve(&state, &expression, indices::Hidden::Exclude)?.len(),
        None => state.store().indices().len(),
    };
    let body = json!({
        "cluster_name": state.config().cluster_name,
        "status": "green",
        "timed_out": false,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": shards,
        "active_shards": shards,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": 0,
        "unassigned_primary_shards": 0,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": 100.0,
    });
    Ok(json_response(StatusCode::OK, &body, params.pretty()))
}

/// Any path no route handles: Elasticsearch's `no handler found for uri [...] and method [...]`.
pub async fn no_handler(method: Method, uri: Uri) -> ApiError {
    let uri = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| uri.path().to_string());
    ApiError::NoHandler { method: method.to_string(), uri }
}

/// A stable identifier of this data folder, shaped as Elasticsearch's (22 URL-safe characters).
fn cluster_uuid(state: &AppState) -> String {
    crate::indices::uuid_of(&state.store().dir().display().to_string())
}

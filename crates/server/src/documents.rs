//! Document endpoints: `_bulk` (NDJSON action and source lines, per-item results) and the
//! single-document APIs `_doc` and `_create`, all written through the store's bulk ingest.
//!
//! A request is acknowledged once its documents are durable in the store's log, and they are
//! searchable from then on, so `refresh` is accepted and has nothing to do.

use crate::AppState;
use crate::error::ApiError;
use crate::request::{Body, Params};
use crate::response::json_response;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::time::Instant;
use store::IngestReport;

/// `POST /_bulk`.
pub async fn bulk(State(state): State<AppState>, params: Params, body: Body) -> Result<Response, ApiError> {
    run_bulk(&state, None, &params, body).await
}

/// `POST /{index}/_bulk`: `index` is the default of action lines without `_index`.
pub async fn bulk_index(
    State(state): State<AppState>,
    Path(index): Path<String>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    run_bulk(&state, Some(index), &params, body).await
}

async fn run_bulk(state: &AppState, index: Option<String>, params: &Params, body: Body) -> Result<Response, ApiError> {
    let started = Instant::now();
    let report = ingest(state, index, body.0.to_vec()).await?;
    if report.items.is_empty() {
        return Err(ApiError::validation(&["no requests added"]));
    }
    let took = started.elapsed().as_millis() as u64;
    tracing::debug!(items = report.items.len(), failed = report.failed(), took, "bulk");
    Ok(json_response(StatusCode::OK, &report.to_bulk_json(took), params.pretty()))
}

/// Runs a bulk body through the store on a blocking thread (the store waits for its log's fsync).
async fn ingest(state: &AppState, index: Option<String>, body: Vec<u8>) -> Result<IngestReport, ApiError> {
    let store = state.store().clone();
    let report = tokio::task::spawn_blocking(move || store.ingest_bulk(index.as_deref(), &body))
        .await
        .map_err(ApiError::internal)??;
    state.metrics().record_ingest(report.accepted() as u64, report.failed() as u64, report.bytes);
    Ok(report)
}

/// `POST /{index}/_doc`: adds a document with a generated `_id`.
pub async fn index_auto_id(
    State(state): State<AppState>,
    Path(index): Path<String>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    one_document(&state, "index", &index, None, &params, body).await
}

/// `PUT|POST /{index}/_doc/{id}`: adds a document with this `_id`, or replaces the one that has
/// it (200, `updated`, the next `_version`); `op_type=create` makes it a create (409 when it
/// exists). Data streams accept only creates, as Elasticsearch's.
pub async fn index_with_id(
    State(state): State<AppState>,
    Path((index, id)): Path<(String, String)>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let op = match params.get("op_type") {
        None | Some("index") => "index",
        Some("create") => "create",
        Some(other) => {
            return Err(ApiError::illegal_argument(format!("opType must be 'create' or 'index', found: [{other}]")));
        }
    };
    one_document(&state, op, &index, Some(&id), &params, body).await
}

/// `PUT|POST /{index}/_create/{id}`: adds a document, 409 when the `_id` exists.
pub async fn create(
    State(state): State<AppState>,
    Path((index, id)): Path<(String, String)>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    one_document(&state, "create", &index, Some(&id), &params, body).await
}

/// Ingests one document as a one-item bulk request and answers as Elasticsearch's index API:
/// 201 with `_index`, `_id`, `_version`, `result`, or the item's error with the item's status.
async fn one_document(
    state: &AppState,
    op: &str,
    index: &str,
    id: Option<&str>,
    params: &Params,
    body: Body,
) -> Result<Response, ApiError> {
    if body.is_empty() {
        return Err(ApiError::parse("request body is required"));
    }
    let mut action = Map::new();
    action.insert("_index".into(), json!(index));
    if let Some(id) = id {
        action.insert("_id".into(), json!(id));
    }
    let mut bulk = json!({ op: action }).to_string().into_bytes();
    bulk.push(b'\n');
    // A line break outside a JSON string is whitespace, and inside one it is invalid JSON either
    // way: a pretty-printed document becomes one bulk source line.
    bulk.extend(body.0.iter().map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }));
    bulk.push(b'\n');
    let report = ingest(state, None, bulk).await?;
    let Some(item) = report.items.first() else {
        return Err(ApiError::internal("a one-document bulk request gave no result"));
    };
    match &item.result {
        Ok(version) => {
            let body = json!({
                "_index": item.index,
                "_id": item.id,
                "_version": version,
                "result": item.result_name().unwrap_or("created"),
                "_shards": {"total": 1, "successful": 1, "failed": 0},
            });
            let status = StatusCode::from_u16(item.status()).unwrap_or(StatusCode::CREATED);
            Ok(json_response(status, &body, params.pretty()))
        }
        Err(error) => {
            let api = ApiError::from(error);
            Err(match &item.index {
                Some(index) => api.with("index", Value::String(index.clone())),
                None => api,
            })
        }
    }
}

//! Index templates and data streams: `PUT`/`GET`/`HEAD`/`DELETE /_index_template[/{name}]`,
//! `DELETE /_data_stream/{name}`, and the data stream lifecycle
//! (`GET`/`PUT`/`DELETE /_data_stream/{name}/_lifecycle`), with Elasticsearch's request and
//! response shapes over the store's templates ([`store::templates`]) and settings.

use crate::AppState;
use crate::error::ApiError;
use crate::indices::Hidden;
use crate::request::{Body, Params};
use crate::response::{empty, json_response};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::time::Duration;
use store::templates::glob;
use store::{IndexStats, Lifecycle, TemplateError};

fn template_error(error: TemplateError) -> ApiError {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    ApiError::new(status, error.kind, error.reason)
}

fn acknowledged(params: &Params) -> Response {
    json_response(StatusCode::OK, &json!({"acknowledged": true}), params.pretty())
}

/// `PUT /_index_template/{name}` (`?create=true` refuses to replace).
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let create = params.flag("create")?;
    let body = Value::Object(body.json_object()?);
    let store = state.store().clone();
    tokio::task::spawn_blocking(move || store.put_index_template(&name, &body, create))
        .await
        .map_err(ApiError::internal)?
        .map_err(template_error)?;
    Ok(acknowledged(&params))
}

/// `GET /_index_template`: every template.
pub async fn get_all(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let (status, body) = list(&state, None)?;
    Ok(json_response(status, &body, params.pretty()))
}

/// `GET /_index_template/{name}`: one template, or those a `*` pattern matches (404 with an empty
/// list when none does, as Elasticsearch).
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let (status, body) = list(&state, Some(&name))?;
    Ok(json_response(status, &body, params.pretty()))
}

/// `HEAD /_index_template/{name}`: 200 when it exists (or the pattern matches one), else 404.
pub async fn exists(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match list(&state, Some(&name)) {
        Ok((StatusCode::OK, _)) => empty(StatusCode::OK),
        _ => empty(StatusCode::NOT_FOUND),
    }
}

fn list(state: &AppState, name: Option<&str>) -> Result<(StatusCode, Value), ApiError> {
    let templates = state.store().index_templates();
    let chosen: Vec<Value> = templates
        .iter()
        .filter(|t| name.is_none_or(|n| glob(n, &t.name)))
        .map(|t| json!({"name": t.name, "index_template": t.to_json()}))
        .collect();
    if let Some(name) = name
        && chosen.is_empty()
    {
        if !name.contains('*') {
            return Err(ApiError::resource_not_found(format!("index template matching [{name}] not found")));
        }
        return Ok((StatusCode::NOT_FOUND, json!({"index_templates": []})));
    }
    Ok((StatusCode::OK, json!({ "index_templates": chosen })))
}

/// `DELETE /_index_template/{name}`: a comma-separated list of names, or one name or pattern.
pub async fn delete(
    State(state): State<AppState>,
    Path(names): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let store = state.store().clone();
    tokio::task::spawn_blocking(move || store.delete_index_templates(&names))
        .await
        .map_err(ApiError::internal)?
        .map_err(template_error)?;
    Ok(acknowledged(&params))
}

/// The data streams an expression names: comma-separated names and `*` patterns (hidden ones,
/// named with a leading `.`, only with `expand_wildcards=all|hidden` or a `.` pattern). A name
/// that is not a data stream is `index_not_found_exception`; a pattern may match none.
fn data_streams(state: &AppState, expression: &str, params: &Params) -> Result<Vec<IndexStats>, ApiError> {
    let hidden = Hidden::from_params(params);
    let all: Vec<IndexStats> = state.store().indices().into_iter().filter(|i| i.data_stream).collect();
    let mut chosen = vec![false; all.len()];
    for part in expression.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let pattern = if part == "_all" { "*" } else { part };
        if !pattern.contains('*') {
            match all.iter().position(|ds| ds.name == pattern) {
                Some(position) => chosen[position] = true,
                None => return Err(ApiError::index_not_found(pattern)),
            }
            continue;
        }
        for (position, ds) in all.iter().enumerate() {
            let visible = hidden == Hidden::Include || !ds.hidden || pattern.starts_with('.');
            if visible && glob(pattern, &ds.name) {
                chosen[position] = true;
            }
        }
    }
    Ok(all.into_iter().zip(chosen).filter(|(_, c)| *c).map(|(ds, _)| ds).collect())
}

/// `DELETE /_data_stream/{name}`: deletes data streams with their documents.
pub async fn delete_data_stream(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let found = data_streams(&state, &expression, &params)?;
    let store = state.store().clone();
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        for ds in found {
            store.delete_index(&ds.name)?;
        }
        Ok(())
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(acknowledged(&params))
}

/// A duration as Elasticsearch writes time values: the largest unit it is a whole number of.
fn duration_text(duration: Duration) -> String {
    let ms = duration.as_millis();
    for (unit, per) in [("d", 86_400_000u128), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms > 0 && ms.is_multiple_of(per) {
            return format!("{}{unit}", ms / per);
        }
    }
    format!("{ms}ms")
}

/// `GET /_data_stream/{name}/_lifecycle`: each data stream's lifecycle with its effective
/// retention (absent for one without a lifecycle).
pub async fn get_lifecycle(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let default = state.store().options().default_retention;
    let mut streams = Vec::new();
    for ds in data_streams(&state, &expression, &params)? {
        let mut entry = json!({"name": ds.name});
        let settings = state.store().index_settings(&ds.name).unwrap_or_default();
        if let Some(lifecycle) = &settings.lifecycle {
            let mut body = lifecycle.to_json();
            if let (Some(object), Some(retention)) = (body.as_object_mut(), settings.effective_retention(default)) {
                object.insert("effective_retention".into(), json!(duration_text(retention)));
                let by = if lifecycle.data_retention.is_some() {
                    "data_stream_configuration"
                } else {
                    "default_global_retention"
                };
                object.insert("retention_determined_by".into(), json!(by));
            }
            entry["lifecycle"] = body;
        }
        streams.push(entry);
    }
    let global = match default {
        Some(retention) => json!({"default_retention": duration_text(retention)}),
        None => json!({}),
    };
    Ok(json_response(StatusCode::OK, &json!({"data_streams": streams, "global_retention": global}), params.pretty()))
}

/// `PUT /_data_stream/{name}/_lifecycle` (`{"data_retention": "30d"}`): sets the lifecycle of
/// data streams; whole days older than the retention are deleted by the store's background pass.
pub async fn put_lifecycle(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let body = Value::Object(body.json_object()?);
    let lifecycle = Lifecycle::from_json("data_stream_lifecycle", &body).map_err(ApiError::content_parse)?;
    set_lifecycle(&state, &expression, &params, Some(lifecycle)).await
}

/// `DELETE /_data_stream/{name}/_lifecycle`: data streams keep their documents forever.
pub async fn delete_lifecycle(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    set_lifecycle(&state, &expression, &params, None).await
}

async fn set_lifecycle(
    state: &AppState,
    expression: &str,
    params: &Params,
    lifecycle: Option<Lifecycle>,
) -> Result<Response, ApiError> {
    let found = data_streams(state, expression, params)?;
    let store = state.store().clone();
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        for ds in found {
            store.set_lifecycle(&ds.name, lifecycle.clone())?;
        }
        Ok(())
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(acknowledged(params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_time_values() {
        assert_eq!(duration_text(Duration::from_secs(7 * 86_400)), "7d");
        assert_eq!(duration_text(Duration::from_secs(36 * 3600)), "36h");
        assert_eq!(duration_text(Duration::from_secs(90)), "90s");
        assert_eq!(duration_text(Duration::from_millis(1500)), "1500ms");
    }
}

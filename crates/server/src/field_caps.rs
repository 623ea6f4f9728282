//! `GET`/`POST /_field_caps` and `/{index}/_field_caps`: the capabilities of fields across
//! indices, in Elasticsearch's response shape — `indices`, then per field and per type whether it
//! is a metadata field, searchable and aggregatable, with the indices of each type when the type
//! differs between them.

use crate::AppState;
use crate::error::ApiError;
use crate::indices::{Hidden, resolve};
use crate::request::{Body, Params};
use crate::response::json_response;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use store::templates::glob;

/// `GET /_field_caps`: every visible index.
pub async fn field_caps_all(State(state): State<AppState>, params: Params, body: Body) -> Result<Response, ApiError> {
    field_caps_of(&state, "*", &params, &body)
}

/// `GET /{index}/_field_caps`.
pub async fn field_caps(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    field_caps_of(&state, &expression, &params, &body)
}

/// What Elasticsearch reports for a field of a type: (type as reported, searchable,
/// aggregatable). Types of one family report the family (`constant_keyword` and `wildcard` are
/// `keyword`, `match_only_text` is `text`).
fn capabilities(mapping: &str) -> (&str, bool, bool) {
    match mapping {
        "keyword" | "constant_keyword" | "wildcard" => ("keyword", true, true),
        "text" | "match_only_text" | "annotated_text" => ("text", true, false),
        "object" => ("object", false, false),
        "binary" => ("binary", false, false),
        "long" | "integer" | "short" | "byte" | "double" | "float" | "half_float" | "scaled_float"
        | "unsigned_long" | "date" | "date_nanos" | "ip" | "boolean" | "version" | "geo_point" | "flattened" => {
            (mapping, true, true)
        }
        other => (other, true, false),
    }
}

/// Metadata fields every index has: (name, searchable, aggregatable).
const METADATA: [(&str, bool, bool); 4] =
    [("_id", true, false), ("_ignored", true, true), ("_index", true, true), ("_source", false, false)];

/// One field of one index, as field caps sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Caps {
    kind: String,
    metadata: bool,
    searchable: bool,
    aggregatable: bool,
}

fn field_caps_of(state: &AppState, expression: &str, params: &Params, body: &Body) -> Result<Response, ApiError> {
    let mut fields: Vec<String> = params
        .get("fields")
        .map(|f| f.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    if !body.is_empty() {
        let object = body.json_object()?;
        for (key, value) in &object {
            match key.as_str() {
                "fields" => match value {
                    Value::String(s) => fields.extend(s.split(',').map(|f| f.trim().to_string())),
                    Value::Array(items) => fields.extend(items.iter().filter_map(Value::as_str).map(str::to_string)),
                    _ => {
                        return Err(ApiError::content_parse(
                            "[field_caps_request] fields must be a string or an array",
                        ));
                    }
                },
                "index_filter" | "runtime_mappings" => {
                    return Err(ApiError::illegal_argument(format!(
                        "[{key}] is not supported by Saker's field capabilities"
                    )));
                }
                other => {
                    return Err(ApiError::content_parse(format!("[field_caps_request] unknown field [{other}]")));
                }
            }
        }
    }
    if fields.is_empty() {
        return Err(ApiError::validation(&["specified fields can't be null or empty"]));
    }
    let include_unmapped = params.flag("include_unmapped")?;
    let ignore_unavailable = params.flag("ignore_unavailable")?;
    let allow_no_indices = params.get("allow_no_indices") != Some("false");
    let filters: Vec<&str> = params.get("filters").map(|f| f.split(',').map(str::trim).collect()).unwrap_or_default();
    for filter in &filters {
        if !["+metadata", "-metadata", "-parent", "-nested", "-multifield", ""].contains(filter) {
            return Err(ApiError::illegal_argument(format!("Invalid filter [{filter}]")));
        }
    }
    let types: Vec<&str> = params.get("types").map(|t| t.split(',').map(str::trim).collect()).unwrap_or_default();
    let hidden = Hidden::from_params(params);
    let indices = if ignore_unavailable {
        let mut found = Vec::new();
        for part in expression.split(',') {
            if let Ok(more) = resolve(state, part, hidden) {
                found.extend(more);
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found.dedup_by(|a, b| a.name == b.name);
        found
    } else {
        resolve(state, expression, hidden)?
    };
    if indices.is_empty() && !allow_no_indices {
        return Err(ApiError::index_not_found(expression));
    }
    let wanted = |name: &str| fields.iter().any(|f| glob(f, name));
    // field → index → caps
    let mut by_field: BTreeMap<String, BTreeMap<String, Caps>> = BTreeMap::new();
    for index in &indices {
        let mapping = state.store().mapping(&index.name).unwrap_or_default();
        let mut of_index: BTreeMap<String, Caps> = BTreeMap::new();
        for (name, field) in &mapping.fields {
            if name.starts_with('_') {
                continue;
            }
            let (kind, searchable, aggregatable) = capabilities(&field.mapping);
            of_index.insert(name.clone(), Caps { kind: kind.to_string(), metadata: false, searchable, aggregatable });
            if !filters.contains(&"-parent") {
                for parent in store::mapping::prefixes(name) {
                    of_index.entry(parent.to_string()).or_insert(Caps {
                        kind: "object".into(),
                        metadata: false,
                        searchable: false,
                        aggregatable: false,
                    });
                }
            }
        }
        if !filters.contains(&"-metadata") {
            let mut metadata: Vec<(&str, bool, bool)> = METADATA.to_vec();
            if index.data_stream {
                metadata.push(("_data_stream_timestamp", false, false));
            }
            for (name, searchable, aggregatable) in metadata {
                of_index.insert(
                    name.to_string(),
                    Caps { kind: name.to_string(), metadata: true, searchable, aggregatable },
                );
            }
        }
        for (name, caps) in of_index {
            if filters.contains(&"+metadata") && !caps.metadata {
                continue;
            }
            if !types.is_empty() && !types.contains(&caps.kind.as_str()) {
                continue;
            }
            if wanted(&name) {
                by_field.entry(name).or_default().insert(index.name.clone(), caps);
            }
        }
    }
    let names: Vec<String> = indices.iter().map(|i| i.name.clone()).collect();
    let mut out = Map::new();
    for (field, per_index) in by_field {
        // type → (caps, indices)
        let mut by_type: BTreeMap<String, (Vec<&Caps>, Vec<&str>)> = BTreeMap::new();
        for (index, caps) in &per_index {
            let entry = by_type.entry(caps.kind.clone()).or_default();
            entry.0.push(caps);
            entry.1.push(index);
        }
        let unmapped: Vec<&str> = if include_unmapped && !per_index.values().any(|c| c.metadata) {
            names.iter().filter(|n| !per_index.contains_key(*n)).map(String::as_str).collect()
        } else {
            Vec::new()
        };
        let conflict = by_type.len() > 1 || !unmapped.is_empty();
        let mut types = Map::new();
        for (kind, (caps, in_indices)) in &by_type {
            let searchable = caps.iter().all(|c| c.searchable);
            let aggregatable = caps.iter().all(|c| c.aggregatable);
            let mut entry = Map::new();
            entry.insert("type".into(), json!(kind));
            entry.insert("metadata_field".into(), json!(caps.iter().any(|c| c.metadata)));
            entry.insert("searchable".into(), json!(searchable));
            entry.insert("aggregatable".into(), json!(aggregatable));
            if conflict {
                entry.insert("indices".into(), json!(in_indices));
            }
            let not = |keep: fn(&Caps) -> bool| -> Vec<&str> {
                caps.iter().zip(in_indices).filter(|(c, _)| !keep(c)).map(|(_, i)| *i).collect()
            };
            if !searchable && caps.iter().any(|c| c.searchable) {
                entry.insert("non_searchable_indices".into(), json!(not(|c| c.searchable)));
            }
            if !aggregatable && caps.iter().any(|c| c.aggregatable) {
                entry.insert("non_aggregatable_indices".into(), json!(not(|c| c.aggregatable)));
            }
            types.insert(kind.clone(), Value::Object(entry));
        }
        if !unmapped.is_empty() {
            types.insert(
                "unmapped".into(),
                json!({"type": "unmapped", "metadata_field": false, "searchable": false, "aggregatable": false, "indices": unmapped}),
            );
        }
        out.insert(field, Value::Object(types));
    }
    let body = json!({"indices": names, "fields": out});
    Ok(json_response(StatusCode::OK, &body, params.pretty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_report_their_family() {
        assert_eq!(capabilities("constant_keyword"), ("keyword", true, true));
        assert_eq!(capabilities("match_only_text"), ("text", true, false));
        assert_eq!(capabilities("long"), ("long", true, true));
        assert_eq!(capabilities("object"), ("object", false, false));
    }
}

//! Index endpoints: `_refresh`, `_cat/indices`, `_mapping`, `GET`/`HEAD`/`DELETE /{index}`, and
//! the resolution of index expressions (`logs-*,alerts`) they share.

use crate::AppState;
use crate::admin::IndexAdmin;
use crate::error::ApiError;
use crate::request::Params;
use crate::response::{empty, json_response, text_response};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use store::IndexStats;
use store::mapping::Mapping;

/// Whether wildcards match hidden (`.`-prefixed) indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// Only a pattern that itself starts with `.` matches them (Elasticsearch's default).
    Exclude,
    /// Wildcards match them too (`expand_wildcards=all` or `hidden`).
    Include,
}

impl Hidden {
    /// `expand_wildcards` of the request: `all` or `hidden` include hidden indices.
    pub fn from_params(params: &Params) -> Hidden {
        match params.get("expand_wildcards") {
            Some(value) if value.split(',').any(|v| matches!(v.trim(), "all" | "hidden")) => Hidden::Include,
            _ => Hidden::Exclude,
        }
    }
}

/// The indices an expression names, sorted by name: comma-separated names and `*` patterns,
/// `_all` and `*` for every index, `-pattern` to remove what an earlier part added.
///
/// # Errors
/// `index_not_found_exception` (404) for a plain name that does not exist.
pub fn resolve(state: &AppState, expression: &str, hidden: Hidden) -> Result<Vec<IndexStats>, ApiError> {
    let all = state.store().indices();
    let mut chosen: Vec<bool> = vec![false; all.len()];
    for (i, part) in expression.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
        let (exclude, pattern) = match part.strip_prefix('-') {
            Some(rest) if i > 0 => (true, rest),
            _ => (false, part),
        };
        let pattern = if pattern == "_all" { "*" } else { pattern };
        if !pattern.contains('*') {
            match all.iter().position(|index| index.name == pattern) {
                Some(position) => chosen[position] = !exclude,
                None if exclude => {}
                None => return Err(ApiError::index_not_found(pattern)),
            }
            continue;
        }
        for (position, index) in all.iter().enumerate() {
            let visible = hidden == Hidden::Include || !index.hidden || pattern.starts_with('.');
            if visible && glob(pattern, &index.name) {
                chosen[position] = !exclude;
            }
        }
    }
    Ok(all.into_iter().zip(chosen).filter(|(_, c)| *c).map(|(index, _)| index).collect())
}

/// `*`-only glob matching, as Elasticsearch's `Regex.simpleMatch`.
fn glob(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or("");
    for part in parts {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// A stable 22-character URL-safe identifier for a name (index and cluster UUIDs).
pub fn uuid_of(name: &str) -> String {
    use std::hash::{Hash, Hasher};
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(22);
    let mut salt = 0u64;
    while out.len() < 22 {
        // DefaultHasher::new() has fixed keys: the same name gives the same id in every run
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (salt, name).hash(&mut hasher);
        let mut bits = hasher.finish();
        for _ in 0..10 {
            if out.len() == 22 {
                break;
            }
            out.push(ALPHABET[(bits & 63) as usize] as char);
            bits >>= 6;
        }
        salt += 1;
    }
    out
}

fn shards_body() -> Value {
    json!({"_shards": {"total": 1, "successful": 1, "failed": 0}})
}

/// `POST /_refresh`. Documents are searchable once acknowledged, so there is nothing to wait for.
pub async fn refresh_all(params: Params) -> Response {
    json_response(StatusCode::OK, &shards_body(), params.pretty())
}

/// `POST /{index}/_refresh`: checks that the indices exist (see [`refresh_all`]).
pub async fn refresh(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let found = resolve(&state, &expression, Hidden::from_params(&params))?;
    let n = found.len();
    let body = json!({"_shards": {"total": n, "successful": n, "failed": 0}});
    Ok(json_response(StatusCode::OK, &body, params.pretty()))
}

/// `GET /_cat/indices`.
pub async fn cat_indices_all(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    cat(&state, "*", &params)
}

/// `GET /_cat/indices/{index}`.
pub async fn cat_indices(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    cat(&state, &expression, &params)
}

/// The `_cat/indices` columns Elasticsearch shows by default, and whether they align right.
const CAT_COLUMNS: [(&str, bool); 11] = [
    ("health", false),
    ("status", false),
    ("index", false),
    ("uuid", false),
    ("pri", true),
    ("rep", true),
    ("docs.count", true),
    ("docs.deleted", true),
    ("store.size", true),
    ("pri.store.size", true),
    ("dataset.size", true),
];

/// `_cat/indices` as text (`v` for the header line, `h` to choose columns, `s` to sort, `bytes`
/// for the size unit) or as JSON (`format=json`: an array of objects of strings).
///
/// Elasticsearch: `RestIndicesAction` and `RestTable`. Deviation: a data stream is listed under
/// its own name, not its backing indices (see the store).
fn cat(state: &AppState, expression: &str, params: &Params) -> Result<Response, ApiError> {
    let indices = resolve(state, expression, Hidden::from_params(params))?;
    let unit = match params.get("bytes") {
        None => None,
        Some(unit) => Some(byte_unit(unit)?),
    };
    let size = |bytes: u64| match unit {
        Some(divisor) => (bytes / divisor).to_string(),
        None => human_bytes(bytes),
    };
    let columns: Vec<(&str, bool)> = match params.get("h") {
        Some(wanted) => {
            wanted.split(',').filter_map(|name| CAT_COLUMNS.iter().find(|(c, _)| *c == name.trim()).copied()).collect()
        }
        None => CAT_COLUMNS.to_vec(),
    };
    let mut rows: Vec<Vec<String>> = indices
        .iter()
        .map(|index| {
            columns
                .iter()
                .map(|(column, _)| match *column {
                    "health" => "green".to_string(),
                    "status" => "open".to_string(),
                    "index" => index.name.clone(),
                    "uuid" => uuid_of(&index.name),
                    "pri" => "1".to_string(),
                    "rep" => "0".to_string(),
                    "docs.count" => index.docs.to_string(),
                    "docs.deleted" => "0".to_string(),
                    _ => size(index.bytes),
                })
                .collect()
        })
        .collect();
    if let Some(sort) = params.get("s") {
        sort_rows(&mut rows, &columns, &indices, sort);
    }
    if params.get("format") == Some("json") {
        let body: Vec<Value> = rows
            .iter()
            .map(|row| {
                let object: Map<String, Value> =
                    columns.iter().zip(row).map(|((name, _), value)| (name.to_string(), json!(value))).collect();
                Value::Object(object)
            })
            .collect();
        return Ok(json_response(StatusCode::OK, &Value::Array(body), params.pretty()));
    }
    let header = params.flag("v")?;
    let mut lines: Vec<Vec<String>> = Vec::new();
    if header {
        lines.push(columns.iter().map(|(name, _)| name.to_string()).collect());
    }
    lines.extend(rows);
    let widths: Vec<usize> =
        (0..columns.len()).map(|i| lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for line in &lines {
        for (i, ((value, width), (_, right))) in line.iter().zip(&widths).zip(&columns).enumerate() {
            if i > 0 {
                text.push(' ');
            }
            let pad = " ".repeat(width - value.chars().count());
            if *right {
                text.push_str(&pad);
                text.push_str(value);
            } else {
                text.push_str(value);
                text.push_str(&pad);
            }
        }
        text.push('\n');
    }
    Ok(text_response(StatusCode::OK, "text/plain; charset=UTF-8", text))
}

/// Sorts `_cat` rows by `s=col[:asc|:desc],…`; sizes and counts compare as numbers.
fn sort_rows(rows: &mut [Vec<String>], columns: &[(&str, bool)], indices: &[IndexStats], sort: &str) {
    let keys: Vec<(usize, bool)> = sort
        .split(',')
        .filter_map(|key| {
            let (name, descending) = match key.trim().rsplit_once(':') {
                Some((name, order)) => (name, order == "desc"),
                None => (key.trim(), false),
            };
            columns.iter().position(|(c, _)| *c == name).map(|i| (i, descending))
        })
        .collect();
    let numeric = |row: &[String], i: usize| -> Option<u64> {
        let (column, _) = columns[i];
        match column {
            "store.size" | "pri.store.size" | "dataset.size" => {
                let name_column = columns.iter().position(|(c, _)| *c == "index")?;
                indices.iter().find(|x| x.name == row[name_column]).map(|x| x.bytes)
            }
            _ => row[i].parse().ok(),
        }
    };
    rows.sort_by(|a, b| {
        for &(i, descending) in &keys {
            let ordering = match (numeric(a, i), numeric(b, i)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => a[i].cmp(&b[i]),
            };
            let ordering = if descending { ordering.reverse() } else { ordering };
            if ordering.is_ne() {
                return ordering;
            }
        }
        std::cmp::Ordering::Equal
    });
}

fn byte_unit(unit: &str) -> Result<u64, ApiError> {
    let power = match unit {
        "b" => 0,
        "kb" | "k" => 1,
        "mb" | "m" => 2,
        "gb" | "g" => 3,
        "tb" | "t" => 4,
        "pb" | "p" => 5,
        other => {
            return Err(ApiError::illegal_argument(format!(
                "unknown bytes unit `{other}`, expected one of: b, kb, mb, gb, tb, pb"
            )));
        }
    };
    Ok(1024u64.pow(power))
}

/// A size as Elasticsearch's `ByteSizeValue.toString` writes it: the largest unit with a value of
/// at least 1, one decimal kept (truncated) unless it is 0 (`225b`, `4.5kb`, `12mb`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["b", "kb", "mb", "gb", "tb", "pb"];
    let mut power = 0;
    while power + 1 < UNITS.len() && bytes >= 1024u64.pow(power as u32 + 1) {
        power += 1;
    }
    if power == 0 {
        return format!("{bytes}b");
    }
    let value = bytes as f64 / 1024f64.powi(power as i32);
    let text = esql::render::java_double(value);
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, "0"));
    match fraction.chars().next() {
        Some(digit) if digit != '0' => format!("{whole}.{digit}{}", UNITS[power]),
        _ => format!("{whole}{}", UNITS[power]),
    }
}

/// `GET /_mapping`: the mappings of every visible index.
pub async fn mapping_all(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    mappings(&state, "*", &params)
}

/// `GET /{index}/_mapping`.
pub async fn mapping(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    mappings(&state, &expression, &params)
}

fn mappings(state: &AppState, expression: &str, params: &Params) -> Result<Response, ApiError> {
    let mut body = Map::new();
    for index in resolve(state, expression, Hidden::from_params(params))? {
        let mapping = state.store().mapping(&index.name).unwrap_or_default();
        body.insert(index.name.clone(), json!({ "mappings": mapping_to_json(&mapping) }));
    }
    Ok(json_response(StatusCode::OK, &Value::Object(body), params.pretty()))
}

/// A mapping as Elasticsearch writes it: dotted names become nested `properties`, a
/// `constant_keyword` carries its `value`. Metadata fields (`_id`, `_ignored`) are not listed.
pub fn mapping_to_json(mapping: &Mapping) -> Value {
    let mut root = Map::new();
    'fields: for (name, field) in &mapping.fields {
        if name.starts_with('_') {
            continue;
        }
        let parts: Vec<&str> = name.split('.').collect();
        let Some((leaf, parents)) = parts.split_last() else { continue };
        let mut properties = &mut root;
        for parent in parents {
            let entry = properties.entry(parent.to_string()).or_insert_with(|| json!({"properties": {}}));
            // a field that is also an object path cannot be mapped (the store refuses it)
            match entry.get_mut("properties") {
                Some(Value::Object(children)) => properties = children,
                _ => continue 'fields,
            }
        }
        let mut leaf_body = Map::new();
        leaf_body.insert("type".into(), json!(field.mapping));
        if let Some(value) = field.value.as_ref().filter(|_| field.is_constant()) {
            leaf_body.insert("value".into(), json!(value));
        }
        properties.insert(leaf.to_string(), Value::Object(leaf_body));
    }
    json!({ "properties": root })
}

/// `GET /{index}`: aliases, mappings and settings of each index.
pub async fn get_index(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let mut body = Map::new();
    for index in resolve(&state, &expression, Hidden::from_params(&params))? {
        let mapping = state.store().mapping(&index.name).unwrap_or_default();
        let settings = json!({"index": {
            "number_of_shards": "1",
            "number_of_replicas": "0",
            "uuid": uuid_of(&index.name),
            "provided_name": index.name,
            "hidden": index.hidden.to_string(),
        }});
        let mut entry = json!({"aliases": {}, "mappings": mapping_to_json(&mapping), "settings": settings});
        if index.data_stream
            && let Some(object) = entry.as_object_mut()
        {
            object.insert("data_stream".into(), json!(index.name));
        }
        body.insert(index.name.clone(), entry);
    }
    Ok(json_response(StatusCode::OK, &Value::Object(body), params.pretty()))
}

/// `HEAD /{index}`: 200 when the index exists, else 404.
pub async fn index_exists(State(state): State<AppState>, Path(expression): Path<String>) -> Response {
    match resolve(&state, &expression, Hidden::Exclude) {
        Ok(found) if !found.is_empty() => empty(StatusCode::OK),
        _ => empty(StatusCode::NOT_FOUND),
    }
}

/// `DELETE /{index}`: deletes the named indices or data streams, with their documents, mappings
/// and settings. Wildcards and `_all` are refused, as Elasticsearch does by default
/// (`action.destructive_requires_name: true`); a missing index is `index_not_found_exception`
/// unless `ignore_unavailable=true`.
///
/// Deviation: a data stream is deleted here too (Elasticsearch deletes data streams only with
/// `DELETE /_data_stream/{name}`, and their backing indices here), as Saker lists a data stream
/// under its own name.
pub async fn delete_index(
    State(state): State<AppState>,
    Path(expression): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    if expression.contains('*') || expression.split(',').any(|p| p.trim() == "_all") {
        return Err(ApiError::illegal_argument(format!(
            "Wildcard expressions or all indices are not allowed; expression [{expression}]"
        )));
    }
    let ignore_unavailable = params.flag("ignore_unavailable")?;
    let all = state.store().indices();
    let mut names: Vec<String> = Vec::new();
    for part in expression.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match all.iter().find(|index| index.name == part) {
            Some(index) => {
                if !names.contains(&index.name) {
                    names.push(index.name.clone());
                }
            }
            None if ignore_unavailable => {}
            None => return Err(ApiError::index_not_found(part)),
        }
    }
    let store = state.store().clone();
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        for name in names {
            // gone meanwhile (a concurrent delete): deleted all the same
            IndexAdmin::delete_index(&*store, &name)?;
        }
        Ok(())
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(json_response(StatusCode::OK, &json!({"acknowledged": true}), params.pretty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::mapping::FieldMapping;

    #[test]
    fn globs() {
        assert!(glob("logs-*", "logs-a-default"));
        assert!(glob("*", "x"));
        assert!(glob("l*-*-default", "logs-a-default"));
        assert!(!glob("logs-*", "metrics-a"));
        assert!(glob("*default", "logs-a-default"));
        assert!(!glob("a*a", "a"));
        assert!(glob("exact", "exact"));
    }

    #[test]
    fn sizes_like_elasticsearch() {
        assert_eq!(human_bytes(0), "0b");
        assert_eq!(human_bytes(225), "225b");
        assert_eq!(human_bytes(1024), "1kb");
        assert_eq!(human_bytes(4669), "4.5kb");
        assert_eq!(human_bytes(12 * 1024 * 1024 + 1), "12mb");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024 / 2), "1.5gb");
    }

    #[test]
    fn uuids_are_stable_and_shaped() {
        let a = uuid_of("logs");
        assert_eq!(a.len(), 22);
        assert_eq!(a, uuid_of("logs"));
        assert_ne!(a, uuid_of("logs2"));
    }

    #[test]
    fn mappings_nest_dotted_names() {
        let mut mapping = Mapping::default();
        mapping.add("source.ip", &FieldMapping::new("ip"));
        mapping.add("source.port", &FieldMapping::new("long"));
        mapping.add("data_stream.dataset", &FieldMapping::constant("x"));
        mapping.add("message", &FieldMapping::new("keyword"));
        assert_eq!(
            mapping_to_json(&mapping),
            json!({"properties": {
                "data_stream": {"properties": {"dataset": {"type": "constant_keyword", "value": "x"}}},
                "message": {"type": "keyword"},
                "source": {"properties": {"ip": {"type": "ip"}, "port": {"type": "long"}}},
            }})
        );
    }
}

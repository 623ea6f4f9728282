//! Alerts through Kibana's detection engine API: `POST /api/detection_engine/signals/search`
//! (an Elasticsearch search of `.alerts-security.alerts-default`, answered with Elasticsearch's
//! search response) and `POST /api/detection_engine/signals/status` (sets the workflow status of
//! alerts named by id or matched by a query, answered with Elasticsearch's update-by-query
//! response).
//!
//! The search body's query DSL is translated to an ES|QL condition run by the engine: `bool`
//! (`filter`, `must`, `must_not`, `should`, `minimum_should_match` 1), `term`, `terms`, `range`,
//! `exists`, `ids`, `match_all` and `match_none`. Leaf queries become `KQL()` calls, so that
//! multi-valued fields and missing fields behave as in Elasticsearch (`must_not` matches alerts
//! without the field). Other queries, `aggs` and `runtime_mappings` are refused by name.

use super::{KibanaError, json_object, ok};
use crate::AppState;
use crate::auth::Principal;
use crate::dsl::{clauses, condition, kql, kql_value};
use crate::error::ApiError;
use crate::request::Body;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use detect::alert::ALERTS_INDEX;
use detect::store::esql_string;
use esql::render::{Cell, rows};
use esql::{QueryOptions, UnmappedFields};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// Elasticsearch's `index.max_result_window`.
const MAX_RESULT_WINDOW: usize = 10_000;
/// The workflow statuses (Kibana's `AlertStatus`).
const STATUSES: [&str; 4] = ["open", "closed", "acknowledged", "in-progress"];
/// Kibana's closing reasons.
const REASONS: [&str; 7] = [
    "false_positive",
    "issue_resolved",
    "acceptable_risk",
    "expected_activity",
    "low_severity",
    "duplicate",
    "investigation_required",
];

/// One `sort` entry: the ES|QL sort key, or `None` for `_score`/`_doc` (no order of their own).
fn sort_entry(value: &Value) -> Result<Option<(String, bool)>, String> {
    let (field, order) = match value {
        Value::String(field) => (field.clone(), None),
        Value::Object(obj) if obj.len() == 1 => {
            let (field, spec) = obj.iter().next().ok_or("empty sort")?;
            let order = match spec {
                Value::String(order) => Some(order.clone()),
                Value::Object(spec) => {
                    if let Some(key) =
                        spec.keys().find(|k| !matches!(k.as_str(), "order" | "unmapped_type" | "missing"))
                    {
                        return Err(format!("sort option [{key}] is not supported"));
                    }
                    if spec.get("missing").is_some_and(|m| m.as_str() != Some("_last")) {
                        return Err("sort option [missing] is only supported as _last".to_string());
                    }
                    spec.get("order").and_then(Value::as_str).map(str::to_string)
                }
                other => return Err(format!("malformed sort order {other}")),
            };
            (field.clone(), order)
        }
        other => return Err(format!("malformed sort {other}")),
    };
    if matches!(field.as_str(), "_score" | "_doc") {
        return Ok(None);
    }
    let desc = match order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => return Err(format!("[sort] unknown order [{other}], expected asc or desc")),
    };
    Ok(Some((field, desc)))
}

fn identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else { return false };
            (0..=tail.len()).filter(|i| tail.is_char_boundary(*i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// `_source` filtering: `None` = no `_source`, else include/exclude patterns.
type SourceFilter = Option<(Vec<String>, Vec<String>)>;

fn source_filter(value: Option<&Value>) -> Result<SourceFilter, String> {
    let strings = |v: &Value| -> Result<Vec<String>, String> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string).ok_or("[_source] expects strings".to_string()))
                .collect(),
            _ => Err("[_source] expects a string or a list of strings".to_string()),
        }
    };
    Ok(match value {
        None | Some(Value::Bool(true)) => Some((Vec::new(), Vec::new())),
        Some(Value::Bool(false)) => None,
        Some(Value::Object(o)) => Some((
            o.get("includes").map(strings).transpose()?.unwrap_or_default(),
            o.get("excludes").map(strings).transpose()?.unwrap_or_default(),
        )),
        Some(other) => Some((strings(other)?, Vec::new())),
    })
}

/// What a search asks for.
struct SearchRequest {
    condition: String,
    size: usize,
    from: usize,
    sort: Vec<(String, bool)>,
    source: SourceFilter,
    fields: Vec<String>,
    track_total_hits: Option<u64>,
}

fn parse_search(body: &Map<String, Value>) -> Result<SearchRequest, KibanaError> {
    let bad = |m: String| KibanaError::siem(StatusCode::BAD_REQUEST, m);
    for key in body.keys() {
        match key.as_str() {
            "query" | "size" | "from" | "sort" | "_source" | "fields" | "track_total_hits" => {}
            "aggs" | "aggregations" => {
                return Err(bad(format!("[{key}] are not supported by Saker's alerts search")));
            }
            "include_attacks" if body.get(key) != Some(&Value::Bool(true)) => {}
            other => return Err(bad(format!("[{other}] is not supported by Saker's alerts search"))),
        }
    }
    if ["query", "size", "sort", "_source", "fields", "track_total_hits"]
        .iter()
        .all(|k| body.get(*k).is_none_or(Value::is_null))
    {
        return Err(bad("\"value\" must have at least 1 children".to_string()));
    }
    let condition = match body.get("query") {
        None | Some(Value::Null) => "true".to_string(),
        Some(q) => condition(q).map_err(bad)?,
    };
    let int = |key: &str, default: usize| -> Result<usize, KibanaError> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| KibanaError::body(format!("{key}: expected a non-negative integer, found {v}"))),
        }
    };
    let (size, from) = (int("size", 10)?, int("from", 0)?);
    if size + from > MAX_RESULT_WINDOW {
        return Err(bad(format!(
            "Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] but was [{}]",
            size + from
        )));
    }
    let mut sort = Vec::new();
    if let Some(value) = body.get("sort").filter(|v| !v.is_null()) {
        for entry in clauses(value) {
            if let Some(key) = sort_entry(entry).map_err(bad)? {
                sort.push(key);
            }
        }
    }
    let source = source_filter(body.get("_source")).map_err(bad)?;
    let fields = match body.get("fields") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Object(o) => o.get("field").and_then(Value::as_str).map(str::to_string).ok_or(()),
                _ => Err(()),
            })
            .collect::<Result<_, _>>()
            .map_err(|()| bad("[fields] expects field names or {\"field\": …} objects".to_string()))?,
        Some(_) => return Err(bad("[fields] expects a list".to_string())),
    };
    let track_total_hits = match body.get("track_total_hits") {
        None | Some(Value::Null) => Some(MAX_RESULT_WINDOW as u64),
        Some(Value::Bool(true)) => Some(u64::MAX),
        Some(Value::Bool(false)) => None,
        Some(Value::Number(n)) => Some(n.as_u64().unwrap_or(MAX_RESULT_WINDOW as u64)),
        Some(other) => return Err(KibanaError::body(format!("track_total_hits: expected a boolean, found {other}"))),
    };
    Ok(SearchRequest { condition, size, from, sort, source, fields, track_total_hits })
}

fn options() -> QueryOptions {
    QueryOptions { unmapped_fields: UnmappedFields::Nullify, max_limit: MAX_RESULT_WINDOW, ..QueryOptions::default() }
}

fn query_error(e: esql::QueryError) -> KibanaError {
    KibanaError::siem(StatusCode::BAD_REQUEST, e.to_string())
}

async fn count(catalog: Arc<dyn esql::catalog::Catalog>, condition: &str) -> Result<u64, KibanaError> {
    let query = format!("FROM {ALERTS_INDEX} METADATA _id, _index | WHERE {condition} | STATS total = COUNT(*)");
    let output = esql::execute(catalog, &query, &options()).await.map_err(query_error)?;
    Ok(match rows(&output).first().and_then(|r| r.first()) {
        Some(Cell::Long(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    })
}

/// `POST /api/detection_engine/signals/search`.
pub async fn search(State(state): State<AppState>, body: Result<Body, ApiError>) -> Result<Response, KibanaError> {
    let started = Instant::now();
    let request = parse_search(&json_object(body)?)?;
    let catalog = state.catalog();
    let exists = catalog.index(ALERTS_INDEX).is_some();
    let mut hits = Vec::new();
    let mut total = 0;
    if exists {
        if request.track_total_hits.is_some() {
            total = count(catalog.clone(), &request.condition).await?;
        }
        if request.size > 0 {
            let mut query = format!("FROM {ALERTS_INDEX} METADATA _id, _index | WHERE {}", request.condition);
            if !request.sort.is_empty() {
                let keys: Vec<String> = request
                    .sort
                    .iter()
                    .map(|(f, desc)| format!("{} {} NULLS LAST", identifier(f), if *desc { "DESC" } else { "ASC" }))
                    .collect();
                query.push_str(&format!(" | SORT {}", keys.join(", ")));
            }
            query.push_str(&format!(" | LIMIT {}", request.from + request.size));
            let output = esql::execute(catalog.clone(), &query, &options()).await.map_err(query_error)?;
            for row in rows(&output).into_iter().skip(request.from) {
                hits.push(hit(&output.columns, row, &request));
            }
        }
    }
    let scored = request.sort.is_empty();
    let mut hits_obj = Map::new();
    if let Some(limit) = request.track_total_hits {
        let relation = if total > limit { "gte" } else { "eq" };
        hits_obj.insert("total".into(), json!({"value": total.min(limit), "relation": relation}));
    }
    hits_obj.insert("max_score".into(), if scored && !hits.is_empty() { json!(1.0) } else { Value::Null });
    hits_obj.insert("hits".into(), Value::Array(hits));
    Ok(ok(&json!({
        "took": started.elapsed().as_millis() as u64,
        "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": hits_obj,
    })))
}

fn hit(columns: &[(String, esql::types::EsType)], row: Vec<Cell>, request: &SearchRequest) -> Value {
    let (mut id, mut index) = (Value::Null, json!(ALERTS_INDEX));
    let mut source = Map::new();
    for ((name, _), cell) in columns.iter().zip(row) {
        match (name.as_str(), &cell) {
            (_, Cell::Null) => {}
            ("_id", _) => id = cell.to_json(),
            ("_index", _) => index = cell.to_json(),
            _ => {
                source.insert(name.clone(), cell.to_json());
            }
        }
    }
    let mut out = Map::new();
    out.insert("_index".into(), index);
    out.insert("_id".into(), id);
    out.insert("_score".into(), if request.sort.is_empty() { json!(1.0) } else { Value::Null });
    if !request.fields.is_empty() {
        let mut fields = Map::new();
        for (key, value) in &source {
            if request.fields.iter().any(|p| glob(p, key)) {
                let values = match value {
                    Value::Array(items) => items.clone(),
                    other => vec![other.clone()],
                };
                fields.insert(key.clone(), Value::Array(values));
            }
        }
        out.insert("fields".into(), Value::Object(fields));
    }
    if !request.sort.is_empty() {
        let values: Vec<Value> =
            request.sort.iter().map(|(f, _)| source.get(f).cloned().unwrap_or(Value::Null)).collect();
        out.insert("sort".into(), Value::Array(values));
    }
    if let Some((includes, excludes)) = &request.source {
        let kept: Map<String, Value> = source
            .into_iter()
            .filter(|(k, _)| includes.is_empty() || includes.iter().any(|p| glob(p, k)))
            .filter(|(k, _)| !excludes.iter().any(|p| glob(p, k)))
            .collect();
        out.insert("_source".into(), Value::Object(kept));
    }
    Value::Object(out)
}

/// `POST /api/detection_engine/signals/status`: `{"signal_ids": [...], "status": ...}` or
/// `{"query": {...}, "status": ...}` (optionally `reason` when closing). Alerts whose
/// `kibana.alert.workflow_status` differs get the new status, `kibana.alert.workflow_user` and
/// `kibana.alert.workflow_status_updated_at`, as Kibana's update script sets them.
pub async fn set_status(
    State(state): State<AppState>,
    who: Option<Extension<Principal>>,
    body: Result<Body, ApiError>,
) -> Result<Response, KibanaError> {
    let started = Instant::now();
    let body = json_object(body)?;
    let status = match body.get("status") {
        Some(Value::String(s)) if STATUSES.contains(&s.as_str()) => s.clone(),
        Some(other) => {
            return Err(KibanaError::body(format!(
                "status: Invalid enum value. Expected 'open' | 'closed' | 'acknowledged' | 'in-progress', received {other}"
            )));
        }
        None => return Err(KibanaError::body("status: Required")),
    };
    let reason = match body.get("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if REASONS.contains(&r.as_str()) => Some(r.clone()),
        Some(other) => {
            return Err(KibanaError::body(format!(
                "reason: Invalid enum value. Expected {}, received {other}",
                REASONS.join(" | ")
            )));
        }
    };
    if reason.is_some() && status != "closed" {
        return Err(KibanaError::siem(StatusCode::BAD_REQUEST, "a [reason] can only be given when closing alerts"));
    }
    let condition = match (body.get("signal_ids"), body.get("query")) {
        (Some(Value::Array(ids)), None) => {
            if ids.is_empty() {
                return Err(KibanaError::body("signal_ids: Array must contain at least 1 element(s)"));
            }
            let list: Result<Vec<String>, String> = ids
                .iter()
                .map(|v| match v.as_str() {
                    Some(s) if !s.is_empty() => Ok(esql_string(s)),
                    _ => Err(format!("signal_ids: expected non-empty strings, found {v}")),
                })
                .collect();
            format!("_id IN ({})", list.map_err(KibanaError::body)?.join(", "))
        }
        (None, Some(query @ Value::Object(_))) => {
            if let Some(c) = body.get("conflicts")
                && !matches!(c.as_str(), Some("abort" | "proceed"))
            {
                return Err(KibanaError::body(format!(
                    "conflicts: Invalid enum value. Expected 'abort' | 'proceed', received {c}"
                )));
            }
            condition(query).map_err(|m| KibanaError::siem(StatusCode::BAD_REQUEST, m))?
        }
        (Some(_), Some(_)) => {
            return Err(KibanaError::body("either [signal_ids] or [query] may be given, not both"));
        }
        _ => return Err(KibanaError::body("signal_ids: Required, query: Required")),
    };
    let catalog = state.catalog();
    let mut total = 0u64;
    if catalog.index(ALERTS_INDEX).is_some() {
        total = count(catalog.clone(), &condition).await?;
        let user = who.as_deref().map_or(Value::Null, |p| json!(p.username));
        let now = detect::datemath::iso(chrono::Utc::now());
        let mut fields = Map::new();
        fields.insert("kibana.alert.workflow_status".into(), json!(status));
        fields.insert("kibana.alert.workflow_user".into(), user);
        fields.insert("kibana.alert.workflow_status_updated_at".into(), json!(now));
        fields.insert("kibana.alert.workflow_reason".into(), reason.map_or(Value::Null, Value::String));
        // Only alerts that have a status and a different one change, as in Kibana's script.
        let changing = format!(
            "({condition}) AND {} AND NOT {}",
            kql("kibana.alert.workflow_status:*"),
            kql(&format!("kibana.alert.workflow_status:{}", kql_value(&json!(status), "status").unwrap_or_default()))
        );
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            let query =
                format!("FROM {ALERTS_INDEX} METADATA _id | WHERE {changing} | KEEP _id | LIMIT {MAX_RESULT_WINDOW}");
            let output = esql::execute(catalog.clone(), &query, &options()).await.map_err(query_error)?;
            let ids: Vec<String> = rows(&output)
                .into_iter()
                .filter_map(|r| match r.into_iter().next() {
                    Some(Cell::Text(id)) => Some(id),
                    _ => None,
                })
                .filter(|id| seen.insert(id.clone()))
                .collect();
            if ids.is_empty() {
                break;
            }
            let batch = ids.len();
            let updates = ids.into_iter().map(|id| (id, fields.clone())).collect();
            let store = state.store().clone();
            tokio::task::spawn_blocking(move || store.update_documents(ALERTS_INDEX, updates))
                .await
                .map_err(|e| KibanaError::siem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
                .map_err(|e| KibanaError::siem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            if batch < MAX_RESULT_WINDOW {
                break;
            }
        }
    }
    Ok(ok(&json!({
        "took": started.elapsed().as_millis() as u64,
        "timed_out": false,
        "total": total,
        "updated": total,
        "deleted": 0,
        "batches": if total == 0 { 0 } else { total.div_ceil(1000) },
        "version_conflicts": 0,
        "noops": 0,
        "retries": {"bulk": 0, "search": 0},
        "throttled_millis": 0,
        "requests_per_second": -1.0,
        "throttled_until_millis": 0,
        "failures": [],
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_translate_to_esql() {
        let q = json!({"bool": {
            "filter": [{"term": {"kibana.alert.workflow_status": "open"}}, {"range": {"@timestamp": {"gte": "now-1d"}}}],
            "must_not": {"terms": {"kibana.alert.severity": ["low", "medium"]}},
        }});
        assert_eq!(
            condition(&q).expect("valid"),
            "(KQL(\"kibana.alert.workflow_status:\\\"open\\\"\")) AND (KQL(\"@timestamp >= \\\"now-1d\\\"\")) AND \
             NOT (KQL(\"kibana.alert.severity:(\\\"low\\\" or \\\"medium\\\")\"))"
        );
        assert_eq!(condition(&json!({"ids": {"values": ["a", "b"]}})).expect("ids"), "_id IN (\"a\", \"b\")");
        assert_eq!(
            condition(&json!({"bool": {"should": [{"exists": {"field": "host.name"}}, {"term": {"x": 1}}]}}))
                .expect("should"),
            "((KQL(\"host.name:*\")) OR (KQL(\"x:1\")))"
        );
        assert_eq!(
            condition(&json!({"bool": {"filter": {"match_all": {}}, "should": {"term": {"x": 1}}}})).expect("optional"),
            "(true)"
        );
        let err = condition(&json!({"query_string": {"query": "x"}})).expect_err("unsupported");
        assert!(err.contains("[query_string] query is not supported"), "{err}");
        assert!(condition(&json!({"term": {"a": 1, "b": 2}})).is_err());
    }

    #[test]
    fn search_bodies_are_checked() {
        let body = |v: Value| v.as_object().expect("object").clone();
        let err = parse_search(&body(json!({"aggs": {"x": {}}, "size": 0}))).err().expect("aggs");
        assert!(err.to_json()["message"].as_str().expect("text").contains("[aggs] are not supported"));
        let err = parse_search(&body(json!({}))).err().expect("empty");
        assert_eq!(err.to_json()["message"], "\"value\" must have at least 1 children");
        let Ok(ok) = parse_search(&body(json!({"size": 5, "sort": [{"@timestamp": {"order": "desc"}}, "_score"]})))
        else {
            panic!("a valid search body")
        };
        assert_eq!(ok.sort, vec![("@timestamp".to_string(), true)]);
        assert!(parse_search(&body(json!({"size": 9000, "from": 2000}))).is_err());
        assert!(glob("kibana.alert.*", "kibana.alert.uuid"));
        assert!(!glob("kibana.alert.*", "host.name"));
    }
}

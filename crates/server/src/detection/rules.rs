//! Detection rules through Kibana's rule API: `POST`/`GET`/`PUT`/`PATCH`/`DELETE
//! /api/detection_engine/rules`, `GET …/_find`, `POST …/_import` and `POST …/_bulk_action`
//! (`enable`, `disable`, `delete`), over the [`RuleRegistry`] the scheduler runs.
//!
//! A rule is returned as Kibana returns it: its parameters with the API's defaults, `id`,
//! `immutable`, `rule_source`, `created_at`/`created_by`, `updated_at`/`updated_by`, `revision`,
//! and `execution_summary.last_execution` (`date`, `status`, `status_order`, `message`,
//! `metrics`) once the rule has run, from the rule state the scheduler keeps.

use super::{KibanaError, json_object, ok, user_name, uuid_v4};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::request::{Body, Params};
use axum::Extension;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use detect::datemath::iso;
use detect::registry::{BulkOp, Entry, Imported, RegistryError, RuleFilter, RuleRegistry, Selector};
use detect::state::{EngineState, RuleState};
use serde_json::{Map, Value, json};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many ids one `_bulk_action` may name (Kibana's `RULES_TABLE_MAX_PAGE_SIZE`).
const MAX_BULK_IDS: usize = 100;
/// How many rules one `_bulk_action` query may match.
const MAX_BULK_RULES: usize = 10_000;

type Who = Option<Extension<Principal>>;

fn registry(state: &AppState) -> Result<&Arc<RuleRegistry>, KibanaError> {
    state.rules().ok_or_else(|| {
        KibanaError::siem(StatusCode::NOT_FOUND, "this server does not manage detection rules (run saker serve)")
    })
}

/// The rule state the scheduler persists, read fresh (it changes after every execution).
pub fn engine_state(state: &AppState) -> EngineState {
    let path = state.store().dir().join(detect::store::STATE_FILE);
    detect::backend::read_state(&path).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the rule state cannot be read; execution summaries are left out");
        EngineState::default()
    })
}

/// Kibana's order of execution statuses (`ruleExecutionStatusToNumber`).
fn status_order(status: &str) -> u32 {
    match status {
        "succeeded" => 0,
        "going to run" => 10,
        "running" => 15,
        "partial failure" => 20,
        _ => 30,
    }
}

/// `execution_summary` of a rule with the state `rule_state`, once it ran.
pub fn execution_summary(rule_state: &RuleState) -> Option<Value> {
    let (date, status, message) = match (rule_state.running, rule_state.last_status, rule_state.last_started_at) {
        (Some(running), _, _) => (running, "running".to_string(), String::new()),
        (None, Some(status), Some(at)) => (at, status.to_string(), rule_state.last_message.clone()),
        _ => return None,
    };
    Some(json!({"last_execution": {
        "date": iso(date),
        "status": status,
        "status_order": status_order(&status),
        "message": message,
        "metrics": {},
    }}))
}

/// A rule as the API returns it.
pub fn rule_json(entry: &Entry, engine: &EngineState) -> Value {
    let mut out = entry.to_api();
    if let Some(summary) = engine.rules.get(&entry.rule.id).and_then(execution_summary) {
        out.insert("execution_summary".into(), summary);
    }
    Value::Object(out)
}

fn registry_error(error: RegistryError) -> KibanaError {
    match error {
        RegistryError::NotFound(_) => KibanaError::siem(StatusCode::NOT_FOUND, error.to_string()),
        RegistryError::Conflict(_) => KibanaError::siem(StatusCode::CONFLICT, error.to_string()),
        RegistryError::Immutable { .. } => KibanaError::siem(StatusCode::BAD_REQUEST, error.to_string()),
        RegistryError::Invalid(_) => KibanaError::body(error),
        RegistryError::Storage(_) => KibanaError::siem(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

/// The rule `id` or `rule_id` names (exactly one of them, as Kibana requires).
fn selector(id: Option<&str>, rule_id: Option<&str>) -> Result<Selector, KibanaError> {
    match (id, rule_id) {
        (Some(_), Some(_)) => {
            Err(KibanaError::validation(&["both \"id\" and \"rule_id\" cannot exist, choose one or the other"]))
        }
        (Some(id), None) => Ok(Selector::Id(id.to_string())),
        (None, Some(rule_id)) => Ok(Selector::RuleId(rule_id.to_string())),
        (None, None) => Err(KibanaError::validation(&["either \"id\" or \"rule_id\" must be set"])),
    }
}

fn body_selector(obj: &Map<String, Value>) -> Result<Selector, KibanaError> {
    let text = |key: &str| match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(KibanaError::body(format!("{key}: expected a string, found {other}"))),
    };
    selector(text("id")?, text("rule_id")?)
}

/// `POST /api/detection_engine/rules`: creates a rule (409 when its `rule_id` exists; a
/// `rule_id` is generated when missing).
pub async fn create(
    State(state): State<AppState>,
    who: Who,
    body: Result<Body, ApiError>,
) -> Result<Response, KibanaError> {
    let registry = registry(&state)?;
    let mut obj = json_object(body)?;
    if obj.get("rule_id").is_none_or(Value::is_null) {
        obj.insert("rule_id".into(), json!(uuid_v4()?));
    }
    let user = user_name(who.as_deref());
    let entry = registry.create(&obj, &uuid_v4()?, &user).map_err(registry_error)?;
    Ok(ok(&rule_json(&entry, &EngineState::default())))
}

/// `GET /api/detection_engine/rules?id=|rule_id=`.
pub async fn read(State(state): State<AppState>, params: Params) -> Result<Response, KibanaError> {
    let registry = registry(&state)?;
    let selector = selector(params.get("id"), params.get("rule_id"))?;
    let entry = registry.get(&selector).ok_or_else(|| registry_error(RegistryError::NotFound(selector)))?;
    Ok(ok(&rule_json(&entry, &engine_state(&state))))
}

/// `PUT /api/detection_engine/rules`: replaces a rule named by `id` or `rule_id` in the body.
pub async fn update(
    State(state): State<AppState>,
    who: Who,
    body: Result<Body, ApiError>,
) -> Result<Response, KibanaError> {
    let registry = registry(&state)?;
    let obj = json_object(body)?;
    let selector = body_selector(&obj)?;
    let entry = registry.update(&selector, &obj, &user_name(who.as_deref())).map_err(registry_error)?;
    Ok(ok(&rule_json(&entry, &engine_state(&state))))
}

/// `PATCH /api/detection_engine/rules`: changes the given fields of a rule.
pub async fn patch(
    State(state): State<AppState>,
    who: Who,
    body: Result<Body, ApiError>,
) -> Result<Response, KibanaError> {
    let registry = registry(&state)?;
    let obj = json_object(body)?;
    let selector = body_selector(&obj)?;
    let entry = registry.patch(&selector, &obj, &user_name(who.as_deref())).map_err(registry_error)?;
    Ok(ok(&rule_json(&entry, &engine_state(&state))))
}

/// `DELETE /api/detection_engine/rules?id=|rule_id=`: deletes a rule and returns it.
pub async fn delete(State(state): State<AppState>, params: Params) -> Result<Response, KibanaError> {
    let registry = registry(&state)?;
    let selector = selector(params.get("id"), params.get("rule_id"))?;
    let engine = engine_state(&state);
    let entry = registry.delete(&selector).map_err(registry_error)?;
    Ok(ok(&rule_json(&entry, &engine)))
}

/// `_find`'s sort fields, as Kibana names them.
const SORT_FIELDS: &[&str] = &[
    "created_at",
    "createdAt",
    "enabled",
    "execution_summary.last_execution.date",
    "execution_summary.last_execution.metrics.execution_gap_duration_s",
    "execution_summary.last_execution.metrics.total_indexing_duration_ms",
    "execution_summary.last_execution.metrics.total_search_duration_ms",
    "execution_summary.last_execution.status",
    "name",
    "risk_score",
    "riskScore",
    "severity",
    "updated_at",
    "updatedAt",
];

/// Query parameters of Kibana's `_find` that Saker does not implement.
const FIND_UNSUPPORTED: &[&str] = &["fields", "gaps_range_start", "gaps_range_end", "gap_fill_statuses"];

fn int_param(params: &Params, name: &str, default: usize, min: usize) -> Result<usize, KibanaError> {
    match params.get(name) {
        None => Ok(default),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(KibanaError::query(format!("{name}: expected an integer of at least {min}, found [{text}]"))),
        },
    }
}

/// The value a rule sorts by; `None` sorts last.
fn sort_key(field: &str, entry: &Entry, engine: &EngineState) -> Option<Value> {
    let rule = &entry.rule;
    let run = engine.rules.get(&rule.id);
    match field {
        "created_at" | "createdAt" => Some(json!(entry.created_at.timestamp_millis())),
        "updated_at" | "updatedAt" => Some(json!(entry.updated_at.timestamp_millis())),
        "enabled" => Some(json!(rule.enabled)),
        "name" => Some(json!(rule.name)),
        "risk_score" | "riskScore" => Some(json!(rule.risk_score)),
        "severity" => Some(json!(rule.severity.as_str())),
        "execution_summary.last_execution.date" => {
            run.and_then(|r| r.running.or(r.last_started_at)).map(|d| json!(d.timestamp_millis()))
        }
        "execution_summary.last_execution.status" => {
            run.and_then(execution_summary).map(|s| s["last_execution"]["status_order"].clone())
        }
        // Saker does not measure these yet: every rule sorts as missing.
        _ => None,
    }
}

fn compare(a: &Option<Value>, b: &Option<Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => match (x, y) {
            (Value::Number(x), Value::Number(y)) => {
                x.as_f64().unwrap_or(0.0).partial_cmp(&y.as_f64().unwrap_or(0.0)).unwrap_or(Ordering::Equal)
            }
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (Value::String(x), Value::String(y)) => x.cmp(y),
            _ => Ordering::Equal,
        },
    }
}

/// `GET /api/detection_engine/rules/_find`: `page` (from 1), `per_page` (20), `sort_field` with
/// `sort_order`, and a KQL `filter` over rule attributes ([`RuleFilter`]).
pub async fn find(State(state): State<AppState>, params: Params) -> Result<Response, KibanaError> {
    let registry = registry(&state)?;
    for name in FIND_UNSUPPORTED {
        if params.get(name).is_some() {
            return Err(KibanaError::siem(
                StatusCode::BAD_REQUEST,
                format!("the _find parameter [{name}] is not supported by Saker"),
            ));
        }
    }
    let page = int_param(&params, "page", 1, 1)?;
    let per_page = int_param(&params, "per_page", 20, 0)?;
    let (sort_field, sort_order) = (params.get("sort_field"), params.get("sort_order"));
    if let Some(field) = sort_field
        && !SORT_FIELDS.contains(&field)
    {
        return Err(KibanaError::query(format!(
            "sort_field: Invalid enum value. Expected {}, received '{field}'",
            SORT_FIELDS.iter().map(|f| format!("'{f}'")).collect::<Vec<_>>().join(" | ")
        )));
    }
    if let Some(order) = sort_order
        && !matches!(order, "asc" | "desc")
    {
        return Err(KibanaError::query(format!(
            "sort_order: Invalid enum value. Expected 'asc' | 'desc', received '{order}'"
        )));
    }
    if sort_field.is_some() != sort_order.is_some() {
        return Err(KibanaError::validation(&[
            "when \"sort_order\" and \"sort_field\" must exist together or not at all",
        ]));
    }
    let filter = match params.get("filter").filter(|f| !f.trim().is_empty()) {
        Some(text) => Some(RuleFilter::parse(text).map_err(|e| KibanaError::siem(StatusCode::BAD_REQUEST, e))?),
        None => None,
    };
    let engine = engine_state(&state);
    let mut entries: Vec<Entry> =
        registry.entries().into_iter().filter(|e| filter.as_ref().is_none_or(|f| f.matches(e))).collect();
    if let (Some(field), Some(order)) = (sort_field, sort_order) {
        let mut keyed: Vec<(Option<Value>, Entry)> =
            entries.into_iter().map(|e| (sort_key(field, &e, &engine), e)).collect();
        keyed.sort_by(|(a, _), (b, _)| {
            let ord = compare(a, b);
            // Missing values last in both orders, as Elasticsearch sorts.
            if order == "desc" && a.is_some() && b.is_some() { ord.reverse() } else { ord }
        });
        entries = keyed.into_iter().map(|(_, e)| e).collect();
    }
    let total = entries.len();
    let data: Vec<Value> = entries
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|e| rule_json(e, &engine))
        .collect();
    Ok(ok(&json!({"page": page, "perPage": per_page, "total": total, "data": data})))
}

fn bulk_error(message: &str, status: u16, rule_id: Option<&str>, id: Option<&str>) -> Value {
    let mut out = Map::new();
    if let Some(id) = id {
        out.insert("id".into(), json!(id));
    }
    match (rule_id, id) {
        (Some(rule_id), _) => {
            out.insert("rule_id".into(), json!(rule_id));
        }
        (None, None) => {
            out.insert("rule_id".into(), json!("(unknown id)"));
        }
        (None, Some(_)) => {}
    }
    out.insert("error".into(), json!({"status_code": status, "message": message}));
    Value::Object(out)
}

fn import_error_status(error: &RegistryError) -> u16 {
    match error {
        RegistryError::NotFound(_) => 404,
        RegistryError::Conflict(_) => 409,
        RegistryError::Immutable { .. } | RegistryError::Invalid(_) => 400,
        RegistryError::Storage(_) => 500,
    }
}

/// `POST /api/detection_engine/rules/_import`: the rules of an NDJSON export, sent as the
/// multipart form field `file` (a `.ndjson` file). `overwrite=true` replaces rules whose
/// `rule_id` exists. Exception lists and action connectors in the file are not imported and are
/// reported in `exceptions_errors` / `action_connectors_errors`.
pub async fn import(
    State(state): State<AppState>,
    who: Who,
    params: Params,
    headers: HeaderMap,
    body: Result<Body, ApiError>,
) -> Result<Response, KibanaError> {
    let registry = registry(&state)?;
    let body = body?;
    let overwrite = query_bool(&params, "overwrite")?;
    query_bool(&params, "overwrite_exceptions")?;
    query_bool(&params, "overwrite_action_connectors")?;
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let boundary = super::multipart::boundary(content_type).map_err(KibanaError::body)?;
    let parts = super::multipart::parse(&body.0, &boundary).map_err(KibanaError::body)?;
    let Some(file) = parts.into_iter().find(|p| p.name == "file") else {
        return Err(KibanaError::body("file: Required"));
    };
    let filename = file.filename.clone().unwrap_or_default();
    let extension = std::path::Path::new(&filename)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy().to_lowercase()))
        .unwrap_or_default();
    if extension != ".ndjson" {
        return Err(KibanaError::siem(StatusCode::BAD_REQUEST, format!("Invalid file extension {extension}")));
    }
    let text = String::from_utf8_lossy(&file.data);

    let mut errors: Vec<Value> = Vec::new();
    let mut exceptions_errors: Vec<Value> = Vec::new();
    let mut connector_errors: Vec<Value> = Vec::new();
    let mut rules_count = 0;
    // the last rule with a rule_id wins; earlier ones are reported (unless overwriting)
    let mut by_rule_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut objects: Vec<Option<Map<String, Value>>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let obj = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(obj)) => obj,
            Ok(_) | Err(_) => {
                rules_count += 1;
                errors.push(bulk_error(&format!("line {}: not a JSON object", i + 1), 400, None, None));
                continue;
            }
        };
        if obj.contains_key("exported_count") || obj.contains_key("exported_rules_count") {
            continue;
        }
        if obj.get("type").and_then(Value::as_str) == Some("action") {
            connector_errors.push(json!({
                "error": {"status_code": 400, "message": "action connectors are not supported by Saker; not imported"},
                "id": obj.get("id").cloned().unwrap_or(Value::Null),
            }));
            continue;
        }
        if obj.contains_key("list_id") && !obj.contains_key("rule_id") {
            exceptions_errors.push(json!({
                "error": {"status_code": 400, "message": "exception lists are not supported by Saker; not imported"},
                "list_id": obj.get("list_id").cloned().unwrap_or(Value::Null),
            }));
            continue;
        }
        rules_count += 1;
        let Some(rule_id) = obj.get("rule_id").and_then(Value::as_str).map(str::to_string) else {
            errors.push(bulk_error("rule_id: Required", 400, None, None));
            continue;
        };
        if let Some(&earlier) = by_rule_id.get(&rule_id) {
            if !overwrite {
                errors.push(bulk_error(
                    &format!("More than one rule with rule-id: \"{rule_id}\" found"),
                    400,
                    Some(&rule_id),
                    None,
                ));
            }
            objects[earlier] = None;
        }
        by_rule_id.insert(rule_id, objects.len());
        objects.push(Some(obj));
    }
    let objects: Vec<Map<String, Value>> = objects.into_iter().flatten().collect();
    let user = user_name(who.as_deref());
    let mut ids = Vec::with_capacity(objects.len());
    for _ in 0..objects.len() {
        ids.push(uuid_v4()?);
    }
    let mut ids = ids.into_iter();
    let outcomes =
        registry.import(&objects, overwrite, || ids.next().unwrap_or_default(), &user).map_err(registry_error)?;
    let mut success_count = 0;
    for (obj, outcome) in objects.iter().zip(outcomes) {
        match outcome {
            Ok(Imported::Created(_) | Imported::Updated(_)) => success_count += 1,
            Err(e) => {
                let rule_id = obj.get("rule_id").and_then(Value::as_str);
                let message = match &e {
                    RegistryError::Conflict(_) => "Rule with this rule_id already exists".to_string(),
                    other => other.to_string(),
                };
                errors.push(bulk_error(&message, import_error_status(&e), rule_id, None));
            }
        }
    }
    Ok(ok(&json!({
        "success": errors.is_empty(),
        "success_count": success_count,
        "rules_count": rules_count,
        "errors": errors,
        "exceptions_success": exceptions_errors.is_empty(),
        "exceptions_success_count": 0,
        "exceptions_errors": exceptions_errors,
        "action_connectors_success": connector_errors.is_empty(),
        "action_connectors_success_count": 0,
        "action_connectors_errors": connector_errors,
        "action_connectors_warnings": [],
    })))
}

fn query_bool(params: &Params, name: &str) -> Result<bool, KibanaError> {
    match params.get(name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(KibanaError::query(format!("{name}: expected true or false, found [{other}]"))),
    }
}

/// `POST /api/detection_engine/rules/_bulk_action`: `enable`, `disable` or `delete` the rules
/// named by `ids` or matched by the KQL `query` (all rules when neither is given); `dry_run`
/// reports without changing. Other actions are refused by name.
pub async fn bulk_action(
    State(state): State<AppState>,
    who: Who,
    params: Params,
    body: Result<Body, ApiError>,
) -> Result<Response, KibanaError> {
    let registry = registry(&state)?;
    let obj = json_object(body)?;
    let dry_run = query_bool(&params, "dry_run")?;
    let op = match obj.get("action").and_then(Value::as_str) {
        Some("enable") => BulkOp::Enable,
        Some("disable") => BulkOp::Disable,
        Some("delete") => BulkOp::Delete,
        Some(other @ ("duplicate" | "export" | "edit" | "run" | "fill_gaps")) => {
            return Err(KibanaError::siem(
                StatusCode::BAD_REQUEST,
                format!(
                    "the bulk action [{other}] is not supported by Saker; the actions are enable, disable and delete"
                ),
            ));
        }
        Some(other) => {
            return Err(KibanaError::body(format!(
                "action: Invalid enum value. Expected 'delete' | 'disable' | 'enable' | 'export' | 'duplicate' | 'edit' | 'run' | 'fill_gaps', received '{other}'"
            )));
        }
        None => return Err(KibanaError::body("action: Required")),
    };
    let ids: Option<Vec<String>> = match obj.get("ids") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| KibanaError::body("ids: expected an array of strings"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err(KibanaError::body("ids: expected an array of strings")),
    };
    let query = match obj.get("query") {
        None | Some(Value::Null) => None,
        Some(Value::String(q)) => Some(q.clone()),
        Some(_) => return Err(KibanaError::body("query: expected a string")),
    };
    if ids.is_some() && query.is_some() {
        return Err(KibanaError::siem(
            StatusCode::BAD_REQUEST,
            "Both query and ids are sent. Define either ids or query in request payload.",
        ));
    }
    if ids.as_ref().is_some_and(|ids| ids.len() > MAX_BULK_IDS) {
        return Err(KibanaError::siem(
            StatusCode::BAD_REQUEST,
            format!("More than {MAX_BULK_IDS} ids sent for bulk edit action."),
        ));
    }
    let ids = match ids {
        Some(ids) => ids,
        None => {
            let filter = match query.as_deref().filter(|q| !q.trim().is_empty()) {
                Some(q) => Some(RuleFilter::parse(q).map_err(|e| KibanaError::siem(StatusCode::BAD_REQUEST, e))?),
                None => None,
            };
            let matched: Vec<String> = registry
                .entries()
                .into_iter()
                .filter(|e| filter.as_ref().is_none_or(|f| f.matches(e)))
                .map(|e| e.rule.id)
                .collect();
            if matched.len() > MAX_BULK_RULES {
                return Err(KibanaError::siem(
                    StatusCode::BAD_REQUEST,
                    format!("More than {MAX_BULK_RULES} rules matched the filter query. Try to narrow it down."),
                ));
            }
            matched
        }
    };
    let names: BTreeMap<String, String> = registry.entries().into_iter().map(|e| (e.rule.id, e.rule.name)).collect();
    let outcomes = registry.bulk(op, &ids, &user_name(who.as_deref()), dry_run).map_err(registry_error)?;
    let engine = engine_state(&state);
    let mut done = Vec::new();
    // errors grouped by message, as Kibana's normalizeErrorResponse groups them
    let mut errors: Vec<(String, u16, Vec<Value>)> = Vec::new();
    for (id, outcome) in ids.iter().zip(outcomes) {
        match outcome {
            Ok(entry) => done.push(rule_json(&entry, &engine)),
            Err(e) => {
                let (message, status) = match &e {
                    RegistryError::NotFound(_) => ("Rule not found".to_string(), 500),
                    other => (other.to_string(), import_error_status(other)),
                };
                let rule = match names.get(id) {
                    Some(name) => json!({"id": id, "name": name}),
                    None => json!({"id": id}),
                };
                match errors.iter_mut().find(|(m, _, _)| *m == message) {
                    Some((_, _, rules)) => rules.push(rule),
                    None => errors.push((message, status, vec![rule])),
                }
            }
        }
    }
    let failed: usize = errors.iter().map(|(_, _, rules)| rules.len()).sum();
    let succeeded = done.len();
    let summary = json!({"failed": failed, "skipped": 0, "succeeded": succeeded, "total": failed + succeeded});
    let listed = if dry_run { Vec::new() } else { done };
    let (updated, deleted) = match op {
        BulkOp::Delete => (Vec::new(), listed),
        _ => (listed, Vec::new()),
    };
    let results = json!({"updated": updated, "created": [], "deleted": deleted, "skipped": []});
    if failed > 0 {
        let errors: Vec<Value> = errors
            .into_iter()
            .map(|(message, status, rules)| json!({"message": message, "status_code": status, "rules": rules}))
            .collect();
        let message = if succeeded > 0 { "Bulk edit partially failed" } else { "Bulk edit failed" };
        let body = json!({
            "message": message,
            "status_code": 500,
            "attributes": {"errors": errors, "results": results, "summary": summary},
        });
        return Ok(crate::response::json_response(StatusCode::INTERNAL_SERVER_ERROR, &body, false));
    }
    Ok(ok(&json!({
        "success": true,
        "rules_count": succeeded,
        "attributes": {"results": results, "summary": summary},
    })))
}

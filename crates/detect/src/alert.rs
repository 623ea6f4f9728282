//! Turning a matched event (or an aggregated ES|QL row) into a Kibana security alert document
//! for `.alerts-security.alerts-default`.
//!
//! Kibana: `rule_types/factories/utils/{transform_hit_to_alert,build_alert,traverse_and_mutate_doc}.ts`,
//! `rule_types/utils/mappings/build_{rule_name,severity,risk_score}_from_mapping.ts`,
//! `rule_types/utils/reason_formatters.ts` (reference: `kibana-detection-engine.md` §3.5–3.7, §4).
//!
//! The alert is the event's source, sanitised (Kibana's own `kibana.*`, `signal.*` and
//! `threshold_result.*` removed, values that conflict with ECS types removed, `event.kind`
//! replaced), with the alert fields added as dotted top-level keys, as Kibana writes them.
//! Deviation: the ECS conflict check covers types (`long`, `float`, `ip`, `date`, `boolean`) and
//! leaf/object clashes, not `nested` fields.

use crate::datemath::{iso, parse_date};
use crate::doc;
use crate::rule::{Rule, Severity};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::sync::LazyLock;

/// The alerts index of the default space.
pub const ALERTS_INDEX: &str = ".alerts-security.alerts-default";

/// The Kibana space Saker's rules run in.
pub const SPACE_ID: &str = "default";

/// The Kibana version whose alert documents Saker writes (`kibana.version`).
pub const KIBANA_VERSION: &str = "9.1.0";

/// One matched document, as the executors hand it over: a source event (with its `_id` and
/// `_index`), or an aggregated ES|QL row (empty id and index).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The document's `_id` (empty for aggregated rows).
    pub id: String,
    /// The document's `_index` (empty for aggregated rows).
    pub index: String,
    /// The document's `_version`, when known.
    pub version: Option<i64>,
    /// The document (for ES|QL rows: the source overlaid with the row's columns).
    pub source: Map<String, Value>,
}

/// What every alert of one rule execution shares.
#[derive(Debug, Clone)]
pub struct ExecutionContext<'a> {
    /// The rule.
    pub rule: &'a Rule,
    /// The scheduled start of the execution (`now` of its date math): the alerts' `@timestamp`.
    pub started_at: DateTime<Utc>,
    /// The execution's id (`kibana.alert.rule.execution.uuid`).
    pub execution_uuid: String,
    /// The index patterns searched (`kibana.alert.rule.indices`).
    pub indices: Vec<String>,
}

/// The alert document for `hit`, with id `uuid`.
pub fn build_alert(ctx: &ExecutionContext<'_>, hit: &Hit, uuid: &str) -> Map<String, Value> {
    let rule = ctx.rule;
    let source = &hit.source;
    let name = rule
        .rule_name_override
        .as_deref()
        .and_then(|f| doc::single_string(source, f))
        .unwrap_or(&rule.name)
        .to_string();
    let severity = severity_from_mapping(rule, source);
    let risk_score = risk_score_from_mapping(rule, source);
    let reason = reason(source, severity, &name);
    let ancestors = ancestors(hit);
    let depth = ancestors.iter().filter_map(|a| a.get("depth").and_then(Value::as_i64)).max().unwrap_or(0) + 1;
    let original_time = doc::first(source, "@timestamp").and_then(timestamp_value);

    let mut alert = sanitize(source);
    let now = Value::String(iso(ctx.started_at));
    let mut set = |k: &str, v: Value| {
        alert.insert(k.to_string(), v);
    };
    set("@timestamp", now.clone());
    set("event.kind", json!("signal"));
    set("kibana.alert.uuid", json!(uuid));
    set("kibana.alert.status", json!("active"));
    set("kibana.alert.workflow_status", json!("open"));
    set("kibana.alert.workflow_tags", json!([]));
    set("kibana.alert.workflow_assignee_ids", json!([]));
    set("kibana.alert.severity", json!(severity.as_str()));
    set("kibana.alert.risk_score", json!(risk_score));
    set("kibana.alert.reason", json!(reason));
    if let Some(t) = original_time {
        set("kibana.alert.original_time", json!(t));
    }
    set("kibana.alert.ancestors", Value::Array(ancestors.into_iter().map(Value::Object).collect()));
    set("kibana.alert.depth", json!(depth));
    if let Some(bb) = &rule.building_block_type {
        set("kibana.alert.building_block_type", json!(bb));
        set("kibana.alert.rule.building_block_type", json!(bb));
    }
    set("kibana.alert.start", now.clone());
    set("kibana.alert.last_detected", now.clone());
    set("kibana.alert.intended_timestamp", now.clone());
    set("kibana.alert.rule.execution.timestamp", now.clone());
    set("kibana.alert.rule.execution.type", json!("scheduled"));
    set("kibana.alert.rule.execution.uuid", json!(ctx.execution_uuid));
    set("kibana.alert.instance.id", json!(uuid));
    set("kibana.alert.rule.uuid", json!(rule.id));
    set("kibana.alert.rule.rule_id", json!(rule.rule_id));
    set("kibana.alert.rule.name", json!(name));
    set("kibana.alert.rule.type", json!(rule.rule_type.as_str()));
    set("kibana.alert.rule.rule_type_id", json!(rule.rule_type.rule_type_id()));
    set("kibana.alert.rule.category", json!(rule.rule_type.category()));
    set("kibana.alert.rule.consumer", json!("siem"));
    set("kibana.alert.rule.producer", json!("siem"));
    set("kibana.alert.rule.revision", json!(0));
    set("kibana.alert.rule.version", json!(rule.version.to_string()));
    set("kibana.alert.rule.parameters", rule.parameters());
    set("kibana.alert.rule.author", json!(rule.author));
    set("kibana.alert.rule.description", json!(rule.description));
    set("kibana.alert.rule.enabled", json!(rule.enabled));
    set("kibana.alert.rule.from", json!(rule.from.as_str()));
    set("kibana.alert.rule.to", json!(rule.to.as_str()));
    set("kibana.alert.rule.interval", json!(rule.interval.as_str()));
    set("kibana.alert.rule.max_signals", json!(rule.max_signals));
    set("kibana.alert.rule.tags", json!(rule.tags));
    set("kibana.alert.rule.references", json!(rule.references));
    set("kibana.alert.rule.false_positives", json!(rule.false_positives));
    set("kibana.alert.rule.threat", serde_json::to_value(&rule.threat).unwrap_or(Value::Array(Vec::new())));
    set("kibana.alert.rule.exceptions_list", Value::Array(rule.exceptions_list.clone()));
    set("kibana.alert.rule.immutable", json!(false));
    set("kibana.alert.rule.actions", json!([]));
    set("kibana.alert.rule.indices", json!(ctx.indices));
    set("kibana.alert.rule.risk_score", json!(rule.risk_score));
    set("kibana.alert.rule.severity", json!(rule.severity.as_str()));
    set(
        "kibana.alert.rule.severity_mapping",
        serde_json::to_value(&rule.severity_mapping).unwrap_or(Value::Array(Vec::new())),
    );
    set(
        "kibana.alert.rule.risk_score_mapping",
        serde_json::to_value(&rule.risk_score_mapping).unwrap_or(Value::Array(Vec::new())),
    );
    for (key, value) in [
        ("kibana.alert.rule.license", &rule.license),
        ("kibana.alert.rule.note", &rule.note),
        ("kibana.alert.rule.rule_name_override", &rule.rule_name_override),
        ("kibana.alert.rule.timestamp_override", &rule.timestamp_override),
    ] {
        if let Some(v) = value {
            set(key, json!(v));
        }
    }
    set("kibana.space_ids", json!([SPACE_ID]));
    set("kibana.version", json!(KIBANA_VERSION));
    alert
}

/// A date field's value as a time: strings that parse as dates, or epoch milliseconds.
pub fn date_value(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => parse_date(s),
        Value::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        _ => None,
    }
}

/// `@timestamp` as an ISO string (see [`date_value`]).
fn timestamp_value(v: &Value) -> Option<String> {
    date_value(v).map(iso)
}

/// Kibana's `buildAncestors`: the parent's own ancestors plus the parent itself.
fn ancestors(hit: &Hit) -> Vec<Map<String, Value>> {
    let source = &hit.source;
    let is_alert =
        doc::raw(source, "kibana.alert.uuid").is_some() || doc::raw(source, "kibana.alert.ancestors").is_some();
    let mut out: Vec<Map<String, Value>> = match doc::raw(source, "kibana.alert.ancestors") {
        Some(Value::Array(items)) => items.iter().filter_map(|a| a.as_object().cloned()).collect(),
        Some(Value::Object(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let mut parent = Map::new();
    parent.insert("id".into(), json!(hit.id));
    parent.insert("type".into(), json!(if is_alert { "signal" } else { "event" }));
    parent.insert("index".into(), json!(hit.index));
    let depth =
        if is_alert { doc::first(source, "kibana.alert.depth").and_then(Value::as_i64).unwrap_or(1) } else { 0 };
    parent.insert("depth".into(), json!(depth));
    if is_alert && let Some(rule) = doc::single_string(source, "kibana.alert.rule.uuid") {
        parent.insert("rule".into(), json!(rule));
    }
    out.push(parent);
    out
}

/// The rule's uuids among the ancestors of `source` (KQL rules skip events their own rule
/// created).
pub fn ancestor_rules(source: &Map<String, Value>) -> Vec<String> {
    doc::values(source, "kibana.alert.ancestors.rule")
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// `severity_mapping`: entries ordered low → critical; the last (highest) matching entry wins;
/// `event.severity` compares as integers, other fields as strings.
pub fn severity_from_mapping(rule: &Rule, source: &Map<String, Value>) -> Severity {
    let mut entries: Vec<_> = rule.severity_mapping.iter().collect();
    entries.sort_by_key(|m| m.severity);
    let mut result = None;
    for m in entries {
        let values = doc::values(source, &m.field);
        let matched = if m.field == "event.severity" {
            let wanted = m.value.trim().parse::<f64>().ok().map(f64::floor);
            values.iter().any(|v| {
                let n = match v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                };
                matches!((n, wanted), (Some(n), Some(w)) if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 && n == w)
            })
        } else {
            values.iter().any(|v| doc::text(v) == m.value)
        };
        if matched {
            result = Some(m.severity);
        }
    }
    result.unwrap_or(rule.severity)
}

/// `risk_score_mapping` (first entry): the highest value of the field that is a number from 0
/// to 100 (numeric strings accepted); else the rule's `risk_score`.
pub fn risk_score_from_mapping(rule: &Rule, source: &Map<String, Value>) -> f64 {
    let Some(m) = rule.risk_score_mapping.first() else {
        return f64::from(rule.risk_score);
    };
    doc::values(source, &m.field)
        .into_iter()
        .filter_map(|v| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        })
        .filter(|n| n.is_finite() && (0.0..=100.0).contains(n))
        .fold(None, |acc: Option<f64>, n| Some(acc.map_or(n, |a| a.max(n))))
        .unwrap_or(f64::from(rule.risk_score))
}

/// Kibana's alert reason: "<category> event with process …, source …, by … on … created
/// <severity> alert <name>.".
pub fn reason(source: &Map<String, Value>, severity: Severity, rule_name: &str) -> String {
    let field = |path: &str| -> Option<String> {
        let vs: Vec<String> = doc::values(source, path).into_iter().map(doc::text).collect();
        let joined = vs.join(", ");
        (!joined.is_empty() && joined != "-").then_some(joined)
    };
    let category = field("event.category");
    let process = field("process.name");
    let parent = field("process.parent.name");
    let file = field("file.name");
    let source_ip = field("source.ip");
    let source_port = field("source.port");
    let destination_ip = field("destination.ip");
    let destination_port = field("destination.port");
    let user = field("user.name");
    let host = field("host.name");
    let mut out = String::new();
    if let Some(c) = category {
        out.push_str(&c);
        out.push(' ');
    }
    out.push_str("event");
    let interesting = [&process, &parent, &file, &source_ip, &source_port, &destination_ip, &destination_port]
        .iter()
        .any(|v| v.is_some());
    if interesting {
        out.push_str(" with");
    }
    if let Some(p) = process {
        out.push_str(&format!(" process {p},"));
    }
    if let Some(p) = parent {
        out.push_str(&format!(" parent process {p},"));
    }
    if let Some(f) = file {
        out.push_str(&format!(" file {f},"));
    }
    if let Some(ip) = source_ip {
        out.push_str(&format!(" source {ip}"));
    }
    if let Some(port) = source_port {
        out.push_str(&format!(":{port},"));
    }
    if let Some(ip) = destination_ip {
        out.push_str(&format!(" destination {ip}"));
    }
    if let Some(port) = destination_port {
        out.push_str(&format!(":{port},"));
    }
    if let Some(u) = user {
        out.push_str(&format!(" by {u}"));
    }
    if let Some(h) = host {
        out.push_str(&format!(" on {h}"));
    }
    out.push_str(&format!(" created {severity} alert {rule_name}."));
    out
}

/// Every proper prefix of an ECS field name (`source`, `source.geo`): names that are objects in
/// ECS and so cannot hold values.
static ECS_OBJECTS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut set = HashSet::new();
    for f in ecs::fields() {
        for (i, _) in f.name.match_indices('.') {
            set.insert(f.name[..i].to_string());
        }
    }
    // A multi-field (`user.name.text`) does not make its parent an object.
    set.retain(|prefix| ecs::field_type(prefix).is_none_or(|t| matches!(t, "object" | "nested" | "flattened")));
    set
});

/// Kibana's `traverseAndMutateDoc` + the `original_event` copy: removes `kibana.*`, `signal.*`,
/// `threshold_result.*` and values that conflict with ECS, copies `event.*` to
/// `kibana.alert.original_event.*` and `data_stream.*` to `kibana.alert.original_data_stream.*`,
/// and removes `event.kind`.
pub fn sanitize(source: &Map<String, Value>) -> Map<String, Value> {
    let mut out = source.clone();
    let keys: Vec<String> = out.keys().cloned().collect();
    for k in keys {
        let first = k.split('.').next().unwrap_or("");
        if matches!(first, "kibana" | "signal" | "threshold_result") {
            out.remove(&k);
        }
    }
    for (path, value) in doc::leaves(&out.clone()) {
        if conflicts_with_ecs(&path, &value) {
            doc::remove(&mut out, &path);
        }
    }
    let mut extra: Vec<(String, Value)> = Vec::new();
    for (path, value) in doc::leaves(&out) {
        if let Some(rest) = path.strip_prefix("event.") {
            extra.push((format!("kibana.alert.original_event.{rest}"), value));
        } else if let Some(rest) = path.strip_prefix("data_stream.") {
            extra.push((format!("kibana.alert.original_data_stream.{rest}"), value));
        }
    }
    doc::remove(&mut out, "event.kind");
    for (k, v) in extra {
        out.insert(k, v);
    }
    out
}

fn conflicts_with_ecs(path: &str, value: &Value) -> bool {
    if ECS_OBJECTS.contains(path) {
        return true;
    }
    for (i, _) in path.match_indices('.') {
        let prefix = &path[..i];
        if ecs::field_type(prefix).is_some_and(|t| !matches!(t, "object" | "nested" | "flattened")) {
            return true;
        }
    }
    let Some(mapping) = ecs::field_type(path) else {
        return false;
    };
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    items.iter().any(|v| !fits(v, mapping))
}

fn fits(v: &Value, mapping: &str) -> bool {
    let numeric = |v: &Value| match v {
        Value::Number(_) => true,
        Value::String(s) => s.trim().parse::<f64>().is_ok(),
        _ => false,
    };
    match mapping {
        "long" | "integer" | "short" | "byte" | "unsigned_long" => match v {
            Value::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
            Value::String(s) => s.trim().parse::<i64>().is_ok(),
            _ => false,
        },
        "float" | "double" | "scaled_float" | "half_float" => numeric(v),
        "ip" => v.as_str().is_some_and(|s| ecs::ndjson::parse_ip(s).is_some()),
        "date" | "date_nanos" => match v {
            Value::String(s) => parse_date(s).is_some() || ecs::ndjson::parse_date_nanos(s).is_some(),
            Value::Number(_) => true,
            _ => false,
        },
        "boolean" => matches!(v, Value::Bool(_)) || matches!(v.as_str(), Some("true" | "false" | "")),
        _ => !v.is_object(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{Origin, SeverityMapping};
    use std::path::PathBuf;

    fn rule(extra: Value) -> Rule {
        let mut obj = json!({"name": "My Rule", "description": "d", "type": "query", "severity": "high",
            "risk_score": 73, "rule_id": "r", "query": "x:y", "index": ["logs-*"]})
        .as_object()
        .cloned()
        .expect("object");
        if let Value::Object(e) = extra {
            obj.extend(e);
        }
        Rule::from_api(&obj, Origin { path: PathBuf::from("t"), line: None }).expect("rule")
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn reasons_follow_kibanas_template() {
        let src = obj(
            json!({"event": {"category": ["process"]}, "process": {"name": "cmd.exe"}, "user": {"name": "bob"}, "host": {"name": "h1"}}),
        );
        assert_eq!(
            reason(&src, Severity::High, "My Rule"),
            "process event with process cmd.exe, by bob on h1 created high alert My Rule."
        );
        assert_eq!(reason(&Map::new(), Severity::Low, "R"), "event created low alert R.");
        let net = obj(
            json!({"event.category": ["network", "intrusion_detection"], "source.ip": "81.2.69.143", "source.port": 443, "destination.ip": "10.0.0.5"}),
        );
        assert_eq!(
            reason(&net, Severity::Medium, "ET ALERT"),
            "network, intrusion_detection event with source 81.2.69.143:443, destination 10.0.0.5 created medium alert ET ALERT."
        );
    }

    #[test]
    fn severity_and_risk_mappings() {
        let mut r =
            rule(json!({"risk_score_mapping": [{"field": "event.risk_score", "operator": "equals", "value": ""}]}));
        r.severity_mapping = vec![
            SeverityMapping { field: "event.severity".into(), value: "73".into(), severity: Severity::High },
            SeverityMapping { field: "event.severity".into(), value: "21".into(), severity: Severity::Low },
        ];
        r.severity = Severity::Medium;
        assert_eq!(severity_from_mapping(&r, &obj(json!({"event": {"severity": 21}}))), Severity::Low);
        assert_eq!(severity_from_mapping(&r, &obj(json!({"event": {"severity": [21, 73]}}))), Severity::High);
        assert_eq!(severity_from_mapping(&r, &obj(json!({"event": {"severity": 5}}))), Severity::Medium);
        assert_eq!(risk_score_from_mapping(&r, &obj(json!({"event": {"risk_score": [12, "88", 250]}}))), 88.0);
        assert_eq!(risk_score_from_mapping(&r, &obj(json!({}))), 73.0);
    }

    #[test]
    fn sanitising_keeps_the_event_and_copies_original_event() {
        let src = obj(json!({
            "event": {"kind": "alert", "module": "suricata", "severity": 2},
            "data_stream": {"dataset": "suricata.eve"},
            "kibana.alert.rule.name": "old", "signal": {"x": 1},
            "source": {"ip": "not an ip", "port": 80},
            "host.name": "h"
        }));
        let out = sanitize(&src);
        assert_eq!(out.get("event"), Some(&json!({"module": "suricata", "severity": 2})));
        assert_eq!(out.get("kibana.alert.original_event.kind"), Some(&json!("alert")));
        assert_eq!(out.get("kibana.alert.original_event.module"), Some(&json!("suricata")));
        assert_eq!(out.get("kibana.alert.original_data_stream.dataset"), Some(&json!("suricata.eve")));
        assert!(!out.contains_key("kibana.alert.rule.name"));
        assert!(!out.contains_key("signal"));
        assert_eq!(out.get("source"), Some(&json!({"port": 80})), "the malformed ip is removed");
        assert_eq!(out.get("host.name"), Some(&json!("h")));
    }

    #[test]
    fn alert_fields() {
        let r = rule(json!({"rule_name_override": "message", "note": "guide"}));
        let ctx = ExecutionContext {
            rule: &r,
            started_at: parse_date("2024-05-01T10:00:00Z").expect("date"),
            execution_uuid: "exec".into(),
            indices: vec!["logs-*".into()],
        };
        let hit = Hit {
            id: "doc1".into(),
            index: "logs-x-default".into(),
            version: Some(1),
            source: obj(
                json!({"@timestamp": "2024-05-01T09:59:00Z", "message": "ET SCAN", "event": {"kind": "alert"}}),
            ),
        };
        let a = build_alert(&ctx, &hit, "uuid1");
        assert_eq!(a["@timestamp"], "2024-05-01T10:00:00.000Z");
        assert_eq!(a["kibana.alert.original_time"], "2024-05-01T09:59:00.000Z");
        assert_eq!(a["kibana.alert.rule.name"], "ET SCAN");
        assert_eq!(a["kibana.alert.reason"], "event created high alert ET SCAN.");
        assert_eq!(
            a["kibana.alert.ancestors"],
            json!([{"id": "doc1", "type": "event", "index": "logs-x-default", "depth": 0}])
        );
        assert_eq!(a["kibana.alert.depth"], 1);
        assert_eq!(a["event.kind"], "signal");
        assert_eq!(a["kibana.alert.original_event.kind"], "alert");
        assert_eq!(a["kibana.alert.workflow_status"], "open");
        assert_eq!(a["kibana.alert.rule.note"], "guide");
        // an alert of this alert is depth 2, its parent a signal
        let hit2 = Hit { id: "uuid1".into(), index: ALERTS_INDEX.into(), version: None, source: a };
        let b = build_alert(&ctx, &hit2, "uuid2");
        assert_eq!(b["kibana.alert.depth"], 2);
        let anc = b["kibana.alert.ancestors"].as_array().expect("array");
        assert_eq!(anc.len(), 2);
        assert_eq!(anc[1]["type"], "signal");
        assert_eq!(anc[1]["rule"], json!(r.id));
        assert_eq!(ancestor_rules(&b), vec![r.id.clone()]);
    }
}

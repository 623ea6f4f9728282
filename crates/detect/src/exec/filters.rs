//! Kibana filter objects (a query rule's `filters`) as ES|QL conditions.
//!
//! Supported: `exists`, `match_phrase`, `match`, `term`, `terms`, `wildcard` (with
//! `case_insensitive`), `range`, `match_all` and `bool` (`must`/`filter`/`should`/`must_not`),
//! each optionally negated (`meta.negate`) or disabled (`meta.disabled`). Field values are
//! matched through `KQL()` so they get Elasticsearch's per-type semantics.
//!
//! Every condition is two-valued (never null), as a DSL query is: a document without the field
//! does not match, and a negated filter keeps it. Deviation: a case-insensitive `wildcard` on a
//! multi-valued field compares nothing (ES|QL's `LIKE` is single-valued) and so does not match.

use super::field_ref;
use crate::store::esql_string;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The condition for all enabled `filters` (AND), `None` when there are none.
///
/// # Errors
/// A filter of a kind Saker cannot translate, named.
pub fn filters_condition(filters: &[Value], fields: &HashSet<String>) -> Result<Option<String>, String> {
    let mut parts = Vec::new();
    for (i, filter) in filters.iter().enumerate() {
        let Some(obj) = filter.as_object() else {
            return Err(format!("filters[{i}] is not an object"));
        };
        let meta = obj.get("meta").and_then(Value::as_object);
        if meta.and_then(|m| m.get("disabled")).and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let negate = meta.and_then(|m| m.get("negate")).and_then(Value::as_bool) == Some(true);
        let query = match obj.get("query").and_then(Value::as_object) {
            Some(q) => q.clone(),
            None => obj
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "meta" | "$state"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let condition = clause(&query, fields).map_err(|e| format!("filters[{i}]: {e}"))?;
        parts.push(if negate { format!("NOT ({condition})") } else { condition });
    }
    Ok((!parts.is_empty()).then(|| parts.join(" AND ")))
}

fn clause(query: &Map<String, Value>, fields: &HashSet<String>) -> Result<String, String> {
    let Some((kind, body)) = query.iter().next() else {
        return Ok("true".to_string());
    };
    if query.len() > 1 {
        return Err("a filter query with several clauses".to_string());
    }
    let has = |f: &str| fields.contains(f);
    match kind.as_str() {
        "match_all" => Ok("true".to_string()),
        "exists" => {
            let field = body.get("field").and_then(Value::as_str).ok_or("`exists` without `field`")?;
            Ok(if has(field) { format!("({} IS NOT NULL)", field_ref(field)) } else { "false".to_string() })
        }
        "match_phrase" | "match" | "term" => {
            let (field, value) = single_field(body, &["query", "value"])?;
            Ok(kql(&format!("{}:{}", kql_field(&field), kql_quoted(&value))))
        }
        "terms" => {
            let (field, values) = body.as_object().and_then(|o| o.iter().next()).ok_or("`terms` without a field")?;
            let values = values.as_array().ok_or("`terms` values must be a list")?;
            if values.is_empty() {
                return Ok("false".to_string());
            }
            let list: Vec<String> = values.iter().map(|v| kql_quoted(&scalar_text(v))).collect();
            Ok(kql(&format!("{}:({})", kql_field(field), list.join(" or "))))
        }
        "wildcard" => {
            let (field, spec) = body.as_object().and_then(|o| o.iter().next()).ok_or("`wildcard` without a field")?;
            let (pattern, insensitive) = match spec {
                Value::String(s) => (s.clone(), false),
                Value::Object(o) => (
                    o.get("value")
                        .or_else(|| o.get("wildcard"))
                        .map(scalar_text)
                        .ok_or("`wildcard` without `value`")?,
                    o.get("case_insensitive").and_then(Value::as_bool) == Some(true),
                ),
                _ => return Err("`wildcard` must hold a value".to_string()),
            };
            if !has(field) {
                return Ok("false".to_string());
            }
            let (f, p) = if insensitive {
                (format!("TO_LOWER({})", field_ref(field)), pattern.to_lowercase())
            } else {
                (field_ref(field), pattern)
            };
            Ok(format!("COALESCE({f} LIKE {}, false)", esql_string(&p)))
        }
        "range" => {
            let (field, spec) = body.as_object().and_then(|o| o.iter().next()).ok_or("`range` without a field")?;
            let spec = spec.as_object().ok_or("`range` bounds must be an object")?;
            if !has(field) {
                return Ok("false".to_string());
            }
            let mut parts = Vec::new();
            for (op, bound) in spec {
                let symbol = match op.as_str() {
                    "gte" => ">=",
                    "gt" => ">",
                    "lte" => "<=",
                    "lt" => "<",
                    "format" | "time_zone" => continue,
                    other => return Err(format!("`range` operator `{other}` is not supported")),
                };
                let literal = match bound {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => format!("TO_DATETIME({})", esql_string(s)),
                    _ => return Err("`range` bounds must be numbers or dates".to_string()),
                };
                parts.push(format!("{} {symbol} {literal}", field_ref(field)));
            }
            if parts.is_empty() {
                return Ok(format!("({} IS NOT NULL)", field_ref(field)));
            }
            Ok(format!("COALESCE({}, false)", parts.join(" AND ")))
        }
        "bool" => {
            let body = body.as_object().ok_or("`bool` must be an object")?;
            let mut all = Vec::new();
            for (occur, items) in body {
                let items: Vec<&Value> = match items {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                let conds: Result<Vec<String>, String> = items
                    .iter()
                    .map(|i| {
                        i.as_object()
                            .ok_or_else(|| "a `bool` clause must be an object".to_string())
                            .and_then(|o| clause(o, fields))
                    })
                    .collect();
                let conds = conds?;
                match occur.as_str() {
                    "must" | "filter" => all.extend(conds),
                    "should" if !conds.is_empty() => all.push(format!("({})", conds.join(" OR "))),
                    "must_not" => all.extend(conds.into_iter().map(|c| format!("NOT ({c})"))),
                    "should" | "minimum_should_match" | "boost" => {}
                    other => return Err(format!("`bool.{other}` is not supported")),
                }
            }
            Ok(if all.is_empty() { "true".to_string() } else { format!("({})", all.join(" AND ")) })
        }
        other => Err(format!("filter queries of kind `{other}` are not supported")),
    }
}

fn single_field(body: &Value, keys: &[&str]) -> Result<(String, String), String> {
    let (field, spec) = body.as_object().and_then(|o| o.iter().next()).ok_or("a filter without a field")?;
    let value = match spec {
        Value::Object(o) => keys.iter().find_map(|k| o.get(*k)).map(scalar_text).ok_or("a filter without a value")?,
        other => scalar_text(other),
    };
    Ok((field.clone(), value))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn kql(query: &str) -> String {
    format!("KQL({})", esql_string(query))
}

fn kql_quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn kql_field(field: &str) -> String {
    let mut out = String::new();
    for c in field.chars() {
        if matches!(c, '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> HashSet<String> {
        ["process.name", "host.name"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn detection_rules_filters_translate() {
        let filters = [
            json!({"meta": {"negate": true}, "query": {"wildcard": {"process.name": {"value": "*Cmd*", "case_insensitive": true}}}}),
            json!({"meta": {"negate": false}, "query": {"exists": {"field": "host.name"}}}),
            json!({"meta": {"disabled": true}, "query": {"exists": {"field": "x"}}}),
            json!({"meta": {}, "query": {"match_phrase": {"user.name": "bob \"b\""}}}),
        ];
        let c = filters_condition(&filters, &fields()).expect("translates").expect("some");
        assert_eq!(
            c,
            r#"NOT (COALESCE(TO_LOWER(process.name) LIKE "*cmd*", false)) AND (host.name IS NOT NULL) AND KQL("user.name:\"bob \\\"b\\\"\"")"#
        );
    }

    #[test]
    fn unknown_kinds_are_named() {
        let e = filters_condition(&[json!({"query": {"geo_shape": {}}})], &fields()).expect_err("unsupported");
        assert_eq!(e, "filters[0]: filter queries of kind `geo_shape` are not supported");
        assert_eq!(filters_condition(&[], &fields()), Ok(None));
    }
}

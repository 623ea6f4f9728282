//! Elasticsearch Query DSL as ES|QL conditions: the `filter` of `POST /_query` (applied to the
//! documents of the `FROM` indices before the rest of the query, as Elasticsearch applies it) and
//! the query of Kibana's alerts search.
//!
//! Supported: `bool` (`filter`, `must`, `must_not`, `should`, `minimum_should_match` 0 or 1),
//! `term`, `terms`, `range` (default date format), `exists`, `ids`, `match_all` and `match_none`.
//! Leaf queries become `KQL()` calls, so that multi-valued and missing fields behave as in
//! Elasticsearch (a term matches any value; `must_not` matches documents without the field).
//! Other queries are refused by name.

use crate::ApiError;
use detect::store::esql_string;
use serde_json::{Map, Value};

/// The queries Saker translates.
const QUERIES: &str = "bool, term, terms, range, exists, ids, match_all and match_none";

/// A field name in KQL, escaped.
fn kql_field(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}') || c.is_whitespace() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A value in KQL: numbers and booleans as they are, everything else as a quoted phrase.
pub fn kql_value(value: &Value, at: &str) -> Result<String, String> {
    match value {
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                if matches!(c, '"' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
            Ok(out)
        }
        other => Err(format!("[{at}] expects a string, number or boolean value, found {other}")),
    }
}

/// `text` as a `KQL("…")` call.
pub fn kql(text: &str) -> String {
    format!("KQL({})", esql_string(text))
}

/// `_id` or `_index`, which are metadata columns rather than fields KQL knows.
fn is_metadata(field: &str) -> bool {
    matches!(field, "_id" | "_index")
}

/// The one `field: value` entry of a leaf query.
fn single_field<'a>(query: &'a Map<String, Value>, kind: &str) -> Result<(&'a String, &'a Value), String> {
    let mut fields = query.iter().filter(|(k, _)| !matches!(k.as_str(), "boost" | "_name"));
    match (fields.next(), fields.next()) {
        (Some(entry), None) => Ok(entry),
        (None, _) => Err(format!("[{kind}] query does not name a field")),
        (Some(_), Some(_)) => Err(format!("[{kind}] query doesn't support multiple fields")),
    }
}

/// The clauses of a `bool` occurrence: an array of queries, or one query.
pub fn clauses(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// The ES|QL condition of a Query DSL object (`"true"` for an empty one).
///
/// # Errors
/// A message naming an unsupported query or option, or a malformed one.
pub fn condition(query: &Value) -> Result<String, String> {
    let Some(obj) = query.as_object() else { return Err("a query must be an object".to_string()) };
    let mut entries = obj.iter();
    let (kind, body) = match (entries.next(), entries.next()) {
        (Some(entry), None) => entry,
        (None, _) => return Ok("true".to_string()),
        (Some((a, _)), Some((b, _))) => {
            return Err(format!("[{a}] malformed query, expected [END_OBJECT] but found [{b}]"));
        }
    };
    match kind.as_str() {
        "match_all" => Ok("true".to_string()),
        "match_none" => Ok("false".to_string()),
        "bool" => bool_condition(body),
        "term" => {
            let obj = body.as_object().ok_or("[term] query malformed, no start_object after query name")?;
            let (field, spec) = single_field(obj, "term")?;
            let value = match spec {
                Value::Object(o) => {
                    if let Some(key) = o.keys().find(|k| !matches!(k.as_str(), "value" | "boost" | "_name")) {
                        return Err(format!("[term] query does not support [{key}]"));
                    }
                    o.get("value").ok_or("[term] query requires a [value]")?
                }
                other => other,
            };
            if is_metadata(field) {
                return Ok(format!("`{field}` == {}", esql_literal(value, "term")?));
            }
            Ok(kql(&format!("{}:{}", kql_field(field), kql_value(value, "term")?)))
        }
        "terms" => {
            let obj = body.as_object().ok_or("[terms] query malformed, no start_object after query name")?;
            let (field, values) = single_field(obj, "terms")?;
            let Value::Array(values) = values else {
                return Err(format!(
                    "[terms] query requires an array of values for [{field}] (terms lookup is not supported)"
                ));
            };
            if values.is_empty() {
                return Ok("false".to_string());
            }
            if is_metadata(field) {
                let list: Result<Vec<String>, String> = values.iter().map(|v| esql_literal(v, "terms")).collect();
                return Ok(format!("`{field}` IN ({})", list?.join(", ")));
            }
            let list: Result<Vec<String>, String> = values.iter().map(|v| kql_value(v, "terms")).collect();
            Ok(kql(&format!("{}:({})", kql_field(field), list?.join(" or "))))
        }
        "ids" => {
            let values = body.get("values").and_then(Value::as_array).ok_or("[ids] query requires [values]")?;
            if values.is_empty() {
                return Ok("false".to_string());
            }
            let list: Result<Vec<String>, String> = values.iter().map(|v| esql_literal(v, "ids")).collect();
            Ok(format!("_id IN ({})", list?.join(", ")))
        }
        "exists" => {
            let field = body.get("field").and_then(Value::as_str).ok_or("[exists] query requires a [field]")?;
            if is_metadata(field) {
                return Ok("true".to_string());
            }
            Ok(kql(&format!("{}:*", kql_field(field))))
        }
        "range" => {
            let obj = body.as_object().ok_or("[range] query malformed, no start_object after query name")?;
            let (field, spec) = single_field(obj, "range")?;
            let spec = spec.as_object().ok_or("[range] query malformed, no start_object after the field name")?;
            let mut parts = Vec::new();
            for (key, value) in spec {
                let op = match key.as_str() {
                    "gte" => ">=",
                    "gt" => ">",
                    "lte" => "<=",
                    "lt" => "<",
                    "boost" | "_name" => continue,
                    "format" if matches!(value.as_str(), Some("strict_date_optional_time" | "date_optional_time")) => {
                        continue;
                    }
                    "format" => {
                        return Err(format!(
                            "[range] query: the format {value} is not supported (only strict_date_optional_time)"
                        ));
                    }
                    other => return Err(format!("[range] query does not support [{other}]")),
                };
                if value.is_null() {
                    continue;
                }
                parts.push(format!("{} {op} {}", kql_field(field), kql_value(value, "range")?));
            }
            if parts.is_empty() {
                return Ok("true".to_string());
            }
            Ok(kql(&parts.join(" and ")))
        }
        other => Err(format!("the [{other}] query is not supported by Saker; the queries are {QUERIES}")),
    }
}

fn esql_literal(value: &Value, at: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(esql_string(s)),
        Value::Number(n) => Ok(esql_string(&n.to_string())),
        other => Err(format!("[{at}] expects string values for _id, found {other}")),
    }
}

fn bool_condition(body: &Value) -> Result<String, String> {
    let obj = body.as_object().ok_or("[bool] query malformed, no start_object after query name")?;
    let mut and = Vec::new();
    let mut should = Vec::new();
    let mut minimum: Option<u64> = None;
    for (key, value) in obj {
        match key.as_str() {
            "filter" | "must" => {
                for c in clauses(value) {
                    and.push(format!("({})", condition(c)?));
                }
            }
            "must_not" => {
                for c in clauses(value) {
                    and.push(format!("NOT ({})", condition(c)?));
                }
            }
            "should" => {
                for c in clauses(value) {
                    should.push(format!("({})", condition(c)?));
                }
            }
            "minimum_should_match" => {
                minimum = match value {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                };
                if !matches!(minimum, Some(0 | 1)) {
                    return Err(format!("[bool] minimum_should_match {value} is not supported (only 0 and 1)"));
                }
            }
            "boost" | "_name" => {}
            other => return Err(format!("[bool] query does not support [{other}]")),
        }
    }
    // Elasticsearch: `should` is optional beside `filter`/`must` unless minimum_should_match says
    // otherwise; alone, one of them must match.
    let required = minimum.unwrap_or(if and.is_empty() { 1 } else { 0 });
    if !should.is_empty() && required >= 1 {
        and.push(format!("({})", should.join(" OR ")));
    }
    if and.is_empty() {
        return Ok("true".to_string());
    }
    Ok(and.join(" AND "))
}

/// `query` with `filter` applied right after its `FROM` command. A query that does not start
/// with `FROM` (e.g. `ROW`) reads no index and is left as it is.
///
/// # Errors
/// `illegal_argument_exception` naming a malformed or unsupported query.
pub fn apply(query: &str, filter: &Value) -> Result<String, ApiError> {
    let condition = condition(filter).map_err(ApiError::illegal_argument)?;
    if condition == "true" {
        return Ok(query.to_string());
    }
    let Ok(ast) = esql::syntax::parse(query) else {
        // the engine reports the parse error with its position
        return Ok(query.to_string());
    };
    let Some(first) = ast.commands.first() else { return Ok(query.to_string()) };
    if !matches!(first.kind, esql::syntax::ast::CommandKind::From(_)) {
        return Ok(query.to_string());
    }
    let end = first.span.end;
    Ok(format!("{} | WHERE {condition}{}", &query[..end], &query[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_filter_follows_from() {
        let q = apply("FROM logs-* METADATA _id | STATS c = COUNT(*)", &json!({"term": {"a": "x"}})).expect("ok");
        assert_eq!(q, r#"FROM logs-* METADATA _id | WHERE KQL("a:\"x\"") | STATS c = COUNT(*)"#);
        assert_eq!(apply("ROW a = 1", &json!({"term": {"a": "x"}})).expect("ok"), "ROW a = 1");
        assert_eq!(apply("FROM x", &json!({"match_all": {}})).expect("ok"), "FROM x");
    }

    #[test]
    fn unsupported_queries_are_named() {
        let e = apply("FROM x", &json!({"wildcard": {"a": "x*"}})).expect_err("refused");
        assert!(format!("{e:?}").contains("[wildcard]"), "{e:?}");
    }
}

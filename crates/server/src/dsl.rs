//! The Query DSL filters an ES|QL request may carry (`POST /_query` `filter`), applied as
//! Elasticsearch applies them: to the documents of the `FROM` indices, before the rest of the
//! query. Saker translates the filter into KQL, whose evaluation follows Lucene's (a term matches
//! any value of a multi-valued field, `exists` means a non-null value, ranges take dates with date
//! math), and inserts `| WHERE KQL("…")` right after the `FROM` command.
//!
//! Supported: `bool` (`must`, `filter`, `should` with `minimum_should_match` 0 or 1, `must_not`),
//! `term`, `terms`, `range` (`gt`, `gte`, `lt`, `lte`; `format` only the default date formats;
//! `time_zone` only UTC), `exists` and `match_all`. Anything else is refused by name.

use crate::ApiError;
use serde_json::{Map, Value};

/// A filter in KQL: `None` matches every document.
type Kql = Option<String>;

/// `filter` as a KQL query (`None` when it matches everything).
///
/// # Errors
/// `parsing_exception` / `illegal_argument_exception` for malformed or unsupported queries.
pub fn to_kql(filter: &Value) -> Result<Kql, ApiError> {
    let Value::Object(o) = filter else {
        return Err(ApiError::parse("[filter] must be an object holding one query"));
    };
    let mut parts = o.iter();
    let (Some((kind, body)), None) = (parts.next(), parts.next()) else {
        return Err(ApiError::parse("a query must hold exactly one query type, e.g. {\"term\": {…}}"));
    };
    match kind.as_str() {
        "match_all" => Ok(None),
        "bool" => bool_query(body),
        "term" => {
            let (field, value) = single_field(kind, body)?;
            let value = match value {
                Value::Object(v) => {
                    if v.get("case_insensitive").and_then(Value::as_bool) == Some(true) {
                        return Err(ApiError::illegal_argument(
                            "[term] with [case_insensitive] in an ES|QL filter is not supported",
                        ));
                    }
                    v.get("value").ok_or_else(|| ApiError::parse("[term] query does not support a missing [value]"))?
                }
                v => v,
            };
            Ok(Some(format!("{}:{}", field_name(field)?, literal(value)?)))
        }
        "terms" => {
            let Value::Object(fields) = body else {
                return Err(ApiError::parse("[terms] query malformed, no start_object after query name"));
            };
            let mut entries = fields.iter().filter(|(k, _)| k.as_str() != "boost");
            let (Some((field, Value::Array(values))), None) = (entries.next(), entries.next()) else {
                return Err(ApiError::parse("[terms] query needs one field with an array of values"));
            };
            if values.is_empty() {
                return Ok(Some("not *".to_string()));
            }
            let list: Vec<String> = values.iter().map(literal).collect::<Result<_, _>>()?;
            Ok(Some(format!("{}:({})", field_name(field)?, list.join(" or "))))
        }
        "exists" => {
            let field = body
                .get("field")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::parse("[exists] must be provided with a [field]"))?;
            Ok(Some(format!("{}:*", field_name(field)?)))
        }
        "range" => range(body),
        other => Err(ApiError::illegal_argument(format!("the [{other}] query in an ES|QL filter is not supported"))),
    }
}

fn single_field<'a>(kind: &str, body: &'a Value) -> Result<(&'a str, &'a Value), ApiError> {
    let Value::Object(o) = body else {
        return Err(ApiError::parse(format!("[{kind}] query malformed, no start_object after query name")));
    };
    let mut entries = o.iter();
    match (entries.next(), entries.next()) {
        (Some((field, value)), None) => Ok((field, value)),
        _ => Err(ApiError::parse(format!("[{kind}] query doesn't support multiple fields"))),
    }
}

/// A field name as KQL reads it (only the characters field names use).
fn field_name(name: &str) -> Result<&str, ApiError> {
    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '@' | '-')) {
        Ok(name)
    } else {
        Err(ApiError::illegal_argument(format!("the field name [{name}] is not supported in an ES|QL filter")))
    }
}

/// A value as a quoted KQL phrase (exact: no wildcards).
fn literal(value: &Value) -> Result<String, ApiError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => {
            return Err(ApiError::parse(format!("a term value must be a string, number or boolean, found {other}")));
        }
    };
    Ok(format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")))
}

fn clauses(body: &Map<String, Value>, key: &str) -> Result<Vec<Kql>, ApiError> {
    match body.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(to_kql).collect(),
        Some(one @ Value::Object(_)) => Ok(vec![to_kql(one)?]),
        Some(_) => Err(ApiError::parse(format!("[bool] [{key}] must be an object or an array of queries"))),
    }
}

fn bool_query(body: &Value) -> Result<Kql, ApiError> {
    let Value::Object(o) = body else {
        return Err(ApiError::parse("[bool] query malformed, no start_object after query name"));
    };
    for key in o.keys() {
        if !matches!(key.as_str(), "must" | "filter" | "should" | "must_not" | "minimum_should_match" | "boost") {
            return Err(ApiError::parse(format!("[bool] query does not support [{key}]")));
        }
    }
    let mut all: Vec<String> = Vec::new();
    for key in ["must", "filter"] {
        for clause in clauses(o, key)? {
            match clause {
                Some(k) => all.push(format!("({k})")),
                None => {}
            }
        }
    }
    let should = clauses(o, "should")?;
    let minimum = match o.get("minimum_should_match") {
        // Elasticsearch: 1 when there is no `must` or `filter` clause, else 0
        None => u64::from(all.is_empty()),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().map_err(|_| {
            ApiError::illegal_argument(format!("[minimum_should_match] [{s}] is not supported in an ES|QL filter"))
        })?,
        Some(other) => return Err(ApiError::parse(format!("[minimum_should_match] must be a number, found {other}"))),
    };
    if !should.is_empty() {
        match minimum {
            0 => {}
            1 => {
                if should.iter().any(Option::is_none) {
                    // one clause matches everything: so does the disjunction
                } else {
                    let any: Vec<String> = should.into_iter().flatten().map(|k| format!("({k})")).collect();
                    all.push(format!("({})", any.join(" or ")));
                }
            }
            n => {
                return Err(ApiError::illegal_argument(format!(
                    "[minimum_should_match] of {n} is not supported in an ES|QL filter"
                )));
            }
        }
    }
    for clause in clauses(o, "must_not")? {
        match clause {
            Some(k) => all.push(format!("not ({k})")),
            None => all.push("not *".to_string()),
        }
    }
    Ok(if all.is_empty() { None } else { Some(all.join(" and ")) })
}

fn range(body: &Value) -> Result<Kql, ApiError> {
    let (field, bounds) = single_field("range", body)?;
    let Value::Object(bounds) = bounds else {
        return Err(ApiError::parse("[range] query malformed, no start_object after the field name"));
    };
    let field = field_name(field)?;
    let mut parts = Vec::new();
    for (key, value) in bounds {
        let op = match key.as_str() {
            "gt" => ">",
            "gte" => ">=",
            "lt" => "<",
            "lte" => "<=",
            "boost" => continue,
            "format" => match value.as_str() {
                Some("strict_date_optional_time" | "date_optional_time" | "strict_date_optional_time_nanos") => {
                    continue;
                }
                _ => {
                    return Err(ApiError::illegal_argument(format!(
                        "[range] [format] {value} is not supported in an ES|QL filter"
                    )));
                }
            },
            "time_zone" => match value.as_str() {
                Some("UTC" | "Z" | "+00:00" | "Etc/UTC") => continue,
                _ => {
                    return Err(ApiError::illegal_argument(format!(
                        "[range] [time_zone] {value} is not supported in an ES|QL filter"
                    )));
                }
            },
            other => return Err(ApiError::parse(format!("[range] query does not support [{other}]"))),
        };
        if value.is_null() {
            continue;
        }
        parts.push(format!("{field} {op} {}", literal(value)?));
    }
    Ok(if parts.is_empty() { Some(format!("{field}:*")) } else { Some(parts.join(" and ")) })
}

/// `query` with `filter` applied right after its `FROM` command. A query that does not start
/// with `FROM` (e.g. `ROW`) reads no index and is left as it is.
///
/// # Errors
/// As [`to_kql`].
pub fn apply(query: &str, filter: &Value) -> Result<String, ApiError> {
    let Some(kql) = to_kql(filter)? else {
        return Ok(query.to_string());
    };
    let Ok(ast) = esql::syntax::parse(query) else {
        // the engine reports the parse error with its position
        return Ok(query.to_string());
    };
    let Some(first) = ast.commands.first() else { return Ok(query.to_string()) };
    if !matches!(first.kind, esql::syntax::ast::CommandKind::From(_)) {
        return Ok(query.to_string());
    }
    let end = first.span.end;
    let escaped = kql.replace('\\', "\\\\").replace('"', "\\\"");
    Ok(format!("{} | WHERE KQL(\"{escaped}\"){}", &query[..end], &query[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kql(v: Value) -> String {
        to_kql(&v).expect("translates").unwrap_or_default()
    }

    #[test]
    fn filters_become_kql() {
        assert_eq!(kql(json!({"term": {"event.outcome": "success"}})), r#"event.outcome:"success""#);
        assert_eq!(kql(json!({"term": {"port": {"value": 22}}})), r#"port:"22""#);
        assert_eq!(kql(json!({"terms": {"host.name": ["a", "b\"c"]}})), r#"host.name:("a" or "b\"c")"#);
        assert_eq!(kql(json!({"exists": {"field": "user.name"}})), "user.name:*");
        assert_eq!(
            kql(json!({"range": {"@timestamp": {"gte": "now-1d/d", "lt": "now"}}})),
            r#"@timestamp >= "now-1d/d" and @timestamp < "now""#
        );
        assert_eq!(
            kql(json!({"bool": {"filter": [{"term": {"a": "x"}}], "must_not": {"exists": {"field": "b"}},
                "should": [{"term": {"c": "1"}}, {"term": {"c": "2"}}], "minimum_should_match": 1}})),
            r#"(a:"x") and ((c:"1") or (c:"2")) and not (b:*)"#
        );
        assert_eq!(to_kql(&json!({"match_all": {}})).expect("ok"), None);
    }

    #[test]
    fn unsupported_queries_are_named() {
        let e = to_kql(&json!({"wildcard": {"a": "x*"}})).expect_err("refused");
        assert!(format!("{e:?}").contains("[wildcard]"), "{e:?}");
        let e = to_kql(&json!({"range": {"t": {"gte": "1", "time_zone": "+02:00"}}})).expect_err("refused");
        assert!(format!("{e:?}").contains("time_zone"), "{e:?}");
    }

    #[test]
    fn the_filter_follows_from() {
        let q = apply("FROM logs-* METADATA _id | STATS c = COUNT(*)", &json!({"term": {"a": "x"}})).expect("ok");
        assert_eq!(q, r#"FROM logs-* METADATA _id | WHERE KQL("a:\"x\"") | STATS c = COUNT(*)"#);
        assert_eq!(apply("ROW a = 1", &json!({"term": {"a": "x"}})).expect("ok"), "ROW a = 1");
    }
}

//! `POST /_query`: ES|QL over the store, with Elasticsearch's request body (`query`, `params`,
//! `columnar`, `locale`), response formats (`format=json|csv|tsv|txt` or the `Accept` header),
//! `drop_null_columns`, and the query's warnings in `Warning` headers.
//!
//! ES|QL: `x-pack/plugin/esql/.../action/RequestXContent.java` (the body),
//! `EsqlResponseListener.java` and `formatter/TextFormat.java` (the formats).

use crate::AppState;
use crate::error::ApiError;
use crate::request::{Body, Params};
use crate::response::{add_warnings, json_response, text_response};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use esql::render::{self, Cell};
use esql::{QueryOptions, QueryOutput};
use serde_json::{Map, Value, json};
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// `POST /_query`.
pub async fn query(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let format = ResponseFormat::from_request(&params, &headers)?;
    let request = EsqlRequest::from_body(body.json_object()?, false)?;
    format.check(&request)?;
    let started = Instant::now();
    let result = esql::execute(state.catalog(), &request.query, &request.options()).await;
    state.metrics().record_query(result.is_ok());
    let output = result?;
    let took = started.elapsed();
    Ok(format.render(&output, request.columnar, took, Map::new(), params.pretty()))
}

/// An ES|QL request body.
#[derive(Debug, Clone, PartialEq)]
pub struct EsqlRequest {
    /// The query text.
    pub query: String,
    /// `?` and `?1` parameters.
    pub positional_params: Vec<esql::Value>,
    /// `?name` parameters.
    pub named_params: Vec<(String, esql::Value)>,
    /// Values column by column instead of row by row (JSON only).
    pub columnar: bool,
    /// The locale, accepted and not used yet (Saker formats as `Locale.ROOT` does).
    pub locale: Option<String>,
    /// Async: how long the submit waits before answering with an id (1 s).
    pub wait_for_completion_timeout: Option<Duration>,
    /// Async: how long results are kept (5 days).
    pub keep_alive: Option<Duration>,
    /// Async: keep the results even when the query finished within the wait.
    pub keep_on_completion: bool,
}

/// Fields of the body accepted and ignored: they change nothing for a single node.
const IGNORED_FIELDS: [&str; 4] = ["profile", "include_ccs_metadata", "include_execution_metadata", "version"];

impl EsqlRequest {
    /// Reads a `_query` (or, with `is_async`, `_query/async`) body.
    ///
    /// # Errors
    /// `x_content_parse_exception` for unknown fields and wrongly typed values,
    /// `action_request_validation_exception` for a missing query, `illegal_argument_exception`
    /// for bad parameters and features Saker does not have (`tables`, Query DSL filters other
    /// than those [`crate::dsl`] translates).
    pub fn from_body(body: Map<String, Value>, is_async: bool) -> Result<EsqlRequest, ApiError> {
        let mut request = EsqlRequest {
            query: String::new(),
            positional_params: Vec::new(),
            named_params: Vec::new(),
            columnar: false,
            locale: None,
            wait_for_completion_timeout: None,
            keep_alive: None,
            keep_on_completion: false,
        };
        let mut has_query = false;
        let mut filter = None;
        for (key, value) in body {
            match key.as_str() {
                "query" => {
                    request.query = string_field(&key, value)?;
                    has_query = true;
                }
                "params" => (request.positional_params, request.named_params) = params(value)?,
                "columnar" => request.columnar = bool_field(&key, value)?,
                "locale" => request.locale = Some(string_field(&key, value)?),
                "filter" => filter = Some(value),
                "tables" => {
                    return Err(ApiError::illegal_argument("the [tables] of an ES|QL request are not supported"));
                }
                "wait_for_completion_timeout" | "keep_alive" if is_async => {
                    let text = string_field(&key, value)?;
                    let duration = crate::request::parse_time_value(&text, &key)?;
                    match key.as_str() {
                        "keep_alive" => request.keep_alive = Some(duration),
                        _ => request.wait_for_completion_timeout = Some(duration),
                    }
                }
                "keep_on_completion" if is_async => request.keep_on_completion = bool_field(&key, value)?,
                k if IGNORED_FIELDS.contains(&k) => {}
                _ => {
                    let name = if is_async { "esql/async_query" } else { "esql/query" };
                    return Err(ApiError::content_parse(format!("[{name}] unknown field [{key}]")));
                }
            }
        }
        if !has_query || request.query.trim().is_empty() {
            return Err(ApiError::validation(&["[query] is required"]));
        }
        if let Some(filter) = filter {
            request.query = crate::dsl::apply(&request.query, &filter)?;
        }
        Ok(request)
    }

    /// The engine's options for this request.
    pub fn options(&self) -> QueryOptions {
        QueryOptions {
            positional_params: self.positional_params.clone(),
            named_params: self.named_params.clone(),
            ..QueryOptions::default()
        }
    }
}

fn string_field(key: &str, value: Value) -> Result<String, ApiError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(ApiError::content_parse(format!("[{key}] expected a string, found [{other}]"))),
    }
}

fn bool_field(key: &str, value: Value) -> Result<bool, ApiError> {
    match value {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
        other => Err(ApiError::content_parse(format!("[{key}] expected a boolean, found [{other}]"))),
    }
}

type ParsedParams = (Vec<esql::Value>, Vec<(String, esql::Value)>);

/// `params`: a list of values (positional) or a list of one-key objects (named), not both.
fn params(value: Value) -> Result<ParsedParams, ApiError> {
    let Value::Array(items) = value else {
        return Err(ApiError::content_parse(format!("[params] expected an array, found [{value}]")));
    };
    let mut positional = Vec::new();
    let mut named: Vec<(String, esql::Value)> = Vec::new();
    for item in items {
        match item {
            Value::Object(map) => {
                if map.len() != 1 {
                    return Err(ApiError::illegal_argument(format!(
                        "Cannot parse more than one key:value pair as parameter, found [{}]",
                        Value::Object(map)
                    )));
                }
                for (name, value) in map {
                    if !valid_param_name(&name) {
                        return Err(ApiError::illegal_argument(format!(
                            "[{name}] is not a valid parameter name, a valid parameter name starts with a letter or \
                             underscore, and contains letters, digits and underscores only"
                        )));
                    }
                    named.push((name.clone(), param_value(&name, value)?));
                }
            }
            other => positional.push(param_value("?", other)?),
        }
    }
    if !positional.is_empty() && !named.is_empty() {
        return Err(ApiError::illegal_argument(
            "Params cannot contain both named and unnamed parameters; got named and unnamed parameters",
        ));
    }
    Ok((positional, named))
}

fn valid_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn param_value(name: &str, value: Value) -> Result<esql::Value, ApiError> {
    Ok(match value {
        Value::Null => esql::Value::Null,
        Value::Bool(b) => esql::Value::Boolean(b),
        Value::String(s) => esql::Value::String(s),
        Value::Number(n) => match n.as_i64() {
            Some(i) => esql::Value::Integer(i),
            None => esql::Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Object(map) => match map.get("value") {
            Some(inner) if map.len() == 1 => param_value(name, inner.clone())?,
            _ => {
                return Err(ApiError::illegal_argument(format!(
                    "parameter [{name}]: identifier and pattern parameters are not supported yet"
                )));
            }
        },
        Value::Array(_) => {
            return Err(ApiError::illegal_argument(format!(
                "parameter [{name}]: multi-valued parameters are not supported yet"
            )));
        }
    })
}

/// The response formats of `_query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"columns":…,"values":…}`.
    Json,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// A fixed-width table.
    Txt,
}

impl FromStr for Format {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<Format, ApiError> {
        match text.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "txt" => Ok(Format::Txt),
            _ => Err(ApiError::illegal_argument(format!(
                "invalid format [{text}], expected one of: json, csv, tsv, txt"
            ))),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Txt => "txt",
        })
    }
}

/// How to write a result: the format and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseFormat {
    /// The format.
    pub format: Format,
    /// The CSV delimiter (`,` unless `delimiter` says otherwise).
    pub delimiter: char,
    /// CSV: whether the header row is written (`header=absent` drops it).
    pub header: bool,
    /// Columns whose values are all null are left out (`drop_null_columns`).
    pub drop_null_columns: bool,
}

impl ResponseFormat {
    /// The format a request asks for: the `format` parameter, else its `Accept` header, else JSON.
    ///
    /// # Errors
    /// `illegal_argument_exception` for an unknown format or a bad `delimiter`.
    pub fn from_request(params: &Params, headers: &HeaderMap) -> Result<ResponseFormat, ApiError> {
        let format = match params.get("format") {
            Some(text) => text.parse()?,
            None => accept_format(headers),
        };
        let delimiter = match params.get("delimiter") {
            None => ',',
            Some(text) => {
                if format != Format::Csv {
                    return Err(ApiError::illegal_argument(format!(
                        "Invalid use of [delimiter] argument: cannot be used in combination with [{format}] format"
                    )));
                }
                let mut chars = text.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !matches!(c, '"' | '\n' | '\r') => c,
                    _ => {
                        return Err(ApiError::illegal_argument(format!(
                            "invalid [delimiter] [{text}]: a single character other than a quote or a line break"
                        )));
                    }
                }
            }
        };
        let header = params.get("header") != Some("absent");
        let drop_null_columns = params.flag("drop_null_columns")?;
        Ok(ResponseFormat { format, delimiter, header, drop_null_columns })
    }

    /// Checks the request's options against the format.
    ///
    /// # Errors
    /// `illegal_argument_exception` for `columnar` with a text format.
    pub fn check(&self, request: &EsqlRequest) -> Result<(), ApiError> {
        if request.columnar && self.format != Format::Json {
            return Err(ApiError::illegal_argument(format!(
                "Invalid use of [columnar] argument: cannot be used in combination with [{}] format",
                self.format
            )));
        }
        Ok(())
    }

    /// The response for `output`: the body in this format, `extra` fields added to a JSON body
    /// (the async `id` and `is_running`), warnings in `Warning` headers.
    pub fn render(
        &self,
        output: &QueryOutput,
        columnar: bool,
        took: Duration,
        extra: Map<String, Value>,
        pretty: bool,
    ) -> Response {
        let kept = if self.drop_null_columns { without_null_columns(output) } else { None };
        let shown = kept.as_ref().unwrap_or(output);
        let mut response = match self.format {
            Format::Json => {
                let mut body = render::to_json(shown);
                if let Value::Object(map) = &mut body {
                    if columnar && let Some(Value::Array(rows)) = map.get("values") {
                        let columns = transpose(rows, shown.columns.len());
                        map.insert("values".into(), Value::Array(columns));
                    }
                    if self.drop_null_columns {
                        let all = render::to_json(&QueryOutput {
                            columns: output.columns.clone(),
                            batches: Vec::new(),
                            warnings: Vec::new(),
                        });
                        map.insert("all_columns".into(), all["columns"].clone());
                    }
                    map.insert("took".into(), json!(took.as_millis() as u64));
                    map.insert("is_partial".into(), json!(false));
                    map.extend(extra);
                }
                json_response(StatusCode::OK, &body, pretty)
            }
            Format::Csv => {
                let text = if self.delimiter == ',' && self.header {
                    render::to_csv(shown)
                } else {
                    to_csv_with(shown, self.delimiter, self.header)
                };
                text_response(StatusCode::OK, "text/csv; charset=utf-8; header=present", text)
            }
            Format::Tsv => text_response(StatusCode::OK, "text/tab-separated-values; charset=utf-8", to_tsv(shown)),
            Format::Txt => text_response(StatusCode::OK, "text/plain; charset=utf-8", render::to_txt(shown)),
        };
        add_warnings(response.headers_mut(), &output.warnings);
        response
    }
}

/// The format an `Accept` header asks for; JSON for anything else (vendor JSON types included).
fn accept_format(headers: &HeaderMap) -> Format {
    let accept = headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    for media in accept.split(',') {
        let mime = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match mime.as_str() {
            "text/csv" => return Format::Csv,
            "text/tab-separated-values" => return Format::Tsv,
            "text/plain" => return Format::Txt,
            _ => {}
        }
    }
    Format::Json
}

/// Rows of values to columns of values (`columnar: true`).
fn transpose(rows: &[Value], width: usize) -> Vec<Value> {
    (0..width)
        .map(|i| Value::Array(rows.iter().map(|row| row.get(i).cloned().unwrap_or(Value::Null)).collect()))
        .collect()
}

/// The output without its all-null columns, or `None` when every column has a value.
fn without_null_columns(output: &QueryOutput) -> Option<QueryOutput> {
    let rows = render::rows(output);
    let keep: Vec<usize> =
        (0..output.columns.len()).filter(|&i| rows.iter().any(|row| row.get(i) != Some(&Cell::Null))).collect();
    if keep.len() == output.columns.len() {
        return None;
    }
    let batches = output.batches.iter().filter_map(|b| b.project(&keep).ok()).collect();
    let columns = keep.iter().filter_map(|&i| output.columns.get(i).cloned()).collect();
    Some(QueryOutput { columns, batches, warnings: output.warnings.clone() })
}

/// CSV with another delimiter, or without the header row (Elasticsearch's `TextFormat.CSV`).
fn to_csv_with(output: &QueryOutput, delimiter: char, header: bool) -> String {
    let mut out = String::new();
    let mut row = |fields: Vec<String>| render::csv_row(&mut out, &fields, delimiter);
    if header {
        row(output.columns.iter().map(|(name, _)| name.clone()).collect());
    }
    for cells in render::rows(output) {
        row(cells.iter().map(|c| if *c == Cell::Null { String::new() } else { c.to_text() }).collect());
    }
    out
}

/// Elasticsearch's `format=tsv`: a header of names, tab-separated fields, `\n` line ends, tabs
/// and line feeds in values escaped as `\t` and `\n`, null as an empty field.
fn to_tsv(output: &QueryOutput) -> String {
    let escape = |text: &str| text.replace('\t', "\\t").replace('\n', "\\n");
    let mut out = String::new();
    let names: Vec<String> = output.columns.iter().map(|(name, _)| escape(name)).collect();
    out.push_str(&names.join("\t"));
    out.push('\n');
    for cells in render::rows(output) {
        let fields: Vec<String> =
            cells.iter().map(|c| if *c == Cell::Null { String::new() } else { escape(&c.to_text()) }).collect();
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn positional_and_named_params() {
        let request =
            EsqlRequest::from_body(body(json!({"query": "ROW a = ?", "params": [1, "x", 2.5, true, null]})), false)
                .expect("valid");
        assert_eq!(
            request.positional_params,
            vec![
                esql::Value::Integer(1),
                esql::Value::String("x".into()),
                esql::Value::Double(2.5),
                esql::Value::Boolean(true),
                esql::Value::Null
            ]
        );
        let request = EsqlRequest::from_body(
            body(json!({"query": "ROW a = ?n", "params": [{"n": 5}, {"s": {"value": "v"}}]})),
            false,
        )
        .expect("valid");
        assert_eq!(
            request.named_params,
            vec![("n".into(), esql::Value::Integer(5)), ("s".into(), esql::Value::String("v".into()))]
        );
    }

    #[test]
    fn bad_bodies() {
        let reason = |value: Value| {
            EsqlRequest::from_body(body(value), false).expect_err("invalid").body()["error"]["reason"].clone()
        };
        assert_eq!(reason(json!({})), "Validation Failed: 1: [query] is required;");
        assert_eq!(reason(json!({"query": "ROW a = 1", "nope": 1})), "[esql/query] unknown field [nope]");
        assert_eq!(
            reason(json!({"query": "ROW a = ?", "params": [1, {"n": 2}]})),
            "Params cannot contain both named and unnamed parameters; got named and unnamed parameters"
        );
        assert!(reason(json!({"query": "x", "params": [{"1n": 2}]})).as_str().is_some_and(|r| r.contains("[1n]")));
        assert_eq!(reason(json!({"query": 3})), "[query] expected a string, found [3]");
        // async fields only on the async endpoint
        assert!(EsqlRequest::from_body(body(json!({"query": "x", "keep_alive": "1m"})), false).is_err());
        let request =
            EsqlRequest::from_body(body(json!({"query": "x", "keep_alive": "1m", "keep_on_completion": true})), true)
                .expect("valid");
        assert_eq!(request.keep_alive, Some(Duration::from_secs(60)));
        assert!(request.keep_on_completion);
    }

    #[test]
    fn formats_from_params_and_accept() {
        let params =
            |pairs: &[(&str, &str)]| Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let mut headers = HeaderMap::new();
        let format = |p: &Params, h: &HeaderMap| ResponseFormat::from_request(p, h).map(|f| f.format).ok();
        assert_eq!(format(&params(&[]), &headers), Some(Format::Json));
        assert_eq!(format(&params(&[("format", "csv")]), &headers), Some(Format::Csv));
        assert_eq!(format(&params(&[("format", "TXT")]), &headers), Some(Format::Txt));
        assert_eq!(format(&params(&[("format", "yaml")]), &headers), None);
        headers.insert(axum::http::header::ACCEPT, "text/tab-separated-values".parse().expect("header"));
        assert_eq!(format(&params(&[]), &headers), Some(Format::Tsv));
        assert_eq!(format(&params(&[("format", "json")]), &headers), Some(Format::Json));
        assert_eq!(format(&params(&[("delimiter", ";")]), &headers), None);
        let semicolon = ResponseFormat::from_request(&params(&[("format", "csv"), ("delimiter", ";")]), &headers);
        assert_eq!(semicolon.map(|f| f.delimiter).ok(), Some(';'));
    }
}

//! [`ApiError`], every failure a request can end in, and the one place that maps each to its HTTP
//! status and Elasticsearch's error body.
//!
//! Elasticsearch writes an error as
//! `{"error":{"root_cause":[{"type":…,"reason":…}],"type":…,"reason":…},"status":…}`; routing
//! failures (no handler, wrong method) use a flat `{"error":"…","status":…}` instead.

use crate::response::json_response;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use esql::QueryError;
use serde_json::{Map, Value, json};
use store::StoreError;

/// Why a request failed, in Elasticsearch's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// An Elasticsearch exception: its type (`parsing_exception`), reason and status.
    Exception {
        /// The HTTP status.
        status: StatusCode,
        /// Elasticsearch's error type.
        es_type: String,
        /// The message.
        reason: String,
        /// Extra fields of the error object (`index`, `resource.id`, …).
        extra: Map<String, Value>,
    },
    /// No route matches the path (Elasticsearch answers 400, not 404: the path is not a resource
    /// that is missing but a request it has no handler for).
    NoHandler {
        /// The request's method.
        method: String,
        /// The request's path and query.
        uri: String,
    },
    /// The route exists for other methods.
    MethodNotAllowed {
        /// The request's method.
        method: String,
        /// The request's path and query.
        uri: String,
        /// The methods the route accepts.
        allowed: Vec<String>,
    },
}

impl ApiError {
    /// An exception with no extra fields.
    pub fn new(status: StatusCode, es_type: &str, reason: impl Into<String>) -> ApiError {
        ApiError::Exception { status, es_type: es_type.to_string(), reason: reason.into(), extra: Map::new() }
    }

    /// `illegal_argument_exception` (400): a parameter or body field with a bad value.
    pub fn illegal_argument(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "illegal_argument_exception", reason)
    }

    /// `parse_exception` (400): a parameter that does not parse, or a missing body.
    pub fn parse(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "parse_exception", reason)
    }

    /// `x_content_parse_exception` (400): a body that is not the JSON the endpoint expects.
    pub fn content_parse(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "x_content_parse_exception", reason)
    }

    /// `action_request_validation_exception` (400), with Elasticsearch's numbered message.
    pub fn validation(problems: &[&str]) -> ApiError {
        let mut reason = "Validation Failed: ".to_string();
        for (i, problem) in problems.iter().enumerate() {
            reason.push_str(&format!("{}: {problem};", i + 1));
        }
        ApiError::new(StatusCode::BAD_REQUEST, "action_request_validation_exception", reason)
    }

    /// `index_not_found_exception` (404) for the index (or expression) `name`.
    pub fn index_not_found(name: &str) -> ApiError {
        let mut extra = Map::new();
        extra.insert("resource.type".into(), json!("index_or_alias"));
        extra.insert("resource.id".into(), json!(name));
        extra.insert("index_uuid".into(), json!("_na_"));
        extra.insert("index".into(), json!(name));
        ApiError::Exception {
            status: StatusCode::NOT_FOUND,
            es_type: "index_not_found_exception".into(),
            reason: format!("no such index [{name}]"),
            extra,
        }
    }

    /// `resource_not_found_exception` (404), e.g. an unknown async query id.
    pub fn resource_not_found(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "resource_not_found_exception", reason)
    }

    /// The request body is larger than the server accepts (413).
    ///
    /// Deviation: Elasticsearch's HTTP layer answers 413 with an empty body; Saker sends the
    /// usual error object so that clients can show why.
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "content_too_long_exception",
            format!("request body is larger than the limit of [{limit}] bytes"),
        )
    }

    /// A bug in Saker (500), rendered so that clients and support can tell it apart.
    pub fn internal(message: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            format!("internal error: {message}; please report this"),
        )
    }

    /// Adds a field to the error object.
    pub fn with(mut self, key: &str, value: Value) -> ApiError {
        if let ApiError::Exception { extra, .. } = &mut self {
            extra.insert(key.to_string(), value);
        }
        self
    }

    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Exception { status, .. } => *status,
            ApiError::NoHandler { .. } => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// Elasticsearch's error body.
    pub fn body(&self) -> Value {
        match self {
            ApiError::Exception { status, es_type, reason, extra } => {
                let mut cause = Map::new();
                cause.insert("type".into(), json!(es_type));
                cause.insert("reason".into(), json!(reason));
                cause.extend(extra.clone());
                let mut error = cause.clone();
                error.insert("root_cause".into(), Value::Array(vec![Value::Object(cause)]));
                json!({ "error": error, "status": status.as_u16() })
            }
            ApiError::NoHandler { method, uri } => json!({
                "error": format!("no handler found for uri [{uri}] and method [{method}]"),
                "status": 400,
            }),
            ApiError::MethodNotAllowed { method, uri, allowed } => json!({
                "error": format!(
                    "Incorrect HTTP method for uri [{uri}] and method [{method}], allowed: [{}]",
                    allowed.join(", ")
                ),
                "status": 405,
            }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status() == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(status = self.status().as_u16(), body = %self.body(), "request failed");
        }
        json_response(self.status(), &self.body(), false)
    }
}

/// ES|QL errors: `parsing_exception` / `verification_exception` with every problem's position,
/// run-time exceptions with their own type, bugs as 500.
impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> ApiError {
        match error {
            QueryError::Invalid { query, diagnostics } => {
                let kind = diagnostics.first().map(|d| d.kind).unwrap_or(esql::syntax::ErrorKind::Verification);
                ApiError::new(StatusCode::BAD_REQUEST, kind.es_type(), invalid_query_reason(kind, &diagnostics, &query))
            }
            QueryError::Execution { es_type, message } => {
                let status = match es_type.as_str() {
                    "circuit_breaking_exception" => StatusCode::TOO_MANY_REQUESTS,
                    _ => StatusCode::BAD_REQUEST,
                };
                ApiError::new(status, &es_type, message)
            }
            QueryError::Internal(message) => ApiError::internal(message),
        }
    }
}

/// The reason Elasticsearch gives for an invalid query.
///
/// ES|QL: a `ParsingException` is one problem, `line L:C: message`; a `VerificationException`
/// lists every problem after `Found N problem(s)` (`Failure.failMessage` in
/// `x-pack/plugin/esql-core/.../common/Failure.java`).
fn invalid_query_reason(
    kind: esql::syntax::ErrorKind,
    diagnostics: &[esql::syntax::Diagnostic],
    query: &str,
) -> String {
    match kind {
        esql::syntax::ErrorKind::Parsing => {
            diagnostics.first().map(|d| d.to_elastic_string(query)).unwrap_or_else(|| "invalid query".into())
        }
        esql::syntax::ErrorKind::Verification => {
            let n = diagnostics.len();
            let mut reason = format!("Found {n} problem{}", if n == 1 { "" } else { "s" });
            for d in diagnostics {
                reason.push('\n');
                reason.push_str(&d.to_elastic_string(query));
            }
            reason
        }
    }
}

/// Failures of the store as a whole are the server's (500).
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Internal(message) => ApiError::internal(message),
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store_exception", other.to_string()),
        }
    }
}

/// An operation the store does not offer yet is 501; a store failure is 500.
impl From<crate::admin::AdminError> for ApiError {
    fn from(error: crate::admin::AdminError) -> ApiError {
        match error {
            crate::admin::AdminError::Unsupported(_) => {
                ApiError::new(StatusCode::NOT_IMPLEMENTED, "unsupported_operation_exception", error.to_string())
            }
            crate::admin::AdminError::Store(e) => ApiError::from(e),
        }
    }
}

/// A refused document (single-document APIs answer with the item's error and status).
impl From<&store::DocumentError> for ApiError {
    fn from(error: &store::DocumentError) -> ApiError {
        let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::new(status, error.kind, error.reason.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esql::syntax::{Diagnostic, Span};

    #[test]
    fn exception_body_has_root_cause_and_extras() {
        let body = ApiError::index_not_found("logs").body();
        assert_eq!(body["status"], 404);
        assert_eq!(body["error"]["type"], "index_not_found_exception");
        assert_eq!(body["error"]["reason"], "no such index [logs]");
        assert_eq!(body["error"]["root_cause"][0]["type"], "index_not_found_exception");
        assert_eq!(body["error"]["root_cause"][0]["resource.id"], "logs");
        assert_eq!(body["error"]["index"], "logs");
    }

    #[test]
    fn verification_errors_count_their_problems() {
        let query = "FROM x\n| KEEP a, b";
        let d = |start, message: &str| Diagnostic::verification(Span::new(start, start + 1), message);
        let one = ApiError::from(QueryError::Invalid { query: query.into(), diagnostics: vec![d(14, "Unknown [a]")] });
        assert_eq!(one.body()["error"]["reason"], "Found 1 problem\nline 2:8: Unknown [a]");
        let two = ApiError::from(QueryError::Invalid {
            query: query.into(),
            diagnostics: vec![d(14, "Unknown [a]"), d(17, "Unknown [b]")],
        });
        assert_eq!(two.body()["error"]["reason"], "Found 2 problems\nline 2:8: Unknown [a]\nline 2:11: Unknown [b]");
        assert_eq!(two.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn parsing_errors_are_one_problem() {
        let error = ApiError::from(QueryError::Invalid {
            query: "FROM".into(),
            diagnostics: vec![Diagnostic::parsing(Span::new(4, 4), "mismatched input '<EOF>'")],
        });
        assert_eq!(error.body()["error"]["type"], "parsing_exception");
        assert_eq!(error.body()["error"]["reason"], "line 1:5: mismatched input '<EOF>'");
    }

    #[test]
    fn routing_errors_are_flat() {
        let body = ApiError::NoHandler { method: "GET".into(), uri: "/_nope".into() }.body();
        assert_eq!(body, json!({"error": "no handler found for uri [/_nope] and method [GET]", "status": 400}));
        let body =
            ApiError::MethodNotAllowed { method: "GET".into(), uri: "/_query".into(), allowed: vec!["POST".into()] }
                .body();
        assert_eq!(body["error"], "Incorrect HTTP method for uri [/_query] and method [GET], allowed: [POST]");
    }
}

//! Kibana's detection engine API, served beside the Elasticsearch API: detection rules
//! ([`rules`]: create, read, update, patch, delete, `_find`, `_import`, `_bulk_action`) over the
//! [`detect::registry::RuleRegistry`] that `saker serve` runs, and alerts ([`alerts`]:
//! `signals/search`, `signals/status`) in `.alerts-security.alerts-default`.
//!
//! Responses and errors have Kibana's shapes: its HTTP layer answers malformed requests with
//! `{"statusCode":400,"error":"Bad Request","message":…}` ([`KibanaError::Core`]), the security
//! solution's routes with `{"message":…,"status_code":…}` ([`KibanaError::Siem`]). As in Kibana,
//! every request other than `GET` needs a `kbn-xsrf` (or `kbn-version`) header ([`xsrf`]).

pub mod alerts;
pub mod multipart;
pub mod rules;

use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::request::Body;
use crate::response::json_response;
use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

/// The rules endpoint.
pub const RULES_URL: &str = "/api/detection_engine/rules";
/// `_find`.
pub const RULES_FIND_URL: &str = "/api/detection_engine/rules/_find";
/// `_import`.
pub const RULES_IMPORT_URL: &str = "/api/detection_engine/rules/_import";
/// `_bulk_action`.
pub const RULES_BULK_ACTION_URL: &str = "/api/detection_engine/rules/_bulk_action";
/// Alerts search.
pub const SIGNALS_SEARCH_URL: &str = "/api/detection_engine/signals/search";
/// Alerts status.
pub const SIGNALS_STATUS_URL: &str = "/api/detection_engine/signals/status";

/// The user a request acts as when the server runs without authentication (the name
/// Elasticsearch gives anonymous access).
pub const ANONYMOUS: &str = "_anonymous";

/// The routes of the detection engine API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            RULES_URL,
            get(rules::read).post(rules::create).put(rules::update).patch(rules::patch).delete(rules::delete),
        )
        .route(RULES_FIND_URL, get(rules::find))
        .route(RULES_IMPORT_URL, post(rules::import))
        .route(RULES_BULK_ACTION_URL, post(rules::bulk_action))
        .route(SIGNALS_SEARCH_URL, post(alerts::search))
        .route(SIGNALS_STATUS_URL, post(alerts::set_status))
        .route_layer(axum::middleware::from_fn(xsrf))
}

/// Middleware: Kibana's cross-site request forgery check. A request other than `GET`, `HEAD` or
/// `OPTIONS` needs a `kbn-xsrf` or `kbn-version` header (any value), else 400.
pub async fn xsrf(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let headers = request.headers();
    if !safe && !headers.contains_key("kbn-xsrf") && !headers.contains_key("kbn-version") {
        return KibanaError::core(StatusCode::BAD_REQUEST, "Request must contain a kbn-xsrf header.").into_response();
    }
    next.run(request).await
}

/// A failed request, in one of Kibana's two error shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum KibanaError {
    /// Kibana's HTTP layer (request validation, xsrf, body parsing):
    /// `{"statusCode":…,"error":"<reason phrase>","message":…}`.
    Core {
        /// The status.
        status: StatusCode,
        /// The message.
        message: String,
    },
    /// The security solution's routes: `{"message":…,"status_code":…}`; the message is a string,
    /// or a list of strings for validation errors, as Kibana sends them.
    Siem {
        /// The status.
        status: StatusCode,
        /// The message.
        message: Value,
    },
}

impl KibanaError {
    /// A core error.
    pub fn core(status: StatusCode, message: impl Into<String>) -> KibanaError {
        KibanaError::Core { status, message: message.into() }
    }

    /// A security solution error with a text message.
    pub fn siem(status: StatusCode, message: impl Into<String>) -> KibanaError {
        KibanaError::Siem { status, message: Value::String(message.into()) }
    }

    /// A 400 of the request body's validation (`[request body]: …`).
    pub fn body(message: impl std::fmt::Display) -> KibanaError {
        KibanaError::core(StatusCode::BAD_REQUEST, format!("[request body]: {message}"))
    }

    /// A 400 of the query string's validation (`[request query]: …`).
    pub fn query(message: impl std::fmt::Display) -> KibanaError {
        KibanaError::core(StatusCode::BAD_REQUEST, format!("[request query]: {message}"))
    }

    /// A security solution 400 whose message is a list, as Kibana's additional validations send
    /// it.
    pub fn validation(messages: &[&str]) -> KibanaError {
        KibanaError::Siem { status: StatusCode::BAD_REQUEST, message: json!(messages) }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        match self {
            KibanaError::Core { status, .. } | KibanaError::Siem { status, .. } => *status,
        }
    }

    /// The body.
    pub fn to_json(&self) -> Value {
        match self {
            KibanaError::Core { status, message } => json!({
                "statusCode": status.as_u16(),
                "error": status.canonical_reason().unwrap_or("Error"),
                "message": message,
            }),
            KibanaError::Siem { status, message } => json!({"message": message, "status_code": status.as_u16()}),
        }
    }
}

impl IntoResponse for KibanaError {
    fn into_response(self) -> Response {
        json_response(self.status(), &self.to_json(), false)
    }
}

impl From<ApiError> for KibanaError {
    /// Errors of the shared request readers (body size, gzip) in Kibana's core shape.
    fn from(error: ApiError) -> KibanaError {
        let message = match &error {
            ApiError::Exception { reason, .. } => reason.clone(),
            other => other.body().to_string(),
        };
        KibanaError::core(error.status(), message)
    }
}

/// The name a change is recorded under: the authenticated user, else [`ANONYMOUS`].
pub fn user_name(principal: Option<&Principal>) -> String {
    principal.map_or_else(|| ANONYMOUS.to_string(), |p| p.username.clone())
}

/// The request body as a JSON object, with the errors Kibana's HTTP layer gives.
///
/// # Errors
/// 400 for an empty body or one that is not a JSON object; the body reader's errors (413).
pub fn json_object(body: Result<Body, ApiError>) -> Result<Map<String, Value>, KibanaError> {
    let body = body?;
    if body.is_empty() {
        return Err(KibanaError::body("expected a plain object value, but found [null] instead."));
    }
    match serde_json::from_slice::<Value>(&body.0) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(KibanaError::body(format!(
            "expected a plain object value, but found [{}] instead.",
            match other {
                Value::Array(_) => "Array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                _ => "null",
            }
        ))),
        Err(e) => Err(KibanaError::core(StatusCode::BAD_REQUEST, format!("Invalid request payload JSON format: {e}"))),
    }
}

/// A random version-4 UUID, as Kibana gives new rules.
///
/// # Errors
/// 500 when the system has no random numbers.
pub fn uuid_v4() -> Result<String, KibanaError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| {
        KibanaError::siem(StatusCode::INTERNAL_SERVER_ERROR, format!("no random numbers from the system: {e}"))
    })?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]))
}

/// A JSON 200 response.
pub fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_kibanas_shapes() {
        let core = KibanaError::core(StatusCode::BAD_REQUEST, "Request must contain a kbn-xsrf header.");
        assert_eq!(
            core.to_json(),
            json!({"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."})
        );
        let siem = KibanaError::siem(StatusCode::NOT_FOUND, "rule_id: \"x\" not found");
        assert_eq!(siem.to_json(), json!({"message": "rule_id: \"x\" not found", "status_code": 404}));
        let list = KibanaError::validation(&["either \"id\" or \"rule_id\" must be set"]);
        assert_eq!(list.to_json()["message"], json!(["either \"id\" or \"rule_id\" must be set"]));
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid_v4().expect("uuid");
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_ne!(u, uuid_v4().expect("uuid"));
    }
}

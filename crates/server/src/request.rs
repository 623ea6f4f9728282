//! Reading requests: the body (size-limited, gzip-decoded when `Content-Encoding: gzip`), the query
//! string's parameters with Elasticsearch's boolean and time-value conventions, and JSON bodies
//! with Elasticsearch's parse errors.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Read;
use std::time::Duration;

/// The request body, read whole. Larger than the configured limit → 413.
#[derive(Debug, Clone)]
pub struct Body(pub Bytes);

/// The body limit of this server, put in the request's extensions by the router.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Body, ApiError> {
        let limit = request.extensions().get::<BodyLimit>().map_or(usize::MAX, |l| l.0);
        let gzip = request
            .headers()
            .get(axum::http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(limit)
            } else {
                ApiError::parse(format!("failed to read the request body: {rejection}"))
            }
        })?;
        if !gzip {
            return Ok(Body(bytes));
        }
        let mut decoded = Vec::new();
        let mut reader = flate2::read::MultiGzDecoder::new(bytes.as_ref()).take(limit as u64 + 1);
        reader.read_to_end(&mut decoded).map_err(|e| ApiError::parse(format!("invalid gzip body: {e}")))?;
        if decoded.len() > limit {
            return Err(ApiError::too_large(limit));
        }
        Ok(Body(Bytes::from(decoded)))
    }
}

impl Body {
    /// The body as a JSON object, or Elasticsearch's errors for a missing or malformed one.
    ///
    /// # Errors
    /// `parse_exception` when the body is empty, `x_content_parse_exception` when it is not a
    /// JSON object.
    pub fn json_object(&self) -> Result<Map<String, Value>, ApiError> {
        if self.0.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::parse("request body is required"));
        }
        match serde_json::from_slice::<Value>(&self.0) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(ApiError::content_parse("[1:1] the request body must be a JSON object")),
            Err(e) => {
                // serde_json's message ends with the position, which Elasticsearch puts first
                let message = e.to_string();
                let message = message.split(" at line ").next().unwrap_or(&message).to_string();
                Err(ApiError::content_parse(format!("[{}:{}] {message}", e.line(), e.column())))
            }
        }
    }

    /// True when the body is empty (or only whitespace).
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(u8::is_ascii_whitespace)
    }
}

/// The query string's parameters.
#[derive(Debug, Clone, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Params, ApiError> {
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::parse(format!("invalid query string: {e}")))?;
        Ok(Params(pairs.0.into_iter().collect()))
    }
}

impl Params {
    /// The parameter's value, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A boolean parameter: present with no value or `true` is true, `false` is false.
    ///
    /// # Errors
    /// `illegal_argument_exception` for any other value, as Elasticsearch's `paramAsBoolean`.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("" | "true") => Ok(true),
            Some(other) => Err(ApiError::illegal_argument(format!(
                "Failed to parse value [{other}] only [true] or [false] are allowed."
            ))),
        }
    }

    /// `?pretty`, for JSON responses.
    pub fn pretty(&self) -> bool {
        self.flag("pretty").unwrap_or(false)
    }

    /// A time-value parameter (`30s`, `500ms`, `5d`).
    ///
    /// # Errors
    /// `parse_exception` when it does not parse.
    pub fn time(&self, name: &str) -> Result<Option<Duration>, ApiError> {
        self.get(name).map(|value| parse_time_value(value, name)).transpose()
    }
}

/// Parses an Elasticsearch time value: an integer or decimal number and one of the units `nanos`,
/// `micros`, `ms`, `s`, `m`, `h`, `d` (`TimeValue.parseTimeValue`). `-1` means forever.
///
/// # Errors
/// `parse_exception` naming the setting, as Elasticsearch words it.
pub fn parse_time_value(value: &str, setting: &str) -> Result<Duration, ApiError> {
    let text = value.trim();
    if text == "-1" {
        return Ok(Duration::MAX);
    }
    let error = |why: &str| {
        ApiError::parse(format!("failed to parse setting [{setting}] with value [{value}] as a time value: {why}"))
    };
    let units: [(&str, f64); 7] =
        [("nanos", 1e-9), ("micros", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86400.0)];
    let lower = text.to_ascii_lowercase();
    let Some((number, seconds)) = units.iter().find_map(|(unit, secs)| {
        let number = lower.strip_suffix(unit)?;
        // `ms` also ends with `s`, `nanos` too: the number must not end with a letter
        (!number.ends_with(|c: char| c.is_ascii_alphabetic())).then_some((number, *secs))
    }) else {
        return Err(error("unit is missing or unrecognized"));
    };
    let amount: f64 = number.trim().parse().map_err(|_| error("the number does not parse"))?;
    if amount < 0.0 || !amount.is_finite() {
        return Err(error("negative values other than -1 are not allowed"));
    }
    Duration::try_from_secs_f64(amount * seconds).map_err(|_| error("the value is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_values() {
        assert_eq!(parse_time_value("30s", "t").ok(), Some(Duration::from_secs(30)));
        assert_eq!(parse_time_value("500ms", "t").ok(), Some(Duration::from_millis(500)));
        assert_eq!(parse_time_value("5d", "t").ok(), Some(Duration::from_secs(5 * 86400)));
        assert_eq!(parse_time_value("2m", "t").ok(), Some(Duration::from_secs(120)));
        assert_eq!(parse_time_value("1.5h", "t").ok(), Some(Duration::from_secs(5400)));
        assert_eq!(parse_time_value("10nanos", "t").ok(), Some(Duration::from_nanos(10)));
        assert_eq!(parse_time_value("-1", "t").ok(), Some(Duration::MAX));
        let error = parse_time_value("10", "keep_alive").expect_err("no unit");
        assert_eq!(
            error.body()["error"]["reason"],
            "failed to parse setting [keep_alive] with value [10] as a time value: unit is missing or unrecognized"
        );
        assert!(parse_time_value("xs", "t").is_err());
        assert!(parse_time_value("-2s", "t").is_err());
    }
}

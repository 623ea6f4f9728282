//! Writing responses as Elasticsearch does: JSON bodies (`?pretty`), `Warning` headers, the
//! `X-Elastic-Product` header on every response, Elasticsearch's body for a wrong method, and one
//! log line per request.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::time::Instant;

/// The Elasticsearch version Saker answers as. Clients check the major version: the official
/// clients 9.x ask for `compatible-with=9`, Beats and Elastic Agent for their own version or older.
pub const ES_VERSION: &str = "9.1.0";

/// The build hash in `GET /` and in `Warning` headers. Elasticsearch's warning format accepts
/// `unknown` where a git hash would be, and Saker has no Elasticsearch build to name.
pub const BUILD_HASH: &str = "unknown";

/// The header the official clients (8.0 and later) require on every successful response.
pub const PRODUCT_HEADER: HeaderName = HeaderName::from_static("x-elastic-product");

/// A JSON response, pretty-printed when the request asked for `?pretty`.
pub fn json_response(status: StatusCode, body: &Value, pretty: bool) -> Response {
    let text = if pretty {
        let mut text = serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string());
        text.push('\n');
        text
    } else {
        body.to_string()
    };
    text_response(status, "application/json", text)
}

/// A response with a text body of the given content type.
pub fn text_response(status: StatusCode, content_type: &'static str, text: String) -> Response {
    let mut response = (status, text).into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Adds one `Warning` header per message, as Elasticsearch's `HeaderWarning.formatWarning` writes
/// them: `299 Elasticsearch-<version>-<hash> "<text>"`.
pub fn add_warnings(headers: &mut HeaderMap, warnings: &[String]) {
    for warning in warnings {
        match HeaderValue::from_bytes(&warning_header(warning)) {
            Ok(value) => {
                headers.append(axum::http::header::WARNING, value);
            }
            Err(e) => tracing::warn!(%warning, error = %e, "a warning cannot be sent as a header"),
        }
    }
}

/// The bytes of a `Warning` header value for `text`.
///
/// Elasticsearch: `server/src/main/java/org/elasticsearch/common/logging/HeaderWarning.java`.
/// Backslashes and quotes are escaped; characters outside `\t`, space, `!`, `#`–`$`, `&`–`~` and
/// U+0080–U+00FF are percent-encoded as UTF-8 (so `%` itself is); U+0080–U+00FF go out as one
/// byte each, as Netty writes a Java string into a header (ISO-8859-1).
pub fn warning_header(text: &str) -> Vec<u8> {
    let mut out = format!("299 Elasticsearch-{ES_VERSION}-{BUILD_HASH} \"").into_bytes();
    let mut utf8 = [0u8; 4];
    for c in text.chars() {
        let code = c as u32;
        match c {
            '\\' | '"' => {
                out.push(b'\\');
                out.push(code as u8);
            }
            '\t' | ' ' | '!' | '#' | '$' | '&'..='~' => out.push(code as u8),
            _ if (0x80..=0xFF).contains(&code) => out.push(code as u8),
            _ => {
                for byte in c.encode_utf8(&mut utf8).bytes() {
                    out.extend(format!("%{byte:02X}").bytes());
                }
            }
        }
    }
    out.push(b'"');
    out
}

/// Middleware: the `X-Elastic-Product` header on every response, Elasticsearch's body for a
/// method the route does not accept, and a log line per request.
pub async fn elastic_shape(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let mut response = next.run(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED && !response.headers().contains_key(CONTENT_TYPE) {
        let allowed = allowed_methods(response.headers());
        let uri = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| uri.path().to_string());
        let mut rewritten = ApiError::MethodNotAllowed { method: method.to_string(), uri, allowed }.into_response();
        if let Some(allow) = response.headers().get(ALLOW) {
            rewritten.headers_mut().insert(ALLOW, allow.clone());
        }
        response = rewritten;
    }
    response.headers_mut().insert(PRODUCT_HEADER, HeaderValue::from_static("Elasticsearch"));
    let status = response.status().as_u16();
    let millis = started.elapsed().as_millis() as u64;
    if status >= 500 {
        tracing::warn!(%method, path = uri.path(), status, millis, "request");
    } else {
        tracing::debug!(%method, path = uri.path(), status, millis, "request");
    }
    response
}

fn allowed_methods(headers: &HeaderMap) -> Vec<String> {
    let Some(allow) = headers.get(ALLOW).and_then(|v| v.to_str().ok()) else {
        return Vec::new();
    };
    allow.split(',').map(str::trim).filter(|m| !m.is_empty() && *m != "HEAD").map(str::to_string).collect()
}

/// A body-less response (for `HEAD`).
pub fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_text(text: &str) -> String {
        String::from_utf8_lossy(&warning_header(text)).into_owned()
    }

    #[test]
    fn warning_headers_escape_and_encode_like_elasticsearch() {
        assert_eq!(
            header_text("Line 1:10: evaluation of [x] failed"),
            "299 Elasticsearch-9.1.0-unknown \"Line 1:10: evaluation of [x] failed\""
        );
        assert_eq!(header_text(r#"a "b" \c"#), r#"299 Elasticsearch-9.1.0-unknown "a \"b\" \\c""#);
        assert_eq!(header_text("100%\n€"), "299 Elasticsearch-9.1.0-unknown \"100%25%0A%E2%82%AC\"");
        // Latin-1 characters go out as single bytes
        assert_eq!(warning_header("é").get(33..), Some(&[0xE9, b'"'][..]));
    }
}

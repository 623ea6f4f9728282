//! `POST /_query/async`, `GET /_query/async/{id}` and `DELETE /_query/async/{id}`: ES|QL queries
//! that may outlive the request, kept in memory ([`AsyncQueries`]) until their `keep_alive` ends.
//!
//! The submit waits up to `wait_for_completion_timeout` (1 s). A query done by then is answered
//! as `_query` answers it, plus `"is_running": false`; it is kept, with an `id`, only with
//! `keep_on_completion`. A query still running is kept and answered `{"id", "is_running": true}`.
//! Both also go in the `X-Elasticsearch-Async-Id` / `X-Elasticsearch-Async-Is-Running` headers,
//! which is where clients find them for text formats.
//!
//! Deviation: results live in memory and are lost on restart; at most
//! [`crate::ServerConfig::max_async_queries`] are kept at once (more are refused with 429).

use crate::AppState;
use crate::error::ApiError;
use crate::query::{EsqlRequest, ResponseFormat};
use crate::request::{Body, Params};
use crate::response::json_response;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use esql::QueryOutput;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long the submit waits by default.
const DEFAULT_WAIT: Duration = Duration::from_secs(1);
/// How long results are kept by default (Elasticsearch: 5 days).
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(5 * 24 * 3600);

const ASYNC_ID: HeaderName = HeaderName::from_static("x-elasticsearch-async-id");
const ASYNC_RUNNING: HeaderName = HeaderName::from_static("x-elasticsearch-async-is-running");

/// A finished query: its output and how long it took, or its error.
type Outcome = Arc<Result<(QueryOutput, Duration), ApiError>>;

/// The async queries of a server: running ones and kept results, by id.
#[derive(Debug)]
pub struct AsyncQueries {
    entries: Mutex<HashMap<String, Arc<Entry>>>,
    max: usize,
    counter: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    outcome: watch::Receiver<Option<Outcome>>,
    task: tokio::task::AbortHandle,
    columnar: bool,
    expires: Mutex<Instant>,
}

impl Entry {
    fn current(&self) -> Option<Outcome> {
        self.outcome.borrow().clone()
    }

    /// Waits up to `wait` for the outcome.
    async fn wait(&self, wait: Duration) -> Option<Outcome> {
        if wait.is_zero() {
            return self.current();
        }
        let mut outcome = self.outcome.clone();
        match tokio::time::timeout(wait, outcome.wait_for(Option::is_some)).await {
            Ok(Ok(done)) => done.clone(),
            _ => self.current(),
        }
    }

    fn keep_alive(&self, keep_alive: Duration) {
        *lock(&self.expires) = deadline(keep_alive);
    }
}

fn deadline(keep_alive: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(keep_alive).unwrap_or(now + DEFAULT_KEEP_ALIVE * 1000)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AsyncQueries {
    /// An empty registry keeping at most `max` queries.
    pub fn new(max: usize) -> AsyncQueries {
        AsyncQueries { entries: Mutex::new(HashMap::new()), max, counter: AtomicU64::new(0) }
    }

    /// How many queries are kept now (expired ones are dropped first).
    pub fn len(&self) -> usize {
        let mut entries = lock(&self.entries);
        sweep(&mut entries);
        entries.len()
    }

    /// True when no query is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, id: &str) -> Option<Arc<Entry>> {
        let mut entries = lock(&self.entries);
        sweep(&mut entries);
        entries.get(id).cloned()
    }

    fn has_room(&self) -> bool {
        self.len() < self.max
    }

    fn insert(&self, entry: Entry) -> String {
        let id = self.new_id();
        lock(&self.entries).insert(id.clone(), Arc::new(entry));
        id
    }

    fn remove(&self, id: &str) -> Option<Arc<Entry>> {
        lock(&self.entries).remove(id)
    }

    /// A new id: 24 bytes from per-process random hash keys and a counter, base64url-encoded.
    fn new_id(&self) -> String {
        use std::hash::{BuildHasher, Hasher};
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut bytes = Vec::with_capacity(24);
        for salt in 0..3u64 {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(n);
            hasher.write_u64(salt);
            bytes.extend(hasher.finish().to_le_bytes());
        }
        base64url(&bytes)
    }
}

/// Drops expired entries, stopping their queries.
fn sweep(entries: &mut HashMap<String, Arc<Entry>>) {
    let now = Instant::now();
    entries.retain(|_, entry| {
        let alive = *lock(&entry.expires) > now;
        if !alive {
            entry.task.abort();
        }
        alive
    });
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// `POST /_query/async`.
pub async fn submit(
    State(state): State<AppState>,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let format = ResponseFormat::from_request(&params, &headers)?;
    let request = EsqlRequest::from_body(body.json_object()?, true)?;
    format.check(&request)?;
    let queries = state.queries();
    if !queries.has_room() {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "es_rejected_execution_exception",
            format!(
                "too many async queries are kept (at most {}); delete some or wait for them to expire",
                queries.max
            ),
        ));
    }
    let (sender, outcome) = watch::channel(None);
    let catalog = state.catalog();
    let options = request.options();
    let query = request.query.clone();
    let metrics = state.metrics().clone();
    let task = tokio::spawn(async move {
        let started = Instant::now();
        let result = esql::execute(catalog, &query, &options).await;
        metrics.record_query(result.is_ok());
        let outcome = result.map(|output| (output, started.elapsed())).map_err(ApiError::from);
        // nobody listening means the query was deleted: the result is dropped
        let _ = sender.send(Some(Arc::new(outcome)));
    });
    let entry = Entry {
        outcome,
        task: task.abort_handle(),
        columnar: request.columnar,
        expires: Mutex::new(deadline(request.keep_alive.unwrap_or(DEFAULT_KEEP_ALIVE))),
    };
    // a client that goes away before the query is kept takes the query with it
    let mut unkept = AbortOnDrop(Some(task.abort_handle()));
    let done = entry.wait(request.wait_for_completion_timeout.unwrap_or(DEFAULT_WAIT)).await;
    if let Some(outcome) = &done
        && !request.keep_on_completion
    {
        return Ok(answer(None, outcome, &format, entry.columnar, params.pretty()));
    }
    let columnar = entry.columnar;
    unkept.0 = None;
    let id = queries.insert(entry);
    Ok(match done {
        Some(outcome) => answer(Some(&id), &outcome, &format, columnar, params.pretty()),
        None => running(&id, params.pretty()),
    })
}

/// Stops a query when dropped, unless emptied first.
struct AbortOnDrop(Option<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// `GET /_query/async/{id}`: the result, or `is_running`, after waiting up to
/// `wait_for_completion_timeout` (not at all by default); `keep_alive` extends the expiry.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = ResponseFormat::from_request(&params, &headers)?;
    let wait = params.time("wait_for_completion_timeout")?.unwrap_or(Duration::ZERO);
    let keep_alive = params.time("keep_alive")?;
    let Some(entry) = state.queries().get(&id) else {
        return Err(ApiError::resource_not_found(id));
    };
    if let Some(keep_alive) = keep_alive {
        entry.keep_alive(keep_alive);
    }
    Ok(match entry.wait(wait).await {
        Some(outcome) => answer(Some(&id), &outcome, &format, entry.columnar, params.pretty()),
        None => running(&id, params.pretty()),
    })
}

/// `DELETE /_query/async/{id}`: stops the query if it runs and forgets it.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let Some(entry) = state.queries().remove(&id) else {
        return Err(ApiError::resource_not_found(id));
    };
    entry.task.abort();
    Ok(json_response(StatusCode::OK, &json!({"acknowledged": true}), params.pretty()))
}

/// The response for a finished query.
fn answer(id: Option<&str>, outcome: &Outcome, format: &ResponseFormat, columnar: bool, pretty: bool) -> Response {
    let mut response = match outcome.as_ref() {
        Ok((output, took)) => {
            let mut extra = Map::new();
            if let Some(id) = id {
                extra.insert("id".into(), Value::String(id.to_string()));
            }
            extra.insert("is_running".into(), Value::Bool(false));
            format.render(output, columnar, *took, extra, pretty)
        }
        Err(error) => error.clone().into_response(),
    };
    async_headers(response.headers_mut(), id, false);
    response
}

fn running(id: &str, pretty: bool) -> Response {
    let mut response = json_response(StatusCode::OK, &json!({"id": id, "is_running": true}), pretty);
    async_headers(response.headers_mut(), Some(id), true);
    response
}

fn async_headers(headers: &mut HeaderMap, id: Option<&str>, running: bool) {
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(id).ok()) {
        headers.insert(ASYNC_ID, value);
    }
    headers.insert(ASYNC_RUNNING, HeaderValue::from_static(if running { "?1" } else { "?0" }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_url_safe() {
        let queries = AsyncQueries::new(10);
        let a = queries.new_id();
        let b = queries.new_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
    }

    #[test]
    fn base64url_encodes() {
        assert_eq!(base64url(b"Man"), "TWFu");
        assert_eq!(base64url(b"Ma"), "TWE");
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
    }
}

//! Saker's HTTP API: the parts of Elasticsearch's API that shippers, scripts and the official
//! clients use, answered with Elasticsearch's request and response shapes over the embedded
//! [`store::Store`] and the ES|QL engine ([`esql::execute`]).
//!
//! - [`router`] builds the routes over an [`AppState`]; [`serve`] runs them on a listener until a
//!   shutdown signal, finishing the requests in flight.
//! - Handlers are thin: read the request ([`request`]), call the store or the engine, write the
//!   response ([`response`]). Every failure is an [`ApiError`], mapped to its status and
//!   Elasticsearch's error body in one place ([`error`]).
//!
//! # Endpoints
//! | endpoint | module |
//! |---|---|
//! | `GET /`, `HEAD /`, `GET /_cluster/health` | [`node`] |
//! | `POST /_query`, `POST /_query/async`, `GET`/`DELETE /_query/async/{id}` | [`query`], [`async_query`] |
//! | `POST /_bulk`, `POST /{index}/_bulk`, `POST`/`PUT /{index}/_doc[/{id}]`, `PUT`/`POST /{index}/_create/{id}` | [`documents`] |
//! | `POST /[{index}/]_refresh`, `GET /_cat/indices[/{index}]`, `GET /[{index}/]_mapping`, `GET`/`HEAD`/`DELETE /{index}` | [`indices`] |
//! | `GET /_security/_authenticate`, `POST`/`PUT`/`GET`/`DELETE /_security/api_key` | [`security`] |
//! | `PUT`/`GET`/`HEAD`/`DELETE /_index_template[/{name}]`, `DELETE /_data_stream/{name}`, `GET`/`PUT`/`DELETE /_data_stream/{name}/_lifecycle` | [`templates`] |
//! | `GET`/`POST /[{index}/]_field_caps` | [`field_caps`] |
//! | Kibana's `/api/detection_engine/rules` (`_find`, `_import`, `_bulk_action`) and `/api/detection_engine/signals/search`, `…/signals/status` | [`detection`] |
//!
//! With [`ServerConfig::security`] set, every request must authenticate (users or API keys) and
//! its roles must grant the route ([`auth`]); [`ServerConfig::tls`] serves HTTPS; the timeouts of
//! [`transport`] apply to every connection.
//!
//! Any other path gets Elasticsearch's `no handler found` (400), a known path with another method
//! its `Incorrect HTTP method` (405).
#![warn(missing_docs)]

pub mod admin;
pub mod async_query;
pub mod auth;
pub mod detection;
pub mod documents;
pub mod dsl;
pub mod error;
pub mod field_caps;
pub mod indices;
pub mod metrics;
pub mod node;
pub mod query;
pub mod request;
pub mod response;
pub mod security;
pub mod templates;
pub mod tls;
pub mod transport;

pub use admin::IndexAdmin;
pub use error::ApiError;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::routing::{get, post};
use std::future::Future;
use std::sync::Arc;
use store::Store;
use tokio::net::TcpListener;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The largest request body accepted, in bytes, after gzip decoding (Elasticsearch's
    /// `http.max_content_length`, 100 MiB).
    pub max_body_bytes: usize,
    /// The cluster name `GET /` reports.
    pub cluster_name: String,
    /// The node name `GET /` reports.
    pub node_name: String,
    /// How many async queries may be kept at once (running or holding results).
    pub max_async_queries: usize,
    /// Users and API keys; `None` serves every request without authentication.
    pub security: Option<Arc<auth::Security>>,
    /// HTTPS with this configuration; `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The most time a request's head (and a TLS handshake) may take, also the most an idle
    /// keep-alive connection stays open.
    pub header_read_timeout: std::time::Duration,
    /// The most time between two pieces of a request body.
    pub body_read_timeout: std::time::Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 100 << 20,
            cluster_name: "saker".to_string(),
            node_name: "saker".to_string(),
            max_async_queries: 1000,
            security: None,
            tls: None,
            header_read_timeout: std::time::Duration::from_secs(30),
            body_read_timeout: std::time::Duration::from_secs(60),
        }
    }
}

/// What every handler shares: the store, the configuration and the async queries.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    store: Arc<Store>,
    config: ServerConfig,
    queries: async_query::AsyncQueries,
    metrics: Arc<metrics::Metrics>,
    rules: std::sync::OnceLock<Arc<detect::registry::RuleRegistry>>,
}

impl AppState {
    /// The state of a server over `store`.
    pub fn new(store: Arc<Store>, config: ServerConfig) -> AppState {
        let queries = async_query::AsyncQueries::new(config.max_async_queries);
        let metrics = Arc::new(metrics::Metrics::new());
        AppState { inner: Arc::new(Shared { store, config, queries, metrics, rules: std::sync::OnceLock::new() }) }
    }

    /// The state with the detection rules the detection engine API manages (`saker serve` runs
    /// them); without it, those endpoints answer that no rules are served. Set once.
    pub fn with_rules(self, rules: Arc<detect::registry::RuleRegistry>) -> AppState {
        if self.inner.rules.set(rules).is_err() {
            tracing::warn!("the detection rules were already set");
        }
        self
    }

    /// The detection rules, when the server manages them.
    pub fn rules(&self) -> Option<&Arc<detect::registry::RuleRegistry>> {
        self.inner.rules.get()
    }

    /// The metrics `GET /_saker/metrics` serves (the rule scheduler records into them too).
    pub fn metrics(&self) -> &Arc<metrics::Metrics> {
        &self.inner.metrics
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The async queries.
    pub fn queries(&self) -> &async_query::AsyncQueries {
        &self.inner.queries
    }

    /// The store as the catalog ES|QL reads.
    pub fn catalog(&self) -> Arc<dyn esql::catalog::Catalog> {
        self.inner.store.clone()
    }
}

/// Every route, with the body limit, Elasticsearch's response conventions and its errors for
/// unknown routes.
pub fn router(state: AppState) -> Router {
    let limit = state.config().max_body_bytes;
    let routes = Router::new()
        .route("/", get(node::root).head(node::ping))
        .route("/_cluster/health", get(node::cluster_health))
        .route("/_cluster/health/{index}", get(node::cluster_health))
        .route("/_query", post(query::query))
        .route("/_query/async", post(async_query::submit))
        .route("/_query/async/{id}", get(async_query::get).delete(async_query::delete))
        .route("/_bulk", post(documents::bulk).put(documents::bulk))
        .route("/{index}/_bulk", post(documents::bulk_index).put(documents::bulk_index))
        .route("/{index}/_doc", post(documents::index_auto_id))
        .route("/{index}/_doc/{id}", post(documents::index_with_id).put(documents::index_with_id))
        .route("/{index}/_create/{id}", post(documents::create).put(documents::create))
        .route("/_refresh", post(indices::refresh_all).get(indices::refresh_all))
        .route("/{index}/_refresh", post(indices::refresh).get(indices::refresh))
        .route("/_cat/indices", get(indices::cat_indices_all))
        .route("/_cat/indices/{index}", get(indices::cat_indices))
        .route("/_mapping", get(indices::mapping_all))
        .route("/{index}/_mapping", get(indices::mapping))
        .route("/_saker/metrics", get(metrics::metrics))
        .route("/_security/_authenticate", get(security::authenticate))
        .route(
            "/_security/api_key",
            get(security::get_api_keys)
                .post(security::create_api_key)
                .put(security::create_api_key)
                .delete(security::invalidate_api_keys),
        )
        .route("/_index_template", get(templates::get_all))
        .route(
            "/_index_template/{name}",
            get(templates::get)
                .head(templates::exists)
                .put(templates::put)
                .post(templates::put)
                .delete(templates::delete),
        )
        .route("/_data_stream/{name}", axum::routing::delete(templates::delete_data_stream))
        .route(
            "/_data_stream/{name}/_lifecycle",
            get(templates::get_lifecycle).put(templates::put_lifecycle).delete(templates::delete_lifecycle),
        )
        .route("/_field_caps", get(field_caps::field_caps_all).post(field_caps::field_caps_all))
        .route("/{index}/_field_caps", get(field_caps::field_caps).post(field_caps::field_caps))
        .route("/{index}", get(indices::get_index).head(indices::index_exists).delete(indices::delete_index))
        .merge(detection::routes())
        .fallback(node::no_handler)
        .layer(axum::middleware::from_fn(move |mut request: Request, next: axum::middleware::Next| {
            request.extensions_mut().insert(request::BodyLimit(limit));
            next.run(request)
        }))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::layer))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count_requests))
        .with_state(state);
    // Outside the routes, so that it sees the `Allow` header axum adds to a 405.
    Router::new().fallback_service(routes).layer(axum::middleware::from_fn(response::elastic_shape))
}

/// Serves `router(state)` on `listener` until `shutdown` completes, then stops accepting
/// connections and waits for the requests in flight (a bulk request being written finishes and
/// is acknowledged; one not yet read is never acknowledged).
///
/// # Errors
/// When the listener fails.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = state.config();
    let transport = transport::Transport {
        tls: config.tls.clone(),
        header_read_timeout: config.header_read_timeout,
        body_read_timeout: config.body_read_timeout,
    };
    transport::serve(listener, router(state), transport, shutdown).await
}

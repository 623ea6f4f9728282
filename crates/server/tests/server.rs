//! The HTTP API end to end: a real server on a loopback port over a store in a temporary folder,
//! called with a real HTTP client.

use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{AppState, ServerConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

/// A running server; stops (and waits for it) when `stop` is called.
struct TestServer {
    address: SocketAddr,
    /// `http`, or `https` with a client that trusts the server's certificate.
    scheme: &'static str,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    _data: tempfile::TempDir,
}

impl TestServer {
    async fn start() -> TestServer {
        TestServer::start_with(ServerConfig::default()).await
    }

    async fn start_with(config: ServerConfig) -> TestServer {
        TestServer::start_in(tempfile::tempdir().expect("temp dir"), config, None).await
    }

    /// A server over the data folder `data`; HTTPS when `trusted` names the certificate to trust.
    async fn start_in(
        data: tempfile::TempDir,
        config: ServerConfig,
        trusted: Option<rustls::pki_types::CertificateDer<'static>>,
    ) -> TestServer {
        let store = store::Store::open(data.path()).expect("store");
        let state = AppState::new(Arc::new(store), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (shutdown, stop) = oneshot::channel::<()>();
        let serving = tokio::spawn(server::serve(listener, state, async {
            let _ = stop.await;
        }));
        let builder = client_builder().no_proxy();
        let (scheme, builder) = match trusted {
            None => ("http", builder),
            Some(cert) => ("https", builder.tls_backend_preconfigured(client_tls(cert))),
        };
        let client = builder.build().expect("client");
        TestServer { address, scheme, client, shutdown: Some(shutdown), serving, _data: data }
    }

    fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.address)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self.post(path, body.to_string()).await;
        let status = response.status();
        (status, response.json().await.expect("json body"))
    }

    async fn bulk(&self, ndjson: &str) -> Value {
        let response = self
            .client
            .post(self.url("/_bulk"))
            .header("content-type", "application/x-ndjson")
            .body(ndjson.to_string())
            .send()
            .await
            .expect("bulk");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("bulk json")
    }

    async fn stop(self) {
        self.stop_keeping_data().await;
    }

    /// Stops the server and hands back its data folder.
    async fn stop_keeping_data(mut self) -> tempfile::TempDir {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let result = tokio::time::timeout(std::time::Duration::from_secs(10), &mut self.serving).await;
        assert!(matches!(result, Ok(Ok(Ok(())))), "the server did not stop cleanly: {result:?}");
        self._data
    }
}

const EVENTS: &str = r#"{"create":{"_index":"logs-test-default","_id":"1"}}
{"@timestamp":"2024-05-01T10:00:00Z","event":{"outcome":"success"},"source":{"ip":"81.2.69.143"},"user":{"name":"alice"},"n":3}
{"create":{"_index":"logs-test-default","_id":"2"}}
{"@timestamp":"2024-05-01T10:05:00Z","event":{"outcome":"failure"},"source":{"ip":"67.43.156.15"},"user":{"name":"bob"},"n":5}
{"index":{"_index":"logs-test-default"}}
{"@timestamp":"2024-05-01T10:10:00Z","event":{"outcome":"success"},"source":{"ip":"81.2.69.143"},"user":{"name":"alice, \"al\""},"n":7}
"#;

#[tokio::test]
async fn root_reports_a_version_clients_accept() {
    let server = TestServer::start().await;
    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-elastic-product"], "Elasticsearch");
    let body: Value = response.json().await.expect("json");
    assert!(body["version"]["number"].as_str().is_some_and(|v| v.starts_with("9.")), "{body}");
    assert_eq!(body["tagline"], "You Know, for Search");
    let ping = server.client.head(server.url("/")).send().await.expect("head");
    assert_eq!(ping.status(), StatusCode::OK);
    let health: Value = server.get("/_cluster/health").await.json().await.expect("json");
    assert_eq!(health["status"], "green");
    assert_eq!(health["number_of_nodes"], 1);
    server.stop().await;
}

#[tokio::test]
async fn bulk_then_query_in_every_format() {
    let server = TestServer::start().await;
    let conflict =
        "{\"create\":{\"_index\":\"logs-test-default\",\"_id\":\"1\"}}\n{\"@timestamp\":\"2024-05-02T00:00:00Z\"}\n";
    let bulk = server.bulk(&format!("{EVENTS}{conflict}")).await;
    assert_eq!(bulk["errors"], true);
    let items = bulk["items"].as_array().expect("items");
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["create"]["status"], 201);
    assert_eq!(items[0]["create"]["result"], "created");
    assert_eq!(items[2]["index"]["status"], 201);
    assert_eq!(items[3]["create"]["status"], 409);
    assert_eq!(items[3]["create"]["error"]["type"], "version_conflict_engine_exception");

    let query = "FROM logs-test-default | SORT n | KEEP user.name, n, source.ip";
    let (status, body) = server.post_json("/_query", json!({"query": query})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["columns"],
        json!([{"name": "user.name", "type": "keyword"}, {"name": "n", "type": "long"}, {"name": "source.ip", "type": "ip"}])
    );
    assert_eq!(
        body["values"],
        json!([["alice", 3, "81.2.69.143"], ["bob", 5, "67.43.156.15"], ["alice, \"al\"", 7, "81.2.69.143"]])
    );
    assert_eq!(body["is_partial"], false);
    assert!(body["took"].is_u64());

    let (_, columnar) = server.post_json("/_query", json!({"query": query, "columnar": true})).await;
    assert_eq!(columnar["values"][1], json!([3, 5, 7]));

    let csv = server.post("/_query?format=csv", json!({"query": query}).to_string()).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("text/csv")));
    assert_eq!(
        csv.text().await.expect("csv"),
        "user.name,n,source.ip\r\nalice,3,81.2.69.143\r\nbob,5,67.43.156.15\r\n\"alice, \"\"al\"\"\",7,81.2.69.143\r\n"
    );
    let tsv = server.post("/_query?format=tsv", json!({"query": query}).to_string()).await;
    assert_eq!(
        tsv.text().await.expect("tsv"),
        "user.name\tn\tsource.ip\nalice\t3\t81.2.69.143\nbob\t5\t67.43.156.15\nalice, \"al\"\t7\t81.2.69.143\n"
    );
    let txt = server
        .post("/_query?format=txt", json!({"query": "FROM logs-test-default | STATS c = COUNT(*)"}).to_string())
        .await;
    assert_eq!(txt.text().await.expect("txt"), "       c       \n---------------\n3              \n");
    let (_, dropped) = server.post_json("/_query?drop_null_columns", json!({"query": "ROW a = 1, b = null"})).await;
    assert_eq!(dropped["columns"], json!([{"name": "a", "type": "integer"}]));
    assert_eq!(dropped["all_columns"], json!([{"name": "a", "type": "integer"}, {"name": "b", "type": "null"}]));
    assert_eq!(dropped["values"], json!([[1]]));
    // the format may also come from the Accept header
    let accept = server
        .client
        .post(server.url("/_query"))
        .header("accept", "text/csv")
        .body(json!({"query": "ROW a = 1"}).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(accept.text().await.expect("csv"), "a\r\n1\r\n");
    server.stop().await;
}

#[tokio::test]
async fn query_params_positional_and_named() {
    let server = TestServer::start().await;
    server.bulk(EVENTS).await;
    let (status, body) = server
        .post_json(
            "/_query",
            json!({"query": "FROM logs-test-default | WHERE n > ? AND user.name == ? | KEEP n", "params": [4, "alice, \"al\""]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["values"], json!([[7]]));
    let (status, body) = server
        .post_json(
            "/_query",
            json!({"query": "FROM logs-test-default | WHERE n >= ?low | STATS c = COUNT(*)", "params": [{"low": 5}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["values"], json!([[2]]));
    let (status, body) = server.post_json("/_query", json!({"query": "ROW a = ?", "params": [1, {"b": 2}]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "illegal_argument_exception");
    server.stop().await;
}

#[tokio::test]
async fn query_dsl_filters_select_the_documents_first() {
    let server = TestServer::start().await;
    server.bulk(EVENTS).await;
    let query = "FROM logs-test-default | STATS c = COUNT(*), total = SUM(n)";
    let cases = [
        (json!({"term": {"event.outcome": "success"}}), json!([[2, 10]])),
        (json!({"terms": {"user.name": ["bob", "nobody"]}}), json!([[1, 5]])),
        (
            json!({"range": {"@timestamp": {"gte": "2024-05-01T10:04:00Z", "lt": "2024-05-01T10:10:00Z"}}}),
            json!([[1, 5]]),
        ),
        (json!({"range": {"n": {"gt": 3}}}), json!([[2, 12]])),
        (json!({"exists": {"field": "user.name"}}), json!([[3, 15]])),
        (
            json!({"bool": {"filter": [{"term": {"source.ip": "81.2.69.143"}}], "must_not": [{"term": {"user.name": "alice"}}]}}),
            json!([[1, 7]]),
        ),
        (json!({"bool": {"should": [{"term": {"n": 3}}, {"term": {"n": 5}}]}}), json!([[2, 8]])),
        (json!({"match_all": {}}), json!([[3, 15]])),
    ];
    for (filter, expected) in cases {
        let (status, body) = server.post_json("/_query", json!({"query": query, "filter": filter})).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {body}");
        assert_eq!(body["values"], expected, "{filter}");
    }
    let (status, body) =
        server.post_json("/_query", json!({"query": query, "filter": {"wildcard": {"user.name": "a*"}}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "illegal_argument_exception");
    assert!(body["error"]["reason"].as_str().unwrap_or("").contains("[wildcard]"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn query_errors_carry_type_and_position() {
    let server = TestServer::start().await;
    server.bulk(EVENTS).await;
    let (status, body) = server.post_json("/_query", json!({"query": "FROM logs-test-default | KEP n"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], 400);
    assert_eq!(body["error"]["type"], "parsing_exception");
    assert_eq!(body["error"]["root_cause"][0]["type"], "parsing_exception");
    let reason = body["error"]["reason"].as_str().expect("reason");
    assert!(reason.starts_with("line 1:26: "), "{reason}");

    let (status, body) = server.post_json("/_query", json!({"query": "FROM logs-test-default\n| KEEP nope, n"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "verification_exception");
    assert_eq!(body["error"]["reason"], "Found 1 problem\nline 2:8: Unknown column [nope]");

    let (status, body) = server.post_json("/_query", json!({"query": "FROM nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "verification_exception", "{body}");

    let (status, body) = server.post_json("/_query", json!({"querry": "ROW a = 1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "x_content_parse_exception");
    let response = server.post("/_query", "{not json").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn warnings_go_in_warning_headers() {
    let server = TestServer::start().await;
    let response = server.post("/_query", json!({"query": "ROW a = TO_INTEGER(\"x\")"}).to_string()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let warnings: Vec<String> = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0]
            .starts_with("299 Elasticsearch-9.1.0-unknown \"Line 1:9: evaluation of [TO_INTEGER(\\\"x\\\")] failed"),
        "{}",
        warnings[0]
    );
    assert!(warnings.iter().all(|w| w.ends_with('"')));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["values"], json!([[null]]));
    server.stop().await;
}

#[tokio::test]
async fn async_queries_submit_get_delete() {
    let server = TestServer::start().await;
    server.bulk(EVENTS).await;
    let query = "FROM logs-test-default | STATS c = COUNT(*)";
    // finished within the wait and not kept: the result, no id
    let (status, body) = server.post_json("/_query/async", json!({"query": query})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["is_running"], false);
    assert!(body.get("id").is_none());
    assert_eq!(body["values"], json!([[3]]));
    // kept: an id to get it again
    let response = server.post("/_query/async", json!({"query": query, "keep_on_completion": true}).to_string()).await;
    let id = response.headers()["x-elasticsearch-async-id"].to_str().expect("id").to_string();
    assert_eq!(response.headers()["x-elasticsearch-async-is-running"], "?0");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["id"], id.as_str());
    let (status, again) = {
        let response = server.get(&format!("/_query/async/{id}?wait_for_completion_timeout=5s")).await;
        (response.status(), response.json::<Value>().await.expect("json"))
    };
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["values"], json!([[3]]));
    assert_eq!(again["is_running"], false);
    let csv = server.get(&format!("/_query/async/{id}?format=csv")).await.text().await.expect("csv");
    assert_eq!(csv, "c\r\n3\r\n");
    let deleted = server.client.delete(server.url(&format!("/_query/async/{id}"))).send().await.expect("delete");
    assert_eq!(deleted.json::<Value>().await.expect("json"), json!({"acknowledged": true}));
    let gone = server.get(&format!("/_query/async/{id}")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let body: Value = gone.json().await.expect("json");
    assert_eq!(body["error"]["type"], "resource_not_found_exception");
    // not finished within the wait: an id and `is_running`, then the result from GET (the tests'
    // runtime has one thread, so the query cannot run before the submit has answered)
    let response =
        server.post("/_query/async", json!({"query": query, "wait_for_completion_timeout": "0s"}).to_string()).await;
    assert_eq!(response.headers()["x-elasticsearch-async-is-running"], "?1");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["is_running"], true, "{body}");
    let id = body["id"].as_str().expect("id");
    let done: Value =
        server.get(&format!("/_query/async/{id}?wait_for_completion_timeout=5s")).await.json().await.expect("json");
    assert_eq!((&done["is_running"], &done["values"]), (&json!(false), &json!([[3]])));
    // a bad query fails the submit as `_query` would
    let (status, body) = server.post_json("/_query/async", json!({"query": "FROM logs-test-default | KEEP x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "verification_exception");
    server.stop().await;
}

#[tokio::test]
async fn document_and_index_apis() {
    let server = TestServer::start().await;
    let put = server
        .client
        .put(server.url("/notes/_doc/n1"))
        .header("content-type", "application/json")
        .body("{\n  \"title\": \"first\",\n  \"count\": 1\n}")
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), StatusCode::CREATED);
    let body: Value = put.json().await.expect("json");
    assert_eq!(
        (body["_index"].as_str(), body["_id"].as_str(), body["result"].as_str()),
        (Some("notes"), Some("n1"), Some("created"))
    );
    let (status, auto) = server.post_json("/notes/_doc", json!({"title": "second", "count": 2})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(auto["_id"].as_str().is_some_and(|id| !id.is_empty()));
    let conflict =
        server.client.put(server.url("/notes/_create/n1")).body("{\"title\":\"again\"}").send().await.expect("put");
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    let body: Value = conflict.json().await.expect("json");
    assert_eq!(body["error"]["type"], "version_conflict_engine_exception");
    // indexing an existing `_id` replaces it, as in Elasticsearch
    let replaced = server
        .client
        .put(server.url("/notes/_doc/n1"))
        .header("content-type", "application/json")
        .body("{\"title\": \"first, again\", \"count\": 1}")
        .send()
        .await
        .expect("put");
    assert_eq!(replaced.status(), StatusCode::OK);
    let body: Value = replaced.json().await.expect("json");
    assert_eq!((body["result"].as_str(), body["_version"].as_i64()), (Some("updated"), Some(2)));
    let (status, _) = server.post_json("/notes/_refresh", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    let mapping: Value = server.get("/notes/_mapping").await.json().await.expect("json");
    assert_eq!(mapping["notes"]["mappings"]["properties"]["count"]["type"], "long");
    let missing = server.get("/nope/_mapping").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.expect("json");
    assert_eq!(body["error"]["type"], "index_not_found_exception");

    let cat: Value = server.get("/_cat/indices?format=json").await.json().await.expect("json");
    assert_eq!(cat[0]["index"], "notes");
    assert_eq!(cat[0]["docs.count"], "2");
    let text = server.get("/_cat/indices?v&h=index,docs.count").await.text().await.expect("text");
    assert_eq!(text, "index docs.count\nnotes          2\n");

    let (status, body) = server.post_json("/_query", json!({"query": "FROM notes | SORT count | KEEP title"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["values"], json!([["first, again"], ["second"]]));
    server.stop().await;
}

/// A request with an optional JSON body; the response's status and JSON body (null when empty).
async fn send(server: &TestServer, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = server.client.request(method, server.url(path));
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("json body") })
}

#[tokio::test]
async fn index_templates_shape_new_indices_and_data_streams() {
    use reqwest::Method;
    let server = TestServer::start().await;
    let template = json!({
        "index_patterns": ["app-*"],
        "priority": 300,
        "data_stream": {},
        "template": {
            "settings": {"number_of_shards": 1},
            "mappings": {"properties": {"code": {"type": "keyword"}, "latency": {"type": "double"}}},
            "lifecycle": {"data_retention": "30d"}
        },
        "_meta": {"owner": "ops"}
    });
    let (status, body) = send(&server, Method::PUT, "/_index_template/app", Some(template)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"acknowledged": true})));
    let (status, body) = send(&server, Method::GET, "/_index_template/app", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"index_templates": [{"name": "app", "index_template": {
            "index_patterns": ["app-*"],
            "priority": 300,
            "data_stream": {"hidden": false, "allow_custom_routing": false},
            "template": {
                "settings": {"index": {"number_of_shards": "1"}},
                "mappings": {"properties": {"code": {"type": "keyword"}, "latency": {"type": "double"}}},
                "lifecycle": {"enabled": true, "data_retention": "30d"}
            },
            "_meta": {"owner": "ops"}
        }}]})
    );
    // errors as Elasticsearch's
    let (status, body) = send(&server, Method::GET, "/_index_template/nope", None).await;
    assert_eq!((status, body["error"]["type"].as_str()), (StatusCode::NOT_FOUND, Some("resource_not_found_exception")));
    assert_eq!(body["error"]["reason"], "index template matching [nope] not found");
    let (status, body) = send(&server, Method::GET, "/_index_template/nope*", None).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"index_templates": []})));
    let head = server.client.head(server.url("/_index_template/app")).send().await.expect("head");
    assert_eq!(head.status(), StatusCode::OK);
    let (status, body) = send(
        &server,
        Method::PUT,
        "/_index_template/other",
        Some(json!({"index_patterns": ["*-web"], "priority": 300})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "illegal_argument_exception");
    assert!(
        body["error"]["reason"].as_str().is_some_and(|r| r.contains("that have the same priority [300]")),
        "{body}"
    );
    let (status, body) = send(
        &server,
        Method::PUT,
        "/_index_template/bad",
        Some(json!({"index_patterns": ["x"], "template": {"mappings": {"properties": {"f": {"type": "strnig"}}}}})),
    )
    .await;
    assert_eq!((status, body["error"]["type"].as_str()), (StatusCode::BAD_REQUEST, Some("mapper_parsing_exception")));
    let (status, body) =
        send(&server, Method::PUT, "/_index_template/app?create=true", Some(json!({"index_patterns": ["app-*"]})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["reason"], "index template [app] already exists");
    let (status, body) = send(&server, Method::PUT, "/_index_template/empty", None).await;
    assert_eq!((status, body["error"]["type"].as_str()), (StatusCode::BAD_REQUEST, Some("parse_exception")));

    // the template applies when the data stream is created by its first document
    server.bulk("{\"create\":{\"_index\":\"app-web\"}}\n{\"@timestamp\":\"2024-05-01T00:00:00Z\",\"code\":404,\"latency\":3}\n").await;
    let bulk = server
        .bulk("{\"index\":{\"_index\":\"app-web\",\"_id\":\"x\"}}\n{\"@timestamp\":\"2024-05-01T00:00:00Z\"}\n")
        .await;
    assert_eq!(
        bulk["items"][0]["index"]["error"]["type"], "illegal_argument_exception",
        "a data stream takes create only"
    );
    let index: Value = server.get("/app-web").await.json().await.expect("json");
    assert_eq!(index["app-web"]["data_stream"], "app-web");
    assert_eq!(index["app-web"]["mappings"]["properties"]["code"], json!({"type": "keyword"}));
    let (status, body) = send(&server, Method::GET, "/_data_stream/app-web/_lifecycle", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"data_streams": [{"name": "app-web", "lifecycle": {"enabled": true, "data_retention": "30d", "effective_retention": "30d", "retention_determined_by": "data_stream_configuration"}}], "global_retention": {}})
    );
    let (status, _) =
        send(&server, Method::PUT, "/_data_stream/app-*/_lifecycle", Some(json!({"data_retention": "7d"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = send(&server, Method::GET, "/_data_stream/app-web/_lifecycle", None).await;
    assert_eq!(body["data_streams"][0]["lifecycle"]["data_retention"], "7d");
    let (status, body) =
        send(&server, Method::PUT, "/_data_stream/app-web/_lifecycle", Some(json!({"data_retention": "7 days"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = send(&server, Method::GET, "/_data_stream/nope/_lifecycle", None).await;
    assert_eq!((status, body["error"]["type"].as_str()), (StatusCode::NOT_FOUND, Some("index_not_found_exception")));

    // field caps across a data stream and a plain index: `code` conflicts, families merge
    server.bulk("{\"index\":{\"_index\":\"codes\"}}\n{\"code\":7,\"name\":\"x\"}\n").await;
    let (status, caps) = send(&server, Method::GET, "/_field_caps?fields=code,name,latency,_id", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(caps["indices"], json!(["app-web", "codes"]));
    assert_eq!(
        caps["fields"]["code"],
        json!({
            "keyword": {"type": "keyword", "metadata_field": false, "searchable": true, "aggregatable": true, "indices": ["app-web"]},
            "long": {"type": "long", "metadata_field": false, "searchable": true, "aggregatable": true, "indices": ["codes"]}
        })
    );
    assert_eq!(
        caps["fields"]["latency"],
        json!({"double": {"type": "double", "metadata_field": false, "searchable": true, "aggregatable": true}})
    );
    assert_eq!(
        caps["fields"]["_id"],
        json!({"_id": {"type": "_id", "metadata_field": true, "searchable": true, "aggregatable": false}})
    );
    let (_, caps) = send(&server, Method::GET, "/app-web/_field_caps?fields=data_stream.*,nope", None).await;
    assert_eq!(caps["indices"], json!(["app-web"]));
    assert_eq!(caps["fields"], json!({}));
    let (_, caps) =
        send(&server, Method::GET, "/codes,app-web/_field_caps?fields=name&include_unmapped=true", None).await;
    assert_eq!(caps["fields"]["name"]["unmapped"]["indices"], json!(["app-web"]));
    let (status, body) = send(&server, Method::GET, "/_field_caps", None).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (StatusCode::BAD_REQUEST, Some("action_request_validation_exception"))
    );
    let (status, body) = send(&server, Method::GET, "/nope/_field_caps?fields=*", None).await;
    assert_eq!((status, body["error"]["type"].as_str()), (StatusCode::NOT_FOUND, Some("index_not_found_exception")));

    // the template a data stream needs stays; deleting the data stream frees it
    let (status, body) = send(&server, Method::DELETE, "/_index_template/app", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["reason"],
        "unable to remove composable templates [app] as they are in use by a data streams [app-web]"
    );
    let (status, _) = send(&server, Method::DELETE, "/_data_stream/app-web", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(&server, Method::DELETE, "/_data_stream/app-web", None).await;
    assert_eq!((status, body["error"]["type"].as_str()), (StatusCode::NOT_FOUND, Some("index_not_found_exception")));
    let (status, _) = send(&server, Method::DELETE, "/_data_stream/app-*", None).await;
    assert_eq!(status, StatusCode::OK, "a pattern may match nothing");
    let (status, _) = send(&server, Method::DELETE, "/_index_template/app", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(&server, Method::DELETE, "/_index_template/app", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["type"], "index_template_missing_exception");
    assert_eq!(body["error"]["reason"], "index_template [app] missing");
    let (_, body) = send(&server, Method::GET, "/_index_template", None).await;
    assert_eq!(body, json!({"index_templates": []}));
    server.stop().await;
}

#[tokio::test]
async fn deleting_indices_as_elasticsearch() {
    use reqwest::Method;
    let server = TestServer::start().await;
    server.bulk(EVENTS).await;
    server.bulk("{\"index\":{\"_index\":\"notes\",\"_id\":\"1\"}}\n{\"t\":1}\n{\"index\":{\"_index\":\".hidden\"}}\n{\"t\":1}\n").await;
    let (status, body) = send(&server, Method::DELETE, "/notes*", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["reason"], "Wildcard expressions or all indices are not allowed; expression [notes*]");
    let (status, _) = send(&server, Method::DELETE, "/_all", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = send(&server, Method::DELETE, "/notes,nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["type"], "index_not_found_exception");
    assert_eq!(body["error"]["index"], "nope");
    let (_, cat) = send(&server, Method::GET, "/_cat/indices?format=json&expand_wildcards=all", None).await;
    assert_eq!(cat.as_array().map(Vec::len), Some(3), "nothing deleted when a name is missing");
    let (status, body) = send(&server, Method::DELETE, "/notes,nope?ignore_unavailable=true", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"acknowledged": true})));
    let (status, _) = send(&server, Method::DELETE, "/.hidden,logs-test-default", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, cat) = send(&server, Method::GET, "/_cat/indices?format=json&expand_wildcards=all", None).await;
    assert_eq!(cat, json!([]));
    let (status, body) = server.post_json("/_query", json!({"query": "FROM notes"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // a new index under the old name starts empty
    server.bulk("{\"index\":{\"_index\":\"notes\",\"_id\":\"1\"}}\n{\"t\":2}\n").await;
    let (_, body) = server.post_json("/_query", json!({"query": "FROM notes | KEEP t"})).await;
    assert_eq!(body["values"], json!([[2]]));
    server.stop().await;
}

#[tokio::test]
async fn shared_samples_bulk_and_query() {
    let server = TestServer::start().await;
    let datasets = ecs::samples::sample_datasets(&ecs::samples::shared_data_dir()).expect("shared samples");
    let mut ndjson = String::new();
    let mut expected = 0;
    for dataset in &datasets {
        for doc in &dataset.documents {
            // a document goes to the data stream its `data_stream.*` fields name, as Elastic Agent sends it
            let field = |name: &str, default: &str| {
                doc["data_stream"][name].as_str().map_or(default.to_string(), str::to_string)
            };
            let index = format!("logs-{}-{}", field("dataset", dataset.dataset), field("namespace", "default"));
            ndjson.push_str(&json!({"create": {"_index": index}}).to_string());
            ndjson.push('\n');
            ndjson.push_str(&doc.to_string());
            ndjson.push('\n');
            expected += 1;
        }
    }
    let bulk = server.bulk(&ndjson).await;
    assert_eq!(bulk["errors"], false, "{bulk}");
    let (status, body) = server
        .post_json(
            "/_query",
            json!({"query": "FROM logs-* | STATS c = COUNT(*) BY data_stream.dataset | SORT data_stream.dataset"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let total: i64 = body["values"].as_array().expect("rows").iter().filter_map(|row| row[0].as_i64()).sum();
    assert_eq!(total, expected);
    server.stop().await;
}

#[tokio::test]
async fn routing_errors_and_body_limit() {
    let server = TestServer::start_with(ServerConfig { max_body_bytes: 1024, ..ServerConfig::default() }).await;
    let unknown = server.get("/_nope/x/y").await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(unknown.headers()["x-elastic-product"], "Elasticsearch");
    let body: Value = unknown.json().await.expect("json");
    assert_eq!(body, json!({"error": "no handler found for uri [/_nope/x/y] and method [GET]", "status": 400}));
    let wrong = server.get("/_query").await;
    assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = wrong.json().await.expect("json");
    assert_eq!(body["error"], "Incorrect HTTP method for uri [/_query] and method [GET], allowed: [POST]");
    let big = format!("{{\"query\": \"ROW a = \\\"{}\\\"\"}}", "x".repeat(2000));
    let (status, body) = server.post_json("/_query", serde_json::from_str(&big).expect("json")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["status"], 413);
    assert_eq!(body["error"]["type"], "content_too_long_exception");
    // the server still answers after refusing a body
    assert_eq!(server.get("/").await.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_a_bulk_request_keeps_what_it_acknowledged() {
    let mut server = TestServer::start().await;
    let mut ndjson = String::new();
    for i in 0..20_000 {
        ndjson.push_str(&format!("{{\"create\":{{\"_index\":\"load\",\"_id\":\"{i}\"}}}}\n{{\"n\":{i}}}\n"));
    }
    let client = server.client.clone();
    let url = server.url("/_bulk");
    let request = tokio::spawn(async move { client.post(url).body(ndjson).send().await });
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let data = std::mem::replace(&mut server._data, tempfile::tempdir().expect("temp dir"));
    server.stop().await;
    let acknowledged = match request.await.expect("task") {
        Ok(response) if response.status() == StatusCode::OK => {
            let body: Value = response.json().await.expect("json");
            body["items"].as_array().map_or(0, |items| items.iter().filter(|i| i["create"]["status"] == 201).count())
        }
        // refused or cut off: nothing was acknowledged
        _ => 0,
    };
    let store = Arc::new(store::Store::open(data.path()).expect("reopen"));
    let docs = store.indices().iter().find(|i| i.name == "load").map_or(0, |i| i.docs) as usize;
    assert!(docs >= acknowledged, "{acknowledged} acknowledged, {docs} stored");
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let server = TestServer::start().await;
    let address = server.address;
    server.bulk(EVENTS).await;
    server.stop().await;
    let refused = client_builder().no_proxy().build().expect("client").get(format!("http://{address}/")).send().await;
    assert!(refused.is_err(), "the server still answers after shutdown");
}

// --- security: users, API keys, TLS, slow clients ---

/// A client builder; reqwest's TLS (used by the HTTPS test) needs rustls' crypto provider chosen.
fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A client TLS configuration trusting only `cert`.
fn client_tls(cert: rustls::pki_types::CertificateDer<'static>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("trusted certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// Users `admin` (superuser), `reader` (viewer) and `shipper` (ingest), password `<name>-pw`.
fn users() -> server::auth::Users {
    use server::auth::{Role, user_entry};
    let mut text = String::new();
    for (name, role) in [("admin", Role::Superuser), ("reader", Role::Viewer), ("shipper", Role::Ingest)] {
        // the lowest bcrypt cost keeps the test fast; the server verifies any cost
        let hash = bcrypt::hash(format!("{name}-pw"), 4).expect("hash");
        text.push_str(&user_entry(name, &hash, &[role]).expect("entry"));
    }
    server::auth::Users::parse(&text).expect("users")
}

/// A server with authentication on over `data`.
async fn start_secure(data: tempfile::TempDir) -> TestServer {
    let security = server::auth::Security::open(users(), data.path()).expect("security");
    let config = ServerConfig { security: Some(Arc::new(security)), ..ServerConfig::default() };
    TestServer::start_in(data, config, None).await
}

fn basic(name: &str) -> String {
    basic_with(name, &format!("{name}-pw"))
}

fn basic_with(name: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}")))
}

impl TestServer {
    /// A request with an `Authorization` header, its status, headers and JSON body.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        authorization: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self.client.request(method, self.url(path)).header("authorization", authorization);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

fn challenges() -> Value {
    json!(["Basic realm=\"security\", charset=\"UTF-8\"", "ApiKey"])
}

#[tokio::test]
async fn authentication_answers_like_elasticsearch() {
    let server = start_secure(tempfile::tempdir().expect("temp dir")).await;

    // no credentials: Elasticsearch's body, the challenges in the body and the headers
    let response = server.get("/?pretty").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let headers: Vec<&str> =
        response.headers().get_all("www-authenticate").iter().map(|v| v.to_str().expect("ascii")).collect();
    assert_eq!(headers, ["Basic realm=\"security\", charset=\"UTF-8\"", "ApiKey"]);
    let body: Value = response.json().await.expect("json");
    let reason = "missing authentication credentials for REST request [/?pretty]";
    let error = json!({"type": "security_exception", "reason": reason, "header": {"WWW-Authenticate": challenges()}});
    let mut expected = error.clone();
    expected["root_cause"] = json!([error]);
    assert_eq!(body, json!({"error": expected, "status": 401}));

    // every route, known or not, wants credentials first
    for path in ["/_cat/indices", "/_nope/a/b/c", "/_security/_authenticate", "/logs"] {
        assert_eq!(server.get(path).await.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(server.post("/_query", r#"{"query":"ROW a = 1"}"#).await.status(), StatusCode::UNAUTHORIZED);

    // a wrong password, an unknown user, a malformed header, an unsupported scheme
    let (status, headers, body) = server.call(reqwest::Method::GET, "/", &basic_with("admin", "wrong"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers.get_all("www-authenticate").iter().count(), 2);
    assert_eq!(body["error"]["reason"], "unable to authenticate user [admin] for REST request [/]", "{body}");
    let (status, _, body) = server.call(reqwest::Method::GET, "/_cat/indices", &basic("nobody"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["reason"], "unable to authenticate user [nobody] for REST request [/_cat/indices]");
    let (status, _, body) = server.call(reqwest::Method::GET, "/", "Basic %%%", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["reason"], "invalid basic authentication header encoding");
    let (status, _, body) = server.call(reqwest::Method::GET, "/", "Bearer abc", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["reason"], "missing authentication credentials for REST request [/]");

    // the right password
    let (status, _, body) = server.call(reqwest::Method::GET, "/", &basic("admin"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["tagline"], "You Know, for Search");
    let (status, _, body) = server.call(reqwest::Method::GET, "/_security/_authenticate", &basic("reader"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "username": "reader", "roles": ["viewer"], "full_name": null, "email": null, "metadata": {},
            "enabled": true,
            "authentication_realm": {"name": "default_file", "type": "file"},
            "lookup_realm": {"name": "default_file", "type": "file"},
            "authentication_type": "realm",
        })
    );
    // an authenticated request to no route is Elasticsearch's 400
    let (status, _, _) = server.call(reqwest::Method::GET, "/_nope/a/b/c", &basic("reader"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn roles_limit_what_users_may_do() {
    let server = start_secure(tempfile::tempdir().expect("temp dir")).await;
    let bulk = |who: &'static str| {
        let request = server
            .client
            .post(server.url("/_bulk?refresh=true"))
            .header("authorization", basic(who))
            .header("content-type", "application/x-ndjson")
            .body(EVENTS);
        async move { request.send().await.expect("bulk").status() }
    };
    // viewers do not write
    assert_eq!(bulk("reader").await, StatusCode::FORBIDDEN);
    let (status, _, body) =
        server.call(reqwest::Method::PUT, "/logs-test-default/_doc/9", &basic("reader"), Some(json!({"a": 1}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["type"], "security_exception");
    assert_eq!(
        body["error"]["reason"],
        "action [indices:data/write/index] is unauthorized for user [reader] with effective roles [viewer], \
         this action is granted by the roles [superuser,ingest]"
    );
    // shippers write but do not query
    assert_eq!(bulk("shipper").await, StatusCode::OK);
    let query = json!({"query": "FROM logs-* | STATS c = COUNT(*)"});
    let (status, _, body) = server.call(reqwest::Method::POST, "/_query", &basic("shipper"), Some(query.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // viewers query
    let (status, _, body) = server.call(reqwest::Method::POST, "/_query", &basic("reader"), Some(query)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["values"], json!([[3]]));
    // both see index metadata; only a superuser deletes an index
    for who in ["reader", "shipper"] {
        let (status, _, _) = server.call(reqwest::Method::GET, "/_cat/indices?format=json", &basic(who), None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, _) = server.call(reqwest::Method::DELETE, "/logs-test-default", &basic(who), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _, body) = server.call(reqwest::Method::DELETE, "/logs-test-default", &basic("admin"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn api_keys_are_created_used_listed_invalidated_and_kept() {
    use base64::Engine;
    let server = start_secure(tempfile::tempdir().expect("temp dir")).await;
    let post = reqwest::Method::POST;

    // create: Elasticsearch's response shape
    let (status, _, created) =
        server.call(post.clone(), "/_security/api_key", &basic("admin"), Some(json!({"name": "k1"}))).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let fields: Vec<&str> = created.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(fields, ["api_key", "encoded", "id", "name"]);
    let id = created["id"].as_str().expect("id").to_string();
    let secret = created["api_key"].as_str().expect("api_key");
    assert_eq!((id.len(), secret.len()), (20, 22));
    let encoded = created["encoded"].as_str().expect("encoded").to_string();
    assert_eq!(base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")), encoded);
    let key = format!("ApiKey {encoded}");

    // use it
    let (status, _, body) = server.call(reqwest::Method::GET, "/_security/_authenticate", &key, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["username"], "admin");
    assert_eq!(body["authentication_type"], "api_key");
    assert_eq!(body["authentication_realm"]["name"], "_es_api_key");
    assert_eq!(body["api_key"], json!({"id": id, "name": "k1"}));
    let (status, _, _) = server.call(reqwest::Method::GET, "/_cluster/health", &key, None).await;
    assert_eq!(status, StatusCode::OK);

    // an expiring key, a viewer's own key, and what each may list
    let (_, _, short) = server
        .call(post.clone(), "/_security/api_key", &basic("admin"), Some(json!({"name": "short", "expiration": "1ms"})))
        .await;
    assert!(short["expiration"].as_i64().is_some(), "{short}");
    let (status, _, mine) =
        server.call(post.clone(), "/_security/api_key", &basic("reader"), Some(json!({"name": "reader-key"}))).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let short_key = format!("ApiKey {}", short["encoded"].as_str().expect("encoded"));
    let (status, _, body) = server.call(reqwest::Method::GET, "/", &short_key, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error"]["reason"],
        "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
    );
    assert_eq!(body["error"]["additional_unsuccessful_credentials"], "API key: api key is expired");

    let names = |body: &Value| -> Vec<String> {
        let mut names: Vec<String> = body["api_keys"]
            .as_array()
            .expect("api_keys")
            .iter()
            .map(|k| k["name"].as_str().expect("name").into())
            .collect();
        names.sort();
        names
    };
    let get = reqwest::Method::GET;
    let (_, _, all) = server.call(get.clone(), "/_security/api_key", &basic("admin"), None).await;
    assert_eq!(names(&all), ["k1", "reader-key", "short"]);
    let k1 = all["api_keys"].as_array().expect("keys").iter().find(|k| k["name"] == "k1").expect("k1").clone();
    assert_eq!(k1["id"], id.as_str());
    assert_eq!(k1["type"], "rest");
    assert_eq!(k1["invalidated"], false);
    assert_eq!(k1["username"], "admin");
    assert_eq!(k1["realm"], "default_file");
    assert!(k1["creation"].as_i64().is_some() && k1.get("expiration").is_none(), "{k1}");
    let (_, _, owned) = server.call(get.clone(), "/_security/api_key?owner=true", &basic("admin"), None).await;
    assert_eq!(names(&owned), ["k1", "short"]);
    let (_, _, by_name) = server.call(get.clone(), "/_security/api_key?name=k*", &basic("admin"), None).await;
    assert_eq!(names(&by_name), ["k1"]);
    let (_, _, active) = server.call(get.clone(), "/_security/api_key?active_only=true", &basic("admin"), None).await;
    assert_eq!(names(&active), ["k1", "reader-key"]);
    let (_, _, readers) = server.call(get.clone(), "/_security/api_key", &basic("reader"), None).await;
    assert_eq!(names(&readers), ["reader-key"]);
    let (_, _, itself) = server.call(get.clone(), "/_security/api_key", &key, None).await;
    assert_eq!(names(&itself), ["k1"]);

    // refused: keys creating keys, role descriptors, no name
    let (status, _, body) = server.call(post.clone(), "/_security/api_key", &key, Some(json!({"name": "x"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let descriptors = json!({"name": "x", "role_descriptors": {"r": {"cluster": ["all"]}}});
    let (status, _, body) = server.call(post.clone(), "/_security/api_key", &basic("admin"), Some(descriptors)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["reason"].as_str().expect("reason").contains("role_descriptors"), "{body}");
    let (status, _, body) = server.call(post.clone(), "/_security/api_key", &basic("admin"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["reason"], "Validation Failed: 1: api key name is required;");

    // invalidate
    let delete = reqwest::Method::DELETE;
    let (status, _, body) =
        server.call(delete.clone(), "/_security/api_key", &basic("admin"), Some(json!({"ids": [id]}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"invalidated_api_keys": [id], "previously_invalidated_api_keys": [], "error_count": 0}));
    let (_, _, body) =
        server.call(delete.clone(), "/_security/api_key", &basic("admin"), Some(json!({"name": "k1"}))).await;
    assert_eq!(body, json!({"invalidated_api_keys": [], "previously_invalidated_api_keys": [id], "error_count": 0}));
    let (status, _, body) = server.call(reqwest::Method::GET, "/", &key, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error"]["additional_unsuccessful_credentials"],
        format!("API key: api key [{id}] has been invalidated")
    );
    let (status, _, body) = server.call(delete.clone(), "/_security/api_key", &basic("admin"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "action_request_validation_exception");
    // a viewer cannot invalidate another user's key
    let (_, _, body) =
        server.call(delete.clone(), "/_security/api_key", &basic("reader"), Some(json!({"name": "short"}))).await;
    assert_eq!(body["invalidated_api_keys"], json!([]));
    let (status, _, body) = server.call(reqwest::Method::GET, "/", "ApiKey !!!", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["additional_unsuccessful_credentials"], "API key: invalid ApiKey value");

    // a restart keeps the keys: the reader's still works, k1 stays invalidated
    let data = server.stop_keeping_data().await;
    let server = start_secure(data).await;
    let reader_key = format!("ApiKey {}", mine["encoded"].as_str().expect("encoded"));
    let (status, _, body) = server.call(reqwest::Method::GET, "/_security/_authenticate", &reader_key, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["username"], "reader");
    let (status, _, _) = server.call(reqwest::Method::GET, "/", &key, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // the key keeps its owner's roles: a viewer's key does not write
    let (status, _, _) =
        server.call(reqwest::Method::PUT, "/logs-test-default/_doc/1", &reader_key, Some(json!({"a": 1}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test]
async fn security_apis_need_security_on() {
    let server = TestServer::start().await;
    let response = server.get("/_security/_authenticate").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = response.json().await.expect("json");
    assert!(body["error"]["reason"].as_str().expect("reason").contains("--users"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn tls_serves_https_with_the_given_certificate() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let files = tempfile::tempdir().expect("temp dir");
    let (cert, key) = (files.path().join("cert.pem"), files.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key");

    // files that are wrong say so
    let error = server::tls::server_config(&cert, &cert).expect_err("a certificate is no key");
    assert!(error.contains("no PEM private key"), "{error}");
    let error = server::tls::server_config(&key, &key).expect_err("a key is no certificate");
    assert!(error.contains("no PEM certificate"), "{error}");
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let other_key = files.path().join("other.pem");
    std::fs::write(&other_key, other.signing_key.serialize_pem()).expect("key");
    let error = server::tls::server_config(&cert, &other_key).expect_err("mismatch");
    assert!(error.contains("does not fit"), "{error}");

    let tls = server::tls::server_config(&cert, &key).expect("tls");
    let config = ServerConfig { tls: Some(tls), ..ServerConfig::default() };
    let mut server =
        TestServer::start_in(tempfile::tempdir().expect("temp dir"), config, Some(certified.cert.der().clone())).await;
    // the certificate names localhost: call it by that name
    server.address = SocketAddr::from(([127, 0, 0, 1], server.address.port()));
    let url = format!("https://localhost:{}/", server.address.port());
    let client = client_builder()
        .no_proxy()
        .resolve("localhost", server.address)
        .tls_backend_preconfigured(client_tls(certified.cert.der().clone()))
        .build()
        .expect("client");
    let response = client.get(&url).send().await.expect("https request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["tagline"], "You Know, for Search");
    let bulk = client
        .post(format!("{url}_bulk"))
        .header("content-type", "application/x-ndjson")
        .body(EVENTS)
        .send()
        .await
        .expect("bulk");
    assert_eq!(bulk.status(), StatusCode::OK);
    // plain HTTP to the HTTPS port gets no HTTP answer
    let plain = client_builder().no_proxy().build().expect("client");
    assert!(plain.get(format!("http://{}/", server.address)).send().await.is_err());
    // a client that does not trust the certificate is refused
    let untrusting = client_builder()
        .no_proxy()
        .resolve("localhost", server.address)
        .tls_backend_preconfigured(client_tls(other.cert.der().clone()))
        .build()
        .expect("client");
    assert!(untrusting.get(&url).send().await.is_err());
    server.stop().await;
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = ServerConfig {
        header_read_timeout: Duration::from_millis(500),
        body_read_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(config).await;

    // half a request head: the connection is closed after the header read timeout
    let started = Instant::now();
    let mut slow = tokio::net::TcpStream::connect(server.address).await.expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.expect("write");
    // meanwhile the server answers others
    assert_eq!(server.get("/").await.status(), StatusCode::OK);
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buffer)).await;
    let elapsed = started.elapsed();
    assert!(read.is_ok(), "the connection is still open after 10 s");
    assert!(elapsed >= Duration::from_millis(450), "closed too early: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "closed too late: {elapsed:?}");

    // half a body: 408, and the connection closes
    let started = Instant::now();
    let mut slow = tokio::net::TcpStream::connect(server.address).await.expect("connect");
    let head =
        "POST /_bulk HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n";
    slow.write_all(format!("{head}{{\"create\":").as_bytes()).await.expect("write");
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buffer)).await;
    let elapsed = started.elapsed();
    assert!(read.is_ok(), "the connection is still open after 10 s");
    let response = String::from_utf8_lossy(&buffer);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("timeout_exception"), "{response}");
    assert!(elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(5), "{elapsed:?}");

    // an idle keep-alive connection is closed too
    let mut idle = tokio::net::TcpStream::connect(server.address).await.expect("connect");
    idle.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("write");
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), idle.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the idle connection is still open after 10 s");
    assert!(String::from_utf8_lossy(&buffer).starts_with("HTTP/1.1 200"));
    server.stop().await;
}

// ---- Kibana's detection engine API ----

/// A server managing detection rules (the `--rules` files `file_rules`), with its store and
/// registry, as `saker serve` builds it.
async fn start_detection(
    file_rules: Vec<detect::Rule>,
) -> (TestServer, Arc<store::Store>, Arc<detect::registry::RuleRegistry>) {
    let data = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(store::Store::open(data.path()).expect("store"));
    let (registry, _) = detect::registry::RuleRegistry::open(data.path(), file_rules).expect("registry");
    let registry = Arc::new(registry);
    let state = AppState::new(store.clone(), ServerConfig::default()).with_rules(registry.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (shutdown, stop) = oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(listener, state, async {
        let _ = stop.await;
    }));
    let client = client_builder().no_proxy().build().expect("client");
    let server = TestServer { address, scheme: "http", client, shutdown: Some(shutdown), serving, _data: data };
    (server, store, registry)
}

/// A Kibana API request (with `kbn-xsrf`); the status and JSON body.
async fn kibana(server: &TestServer, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = server.client.request(method, server.url(path)).header("kbn-xsrf", "true");
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
}

fn esql_rule(rule_id: &str, name: &str) -> Value {
    json!({
        "rule_id": rule_id, "name": name, "description": "Failed logins", "type": "esql", "language": "esql",
        "query": "FROM logs-test-default METADATA _id, _index, _version | WHERE event.outcome == \"failure\"",
        "severity": "high", "risk_score": 73, "interval": "1s", "from": "now-10m", "tags": ["Test", "Auth"],
    })
}

fn file_rule() -> detect::Rule {
    let obj = json!({"rule_id": "file-rule", "name": "From a file", "description": "d", "type": "query",
        "severity": "low", "risk_score": 21, "query": "event.outcome:success", "index": ["logs-*"], "interval": "1h"});
    let origin = detect::rule::Origin { path: "rules/file-rule.json".into(), line: None };
    detect::Rule::from_api(obj.as_object().expect("object"), origin).expect("rule")
}

#[tokio::test]
async fn detection_rules_create_read_find_patch_update_delete() {
    use reqwest::Method;
    let (server, _, _) = start_detection(vec![file_rule()]).await;
    let rules = "/api/detection_engine/rules";

    // Kibana's xsrf check
    let response = server.client.post(server.url(rules)).json(&esql_rule("r1", "One")).send().await.expect("post");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."})
    );

    let (status, created) = kibana(&server, Method::POST, rules, Some(esql_rule("r1", "Failed logins"))).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 36);
    assert_eq!(created["rule_id"], "r1");
    assert_eq!(created["immutable"], false);
    assert_eq!(created["rule_source"], json!({"type": "internal"}));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["max_signals"], 100);
    assert_eq!(created["revision"], 0);
    assert_eq!(created["created_by"], "_anonymous");
    assert!(created.get("execution_summary").is_none());

    let (status, body) = kibana(&server, Method::POST, rules, Some(esql_rule("r1", "Again"))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body, json!({"message": "rule_id: \"r1\" already exists", "status_code": 409}));
    let (status, body) = kibana(&server, Method::POST, rules, Some(json!({"name": "x", "type": "query"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "Bad Request");
    let message = body["message"].as_str().expect("message");
    assert!(message.starts_with("[request body]: ") && message.contains("description: is required"), "{message}");
    // a generated rule_id
    let mut no_rule_id = esql_rule("x", "Generated");
    no_rule_id.as_object_mut().expect("object").remove("rule_id");
    let (status, generated) = kibana(&server, Method::POST, rules, Some(no_rule_id)).await;
    assert_eq!(status, StatusCode::OK, "{generated}");
    assert_eq!(generated["rule_id"].as_str().map(str::len), Some(36));

    let (status, read) = kibana(&server, Method::GET, &format!("{rules}?rule_id=r1"), None).await;
    assert_eq!((status, &read["id"]), (StatusCode::OK, &json!(id)));
    let (status, read) = kibana(&server, Method::GET, &format!("{rules}?id={id}"), None).await;
    assert_eq!((status, &read["rule_id"]), (StatusCode::OK, &json!("r1")));
    let (status, body) = kibana(&server, Method::GET, &format!("{rules}?rule_id=nope"), None).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"message": "rule_id: \"nope\" not found", "status_code": 404}))
    );
    let (status, body) = kibana(&server, Method::GET, rules, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], json!(["either \"id\" or \"rule_id\" must be set"]));

    // PATCH changes the given fields; PUT replaces, keeping enabled
    let (status, patched) =
        kibana(&server, Method::PATCH, rules, Some(json!({"rule_id": "r1", "name": "Renamed", "enabled": false})))
            .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        (&patched["name"], &patched["enabled"], &patched["revision"]),
        (&json!("Renamed"), &json!(false), &json!(1))
    );
    assert_eq!(patched["query"], esql_rule("r1", "")["query"]);
    let mut replacement = esql_rule("ignored", "Replaced");
    replacement["id"] = json!(id);
    replacement.as_object_mut().expect("object").remove("rule_id");
    replacement.as_object_mut().expect("object").remove("tags");
    let (status, updated) = kibana(&server, Method::PUT, rules, Some(replacement)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (&updated["rule_id"], &updated["name"], &updated["enabled"]),
        (&json!("r1"), &json!("Replaced"), &json!(false))
    );
    assert_eq!(updated["tags"], json!([]));

    // the file rule: immutable, only `enabled` changes
    let (status, body) =
        kibana(&server, Method::PATCH, rules, Some(json!({"rule_id": "file-rule", "name": "Mine now"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().expect("message").contains("immutable"), "{body}");
    let (status, body) =
        kibana(&server, Method::PATCH, rules, Some(json!({"rule_id": "file-rule", "enabled": false}))).await;
    assert_eq!((status, &body["enabled"], &body["immutable"]), (StatusCode::OK, &json!(false), &json!(true)));
    assert_eq!(body["rule_source"], json!({"type": "external", "is_customized": false}));
    let (status, _) = kibana(&server, Method::DELETE, &format!("{rules}?rule_id=file-rule"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // _find: filter, sort, pages
    let find = |query: &str| format!("{rules}/_find?{query}");
    let (status, page) =
        kibana(&server, Method::GET, &find("per_page=2&page=1&sort_field=name&sort_order=asc"), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!((&page["total"], &page["perPage"], &page["page"]), (&json!(3), &json!(2), &json!(1)));
    let names: Vec<&str> = page["data"].as_array().expect("data").iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["From a file", "Generated"]);
    let (_, page) = kibana(
        &server,
        Method::GET,
        &find("filter=alert.attributes.tags:%22Auth%22%20and%20alert.attributes.enabled:true"),
        None,
    )
    .await;
    let names: Vec<&str> = page["data"].as_array().expect("data").iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["Generated"]);
    let (status, body) = kibana(&server, Method::GET, &find("sort_field=name"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], json!(["when \"sort_order\" and \"sort_field\" must exist together or not at all"]));
    let (status, body) = kibana(&server, Method::GET, &find("filter=alert.attributes.params.note:x"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().expect("message").contains("cannot be filtered on"), "{body}");

    let (status, deleted) = kibana(&server, Method::DELETE, &format!("{rules}?id={id}"), None).await;
    assert_eq!((status, &deleted["rule_id"]), (StatusCode::OK, &json!("r1")));
    let (status, _) = kibana(&server, Method::GET, &format!("{rules}?id={id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

/// A multipart form body with one file field.
fn multipart_file(filename: &str, content: &str) -> (String, String) {
    let boundary = "saker-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn import(server: &TestServer, query: &str, filename: &str, ndjson: &str) -> (StatusCode, Value) {
    let (content_type, body) = multipart_file(filename, ndjson);
    let response = server
        .client
        .post(server.url(&format!("/api/detection_engine/rules/_import{query}")))
        .header("kbn-xsrf", "true")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("import");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn detection_rules_import_and_bulk_actions() {
    use reqwest::Method;
    let (server, _, registry) = start_detection(vec![file_rule()]).await;
    let lines = [
        esql_rule("i1", "Imported one").to_string(),
        esql_rule("i2", "Imported two").to_string(),
        esql_rule("i2", "Imported two, again").to_string(),
        json!({"name": "broken", "rule_id": "i3", "type": "esql"}).to_string(),
        json!({"exported_count": 3, "missing_rules": []}).to_string(),
    ];
    let ndjson = lines.join("\n");
    let (status, body) = import(&server, "", "rules.json", &ndjson).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"message": "Invalid file extension .json", "status_code": 400}))
    );
    let (status, body) = import(&server, "", "rules.ndjson", &ndjson).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["success"], &body["success_count"], &body["rules_count"]), (&json!(false), &json!(2), &json!(4)));
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{body}");
    assert_eq!(
        errors[0],
        json!({"rule_id": "i2", "error": {"status_code": 400, "message": "More than one rule with rule-id: \"i2\" found"}})
    );
    assert_eq!(errors[1]["rule_id"], "i3");
    assert_eq!(
        registry.get(&detect::registry::Selector::RuleId("i2".into())).map(|e| e.rule.name),
        Some("Imported two, again".into())
    );
    // again: conflicts, unless overwriting
    let (_, body) = import(&server, "", "rules.ndjson", &lines[0]).await;
    assert_eq!(
        body["errors"][0]["error"],
        json!({"status_code": 409, "message": "Rule with this rule_id already exists"})
    );
    let (_, body) = import(&server, "?overwrite=true", "rules.ndjson", &lines[0]).await;
    assert_eq!((&body["success"], &body["success_count"]), (&json!(true), &json!(1)), "{body}");

    // bulk actions: by query, by ids, with failures
    let bulk = "/api/detection_engine/rules/_bulk_action";
    let (status, body) = kibana(
        &server,
        Method::POST,
        bulk,
        Some(json!({"action": "disable", "query": "alert.attributes.name: imported"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["attributes"]["summary"], json!({"failed": 0, "skipped": 0, "succeeded": 2, "total": 2}));
    assert_eq!(body["rules_count"], 2);
    assert!(
        body["attributes"]["results"]["updated"].as_array().expect("updated").iter().all(|r| r["enabled"] == false)
    );
    let i1 = registry.get(&detect::registry::Selector::RuleId("i1".into())).expect("i1").rule.id;
    let file_id = registry.get(&detect::registry::Selector::RuleId("file-rule".into())).expect("file").rule.id;
    let (status, body) =
        kibana(&server, Method::POST, bulk, Some(json!({"action": "delete", "ids": [i1, file_id, "missing"]}))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["message"], "Bulk edit partially failed");
    assert_eq!(body["attributes"]["summary"], json!({"failed": 2, "skipped": 0, "succeeded": 1, "total": 3}));
    assert_eq!(body["attributes"]["results"]["deleted"][0]["rule_id"], "i1");
    let errors = body["attributes"]["errors"].as_array().expect("errors");
    assert!(
        errors.iter().any(|e| e["message"] == "Rule not found" && e["rules"] == json!([{"id": "missing"}])),
        "{body}"
    );
    let (status, body) = kibana(&server, Method::POST, bulk, Some(json!({"action": "export", "query": ""}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().expect("message").contains("[export] is not supported"), "{body}");
    let (status, body) =
        kibana(&server, Method::POST, bulk, Some(json!({"action": "enable", "ids": ["a"], "query": "x"}))).await;
    assert_eq!(
        (status, &body["message"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("Both query and ids are sent. Define either ids or query in request payload.")
        )
    );
    assert_eq!(registry.entries().len(), 2, "the file rule and i2 remain");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_rules_run_on_schedule_and_alerts_change_status() {
    use reqwest::Method;
    let (server, store, registry) = start_detection(Vec::new()).await;
    let recent = |minutes: i64| detect::datemath::iso(chrono::Utc::now() - chrono::Duration::minutes(minutes));
    let mut events = String::new();
    for (i, (outcome, user)) in [("failure", "alice"), ("failure", "bob"), ("success", "carol")].iter().enumerate() {
        events.push_str(&format!("{{\"create\":{{\"_index\":\"logs-test-default\",\"_id\":\"e{i}\"}}}}\n"));
        events.push_str(&format!(
            "{{\"@timestamp\":\"{}\",\"event\":{{\"outcome\":\"{outcome}\"}},\"user\":{{\"name\":\"{user}\"}}}}\n",
            recent(2)
        ));
    }
    assert_eq!(server.bulk(&events).await["errors"], false);

    // the scheduler, as saker serve runs it, reads the registry every round
    let backend = detect::StoreBackend::new(store.clone()).expect("backend");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let rules = registry.clone();
    let scheduler = tokio::spawn(async move {
        let mut engine = detect::Engine::new(backend);
        detect::live::run(&mut engine, || rules.snapshot(), stopped, |_, _| {}).await;
    });

    let (status, created) =
        kibana(&server, Method::POST, "/api/detection_engine/rules", Some(esql_rule("sched", "Failed logins"))).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let search = json!({"query": {"bool": {"filter": [{"term": {"kibana.alert.rule.rule_id": "sched"}}]}}, "size": 10,
        "sort": [{"user.name": "asc"}]});
    let started = std::time::Instant::now();
    let hits = loop {
        let (status, body) =
            kibana(&server, Method::POST, "/api/detection_engine/signals/search", Some(search.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["hits"]["total"]["value"] == 2 {
            break body["hits"]["hits"].as_array().expect("hits").clone();
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "no alerts after 20 s: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(hits[0]["_index"], ".alerts-security.alerts-default");
    assert_eq!(hits[0]["_source"]["user.name"], "alice");
    assert_eq!(hits[0]["_source"]["kibana.alert.workflow_status"], "open");
    assert_eq!(hits[0]["_source"]["kibana.alert.rule.uuid"], created["id"]);
    let (_, read) = kibana(&server, Method::GET, "/api/detection_engine/rules?rule_id=sched", None).await;
    let last = &read["execution_summary"]["last_execution"];
    assert_eq!((&last["status"], &last["status_order"]), (&json!("succeeded"), &json!(0)), "{read}");

    // close alice's alert by id, then acknowledge the rest by query
    let alice = hits[0]["_id"].as_str().expect("id").to_string();
    let (status, body) = kibana(
        &server,
        Method::POST,
        "/api/detection_engine/signals/status",
        Some(json!({"signal_ids": [alice], "status": "closed", "reason": "false_positive"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["updated"], &body["total"], &body["failures"]), (&json!(1), &json!(1), &json!([])));
    let (_, body) = kibana(&server, Method::POST, "/api/detection_engine/signals/status",
        Some(json!({"query": {"bool": {"must_not": {"term": {"kibana.alert.workflow_status": "closed"}}}}, "status": "acknowledged"}))).await;
    assert_eq!(body["updated"], 1, "{body}");
    let (_, body) = kibana(&server, Method::POST, "/api/detection_engine/signals/search", Some(json!({
        "query": {"term": {"kibana.alert.workflow_status": "closed"}}, "_source": ["kibana.alert.workflow*", "user.name"]}))).await;
    assert_eq!(body["hits"]["total"]["value"], 1, "{body}");
    let source = &body["hits"]["hits"][0]["_source"];
    assert_eq!(
        (&source["user.name"], &source["kibana.alert.workflow_reason"]),
        (&json!("alice"), &json!("false_positive"))
    );
    assert!(source["kibana.alert.workflow_status_updated_at"].is_string(), "{source}");
    assert!(source.get("kibana.alert.rule.name").is_none(), "_source filtering");
    let (status, body) = kibana(
        &server,
        Method::POST,
        "/api/detection_engine/signals/search",
        Some(json!({"query": {"match": {"user.name": "alice"}}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().expect("message").contains("[match] query is not supported"), "{body}");

    // a rule disabled through the API stops running
    let (_, disabled) = kibana(
        &server,
        Method::PATCH,
        "/api/detection_engine/rules",
        Some(json!({"rule_id": "sched", "enabled": false})),
    )
    .await;
    assert_eq!(disabled["enabled"], false);
    assert!(registry.snapshot().iter().all(|r| !r.enabled));
    let _ = stop.send(true);
    scheduler.await.expect("scheduler");
    server.stop().await;
}

#[tokio::test]
async fn detection_api_routes_are_classified_for_roles() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start_secure(data).await;
    let call = |method: reqwest::Method, path: &str, user: &str| {
        server
            .client
            .request(method, server.url(path))
            .header("authorization", basic(user))
            .header("kbn-xsrf", "1")
            .send()
    };
    // a viewer reads rules and searches alerts (this server manages no rules: Kibana's 404 shape)
    let response = call(reqwest::Method::GET, "/api/detection_engine/rules/_find", "reader").await.expect("find");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = call(reqwest::Method::POST, "/api/detection_engine/rules", "reader").await.expect("create");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response =
        call(reqwest::Method::POST, "/api/detection_engine/signals/status", "shipper").await.expect("status");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = call(reqwest::Method::POST, "/api/detection_engine/rules", "admin").await.expect("create");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

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
        let data = tempfile::tempdir().expect("temp dir");
        let store = store::Store::open(data.path()).expect("store");
        let state = AppState::new(Arc::new(store), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (shutdown, stop) = oneshot::channel::<()>();
        let serving = tokio::spawn(server::serve(listener, state, async {
            let _ = stop.await;
        }));
        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        TestServer { address, client, shutdown: Some(shutdown), serving, _data: data }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
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

    async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let result = tokio::time::timeout(std::time::Duration::from_secs(10), &mut self.serving).await;
        assert!(matches!(result, Ok(Ok(Ok(())))), "the server did not stop cleanly: {result:?}");
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
    assert_eq!(body["values"], json!([["first"], ["second"]]));
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
    let refused =
        reqwest::Client::builder().no_proxy().build().expect("client").get(format!("http://{address}/")).send().await;
    assert!(refused.is_err(), "the server still answers after shutdown");
}

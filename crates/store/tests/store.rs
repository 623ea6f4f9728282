//! The store end to end: ingest, ES|QL over buffer and segments, restart recovery, bad input,
//! deletion, index templates, compaction and retention, and the kill -9 test. One test binary
//! (each links DataFusion).

use esql::QueryOptions;
use esql::catalog::Catalog;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{Store, StoreOptions};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// The query's result as Elastic's JSON body (`columns`, `values`).
fn query(catalog: Arc<dyn Catalog>, q: &str) -> Value {
    let output =
        runtime().block_on(esql::execute(catalog, q, &QueryOptions::default())).unwrap_or_else(|e| panic!("{q}: {e}"));
    esql::render::to_json(&output)
}

fn values(store: &Arc<Store>, q: &str) -> Vec<Value> {
    match query(store.clone(), q)["values"].take() {
        Value::Array(rows) => rows,
        other => panic!("{other}"),
    }
}

fn options() -> StoreOptions {
    StoreOptions { background_flush: false, ..StoreOptions::default() }
}

fn open(dir: &Path) -> Arc<Store> {
    Arc::new(Store::open_with(dir, options()).expect("open"))
}

fn ndjson(docs: &[Value]) -> String {
    docs.iter().map(|d| format!("{d}\n")).collect()
}

fn samples() -> Vec<ecs::samples::SampleDataset> {
    let data = ecs::samples::shared_data_dir();
    ecs::samples::sample_datasets(&data).unwrap_or_else(|e| panic!("{e} (set SAKER_SHARED_DATA)"))
}

fn flagship_query() -> String {
    let path = ecs::samples::shared_data_dir().join("rules/initial_access_azure_o365_with_network_alert.toml");
    let rule = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = rule.find("query = '''").expect("query") + "query = '''".len();
    let end = rule[start..].find("'''").expect("end of query") + start;
    rule[start..end].to_string()
}

#[test]
fn samples_give_the_same_results_as_the_ndjson_folder() {
    let datasets = samples();
    let folder = tempfile::tempdir().expect("tempdir");
    ecs::samples::write_ndjson(&datasets, folder.path()).expect("write");
    // an external alert from the same address as the successful sign-in, so the flagship rule fires
    let signin_ip = datasets[0].documents[2]["source"]["ip"].as_str().expect("source.ip").to_string();
    let alert = json!({
        "@timestamp": "2022-03-17T09:50:00.000Z",
        "kibana.alert.rule.rule_id": "eb079c62-4481-4d6e-9643-3ca499df7aaa",
        "event": {"kind": "signal", "category": ["network"]},
        "source": {"ip": signin_ip},
        "data_stream": {"dataset": "panw.panos"},
    });
    let alerts_index = ".alerts-security.alerts-default";
    std::fs::write(folder.path().join(format!("{alerts_index}.ndjson")), format!("{alert}\n")).expect("write");
    let loaded = ecs::ndjson::load_dir(folder.path()).expect("load");
    let reference: Arc<dyn Catalog> = Arc::new(loaded.catalog);

    let data = tempfile::tempdir().expect("tempdir");
    let store = open(data.path());
    for dataset in &datasets {
        // routed by their data_stream.* fields
        let report = store.ingest_ndjson(None, dataset.to_ndjson().as_bytes()).expect("ingest");
        let failures: Vec<_> = report.items.iter().filter(|i| i.result.is_err()).collect();
        assert!(failures.is_empty(), "{}: {failures:?}", dataset.index);
        assert_eq!(report.accepted(), dataset.documents.len());
    }
    store.ingest_ndjson(Some(alerts_index), format!("{alert}\n").as_bytes()).expect("ingest");
    assert_eq!(values(&store, &flagship_query()).len(), 1, "the flagship rule fires once");
    let queries = [
        flagship_query(),
        "FROM logs-* | STATS c = COUNT(*) BY data_stream.dataset | SORT data_stream.dataset".to_string(),
        "FROM logs-* | KEEP @timestamp, source.ip, event.category, event.outcome, data_stream.namespace \
         | SORT @timestamp, source.ip"
            .to_string(),
        "FROM logs-* | STATS n = COUNT(*), ips = COUNT_DISTINCT(source.ip), t = MAX(@timestamp) BY event.outcome \
         | SORT event.outcome"
            .to_string(),
        "FROM logs-o365.audit-* | EVAL ip = TO_IP(source.ip) | KEEP ip, event.category, event.action, o365.audit.UserId \
         | SORT ip"
            .to_string(),
    ];
    // VALUES lists values in the order rows are read, which Elastic leaves unspecified and which
    // changes once the buffer is flushed to time-sorted segments: multi-values compare as sets.
    fn normalized(mut v: Value) -> Value {
        if let Some(rows) = v.get_mut("values").and_then(|r| r.as_array_mut()) {
            for cell in rows.iter_mut().filter_map(|r| r.as_array_mut()).flatten() {
                if let Some(items) = cell.as_array_mut() {
                    items.sort_by_key(|x| x.to_string());
                }
            }
        }
        v
    }
    let check = |store: &Arc<Store>, when: &str| {
        for q in &queries {
            assert_eq!(normalized(query(store.clone(), q)), normalized(query(reference.clone(), q)), "{when}: {q}");
        }
    };
    check(&store, "buffered");
    store.flush().expect("flush");
    check(&store, "flushed");
    drop(store);
    let store = open(data.path());
    check(&store, "reopened");
    let indices: Vec<(String, u64)> = store.indices().into_iter().map(|i| (i.name, i.docs)).collect();
    assert_eq!(
        indices,
        vec![
            (alerts_index.to_string(), 1),
            ("logs-azure.signinlogs-default".to_string(), 3),
            ("logs-o365.audit-default".to_string(), 2),
            ("logs-panw.panos-default".to_string(), 1),
            ("logs-suricata.eve-default".to_string(), 1),
            ("logs-suricata.eve-ep".to_string(), 1),
        ]
    );
}

fn event(n: i64, extra: Value) -> Value {
    let mut doc = json!({
        "@timestamp": format!("2024-05-{:02}T10:00:{:02}.000Z", 1 + n % 3, n % 60),
        "event": {"sequence": n, "outcome": if n % 2 == 0 { "success" } else { "failure" }},
        "source": {"ip": format!("10.0.0.{}", n % 250)},
        "data_stream": {"type": "logs", "dataset": "test", "namespace": "default"},
    });
    if let (Value::Object(doc), Value::Object(extra)) = (&mut doc, extra) {
        doc.extend(extra);
    }
    doc
}

#[test]
fn documents_survive_restarts_and_flushes() {
    let data = tempfile::tempdir().expect("tempdir");
    let store = open(data.path());
    let first: Vec<Value> = (0..100).map(|n| event(n, json!({}))).collect();
    let report = store.ingest_ndjson(None, ndjson(&first).as_bytes()).expect("ingest");
    assert_eq!(report.accepted(), 100);
    let ids: Vec<String> = report.items.iter().filter_map(|i| i.id.clone()).collect();
    assert_eq!(ids.len(), 100);
    // acknowledged = searchable
    assert_eq!(values(&store, "FROM logs-test-default | STATS c = COUNT(*)"), vec![json!([100])]);
    drop(store);

    // a crash without flush: the log has it all
    let store = open(data.path());
    assert_eq!(store.recovery().documents, 100);
    assert_eq!(values(&store, "FROM logs-test-default | STATS c = COUNT(*)"), vec![json!([100])]);
    let q = "FROM logs-test-default METADATA _id, _index, _version | WHERE event.sequence == 7 | KEEP _id, _index, _version";
    assert_eq!(values(&store, q), vec![json!([ids[7], "logs-test-default", 1])]);
    store.flush().expect("flush");
    let second: Vec<Value> = (100..150).map(|n| event(n, json!({"extra": {"field": n}}))).collect();
    store.ingest_ndjson(None, ndjson(&second).as_bytes()).expect("ingest");
    drop(store);

    let store = open(data.path());
    assert_eq!(store.recovery().documents, 50, "only the records after the flush are replayed");
    let q = "FROM logs-test-default | STATS c = COUNT(*), d = COUNT_DISTINCT(event.sequence), x = COUNT(extra.field)";
    assert_eq!(values(&store, q), vec![json!([150, 150, 50])]);
    assert_eq!(
        values(&store, "FROM logs-test-default METADATA _id | WHERE event.sequence == 7 | KEEP _id"),
        vec![json!([ids[7]])]
    );
    // segments are partitioned by day
    let days: Vec<String> = std::fs::read_dir(data.path().join("indices/logs-test-default/segments"))
        .expect("segments")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(days.len(), 3, "{days:?}");
    store.flush().expect("flush");
    let wal_files = std::fs::read_dir(data.path().join("wal"))
        .expect("wal")
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name() != "spare"))
        .count();
    assert_eq!(wal_files, 1, "flushed log files are removed (but for the spare)");
    let stats = &store.indices()[0];
    assert_eq!((stats.docs, stats.buffered_docs, stats.segments), (150, 0, 6));
    assert_eq!(stats.min_time, Some(1_714_557_600_000));
    // time filters prune segments and still give the right answer
    let q = "FROM logs-test-default | WHERE @timestamp >= \"2024-05-02T00:00:00Z\" AND @timestamp < \"2024-05-03T00:00:00Z\" | STATS c = COUNT(*)";
    assert_eq!(values(&store, q), vec![json!([50])]);
    // a second process cannot open the folder
    assert!(matches!(Store::open_with(data.path(), options()), Err(store::StoreError::Locked { .. })));
}

#[test]
fn the_mapping_grows_across_segments() {
    let data = tempfile::tempdir().expect("tempdir");
    let store = open(data.path());
    let docs = [json!({"@timestamp": "2024-01-01T00:00:00Z", "tags": "a", "n": 1})];
    store.ingest_ndjson(Some("logs-grow-default"), ndjson(&docs).as_bytes()).expect("ingest");
    store.flush().expect("flush");
    // `tags` becomes multi-valued, `m` appears; the first segment is adapted when read
    let docs = [
        json!({"@timestamp": "2024-01-02T00:00:00Z", "tags": ["b", "c"], "n": 2, "m": "x"}),
        json!({"@timestamp": "2024-01-02T00:00:01Z", "n": 3}),
    ];
    store.ingest_ndjson(Some("logs-grow-default"), ndjson(&docs).as_bytes()).expect("ingest");
    let q = "FROM logs-grow-default | SORT n | KEEP n, tags, m, data_stream.dataset";
    let expected =
        vec![json!([1, "a", null, "grow"]), json!([2, ["b", "c"], "x", "grow"]), json!([3, null, null, "grow"])];
    assert_eq!(values(&store, q), expected);
    store.flush().expect("flush");
    assert_eq!(values(&store, q), expected);
    assert_eq!(
        values(&store, "FROM logs-grow-default | MV_EXPAND tags | STATS c = COUNT(*) BY tags | SORT tags").len(),
        4
    );
    let mapping = store.mapping("logs-grow-default").expect("mapping");
    assert!(mapping.fields["tags"].multi);
    assert_eq!(mapping.fields["n"].mapping, "long");
    assert_eq!(mapping.fields["data_stream.dataset"].value.as_deref(), Some("grow"));
}

struct BadCase {
    name: &'static str,
    input: Vec<u8>,
    bulk: bool,
    /// (line, error type) of each refused item
    errors: Vec<(usize, &'static str)>,
    /// documents stored
    accepted: usize,
}

#[test]
fn bad_input_costs_only_the_bad_documents() {
    let good = |n: i64| event(n, json!({})).to_string();
    let cases = vec![
        BadCase {
            name: "truncated JSON",
            input: format!("{}\n{{\"@timestamp\": \"2024-05-01T00:00:00Z\", \"a\": \n{}\n", good(1), good(2)).into_bytes(),
            bulk: false,
            errors: vec![(2, "document_parsing_exception")],
            accepted: 2,
        },
        BadCase {
            name: "wrong types for mapped fields are ignored, the document kept",
            input: format!("{}\n{}\n", good(1), event(2, json!({"source": {"ip": "not-an-ip", "port": "eighty"}})))
                .into_bytes(),
            bulk: false,
            errors: vec![],
            accepted: 2,
        },
        BadCase {
            name: "a value where an object is mapped",
            input: format!("{}\n{}\n", good(1), event(2, json!({"source": "10.0.0.1"}))).into_bytes(),
            bulk: false,
            errors: vec![(2, "document_parsing_exception")],
            accepted: 1,
        },
        BadCase {
            name: "a constant that differs from the data stream's",
            input: format!(
                "{{\"create\":{{}}}}\n{}\n{{\"create\":{{\"_index\":\"logs-test-default\"}}}}\n{}\n",
                good(1),
                event(2, json!({"data_stream": {"type": "logs", "dataset": "other", "namespace": "default"}}))
            )
            .into_bytes(),
            bulk: true,
            errors: vec![(4, "document_parsing_exception")],
            accepted: 1,
        },
        BadCase {
            name: "missing and malformed @timestamp in a data stream",
            input: format!(
                "{}\n{{\"message\": \"no time\"}}\n{{\"@timestamp\": \"yesterday\"}}\n{{\"@timestamp\": [1, 2]}}\n",
                good(1)
            )
            .into_bytes(),
            bulk: false,
            errors: vec![(2, "illegal_argument_exception"), (3, "document_parsing_exception"), (4, "illegal_argument_exception")],
            accepted: 1,
        },
        BadCase {
            name: "huge line",
            input: format!("{}\n{{\"message\": \"{}\"}}\n{}\n", good(1), "x".repeat(3 << 20), good(2)).into_bytes(),
            bulk: false,
            errors: vec![(2, "document_too_large_exception")],
            accepted: 2,
        },
        BadCase {
            name: "invalid UTF-8",
            input: [good(1).as_bytes(), b"\n{\"message\": \"\xff\xfe\"}\n", good(2).as_bytes()].concat(),
            bulk: false,
            errors: vec![(2, "document_parsing_exception")],
            accepted: 2,
        },
        BadCase {
            name: "metadata field in the source",
            input: format!("{}\n{}\n", event(1, json!({"_id": "x"})), good(2)).into_bytes(),
            bulk: false,
            errors: vec![(1, "document_parsing_exception")],
            accepted: 1,
        },
        BadCase {
            name: "bulk action without source",
            input: format!("{{\"create\":{{}}}}\n{}\n{{\"create\":{{}}}}\n{{\"create\":{{}}}}\n{}\n{{\"create\":{{}}}}\n", good(1), good(2))
                .into_bytes(),
            bulk: true,
            errors: vec![(3, "action_request_validation_exception"), (6, "action_request_validation_exception")],
            accepted: 2,
        },
        BadCase {
            name: "unknown and unsupported actions",
            input: format!(
                "{{\"upsert\":{{}}}}\n{}\n{{\"delete\":{{\"_id\":\"1\"}}}}\n{{\"create\":{{}}}}\n{}\n",
                good(1),
                good(2)
            )
            .into_bytes(),
            bulk: true,
            errors: vec![(1, "illegal_argument_exception"), (3, "illegal_argument_exception")],
            accepted: 1,
        },
        BadCase {
            name: "duplicate ids and index ops in a data stream",
            input: format!(
                "{{\"create\":{{\"_id\":\"a\"}}}}\n{}\n{{\"create\":{{\"_id\":\"a\"}}}}\n{}\n{{\"index\":{{\"_id\":\"b\"}}}}\n{}\n{{\"index\":{{}}}}\n{}\n",
                good(1),
                good(2),
                good(3),
                good(4)
            )
            .into_bytes(),
            bulk: true,
            errors: vec![(4, "version_conflict_engine_exception"), (6, "illegal_argument_exception")],
            accepted: 2,
        },
        BadCase {
            name: "invalid index name",
            input: format!("{{\"create\":{{\"_index\":\"Bad Name\"}}}}\n{}\n{{\"create\":{{}}}}\n{}\n", good(1), good(2))
                .into_bytes(),
            bulk: true,
            errors: vec![(2, "invalid_index_name_exception")],
            accepted: 1,
        },
    ];
    for case in cases {
        let data = tempfile::tempdir().expect("tempdir");
        let options = StoreOptions { max_document_bytes: 1 << 20, ..options() };
        let store = Arc::new(Store::open_with(data.path(), options).expect("open"));
        let report = if case.bulk {
            store.ingest_bulk(None, &case.input).expect("ingest")
        } else {
            store.ingest_ndjson(None, &case.input).expect("ingest")
        };
        let errors: Vec<(usize, &str)> =
            report.items.iter().filter_map(|i| i.result.as_ref().err().map(|e| (i.line, e.kind))).collect();
        assert_eq!(errors, case.errors, "{}: {:#?}", case.name, report.items);
        assert_eq!(report.accepted(), case.accepted, "{}", case.name);
        let stored: u64 = store.indices().iter().map(|i| i.docs).sum();
        assert_eq!(stored, case.accepted as u64, "{}", case.name);
        // and they survive a restart
        drop(store);
        let store = open(data.path());
        let stored: u64 = store.indices().iter().map(|i| i.docs).sum();
        assert_eq!(stored, case.accepted as u64, "{} after reopening", case.name);
    }
}

#[test]
fn malformed_values_are_recorded_in_ignored() {
    let data = tempfile::tempdir().expect("tempdir");
    let store = open(data.path());
    let docs = [event(1, json!({"source": {"ip": "nope", "port": 80}})), event(2, json!({}))];
    store.ingest_ndjson(None, ndjson(&docs).as_bytes()).expect("ingest");
    let q = "FROM logs-test-default METADATA _ignored | SORT event.sequence | KEEP source.ip, source.port, _ignored";
    assert_eq!(values(&store, q), vec![json!([null, 80, "source.ip"]), json!(["10.0.0.2", null, null])]);
    // the bulk response shape
    let report = store.ingest_bulk(Some("plain"), b"{\"index\":{\"_id\":\"1\"}}\n{\"a\":1}\n").expect("ingest");
    assert_eq!(
        report.to_bulk_json(3),
        json!({"took": 3, "errors": false, "items": [{"index": {"_index": "plain", "_id": "1", "status": 201, "_version": 1, "result": "created"}}]})
    );
    assert_eq!(values(&store, "FROM plain METADATA _id | KEEP _id, a"), vec![json!(["1", 1])]);
    // hidden indices only when named
    store
        .ingest_ndjson(Some(".alerts-security.alerts-default"), b"{\"kibana.alert.rule.rule_id\":\"r\"}\n")
        .expect("ingest");
    assert_eq!(values(&store, "FROM * | STATS c = COUNT(*)"), vec![json!([3])]);
    assert_eq!(values(&store, "FROM .alerts-* | KEEP kibana.alert.rule.rule_id"), vec![json!(["r"])]);
}

#[test]
fn files_with_progress_and_concurrent_writers() {
    let data = tempfile::tempdir().expect("tempdir");
    let inputs = tempfile::tempdir().expect("tempdir");
    let plain = inputs.path().join("events.ndjson");
    std::fs::write(&plain, ndjson(&(0..500).map(|n| event(n, json!({}))).collect::<Vec<_>>())).expect("write");
    let gz = inputs.path().join("bulk.ndjson.gz");
    let bulk: String = (500..700).map(|n| format!("{{\"create\":{{}}}}\n{}\n", event(n, json!({})))).collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, bulk.as_bytes()).expect("gzip");
    std::fs::write(&gz, encoder.finish().expect("gzip")).expect("write");
    let missing = inputs.path().join("missing.ndjson");
    let options = StoreOptions { batch_bytes: 16 << 10, ..options() };
    let store = Arc::new(Store::open_with(data.path(), options).expect("open"));
    let mut calls = 0;
    let mut last = 0;
    let report = store
        .ingest_files(&[plain.clone(), gz.clone(), missing.clone()], None, |p| {
            calls += 1;
            assert!(p.bytes_read >= last && p.bytes_read <= p.total_bytes);
            last = p.bytes_read;
        })
        .expect("ingest");
    assert!(calls > 2, "progress after every batch ({calls})");
    assert_eq!((report.accepted(), report.failed()), (700, 0));
    assert!(report.files[2].error.is_some());

    // concurrent writers share fsyncs and lose nothing
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for k in 0..25 {
                    let n = 1000 + t * 100 + k;
                    let report = store.ingest_ndjson(None, event(n, json!({})).to_string().as_bytes()).expect("ingest");
                    assert_eq!(report.accepted(), 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let q = "FROM logs-* | STATS c = COUNT(*), d = COUNT_DISTINCT(event.sequence)";
    assert_eq!(values(&store, q), vec![json!([800, 800])]);
}

/// A catalog of snapshots taken now: queries over it see the indices as they were, whatever
/// happens to the store meanwhile.
fn frozen(store: &Store, names: &[&str]) -> Arc<dyn Catalog> {
    let mut catalog = esql::catalog::MemCatalog::new();
    for name in names {
        catalog.add(Arc::new(store.snapshot(name).expect("snapshot")));
    }
    Arc::new(catalog)
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(days) = std::fs::read_dir(dir.join("segments")) else { return out };
    for day in days.flatten() {
        for file in std::fs::read_dir(day.path()).into_iter().flatten().flatten() {
            out.push(file.path());
        }
    }
    out.sort();
    out
}

#[test]
fn deleted_indices_stay_deleted_across_flushes_restarts_and_replays() {
    let data = tempfile::tempdir().expect("tempdir");
    let store = open(data.path());
    let events: Vec<Value> = (0..30).map(|n| event(n, json!({}))).collect();
    store.ingest_ndjson(None, ndjson(&events).as_bytes()).expect("ingest");
    store.ingest_bulk(Some("notes"), b"{\"index\":{\"_id\":\"a\"}}\n{\"title\":\"one\"}\n").expect("ingest");
    store.ingest_ndjson(Some(".hidden-x"), b"{\"k\":1}\n").expect("ingest");
    store.flush().expect("flush");
    // more after the flush: in the log and the buffer only
    store.ingest_ndjson(None, ndjson(&[event(100, json!({}))]).as_bytes()).expect("ingest");
    store.ingest_bulk(Some("notes"), b"{\"index\":{\"_id\":\"b\"}}\n{\"title\":\"two\"}\n").expect("ingest");
    let before = frozen(&store, &["notes"]);

    assert!(store.delete_index("logs-test-default").expect("delete data stream"));
    assert!(store.delete_index("notes").expect("delete index"));
    assert!(store.delete_index(".hidden-x").expect("delete hidden"));
    assert!(!store.delete_index("notes").expect("delete again"), "already gone");
    assert!(!store.delete_index("never-was").expect("delete missing"));
    assert!(store.indices().is_empty());
    assert!(runtime().block_on(esql::execute(store.clone(), "FROM notes", &QueryOptions::default())).is_err());
    // a query that started before the deletion still reads what it saw
    assert_eq!(query(before.clone(), "FROM notes | STATS c = COUNT(*)")["values"], json!([[2]]));
    drop(before);

    // the log still holds the deleted documents: replaying it must not bring them back
    drop(store);
    let store = open(data.path());
    assert!(store.indices().is_empty(), "{:?}", store.indices());
    // the same name again is a new, empty index; its old `_id`s are free
    let report =
        store.ingest_bulk(Some("notes"), b"{\"create\":{\"_id\":\"a\"}}\n{\"title\":\"three\"}\n").expect("ingest");
    assert_eq!(report.accepted(), 1, "{report:?}");
    assert_eq!(values(&store, "FROM notes METADATA _id | KEEP _id, title"), vec![json!(["a", "three"])]);
    drop(store);
    let store = open(data.path());
    assert_eq!(values(&store, "FROM notes | KEEP title"), vec![json!(["three"])]);
    // a flush drops the log and the tombstones; only the new index's folder is left
    store.flush().expect("flush");
    let mut folders: Vec<String> = std::fs::read_dir(data.path().join("indices"))
        .expect("indices")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    folders.sort();
    assert_eq!(folders, vec!["notes".to_string()]);
    assert_eq!(segment_files(&data.path().join("indices/notes")).len(), 1);
    drop(store);
    let store = open(data.path());
    assert_eq!(store.recovery().documents, 0);
    assert_eq!(values(&store, "FROM notes | KEEP title"), vec![json!(["three"])]);
    assert_eq!(store.indices().len(), 1);
}

#[test]
fn merges_read_a_bounded_number_of_rows() {
    let data = tempfile::tempdir().expect("tempdir");
    let options = StoreOptions { compaction_min_segments: 2, compaction_max_rows: 25, ..options() };
    let store = Arc::new(Store::open_with(data.path(), options).expect("open"));
    for round in 0..10i64 {
        // 10 documents a flush, all of one day
        let docs: Vec<Value> = (0..10).map(|k| event(round * 30 + k * 3, json!({}))).collect();
        store.ingest_ndjson(None, ndjson(&docs).as_bytes()).expect("ingest");
        store.flush().expect("flush");
    }
    let count = "FROM logs-test-default | STATS c = COUNT(*), s = SUM(event.sequence)";
    let before = query(store.clone(), count);
    assert_eq!(store.indices()[0].segments, 10);
    // at most 25 rows a merge: two segments of 10 each time (a third would make 30), and the
    // merged segments of 20 rows are no longer small
    let mut merged = 0;
    for _ in 0..10 {
        let report = store.compact().expect("compact");
        if report.merges == 0 {
            break;
        }
        assert_eq!((report.merges, report.segments_merged), (1, 2), "{report:?}");
        merged += 1;
    }
    assert_eq!(merged, 5);
    assert_eq!(store.indices()[0].segments, 5);
    assert_eq!(query(store.clone(), count), before);
}

#[test]
fn small_flushes_are_merged_with_identical_results() {
    let data = tempfile::tempdir().expect("tempdir");
    let options = StoreOptions { compaction_min_segments: 4, ..options() };
    let store = Arc::new(Store::open_with(data.path(), options.clone()).expect("open"));
    for round in 0..24i64 {
        // the mapping grows on the way: a new field, and a field that becomes multi-valued
        let docs: Vec<Value> = (0..10)
            .map(|k| {
                let n = round * 10 + k;
                let extra = match round {
                    r if r >= 16 => json!({"tags": ["a", format!("t{}", n % 3)], "late": n}),
                    r if r >= 8 => json!({"tags": "a"}),
                    _ => json!({}),
                };
                event(n, extra)
            })
            .collect();
        store.ingest_ndjson(None, ndjson(&docs).as_bytes()).expect("ingest");
        store.flush().expect("flush");
    }
    let queries = [
        "FROM logs-test-default METADATA _id | SORT event.sequence | KEEP _id, @timestamp, event.sequence, event.outcome, source.ip, tags, late",
        "FROM logs-test-default | STATS c = COUNT(*), l = COUNT(late), s = SUM(event.sequence) BY event.outcome | SORT event.outcome",
        "FROM logs-test-default | WHERE @timestamp >= \"2024-05-02T00:00:00Z\" AND @timestamp < \"2024-05-03T00:00:00Z\" | STATS c = COUNT(*)",
        "FROM logs-test-default | MV_EXPAND tags | STATS c = COUNT(*) BY tags | SORT tags",
    ];
    let results: Vec<Value> = queries.iter().map(|q| query(store.clone(), q)).collect();
    let stats = store.indices()[0].clone();
    assert_eq!((stats.docs, stats.segments), (240, 72), "24 flushes of 3 days");
    let dir = data.path().join("indices/logs-test-default");
    let files_before = segment_files(&dir);
    let during = frozen(&store, &["logs-test-default"]);

    let report = store.compact().expect("compact");
    assert_eq!((report.merges, report.segments_merged), (3, 72), "{report:?}");
    assert_eq!(store.indices()[0].segments, 3);
    assert_eq!(store.indices()[0].docs, 240);
    for (q, expected) in queries.iter().zip(&results) {
        assert_eq!(&query(store.clone(), q), expected, "after merging: {q}");
        // a query holding the old segments still reads them
        assert_eq!(&query(during.clone(), q), expected, "old snapshot: {q}");
    }
    assert!(files_before.iter().all(|f| f.exists()), "retired files stay while a query may read them");
    drop(during);
    assert!(files_before.iter().all(|f| !f.exists()), "and go when it ends");
    assert_eq!(segment_files(&dir).len(), 3);
    // nothing more to merge
    assert_eq!(store.compact().expect("compact").merges, 0);
    drop(store);
    let store = open(data.path());
    for (q, expected) in queries.iter().zip(&results) {
        assert_eq!(&query(store.clone(), q), expected, "reopened: {q}");
    }
    // explicit ids are still known after the merge
    let conflict = store
        .ingest_bulk(
            None,
            format!(
                "{{\"create\":{{\"_index\":\"logs-test-default\",\"_id\":\"{}\"}}}}\n{}\n",
                results[0]["values"][0][0].as_str().expect("id"),
                event(1, json!({}))
            )
            .as_bytes(),
        )
        .expect("ingest");
    assert_eq!(conflict.failed(), 1);
    drop(store);

    // the background thread merges too
    let options = StoreOptions {
        background_maintenance: true,
        maintenance_interval: Duration::from_millis(20),
        compaction_min_segments: 2,
        ..options
    };
    let data = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open_with(data.path(), options).expect("open"));
    for n in 0..6 {
        // one day: one partition, six segments
        store.ingest_ndjson(None, ndjson(&[event(n * 3, json!({}))]).as_bytes()).expect("ingest");
        store.flush().expect("flush");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.indices()[0].segments > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(store.indices()[0].segments, 1, "{:?}", store.last_maintenance_error());
    assert_eq!(values(&store, "FROM logs-test-default | STATS c = COUNT(*)"), vec![json!([6])]);
}

#[test]
fn retention_deletes_whole_days_past_it_and_nothing_newer() {
    let data = tempfile::tempdir().expect("tempdir");
    let options = StoreOptions { default_retention: Some(Duration::from_secs(86_400)), ..options() };
    let store = Arc::new(Store::open_with(data.path(), options.clone()).expect("open"));
    let template = json!({
        "index_patterns": ["logs-ret*"],
        "priority": 200,
        "data_stream": {},
        "template": {"lifecycle": {"data_retention": "2d"}}
    });
    store.put_index_template("ret", &template, false).expect("template");
    // six days, four documents a day, in three data streams / indices
    let day = |d: i64, h: i64| format!("2024-05-{:02}T{:02}:00:00Z", d, h);
    let mut docs = String::new();
    for d in 1..=6 {
        for h in [0, 6, 12, 23] {
            docs.push_str(&format!("{}\n", json!({"@timestamp": day(d, h), "d": d})));
        }
    }
    for index in ["logs-ret-default", "plain", "logs-other-default"] {
        store.ingest_ndjson(Some(index), docs.as_bytes()).expect("ingest");
    }
    store.flush().expect("flush");
    // a lifecycle set afterwards, on a plain index
    assert!(
        store
            .set_lifecycle(
                "plain",
                Some(store::Lifecycle::from_json("x", &json!({"data_retention": "72h"})).expect("lifecycle"))
            )
            .expect("set")
    );
    assert!(!store.set_lifecycle("nope", None).expect("set"));
    // documents still in the buffer are not touched
    store
        .ingest_ndjson(Some("logs-ret-default"), format!("{}\n", json!({"@timestamp": day(1, 1), "d": 1})).as_bytes())
        .expect("ingest");

    let now = chrono::DateTime::parse_from_rfc3339("2024-05-07T12:00:00Z").expect("time").timestamp_millis();
    let report = store.apply_retention(now).expect("retention");
    // logs-ret-default: 2d before now is 05-05T12:00; days ending by then go (1st to 4th), the 5th stays
    // plain: 72h → 05-04T12:00, days 1 to 3 go
    // logs-other-default: the built-in template gives no lifecycle, the default does not apply
    assert_eq!(report.indices, vec!["logs-ret-default".to_string(), "plain".to_string()]);
    assert_eq!(report.documents_deleted, 16 + 12);
    let days =
        |store: &Arc<Store>, index: &str| values(store, &format!("FROM {index} | STATS c = COUNT(*) BY d | SORT d"));
    assert_eq!(days(&store, "logs-ret-default"), vec![json!([1, 1]), json!([4, 5]), json!([4, 6])]);
    assert_eq!(days(&store, "plain"), vec![json!([4, 4]), json!([4, 5]), json!([4, 6])]);
    assert_eq!(days(&store, "logs-other-default").len(), 6);
    // again: nothing more to delete; the buffered document goes once flushed
    assert_eq!(store.apply_retention(now).expect("retention").segments_deleted, 0);
    store.flush().expect("flush");
    assert_eq!(store.apply_retention(now).expect("retention").documents_deleted, 1);
    drop(store);
    let store = Arc::new(Store::open_with(data.path(), options).expect("open"));
    assert_eq!(days(&store, "logs-ret-default"), vec![json!([4, 5]), json!([4, 6])]);
    assert_eq!(days(&store, "plain"), vec![json!([4, 4]), json!([4, 5]), json!([4, 6])]);
    assert_eq!(store.effective_retention("plain"), Some(Duration::from_secs(72 * 3600)));
    // a data stream with a lifecycle but no retention of its own gets the store's default
    assert!(
        store
            .set_lifecycle("logs-other-default", Some(store::Lifecycle { enabled: true, data_retention: None }))
            .expect("set")
    );
    assert_eq!(store.effective_retention("logs-other-default"), Some(Duration::from_secs(86_400)));
    let report = store.apply_retention(now).expect("retention");
    assert_eq!(report.documents_deleted, 20, "days 1 to 5 of logs-other-default");
    assert_eq!(days(&store, "logs-other-default"), vec![json!([4, 6])]);
}

#[test]
fn index_templates_decide_what_new_indices_are() {
    let data = tempfile::tempdir().expect("tempdir");
    let store = open(data.path());
    let template = json!({
        "index_patterns": ["app-*"],
        "priority": 10,
        "data_stream": {},
        "template": {
            "settings": {"index.mapping.total_fields.limit": 6},
            "mappings": {"properties": {"code": {"type": "keyword"}, "http": {"properties": {"status": {"type": "integer"}}}}}
        }
    });
    store.put_index_template("app", &template, false).expect("put");
    let plain = json!({"index_patterns": ["logs-plain-*"], "priority": 200});
    store.put_index_template("plain-logs", &plain, false).expect("put");
    let err = store.put_index_template("app", &template, true).expect_err("create refuses to replace");
    assert_eq!(err.reason, "index template [app] already exists");

    // app-web: a data stream (create only, @timestamp required), `code` a keyword though numeric
    let report = store
        .ingest_ndjson(
            Some("app-web"),
            b"{\"@timestamp\":\"2024-05-01T00:00:00Z\",\"code\":200,\"http\":{\"status\":\"404\"},\"a\":1,\"b\":1,\"c\":1,\"d\":1}\n{\"code\":1}\n",
        )
        .expect("ingest");
    let errors: Vec<&str> = report.items.iter().filter_map(|i| i.result.as_ref().err().map(|e| e.kind)).collect();
    assert_eq!(errors, vec!["illegal_argument_exception"], "{report:?}");
    let settings = store.index_settings("app-web").expect("settings");
    assert!(settings.data_stream);
    assert_eq!(settings.template.as_deref(), Some("app"));
    let mapping = store.mapping("app-web").expect("mapping");
    assert_eq!(mapping.fields["code"].mapping, "keyword");
    assert_eq!(mapping.fields["http.status"].mapping, "integer");
    assert_eq!(mapping.fields["@timestamp"].mapping, "date");
    // the template's total fields limit of 6: @timestamp, code, http.status, then a, b and c; d is ignored
    let mapped: Vec<&str> = mapping.fields.keys().filter(|k| !k.starts_with('_')).map(String::as_str).collect();
    assert_eq!(mapped, vec!["@timestamp", "a", "b", "c", "code", "http.status"]);
    assert_eq!(values(&store, "FROM app-web | KEEP code, http.status"), vec![json!(["200", 404])]);
    // a plain index where the built-in template would make a data stream
    store.ingest_ndjson(Some("logs-plain-x"), b"{\"no\":\"timestamp\"}\n").expect("ingest");
    assert!(!store.index_settings("logs-plain-x").expect("settings").data_stream);
    assert!(store.index_settings("logs-other-x").is_none());

    // a changed template applies to new indices only; the log replays what the index was given
    let changed = json!({"index_patterns": ["app-*"], "priority": 10, "data_stream": {}, "template": {"mappings": {"properties": {"code": {"type": "long"}}}}});
    store.put_index_template("app", &changed, false).expect("put");
    drop(store);
    let store = open(data.path());
    assert_eq!(store.mapping("app-web").expect("mapping").fields["code"].mapping, "keyword");
    assert!(store.index_settings("app-web").expect("settings").data_stream);
    store.ingest_ndjson(Some("app-db"), b"{\"@timestamp\":\"2024-05-01T00:00:00Z\",\"code\":7}\n").expect("ingest");
    assert_eq!(store.mapping("app-db").expect("mapping").fields["code"].mapping, "long");
    // templates survive restarts; the one a data stream needs cannot be removed
    let names: Vec<String> = store.index_templates().into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec!["app".to_string(), "plain-logs".to_string()]);
    let err = store.delete_index_templates("app").expect_err("in use");
    assert!(err.reason.contains("in use by a data streams [app-db, app-web]"), "{}", err.reason);
    store.flush().expect("flush");
    drop(store);
    let store = open(data.path());
    assert_eq!(store.mapping("app-web").expect("mapping").fields["code"].mapping, "keyword");
    assert!(store.delete_index("app-web").expect("delete"));
    assert!(store.delete_index("app-db").expect("delete"));
    assert_eq!(
        store.delete_index_templates("*").expect("delete all"),
        vec!["app".to_string(), "plain-logs".to_string()]
    );
    assert!(store.index_templates().is_empty());
    drop(store);
    assert!(open(data.path()).index_templates().is_empty());
}

// ---- replacing and updating documents ------------------------------------------------------------

/// A bulk body of `index` actions: `(id, document)` each.
fn index_actions(docs: &[(&str, Value)]) -> String {
    docs.iter().map(|(id, doc)| format!("{}\n{doc}\n", json!({"index": {"_id": id}}))).collect()
}

/// Each item's `(_version, result)`, or its error type.
fn outcomes(report: &store::IngestReport) -> Vec<Value> {
    report
        .items
        .iter()
        .map(|i| match &i.result {
            Ok(v) => json!([v, i.result_name(), i.status()]),
            Err(e) => json!([e.kind, e.status]),
        })
        .collect()
}

const NOTES: &str = "FROM notes METADATA _id | SORT _id | KEEP _id, title, n";

#[test]
fn index_replaces_documents_in_the_buffer_and_in_segments() {
    let data = tempfile::tempdir().expect("tempdir");
    let store = open(data.path());
    let first = index_actions(&[
        ("a", json!({"title": "one", "n": 1})),
        ("b", json!({"title": "bee", "n": 2})),
        // the same id twice in one request: the second replaces the first
        ("c", json!({"title": "first", "n": 3})),
        ("c", json!({"title": "second"})),
    ]);
    let report = store.ingest_bulk(Some("notes"), first.as_bytes()).expect("ingest");
    assert_eq!(
        outcomes(&report),
        vec![
            json!([1, "created", 201]),
            json!([1, "created", 201]),
            json!([1, "created", 201]),
            json!([2, "updated", 200])
        ]
    );
    assert_eq!(report.to_bulk_json(0)["items"][3]["index"]["result"], json!("updated"));
    assert_eq!(
        values(&store, NOTES),
        vec![json!(["a", "one", 1]), json!(["b", "bee", 2]), json!(["c", "second", null])]
    );

    // in the buffer: the old row goes, fields the new document lacks go with it
    let report = store.ingest_bulk(Some("notes"), index_actions(&[("a", json!({"title": "two"}))]).as_bytes());
    assert_eq!(outcomes(&report.expect("ingest")), vec![json!([2, "updated", 200])]);
    assert_eq!(values(&store, NOTES)[0], json!(["a", "two", null]));
    // `create` still refuses an id that exists, with its current version
    let report =
        store.ingest_bulk(Some("notes"), b"{\"create\":{\"_id\":\"a\"}}\n{\"title\":\"x\"}\n").expect("ingest");
    let error = report.items[0].result.clone().expect_err("conflict");
    assert_eq!((error.kind, error.status), ("version_conflict_engine_exception", 409));
    assert!(error.reason.contains("current version [2]"), "{}", error.reason);

    // in a segment: the old row stays in the file, dead
    store.flush().expect("flush");
    let before = frozen(&store, &["notes"]);
    let report =
        store.ingest_bulk(Some("notes"), index_actions(&[("b", json!({"title": "bee2", "n": 20}))]).as_bytes());
    assert_eq!(outcomes(&report.expect("ingest")), vec![json!([2, "updated", 200])]);
    let expected = vec![json!(["a", "two", null]), json!(["b", "bee2", 20]), json!(["c", "second", null])];
    assert_eq!(values(&store, NOTES), expected);
    assert_eq!(values(&store, "FROM notes | STATS c = COUNT(*), s = SUM(n)"), vec![json!([3, 20])]);
    assert_eq!(values(&store, "FROM notes | WHERE n == 2 | STATS c = COUNT(*)"), vec![json!([0])]);
    assert_eq!(
        values(&store, "FROM notes | KEEP title | SORT title | LIMIT 2"),
        vec![json!(["bee2"]), json!(["second"])]
    );
    // a query that started before the replacement still sees the old version
    assert_eq!(query(before, "FROM notes METADATA _id | WHERE _id == \"b\" | KEEP title")["values"], json!([["bee"]]));
    // the new version flushed too, then replaced again: each segment hides only its old rows
    store.flush().expect("flush");
    assert_eq!(values(&store, NOTES), expected);
    let report = store.ingest_bulk(Some("notes"), index_actions(&[("b", json!({"title": "bee3"}))]).as_bytes());
    assert_eq!(outcomes(&report.expect("ingest")), vec![json!([3, "updated", 200])]);
    store.flush().expect("flush");
    let expected = vec![json!(["a", "two", null]), json!(["b", "bee3", null]), json!(["c", "second", null])];
    assert_eq!(values(&store, NOTES), expected);

    // hidden indices replace too
    store.ingest_bulk(Some(".hidden-notes"), index_actions(&[("h", json!({"v": 1}))]).as_bytes()).expect("ingest");
    let report = store.ingest_bulk(Some(".hidden-notes"), index_actions(&[("h", json!({"v": 2}))]).as_bytes());
    assert_eq!(outcomes(&report.expect("ingest")), vec![json!([2, "updated", 200])]);
    assert_eq!(values(&store, "FROM .hidden-notes | KEEP v"), vec![json!([2])]);
}

#[test]
fn replaced_documents_stay_replaced_across_merges_and_restarts() {
    let data = tempfile::tempdir().expect("tempdir");
    let options = StoreOptions { compaction_min_segments: 2, ..options() };
    let store = Arc::new(Store::open_with(data.path(), options.clone()).expect("open"));
    let doc = |round: i64, k: i64| json!({"@timestamp": "2024-05-01T10:00:00Z", "title": format!("r{round}"), "n": k});
    // four rounds, each replacing the ten documents of the one before, each flushed
    for round in 0..4 {
        let docs: Vec<(String, Value)> = (0..10).map(|k| (format!("d{k}"), doc(round, k))).collect();
        let docs: Vec<(&str, Value)> = docs.iter().map(|(id, d)| (id.as_str(), d.clone())).collect();
        let report = store.ingest_bulk(Some("notes"), index_actions(&docs).as_bytes()).expect("ingest");
        assert!(report.items.iter().all(|i| i.result == Ok(round as u64 + 1)), "{report:?}");
        store.flush().expect("flush");
    }
    let q = "FROM notes | STATS c = COUNT(*), d = COUNT_DISTINCT(n), t = VALUES(title)";
    assert_eq!(values(&store, q), vec![json!([10, 10, "r3"])]);
    let manifest = |dir: &Path| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join("indices/notes/manifest.json")).expect("manifest"))
            .expect("json")
    };
    let rows = |m: &Value| {
        m["segments"].as_array().expect("segments").iter().map(|s| s["rows"].as_u64().unwrap_or(0)).sum::<u64>()
    };
    assert_eq!(rows(&manifest(data.path())), 40, "the old rows are in the segments until merged");
    assert_eq!(manifest(data.path())["replaced"]["d3"], json!({"seq": 4, "version": 4}));

    // a merge drops the dead rows
    let report = store.compact().expect("compact");
    assert_eq!((report.merges, report.segments_merged), (1, 4), "{report:?}");
    assert_eq!(rows(&manifest(data.path())), 10);
    assert_eq!(values(&store, q), vec![json!([10, 10, "r3"])]);

    // replaced in the buffer only (the log), then a crash: the replay replaces again
    let docs: Vec<(&str, Value)> = vec![("d0", doc(4, 0)), ("d1", doc(4, 1))];
    let report = store.ingest_bulk(Some("notes"), index_actions(&docs).as_bytes()).expect("ingest");
    assert!(report.items.iter().all(|i| i.result == Ok(5)), "{report:?}");
    drop(store);
    let store = Arc::new(Store::open_with(data.path(), options.clone()).expect("open"));
    assert_eq!(store.recovery().documents, 2);
    let q2 = "FROM notes | STATS c = COUNT(*) BY title | SORT title";
    assert_eq!(values(&store, q2), vec![json!([8, "r3"]), json!([2, "r4"])]);
    // versions go on from where they were, from the manifest and from the log
    let docs: Vec<(&str, Value)> = vec![("d0", doc(5, 0)), ("d5", doc(5, 5))];
    let report = store.ingest_bulk(Some("notes"), index_actions(&docs).as_bytes()).expect("ingest");
    assert_eq!(report.items.iter().map(|i| i.result.clone().expect("ok")).collect::<Vec<_>>(), vec![6, 5]);
    store.flush().expect("flush");
    drop(store);
    let store = Arc::new(Store::open_with(data.path(), options).expect("open"));
    assert_eq!(store.recovery().documents, 0);
    assert_eq!(values(&store, q2), vec![json!([7, "r3"]), json!([1, "r4"]), json!([2, "r5"])]);
    let report = store.ingest_bulk(Some("notes"), index_actions(&[("d1", doc(6, 1))]).as_bytes()).expect("ingest");
    assert_eq!(report.items[0].result, Ok(6));
    assert_eq!(values(&store, "FROM notes | STATS c = COUNT(*)"), vec![json!([10])]);
}

#[test]
fn partial_updates_merge_fields_into_the_stored_document() {
    let data = tempfile::tempdir().expect("tempdir");
    let store = open(data.path());
    let alert = |id: &str, n: i64| {
        (
            id.to_string(),
            json!({
                "@timestamp": "2024-05-01T10:00:00.000Z",
                "kibana": {"alert": {"status": "open", "uuid": id, "suppression": {"docs_count": n}}},
                "source": {"ip": "10.0.0.1"},
                "tags": ["x", "y"],
                "score": 1.5,
            }),
        )
    };
    let alerts = [alert("a1", 0), alert("a2", 0), alert("a3", 0)];
    let docs: Vec<(&str, Value)> = alerts.iter().map(|(id, d)| (id.as_str(), d.clone())).collect();
    let index = ".alerts-test";
    store.ingest_bulk(Some(index), index_actions(&docs[..2]).as_bytes()).expect("ingest");
    // a2 in a segment, a3 in the buffer
    store.flush().expect("flush");
    store.ingest_bulk(Some(index), index_actions(&docs[2..]).as_bytes()).expect("ingest");

    let fields = |v: Value| match v {
        Value::Object(map) => map,
        other => panic!("{other}"),
    };
    let updates = vec![
        (
            "a2".to_string(),
            fields(
                json!({"kibana.alert.suppression.docs_count": 4, "kibana.alert.last_detected": "2024-05-02T00:00:00.000Z"}),
            ),
        ),
        ("a3".to_string(), fields(json!({"kibana": {"alert": {"status": "closed"}}, "tags": "z", "score": null}))),
        ("missing".to_string(), fields(json!({"x": 1}))),
    ];
    assert_eq!(store.update_documents(index, updates).expect("update"), 2, "the missing id is skipped");
    let q = format!(
        "FROM {index} METADATA _id | SORT _id | KEEP _id, @timestamp, kibana.alert.status, kibana.alert.uuid, kibana.alert.suppression.docs_count, kibana.alert.last_detected, source.ip, tags, score"
    );
    let expected = vec![
        json!(["a1", "2024-05-01T10:00:00.000Z", "open", "a1", 0, null, "10.0.0.1", ["x", "y"], 1.5]),
        json!([
            "a2",
            "2024-05-01T10:00:00.000Z",
            "open",
            "a2",
            4,
            "2024-05-02T00:00:00.000Z",
            "10.0.0.1",
            ["x", "y"],
            1.5
        ]),
        json!(["a3", "2024-05-01T10:00:00.000Z", "closed", "a3", 0, null, "10.0.0.1", "z", null]),
    ];
    assert_eq!(values(&store, &q), expected);
    assert_eq!(values(&store, &format!("FROM {index} | STATS c = COUNT(*)")), vec![json!([3])]);
    // updated twice in one call: in order; the version went up by one per call
    let updates = vec![
        ("a2".to_string(), fields(json!({"kibana.alert.suppression.docs_count": 5}))),
        ("a2".to_string(), fields(json!({"kibana.alert.status": "acknowledged"}))),
    ];
    assert_eq!(store.update_documents(index, updates).expect("update"), 1);
    let report = store.ingest_bulk(Some(index), index_actions(&[("a2", json!({"k": 1}))]).as_bytes()).expect("ingest");
    assert_eq!(report.items[0].result, Ok(4), "created, updated twice, replaced");
    assert_eq!(store.update_documents(index, vec![("a2".into(), fields(json!({"k": 2})))]).expect("update"), 1);
    assert_eq!(
        values(&store, &format!("FROM {index} METADATA _id | WHERE _id == \"a2\" | KEEP k, kibana.alert.status")),
        vec![json!([2, null])]
    );

    // survives a restart, and a flush then a restart
    drop(store);
    let store = open(data.path());
    assert_eq!(
        values(&store, &format!("FROM {index} METADATA _id | WHERE _id == \"a3\" | KEEP kibana.alert.status, tags")),
        vec![json!(["closed", "z"])]
    );
    store.flush().expect("flush");
    drop(store);
    let store = open(data.path());
    assert_eq!(values(&store, &format!("FROM {index} | STATS c = COUNT(*)")), vec![json!([3])]);

    // a value its field refuses: a clear error naming the document
    let error = store.update_documents(
        index,
        vec![
            ("a1".into(), fields(json!({"@timestamp": "not a date"}))),
            ("a3".into(), fields(json!({"source.ip": {"x": 1}}))),
        ],
    );
    assert_eq!(
        values(&store, &format!("FROM {index} METADATA _id, _ignored | WHERE _id == \"a1\" | KEEP _ignored")),
        vec![json!(["@timestamp"])],
        "a malformed value is ignored, as when indexing"
    );
    match error {
        Err(store::StoreError::Refused { id, error }) => {
            assert_eq!(id, "a3");
            assert_eq!(error.kind, "document_parsing_exception", "{error}");
        }
        other => panic!("{other:?}"),
    }
    // nothing to update in an index that does not exist
    assert_eq!(store.update_documents("nowhere", vec![("a".into(), fields(json!({"x": 1})))]).expect("update"), 0);
}

#[test]
fn data_streams_refuse_replacing_and_updating() {
    let data = tempfile::tempdir().expect("tempdir");
    let store = open(data.path());
    let report = store
        .ingest_bulk(
            Some("logs-x-default"),
            b"{\"create\":{\"_id\":\"d\"}}\n{\"@timestamp\":\"2024-05-01T00:00:00Z\",\"m\":1}\n",
        )
        .expect("ingest");
    assert_eq!(report.accepted(), 1);
    let report = store
        .ingest_bulk(
            Some("logs-x-default"),
            b"{\"index\":{\"_id\":\"d\"}}\n{\"@timestamp\":\"2024-05-01T00:00:00Z\",\"m\":2}\n",
        )
        .expect("ingest");
    let error = report.items[0].result.clone().expect_err("refused");
    assert_eq!((error.kind, error.status), ("illegal_argument_exception", 400));
    assert!(error.reason.contains("only write ops with an op_type of create are allowed in data streams"));
    let mut fields = serde_json::Map::new();
    fields.insert("m".into(), json!(3));
    match store.update_documents("logs-x-default", vec![("d".into(), fields)]) {
        Err(store::StoreError::Refused { id, error }) => {
            assert_eq!(id, "d");
            assert_eq!(error.kind, "illegal_argument_exception");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(values(&store, "FROM logs-x-default | KEEP m"), vec![json!([1])]);
}

// ---- the crash test ------------------------------------------------------------------------------

const CHILD_ENV: &str = "SAKER_STORE_CRASH_CHILD";
const THREADS: i64 = 3;
const BATCH: i64 = 20;
/// The plain index whose documents `slot0` … `slot9` the crash child replaces, all ten in each
/// round.
const REPLACED: &str = "crash-replaced";
const SLOTS: i64 = 10;

/// Run by the crash test in a child process: ingests batches from a few threads until killed,
/// printing `ack <thread> <last n>` after each acknowledged batch; another thread replaces the
/// documents of [`REPLACED`], printing `rep <round> <version>` after each acknowledged round.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    // small flushes, and merges of them as soon as there are two: kills land in merges too
    let options = StoreOptions {
        flush_bytes: 256 << 10,
        flush_interval: Duration::from_millis(30),
        maintenance_interval: Duration::from_millis(20),
        compaction_min_segments: 2,
        ..StoreOptions::default()
    };
    let store = Arc::new(Store::open_with(PathBuf::from(dir), options).expect("open"));
    let next: Vec<i64> = (0..THREADS)
        .map(|t| {
            let q = format!("FROM logs-crash-default | WHERE t == {t} | STATS m = MAX(n)");
            match store.indices().is_empty() {
                true => 0,
                false => values(&store, &q)[0][0].as_i64().map_or(0, |m| m + 1),
            }
        })
        .collect();
    let replacer = {
        let store = store.clone();
        let q = format!("FROM {REPLACED} | STATS m = MAX(round)");
        let mut round = match store.indices().iter().any(|i| i.name == REPLACED) {
            true => values(&store, &q)[0][0].as_i64().map_or(0, |m| m + 1),
            false => 0,
        };
        std::thread::spawn(move || {
            loop {
                let body: String = (0..SLOTS)
                    .map(|slot| {
                        let doc = json!({"@timestamp": "2024-05-01T00:00:00Z", "slot": slot, "round": round});
                        format!("{}\n{doc}\n", json!({"index": {"_id": format!("slot{slot}")}}))
                    })
                    .collect();
                let report = store.ingest_bulk(Some(REPLACED), body.as_bytes()).expect("ingest");
                let versions: Vec<u64> = report.items.iter().map(|i| i.result.clone().expect("stored")).collect();
                assert!(versions.iter().all(|v| *v == versions[0]), "{versions:?}");
                println!("rep {round} {}", versions[0]);
                round += 1;
            }
        })
    };
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            let mut n = next[t as usize];
            std::thread::spawn(move || {
                loop {
                    let docs: String = (n..n + BATCH)
                        .map(|k| {
                            let doc = json!({
                                "@timestamp": format!("2024-05-{:02}T00:00:00Z", 1 + k % 28),
                                "t": t, "n": k, "message": "x".repeat((k % 200) as usize),
                            });
                            format!("{doc}\n")
                        })
                        .collect();
                    let report = store.ingest_ndjson(Some("logs-crash-default"), docs.as_bytes()).expect("ingest");
                    assert_eq!(report.accepted() as i64, BATCH);
                    println!("ack {t} {}", n + BATCH - 1);
                    n += BATCH;
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    let _ = replacer.join();
}

#[test]
fn kill_9_loses_nothing_acknowledged_and_doubles_nothing() {
    let (kills, total) = kill_repeatedly("crash_child", CHILD_ENV, "logs-crash-default", THREADS, "ack ");
    eprintln!("{kills} kills, {total} documents, replacing too");
}

const MERGE_CHILD_ENV: &str = "SAKER_STORE_MERGE_CRASH_CHILD";

/// Run by the merge crash test in a child process: ingests a batch over four days, prints
/// `ack 0 <last n>`, flushes, merges the small segments (two per day by then), prints `merged`,
/// and again, until killed.
#[test]
fn merge_crash_child() {
    let Some(dir) = std::env::var_os(MERGE_CHILD_ENV) else { return };
    let options = StoreOptions { compaction_min_segments: 2, ..options() };
    let store = Arc::new(Store::open_with(PathBuf::from(dir), options).expect("open"));
    let q = "FROM logs-merge-default | STATS m = MAX(n)";
    let mut n = if store.indices().is_empty() { 0 } else { values(&store, q)[0][0].as_i64().map_or(0, |m| m + 1) };
    loop {
        let docs: String = (n..n + BATCH)
            .map(|k| {
                format!("{}\n", json!({"@timestamp": format!("2024-05-{:02}T00:00:00Z", 1 + k % 4), "t": 0, "n": k}))
            })
            .collect();
        let report = store.ingest_ndjson(Some("logs-merge-default"), docs.as_bytes()).expect("ingest");
        assert_eq!(report.accepted() as i64, BATCH);
        println!("ack 0 {}", n + BATCH - 1);
        n += BATCH;
        store.flush().expect("flush");
        if store.compact().expect("compact").merges > 0 {
            println!("merged");
        }
    }
}

#[test]
fn kill_9_during_merges_loses_and_doubles_nothing() {
    let (kills, total) = kill_repeatedly("merge_crash_child", MERGE_CHILD_ENV, "logs-merge-default", 1, "merged");
    eprintln!("{kills} kills during merges, {total} documents");
}

/// Runs the test `child` in a child process over one data folder, again and again: waits for its
/// first output line containing `start`, kills it (kill -9) at a random moment after, and checks
/// the folder: every document the child acknowledged (`ack <thread> <last n>` lines) is there
/// exactly once, at most the batch in flight more; and when the child replaces documents
/// (`rep <round> <version>` lines), each of [`REPLACED`]'s is there exactly once, all from the
/// acknowledged round or the one in flight. Returns the kills and the documents.
fn kill_repeatedly(child: &str, env: &str, index: &str, threads: i64, start: &str) -> (usize, i64) {
    let data = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let started = Instant::now();
    // acknowledged: the highest n acknowledged per thread, over all runs
    let mut acked: Vec<i64> = vec![-1; threads as usize];
    // the last acknowledged round of replacements
    let mut replaced: i64 = -1;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut kills = 0;
    while kills < 20 || (kills < 40 && started.elapsed() < Duration::from_secs(20)) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut process = Command::new(&exe)
            .args([child, "--exact", "--nocapture", "--test-threads=1"])
            .env(env, data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("child");
        let stdout = process.stdout.take().expect("stdout");
        // wait for the start line, then kill at a random moment
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.expect("line");
            let ready = line.contains(start);
            seen.push(line);
            if ready {
                break;
            }
        }
        assert!(seen.iter().any(|l| l.contains(start)), "the child never printed `{start}`: {seen:?}");
        std::thread::sleep(Duration::from_millis(seed % 150));
        process.kill().expect("kill");
        process.wait().expect("wait");
        seen.extend(lines.map_while(Result::ok));
        // the first ack may share its line with the test harness's `test crash_child ... `
        for line in seen.iter().filter_map(|l| l.find("rep ").map(|i| &l[i + 4..])) {
            let parts: Vec<i64> = line.split(' ').map(|p| p.parse::<i64>().expect("number")).collect();
            let [round, version] = parts[..] else { panic!("bad line {line}") };
            // each round replaces every document once: its version is the round's number + 1
            assert_eq!(version, round + 1, "run {kills}: round {round} acknowledged version {version}");
            replaced = replaced.max(round);
        }
        for line in seen.iter().filter_map(|l| l.find("ack ").map(|i| &l[i + 4..])) {
            // lines are written whole (a pipe write of less than PIPE_BUF bytes is atomic)
            let parts: Vec<i64> = line.split(' ').map(|p| p.parse::<i64>().expect("number")).collect();
            let [t, n] = parts[..] else { panic!("bad line {line}") };
            acked[t as usize] = acked[t as usize].max(n);
        }
        kills += 1;

        let store = open(data.path());
        for (t, acked) in acked.iter_mut().enumerate() {
            let last = *acked;
            let q = format!("FROM {index} | WHERE t == {t} | STATS c = COUNT(*), lo = MIN(n), hi = MAX(n)");
            let row = &values(&store, &q)[0];
            let (c, lo, hi) =
                (row[0].as_i64().unwrap_or(0), row[1].as_i64().unwrap_or(-1), row[2].as_i64().unwrap_or(-1));
            // nothing acknowledged lost, at most the in-flight batch more
            assert!(hi >= last, "run {kills}, thread {t}: acknowledged up to {last}, found up to {hi}");
            assert!(hi < last + 1 + BATCH, "run {kills}, thread {t}: {hi} is beyond the in-flight batch after {last}");
            // none doubled and no gaps: n = 0..=hi exactly once each
            assert_eq!((c, lo), (hi + 1, 0), "run {kills}, thread {t}");
            *acked = hi;
        }
        let doubled = values(&store, &format!("FROM {index} | STATS c = COUNT(*) BY t, n | WHERE c > 1 | LIMIT 1"));
        assert!(doubled.is_empty(), "run {kills}: doubled {doubled:?}");
        // a round of replacements is one log record: all ten documents of one round, once each
        if store.indices().iter().any(|i| i.name == REPLACED) {
            let q = format!(
                "FROM {REPLACED} | STATS c = COUNT(*), slots = COUNT_DISTINCT(slot), lo = MIN(round), hi = MAX(round)"
            );
            let row = &values(&store, &q)[0];
            let hi = row[3].as_i64().unwrap_or(-1);
            let counts = (row[0].as_i64(), row[1].as_i64(), row[2].as_i64());
            assert_eq!(counts, (Some(SLOTS), Some(SLOTS), Some(hi)), "run {kills}: {row:?}");
            assert!(hi == replaced || hi == replaced + 1, "run {kills}: acknowledged round {replaced}, found {hi}");
            replaced = hi;
        } else {
            assert_eq!(replaced, -1, "run {kills}: acknowledged replacements are gone");
        }
    }
    let total: i64 = acked.iter().map(|a| a + 1).sum();
    assert!(total > 0);
    if env == CHILD_ENV {
        assert!(replaced > 0, "the child acknowledged no replacements");
        eprintln!("{} rounds of {SLOTS} replacements", replaced + 1);
    }
    (kills, total)
}

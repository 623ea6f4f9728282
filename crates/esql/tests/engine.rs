//! End-to-end tests of the engine's semantics on small in-memory indices: multi-values, nulls,
//! warnings, errors with positions, and Elastic's limits.

use esql::catalog::{FieldInfo, MemCatalog, MemIndex};
use esql::datafusion::arrow::array::{ArrayRef, FixedSizeBinaryArray, Int64Array, StringArray};
use esql::datafusion::arrow::record_batch::RecordBatch;
use esql::types::EsType;
use esql::{QueryError, QueryOptions, QueryOutput, execute};
use std::sync::Arc;

fn run(catalog: &MemCatalog, q: &str) -> Result<QueryOutput, QueryError> {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(execute(Arc::new(catalog.clone()), q, &QueryOptions::default()))
}

/// Renders every row as text cells, multi-values as `[a, b]`.
fn rows(out: &QueryOutput) -> Vec<Vec<String>> {
    esql::render::rows(out).iter().map(|r| r.iter().map(|c| c.to_text()).collect()).collect()
}

fn ip(s: &str) -> [u8; 16] {
    esql::convert::parse_ip(s).unwrap()
}

/// Two docs: `host` keyword, `tags` multi-valued keyword, `bytes` long, `source.ip` ip.
fn sample() -> MemCatalog {
    let fields = vec![
        FieldInfo { name: "host".into(), es_type: EsType::Keyword, multi: false },
        FieldInfo { name: "tags".into(), es_type: EsType::Keyword, multi: true },
        FieldInfo { name: "bytes".into(), es_type: EsType::Long, multi: false },
        FieldInfo { name: "source.ip".into(), es_type: EsType::Ip, multi: false },
    ];
    let schema = MemIndex::schema_for(&{
        let mut f = fields.clone();
        f.sort_by(|a, b| a.name.cmp(&b.name));
        f
    });
    let tags: ArrayRef = {
        use esql::datafusion::arrow::array::{ListBuilder, StringBuilder};
        let mut b = ListBuilder::new(StringBuilder::new());
        b.values().append_value("a");
        b.values().append_value("b");
        b.append(true);
        b.values().append_value("c");
        b.append(true);
        b.append(false);
        Arc::new(b.finish())
    };
    // Column order follows the sorted field names: bytes, host, source.ip, tags.
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![Some(10), Some(20), None])),
            Arc::new(StringArray::from(vec![Some("h1"), Some("h2"), Some("h1")])),
            Arc::new(
                FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                    vec![Some(ip("10.0.0.1")), Some(ip("8.8.8.8")), None].into_iter(),
                    16,
                )
                .unwrap(),
            ),
            tags,
        ],
    );
    let index = MemIndex::new("logs-test-default", fields, vec![batch.unwrap()]).unwrap();
    let mut c = MemCatalog::new();
    c.add(Arc::new(index));
    c
}

#[test]
fn row_arithmetic_and_names() {
    let c = MemCatalog::new();
    let out = run(&c, "ROW a = 1, b = 2 | EVAL c = a + b, a * 10").unwrap();
    let names: Vec<&str> = out.columns.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "a * 10"]);
    assert_eq!(rows(&out), [["1", "2", "3", "10"]]);
}

#[test]
fn integer_overflow_is_null_with_warning() {
    let c = MemCatalog::new();
    let out = run(&c, "ROW a = 2147483647 | EVAL b = a + 1").unwrap();
    assert_eq!(rows(&out), [["2147483647", "null"]]);
    assert_eq!(
        out.warnings,
        [
            "Line 1:31: evaluation of [a + 1] failed, treating result as null. Only first 20 failures recorded.",
            "Line 1:31: java.lang.ArithmeticException: integer overflow"
        ]
    );
}

#[test]
fn where_on_multi_value_warns_and_filters() {
    let out = run(&sample(), "FROM logs-test-default | WHERE tags == \"c\" | KEEP host").unwrap();
    assert_eq!(rows(&out), [["h2"]]);
    assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    assert!(out.warnings[1].ends_with("single-value function encountered multi-value"));
}

#[test]
fn stats_by_multi_value_groups_by_each_value() {
    let out = run(&sample(), "FROM logs-test-default | STATS c = COUNT(*) BY tags | SORT tags").unwrap();
    assert_eq!(rows(&out), [["1", "a"], ["1", "b"], ["1", "c"], ["1", "null"]]);
}

#[test]
fn count_counts_every_value() {
    let out =
        run(&sample(), "FROM logs-test-default | STATS n = COUNT(tags), d = COUNT_DISTINCT(tags), v = VALUES(tags)")
            .unwrap();
    assert_eq!(rows(&out), [["3", "3", "[a, b, c]"]]);
}

#[test]
fn cidr_match_and_to_ip() {
    let out = run(
        &sample(),
        "FROM logs-test-default | WHERE NOT CIDR_MATCH(TO_IP(source.ip), \"10.0.0.0/8\") AND source.ip IS NOT NULL | KEEP source.ip",
    )
    .unwrap();
    assert_eq!(rows(&out), [["8.8.8.8"]]);
}

#[test]
fn unknown_column_reports_position() {
    let err = run(&sample(), "FROM logs-test-default | WHERE hots == \"x\"").unwrap_err();
    assert_eq!(err.to_string(), "line 1:32: Unknown column [hots], did you mean [host]?");
}

#[test]
fn every_error_is_reported() {
    let err = run(&sample(), "FROM logs-test-default | EVAL x = nope + 1, y = TO_LOWER(bytes)").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("Found 2 problems"), "{msg}");
    assert!(msg.contains("line 1:35: Unknown column [nope]"), "{msg}");
    assert!(
        msg.contains(
            "line 1:49: argument of [TO_LOWER(bytes)] must be [keyword or text], found value [bytes] type [long]"
        ),
        "{msg}"
    );
}

#[test]
fn default_limit_applies() {
    let c = MemCatalog::new();
    let out = run(&c, "ROW a = [1, 2, 3] | MV_EXPAND a").unwrap();
    assert_eq!(rows(&out), [["1"], ["2"], ["3"]]);
    let mut opts = QueryOptions::default();
    opts.default_limit = 2;
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let out = rt.block_on(execute(Arc::new(c), "ROW a = [1, 2, 3] | MV_EXPAND a", &opts)).unwrap();
    assert_eq!(rows(&out).len(), 2);
}

#[test]
fn hidden_indices_need_explicit_patterns() {
    let mut c = sample();
    let alerts = MemIndex::new(".alerts-security.alerts-default", vec![], vec![]).unwrap();
    c.add(Arc::new(alerts));
    let out = run(&c, "FROM * METADATA _index | STATS c = COUNT(*) BY _index").unwrap();
    assert_eq!(rows(&out), [["3", "logs-test-default"]]);
    let out = run(&c, "FROM logs-*, .alerts-security.* METADATA _index | STATS c = COUNT(*) BY _index | SORT _index")
        .unwrap();
    assert_eq!(rows(&out), [["3", "logs-test-default"]]);
}

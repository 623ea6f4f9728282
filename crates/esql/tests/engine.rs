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

// ===================================================================================
// String functions
// ===================================================================================

#[test]
fn string_functions_on_rows() {
    let c = MemCatalog::new();
    let out = run(
        &c,
        "ROW a = \"hello\", b = \"\" | EVAL l = length(a) + length(b), s = substring(a, 2, 3), n = substring(a, -3), \
         c = concat(a, \" \", \"world\"), t = trim(\"  x \"), lo = locate(a, \"l\"), r = reverse(a), \
         sw = starts_with(a, \"he\"), ew = ends_with(a, \"lo\"), ct = contains(a, \"ell\")",
    )
    .unwrap();
    assert_eq!(
        rows(&out),
        [["hello", "", "5", "ell", "llo", "hello world", "x", "3", "olleh", "true", "true", "true"]]
    );
    let types: Vec<EsType> = out.columns.iter().map(|(_, t)| *t).collect();
    assert_eq!(types[2], EsType::Integer);
    assert_eq!(types[3], EsType::Keyword);
    assert_eq!(types[9], EsType::Boolean);
}

#[test]
fn split_is_multi_valued() {
    let c = MemCatalog::new();
    let out = run(&c, "ROW words = \"foo;bar;baz\" | EVAL word = SPLIT(words, \";\")").unwrap();
    assert_eq!(rows(&out), [["foo;bar;baz", "[foo, bar, baz]"]]);
    let err = run(&c, "ROW words = \"foo\" | EVAL word = SPLIT(words, \";;\")").unwrap_err();
    assert_eq!(err.to_string(), "delimiter must be single byte for now");
}

#[test]
fn replace_uses_java_regex() {
    let c = MemCatalog::new();
    let out = run(
        &c,
        "ROW s = \"curl -H 'x-api-key: abc123' https://h\" \
         | EVAL r = REPLACE(s, \"\"\"(?i)(x-api-key *[:=] *)[^'\" ]+\"\"\", \"$1<REDACTED>\"), d = REPLACE(\"a1b22\", \"\\\\d+\", \"#\")",
    )
    .unwrap();
    assert_eq!(rows(&out)[0][1..], ["curl -H 'x-api-key: <REDACTED>' https://h", "a#b#"]);
    let out = run(&c, "ROW s = \"abc\", p = \"(\" | EVAL r = REPLACE(s, p, \"x\")").unwrap();
    assert_eq!(rows(&out), [["abc", "(", "null"]]);
    assert_eq!(out.warnings[0], "Line 1:38: evaluation of [REPLACE(s, p, \"x\")] failed, treating result as null. Only first 20 failures recorded.");
    assert!(out.warnings[1].starts_with("Line 1:38: java.util.regex.PatternSyntaxException: Unclosed group"), "{:?}", out.warnings);
}

#[test]
fn url_decode_maps_every_value() {
    let out = run(&sample(), "FROM logs-test-default | EVAL e = URL_ENCODE(CONCAT(host, \" /\")), u = URL_DECODE(tags) | KEEP e, u").unwrap();
    assert_eq!(rows(&out), [["h1+%2F", "[a, b]"], ["h2+%2F", "c"], ["h1+%2F", "null"]]);
    let c = MemCatalog::new();
    let out = run(&c, "ROW u = \"%zz\" | EVAL d = URL_DECODE(u)").unwrap();
    assert_eq!(rows(&out), [["%zz", "null"]]);
    assert_eq!(
        out.warnings[1],
        "Line 1:27: java.lang.IllegalArgumentException: URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 0 in: \"zz\""
    );
}

#[test]
fn json_extract_and_base64() {
    let c = MemCatalog::new();
    let out = run(
        &c,
        "ROW j = \"{\\\"a\\\":{\\\"b\\\":[1,{\\\"c\\\":\\\"x\\\"}]}}\" \
         | EVAL c = JSON_EXTRACT(j, \"$.a.b[1].c\"), o = JSON_EXTRACT(j, \"a.b\"), m = JSON_EXTRACT(j, \"z\"), \
         b = FROM_BASE64(TO_BASE64(\"elastic\")), h = MD5(\"hello\")",
    )
    .unwrap();
    assert_eq!(rows(&out)[0][1..], ["x", "[1,{\"c\":\"x\"}]", "null", "elastic", "5d41402abc4b2a76b9719d911017c592"]);
    assert!(out.warnings[1].ends_with("java.lang.IllegalArgumentException: path [z] does not exist"), "{:?}", out.warnings);
    let err = run(&c, "ROW b = \"ab-d\" | EVAL d = FROM_BASE64(b)").unwrap_err();
    assert_eq!(err.to_string(), "Illegal base64 character 2d");
}

#[test]
fn string_function_type_errors() {
    let c = MemCatalog::new();
    let err = run(&c, "ROW a = 1 | EVAL s = substring(\"abc\", 1, 2, 3)").unwrap_err();
    assert_eq!(err.to_string(), "line 1:22: error building [substring]: expects two or three arguments");
    let err = run(&c, "ROW a = 1 | EVAL s = left(\"abc\", 1.5)").unwrap_err();
    assert_eq!(err.to_string(), "line 1:22: second argument of [left(\"abc\", 1.5)] must be [integer], found value [1.5] type [double]");
    let err = run(&c, "ROW a = 1 | EVAL s = concat(\"abc\", a)").unwrap_err();
    assert_eq!(err.to_string(), "line 1:22: argument of [concat(\"abc\", a)] must be [string], found value [a] type [integer]");
}

// ---- commands: DISSECT, GROK, INLINE STATS -----------------------------------------------------

#[test]
fn dissect_adds_keyword_columns() {
    let c = MemCatalog::new();
    let out = run(&c, "ROW a = \"GET /index.html 200\" | DISSECT a \"%{method} %{path} %{code}\" | DROP a").unwrap();
    assert_eq!(out.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["method", "path", "code"]);
    assert_eq!(rows(&out), [["GET", "/index.html", "200"]]);
    let out = run(&c, "ROW a = \"no match\" | DISSECT a \"%{x}-%{y}\" | KEEP x, y").unwrap();
    assert_eq!(rows(&out), [["null", "null"]]);
}

#[test]
fn grok_types_its_outputs() {
    let c = MemCatalog::new();
    let out = run(&c, "ROW a = \"user=bob bytes=512\" | GROK a \"user=%{WORD:user} bytes=%{NUMBER:bytes:int}\" | KEEP user, bytes")
        .unwrap();
    assert_eq!(out.columns[1].1, EsType::Integer);
    assert_eq!(rows(&out), [["bob", "512"]]);
    let err = run(&c, "ROW a = \"x\" | GROK a \"%{NOPE:x}\"").unwrap_err();
    assert!(err.to_string().contains("Unable to find pattern [NOPE]"), "{err}");
}

#[test]
fn inline_stats_keeps_rows() {
    let out = run(&sample(), "FROM logs-test-default | KEEP host, bytes | INLINE STATS total = SUM(bytes) BY host | SORT host, bytes")
        .unwrap();
    assert_eq!(out.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["bytes", "total", "host"]);
    assert_eq!(rows(&out), [["10", "10", "h1"], ["null", "10", "h1"], ["20", "20", "h2"]]);
    let out = run(&sample(), "FROM logs-test-default | INLINE STATS n = COUNT(*) | KEEP host, n | LIMIT 1").unwrap();
    assert_eq!(rows(&out), [["h1", "3"]]);
}

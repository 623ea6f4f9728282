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
    let opts = QueryOptions { default_limit: 2, ..QueryOptions::default() };
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
    assert_eq!(
        out.warnings[0],
        "Line 1:35: evaluation of [REPLACE(s, p, \"x\")] failed, treating result as null. Only first 20 failures recorded."
    );
    assert!(
        out.warnings[1].starts_with("Line 1:35: java.util.regex.PatternSyntaxException: Unclosed group"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn url_decode_maps_every_value() {
    let out = run(
        &sample(),
        "FROM logs-test-default | EVAL e = URL_ENCODE(CONCAT(host, \" /\")), u = URL_DECODE(tags) | KEEP e, u",
    )
    .unwrap();
    assert_eq!(rows(&out), [["h1+%2F", "[a, b]"], ["h2+%2F", "c"], ["h1+%2F", "null"]]);
    let c = MemCatalog::new();
    let out = run(&c, "ROW u = \"%zz\" | EVAL d = URL_DECODE(u)").unwrap();
    assert_eq!(rows(&out), [["%zz", "null"]]);
    assert_eq!(
        out.warnings[1],
        "Line 1:26: java.lang.IllegalArgumentException: URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 0 in: \"zz\""
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
    assert!(
        out.warnings[1].ends_with("java.lang.IllegalArgumentException: path [z] does not exist"),
        "{:?}",
        out.warnings
    );
    let err = run(&c, "ROW b = \"ab-d\" | EVAL d = FROM_BASE64(b)").unwrap_err();
    assert_eq!(err.to_string(), "Illegal base64 character 2d");
}

#[test]
fn string_function_type_errors() {
    let c = MemCatalog::new();
    let err = run(&c, "ROW a = 1 | EVAL s = substring(\"abc\", 1, 2, 3)").unwrap_err();
    assert_eq!(err.to_string(), "line 1:22: error building [substring]: expects two or three arguments");
    let err = run(&c, "ROW a = 1 | EVAL s = left(\"abc\", 1.5)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1:22: second argument of [left(\"abc\", 1.5)] must be [integer], found value [1.5] type [double]"
    );
    let err = run(&c, "ROW a = 1 | EVAL s = concat(\"abc\", a)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1:22: argument of [concat(\"abc\", a)] must be [string], found value [a] type [integer]"
    );
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
    let out = run(
        &c,
        "ROW a = \"user=bob bytes=512\" | GROK a \"user=%{WORD:user} bytes=%{NUMBER:bytes:int}\" | KEEP user, bytes",
    )
    .unwrap();
    assert_eq!(out.columns[1].1, EsType::Integer);
    assert_eq!(rows(&out), [["bob", "512"]]);
    let err = run(&c, "ROW a = \"x\" | GROK a \"%{NOPE:x}\"").unwrap_err();
    assert!(err.to_string().contains("Unable to find pattern [NOPE]"), "{err}");
}

#[test]
fn inline_stats_keeps_rows() {
    let out = run(
        &sample(),
        "FROM logs-test-default | KEEP host, bytes | INLINE STATS total = SUM(bytes) BY host | SORT host, bytes",
    )
    .unwrap();
    assert_eq!(out.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["bytes", "total", "host"]);
    assert_eq!(rows(&out), [["10", "10", "h1"], ["null", "10", "h1"], ["20", "20", "h2"]]);
    let out = run(&sample(), "FROM logs-test-default | INLINE STATS n = COUNT(*) | KEEP host, n | LIMIT 1").unwrap();
    assert_eq!(rows(&out), [["h1", "3"]]);
}

// ===================================================================================
// Date functions
// ===================================================================================

/// `events`: `@timestamp` date, `n` integer, four docs (one without a timestamp).
fn events() -> MemCatalog {
    use esql::datafusion::arrow::array::{Int32Array, TimestampMillisecondArray};
    let fields = vec![
        FieldInfo { name: "@timestamp".into(), es_type: EsType::Date, multi: false },
        FieldInfo { name: "n".into(), es_type: EsType::Integer, multi: false },
    ];
    let schema = MemIndex::schema_for(&fields);
    let ms = |s: &str| esql::convert::parse_date_millis(s).unwrap();
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(TimestampMillisecondArray::from(vec![
                Some(ms("2023-10-23T12:15:03.360Z")),
                Some(ms("2023-10-23T13:33:34.937Z")),
                Some(ms("2023-10-23T13:55:01.543Z")),
                None,
            ])),
            Arc::new(Int32Array::from(vec![Some(1), Some(22), Some(37), Some(-3)])),
        ],
    )
    .unwrap();
    let mut c = MemCatalog::new();
    c.add(Arc::new(MemIndex::new("events", fields, vec![batch]).unwrap()));
    c
}

#[test]
fn date_trunc_and_bucket_group_by_time() {
    let out =
        run(&events(), "FROM events | EVAL h = DATE_TRUNC(1 hour, @timestamp) | STATS c = COUNT(*) BY h | SORT h")
            .unwrap();
    assert_eq!(rows(&out), [["1", "2023-10-23T12:00:00.000Z"], ["2", "2023-10-23T13:00:00.000Z"], ["1", "null"]]);
    let out = run(
        &events(),
        "FROM events | WHERE @timestamp IS NOT NULL \
         | STATS c = COUNT(*) BY b = BUCKET(@timestamp, 30 minutes) | SORT b",
    )
    .unwrap();
    assert_eq!(rows(&out), [["1", "2023-10-23T12:00:00.000Z"], ["2", "2023-10-23T13:30:00.000Z"]]);
    // Target bucket count over a range: 24 buckets over a day are hourly.
    let out = run(
        &events(),
        "FROM events | EVAL b = BUCKET(@timestamp, 24, \"2023-10-23T00:00:00Z\", \"2023-10-24T00:00:00Z\") \
         | WHERE b IS NOT NULL | KEEP b",
    )
    .unwrap();
    assert_eq!(rows(&out), [["2023-10-23T12:00:00.000Z"], ["2023-10-23T13:00:00.000Z"], ["2023-10-23T13:00:00.000Z"]]);
    // Numeric buckets are doubles.
    let out = run(&events(), "FROM events | EVAL b = BUCKET(n, 10, 0, 100), s = BUCKET(n, 5.) | KEEP b, s").unwrap();
    assert_eq!(rows(&out), [["0.0", "0.0"], ["20.0", "20.0"], ["30.0", "35.0"], ["-10.0", "-5.0"]]);
    let out = run(&MemCatalog::new(), "ROW h = 1.45 | EVAL b = AUTO_BUCKET(h, 20, 1.41, 2.10)").unwrap();
    assert_eq!(rows(&out), [["1.45", "1.4000000000000001"]]);
}

#[test]
fn date_trunc_spans_and_errors() {
    let c = MemCatalog::new();
    let out = run(
        &c,
        "ROW d = TO_DATETIME(\"1985-07-09T10:11:12.345Z\") \
         | EVAL m = DATE_TRUNC(1 month, d), q = DATE_TRUNC(3 months, d), w = DATE_TRUNC(1 week, d), \
         t = DATE_TRUNC(240 hours, d), s = DATE_TRUNC(1 year, \"1991-06-26T00:00:00.000Z\"), \
         x = DATE_TRUNC(TO_TIMEDURATION(\"15 minutes\"), d), p = DATE_TRUNC(\"2 days\"::date_period, d) \
         | DROP d",
    )
    .unwrap();
    assert_eq!(
        rows(&out),
        [[
            "1985-07-01T00:00:00.000Z",
            "1985-07-01T00:00:00.000Z",
            "1985-07-08T00:00:00.000Z",
            "1985-07-01T00:00:00.000Z",
            "1991-01-01T00:00:00.000Z",
            "1985-07-09T10:00:00.000Z",
            "1985-07-09T00:00:00.000Z"
        ]]
    );
    let err = run(&c, "ROW d = NOW() | EVAL t = DATE_TRUNC(0 hours, d)").unwrap_err();
    assert_eq!(err.to_string(), "Zero or negative time interval is not supported");
    let err = run(&c, "ROW d = NOW() | EVAL t = DATE_TRUNC(1, d)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1:26: first argument of [DATE_TRUNC(1, d)] must be [dateperiod or timeduration], found value [1] type [integer]"
    );
    let err = run(&c, "ROW d = NOW() | EVAL t = DATE_TRUNC(TO_DATEPERIOD(\"1 hour\"), d)").unwrap_err();
    assert!(err.to_string().contains("Invalid interval value in [TO_DATEPERIOD(\"1 hour\")]"), "{err}");
}

#[test]
fn date_diff_counts_whole_units() {
    let c = MemCatalog::new();
    let out = run(
        &c,
        "ROW date1 = TO_DATETIME(\"2023-12-02T11:00:00.000Z\") \
         | EVAL ms = DATE_DIFF(\"microseconds\", date1, \"2023-12-02T11:00:00.001Z\"), \
         m = DATE_DIFF(\"MONTH\", \"2023-12-31T23:59:59.999Z\", \"2024-01-01T00:00:00Z\"), \
         dd = DATE_DIFF(\"minute\", date1, date1 - 90 minutes)",
    )
    .unwrap();
    assert_eq!(rows(&out), [["2023-12-02T11:00:00.000Z", "1000", "0", "-90"]]);
    let out = run(
        &c,
        "ROW date1=to_datetime(\"2023-12-02T11:00:00.000Z\"), date2=to_datetime(\"2023-12-23T11:00:00.000Z\") \n\
         | EVAL dd_oo=date_diff(\"nanoseconds\", date1, date2) | keep dd_oo",
    )
    .unwrap();
    assert_eq!(rows(&out), [["null"]]);
    assert_eq!(
        out.warnings,
        [
            "Line 2:14: evaluation of [date_diff(\"nanoseconds\", date1, date2)] failed, treating result as null. Only first 20 failures recorded.",
            "Line 2:14: org.elasticsearch.xpack.esql.core.InvalidArgumentException: [1814400000000000] out of [integer] range"
        ]
    );
    let err = run(&c, "ROW d = NOW() | EVAL x = DATE_DIFF(\"fortnight\", d, d)").unwrap_err();
    assert!(
        err.to_string().starts_with("invalid unit format for [DATE_DIFF(\"fortnight\", d, d)]: A value of [YEAR,"),
        "{err}"
    );
    let out = run(&c, "ROW u = \"fortnight\", d = NOW() | EVAL x = DATE_DIFF(u, d, d)").unwrap();
    assert_eq!(rows(&out)[0][2], "null");
    assert!(out.warnings[1].contains("java.lang.IllegalArgumentException: A value of"), "{:?}", out.warnings);
}

#[test]
fn date_extract_format_and_parse() {
    let c = MemCatalog::new();
    let out = run(
        &c,
        "ROW date = DATE_PARSE(\"yyyy-MM-dd\", \"2022-05-06\") \
         | EVAL year = DATE_EXTRACT(\"year\", date), dow = DATE_EXTRACT(\"DAY_OF_WEEK\", date), \
         y2 = DATE_EXTRACT(\"year\", \"2022-05-06\"), f = DATE_FORMAT(date), g = DATE_FORMAT(\"EEEE, MMMM d yyyy\", date), \
         dn = DAY_NAME(date), mn = MONTH_NAME(date)",
    )
    .unwrap();
    assert_eq!(
        rows(&out),
        [[
            "2022-05-06T00:00:00.000Z",
            "2022",
            "5",
            "2022",
            "2022-05-06T00:00:00.000Z",
            "Friday, May 6 2022",
            "Friday",
            "May"
        ]]
    );
    assert_eq!(out.columns[1].1, EsType::Long);
    let out = run(&c, "row a = \"2023-02-01 foo\" | eval b = date_parse(\"yyyy-MM-dd\", a) | keep b").unwrap();
    assert_eq!(rows(&out), [["null"]]);
    assert_eq!(
        out.warnings,
        [
            "Line 1:37: evaluation of [date_parse(\"yyyy-MM-dd\", a)] failed, treating result as null. Only first 20 failures recorded.",
            "Line 1:37: java.lang.IllegalArgumentException: failed to parse date field [2023-02-01 foo] with format [yyyy-MM-dd]"
        ]
    );
    let out =
        run(&c, "row a = \"2023-02-01T12:15:55.000Z\" | eval b = date_parse(a), n = date_parse(null, a) | keep b, n")
            .unwrap();
    assert_eq!(rows(&out), [["2023-02-01T12:15:55.000Z", "null"]]);
    let err = run(&c, "ROW d = NOW() | EVAL x = DATE_EXTRACT(\"fortnight\", d)").unwrap_err();
    assert_eq!(err.to_string(), "invalid date field for [DATE_EXTRACT(\"fortnight\", d)]: fortnight");
    let err = run(&c, "ROW d = NOW() | EVAL x = DATE_FORMAT(\"yyyy-bb\", d)").unwrap_err();
    assert_eq!(err.to_string(), "Invalid format: [yyyy-bb]: Unknown pattern letter: b");
}

#[test]
fn now_is_fixed_for_the_query() {
    let c = MemCatalog::new();
    let opts = QueryOptions { now: Some("2024-03-01T10:00:00Z".parse().unwrap()), ..QueryOptions::default() };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let out = rt
        .block_on(execute(
            Arc::new(c),
            "ROW a = NOW() | EVAL same = a == NOW(), y = SUBSTRING(DATE_FORMAT(\"yyyy\", a), 0, 2), \
             ago = DATE_DIFF(\"day\", a - 7 days, NOW())",
            &opts,
        ))
        .unwrap();
    assert_eq!(rows(&out), [["2024-03-01T10:00:00.000Z", "true", "20", "7"]]);
}

// ===================================================================================
// Math functions (and GREATEST / LEAST / CLAMP)
// ===================================================================================

/// The two warnings Elastic records for a failing expression at `pos` (`Line 1:23`).
fn failure(pos: &str, expr: &str, exception: &str) -> [String; 2] {
    [
        format!("{pos}: evaluation of [{expr}] failed, treating result as null. Only first 20 failures recorded."),
        format!("{pos}: {exception}"),
    ]
}

#[test]
fn math_types_follow_elastic() {
    let c = MemCatalog::new();
    let out = run(
        &c,
        "ROW i = -2, l = to_long(-3), d = -1.8 | EVAL ai = abs(i), al = abs(l), cd = ceil(d), fi = floor(i), \
         s = sqrt(4), sg = signum(i), r = round(d), ri = round(i, -1), p = pow(2, 3)",
    )
    .unwrap();
    let types: Vec<EsType> = out.columns.iter().skip(3).map(|(_, t)| *t).collect();
    use EsType::*;
    assert_eq!(types, [Integer, Long, Double, Integer, Double, Double, Double, Integer, Double]);
    assert_eq!(rows(&out)[0][3..], ["2", "3", "-1.0", "-2", "2.0", "-1.0", "-2.0", "0", "8.0"]);
}

#[test]
fn math_constants_and_trigonometry() {
    let c = MemCatalog::new();
    let out = run(&c, "ROW E(), PI(), TAU() | EVAL c = cos(1.8), a = atan2(12.9, 0.6), h = hypot(3, 4), x = exp(5.0)")
        .unwrap();
    assert_eq!(
        rows(&out),
        [[
            "2.718281828459045",
            "3.141592653589793",
            "6.283185307179586",
            "-0.2272020946930871",
            "1.5243181954438936",
            "5.0",
            "148.4131591025766"
        ]]
    );
    assert_eq!(out.columns[0].0, "E()");
}

#[test]
fn math_failures_are_null_with_warnings() {
    let c = MemCatalog::new();
    let out = run(&c, "row base = 1, value = 2\n| EVAL s = LOG(base, value)").unwrap();
    assert_eq!(rows(&out), [["1", "2", "null"]]);
    assert_eq!(out.warnings, failure("Line 2:12", "LOG(base, value)", "java.lang.ArithmeticException: Log of base 1"));

    let out = run(&c, "row d = -1.0 | eval s = sqrt(d)").unwrap();
    assert_eq!(rows(&out), [["-1.0", "null"]]);
    assert_eq!(out.warnings, failure("Line 1:25", "sqrt(d)", "java.lang.ArithmeticException: Square root of negative"));

    let out = run(&c, "row x = pow(2, 9223372036854775808)").unwrap();
    assert_eq!(rows(&out), [["null"]]);
    assert_eq!(
        out.warnings,
        failure(
            "Line 1:9",
            "pow(2, 9223372036854775808)",
            "java.lang.ArithmeticException: not a finite double number: Infinity"
        )
    );

    let out = run(&c, "ROW a=12.0\n| EVAL acos=ACOS(a)").unwrap();
    assert_eq!(out.warnings, failure("Line 2:13", "ACOS(a)", "java.lang.ArithmeticException: Acos input out of range"));
}

#[test]
fn round_on_every_numeric_type() {
    let c = MemCatalog::new();
    let out = run(
        &c,
        "row a = 1, b = 2 | eval y = round(-123.56789, 3) + ROUND(a + b / 2), z = round(-123.5, null), n = round(null, 3)",
    )
    .unwrap();
    assert_eq!(rows(&out), [["1", "2", "-121.568", "null", "null"]]);
    assert_eq!(out.columns[4].1, EsType::Null);
    let out =
        run(&c, "row ul = 18446744073709551614 | eval a = round(ul, -4), b = round(9223372036854775808, -1)").unwrap();
    assert_eq!(rows(&out), [["18446744073709551614", "18446744073709550000", "9223372036854775810"]]);
    let out = run(&c, "row ul = round(18446744073709551615, -19::long)").unwrap();
    assert_eq!(rows(&out), [["null"]]);
    assert_eq!(
        out.warnings,
        failure(
            "Line 1:10",
            "round(18446744073709551615, -19::long)",
            "java.lang.ArithmeticException: unsigned_long overflow"
        )
    );
    let out = run(
        &c,
        "row x = round(5, -1), y = round(-125, -1), z = round(18446744073709551615, -6144415263046370459::long)",
    )
    .unwrap();
    assert_eq!(rows(&out), [["10", "-130", "0"]]);
}

#[test]
fn math_on_multi_values() {
    let c = MemCatalog::new();
    // Single-value functions null a multi-valued input with a warning...
    let out = run(&c, "ROW a = [1, 2] | EVAL b = abs(a)").unwrap();
    assert_eq!(rows(&out), [["[1, 2]", "null"]]);
    assert_eq!(out.warnings.len(), 2);
    // ... except where Elastic's evaluator is the identity (whole numbers through CEIL, FLOOR
    // and ROUND without decimals) ...
    let out = run(&c, "ROW a = [1, 2] | EVAL c = ceil(a), r = round(a), d = round(a, -1)").unwrap();
    assert_eq!(rows(&out), [["[1, 2]", "[1, 2]", "[1, 2]", "null"]]);
    assert_eq!(out.warnings.len(), 2);
    // ... TO_DEGREES converts every value ...
    let out = run(&c, "ROW deg = [90, 180, 270] | EVAL rad = TO_RADIANS(deg)").unwrap();
    assert_eq!(rows(&out), [["[90, 180, 270]", "[1.5707963267948966, 3.141592653589793, 4.71238898038469]"]]);
    // ... and GREATEST / LEAST look at every value.
    let out = run(&c, "ROW g = GREATEST([10, 4], 1), l = LEAST([10.0, 4], 1), n = GREATEST(10, 5, null)").unwrap();
    assert_eq!(rows(&out), [["10", "1.0", "null"]]);
    let types: Vec<EsType> = out.columns.iter().map(|(_, t)| *t).collect();
    assert_eq!(types, [EsType::Integer, EsType::Double, EsType::Integer]);
}

#[test]
fn greatest_least_and_clamp_on_other_types() {
    let c = MemCatalog::new();
    let out = run(
        &c,
        "ROW a = LEAST(TO_DATETIME(\"1957-05-23T00:00:00Z\"), TO_DATETIME(\"1958-02-19T00:00:00Z\")), \
         b = GREATEST(\"abc\", \"abd\"), t = GREATEST(false, true), \
         c = CLAMP(\"Georgi\", \"Facello\", \"M\"), cm = CLAMP_MAX(\"Georgi\", \"Facello\"), cn = CLAMP_MIN(5, 7.5)",
    )
    .unwrap();
    assert_eq!(rows(&out), [["1957-05-23T00:00:00.000Z", "abd", "true", "Georgi", "Facello", "7.5"]]);
    let err = run(&c, "ROW x = GREATEST(1, \"a\")").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1:9: second argument of [GREATEST(1, \"a\")] must be [integer], found value [\"a\"] type [keyword]"
    );
}

#[test]
fn math_type_errors_and_string_casting() {
    let c = MemCatalog::new();
    let out = run(&c, "ROW number = -1.0 | EVAL abs_number = ABS(\"10.0\")").unwrap();
    assert_eq!(rows(&out), [["-1.0", "10.0"]]);
    let err = run(&sample(), "FROM logs-test-default | EVAL x = ABS(host)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1:35: argument of [ABS(host)] must be [numeric], found value [host] type [keyword]"
    );
    let err = run(&sample(), "FROM logs-test-default | EVAL x = round(bytes, 1.5)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1:35: second argument of [round(bytes, 1.5)] must be [whole number except unsigned_long or counter types], found value [1.5] type [double]"
    );
}

#[test]
fn bucket_degenerate_ranges_warn() {
    let c = MemCatalog::new();
    let out = run(&c, "ROW a = 1 | STATS max = max(a) BY b = BUCKET(a, 0, 0, 0)").unwrap();
    assert_eq!(rows(&out), [["1", "null"]]);
    assert_eq!(
        out.warnings,
        [
            "Line 1:39: evaluation of [BUCKET(a, 0, 0, 0)] failed, treating result as null. Only first 20 failures recorded.",
            "Line 1:39: java.lang.ArithmeticException: / by zero"
        ]
    );
    let out = run(&c, "ROW a = 1 | EVAL b = BUCKET(a, 100000000000, 0, 0), c = BUCKET(a, -1, 0, 0)").unwrap();
    assert_eq!(rows(&out), [["1", "null", "null"]]);
    let out = run(
        &c,
        "ROW long = TO_LONG(100), double = 99., int = 100 \
         | STATS BY b1 = BUCKET(long, 99.), b2 = BUCKET(double, 100.), b3 = BIN(int, 49.5)",
    )
    .unwrap();
    assert_eq!(rows(&out), [["99.0", "0.0", "99.0"]]);
    let out = run(
        &c,
        "ROW d = TO_DATETIME(\"1985-07-09T00:00:00.000Z\"), s = \"1985-01-01T00:00:00Z\" \
         | EVAL m = BUCKET(d, 20, s, \"1986-01-01T00:00:00Z\"), w = BUCKET(d, 100, \"1985-01-01T00:00:00Z\", TO_DATETIME(\"1986-01-01\")), \
         h = BUCKET(d, \"1 hour\") | KEEP m, w, h",
    )
    .unwrap();
    assert_eq!(rows(&out), [["1985-07-01T00:00:00.000Z", "1985-07-08T00:00:00.000Z", "1985-07-09T00:00:00.000Z"]]);
    let err = run(&c, "ROW d = NOW() | EVAL m = BUCKET(d, 20)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1:26: function expects exactly four arguments when the first one is of type [DATETIME] and the second of type [INTEGER]"
    );
}

// ===================================================================================
// Aggregate functions (STATS)
// ===================================================================================

/// `metrics`: `g` keyword, `n` long, `d` double, `v` multi-valued integer, `t` date; four docs.
fn metrics() -> MemCatalog {
    use esql::datafusion::arrow::array::{Float64Array, Int32Builder, ListBuilder, TimestampMillisecondArray};
    let fields = vec![
        FieldInfo { name: "d".into(), es_type: EsType::Double, multi: false },
        FieldInfo { name: "g".into(), es_type: EsType::Keyword, multi: false },
        FieldInfo { name: "n".into(), es_type: EsType::Long, multi: false },
        FieldInfo { name: "t".into(), es_type: EsType::Date, multi: false },
        FieldInfo { name: "v".into(), es_type: EsType::Integer, multi: true },
    ];
    let schema = MemIndex::schema_for(&fields);
    let v: ArrayRef = {
        let mut b = ListBuilder::new(Int32Builder::new());
        for row in [&[3, 1][..], &[], &[2], &[5, 4, 6]] {
            for x in row {
                b.values().append_value(*x);
            }
            b.append(!row.is_empty());
        }
        Arc::new(b.finish())
    };
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from(vec![Some(0.1), Some(0.2), None, Some(0.3)])),
            Arc::new(StringArray::from(vec![Some("a"), Some("b"), Some("a"), None])),
            Arc::new(Int64Array::from(vec![Some(i64::MAX), Some(7), Some(1), None])),
            Arc::new(TimestampMillisecondArray::from(vec![Some(3000), Some(1000), None, Some(2000)])),
            v,
        ],
    )
    .unwrap();
    let index = MemIndex::new("metrics", fields, vec![batch]).unwrap();
    let mut c = MemCatalog::new();
    c.add(Arc::new(index));
    c
}

#[test]
fn sum_overflow_is_null_with_warning() {
    let out = run(&metrics(), "FROM metrics | STATS s = SUM(n), a = AVG(n), t = SUM(v)").unwrap();
    assert_eq!(rows(&out), [["null", "3.0744573456182584E18", "21"]]);
    assert_eq!(
        out.warnings,
        [
            "Line 1:26: evaluation of [SUM(n)] failed, treating result as null. Only first 20 failures recorded.",
            "Line 1:26: java.lang.ArithmeticException: long overflow"
        ]
    );
}

#[test]
fn aggregates_see_every_value_of_multi_values() {
    let out = run(
        &metrics(),
        "FROM metrics | STATS c = COUNT(v), d = COUNT_DISTINCT(v, 100), m = MIN(v), x = MAX(v), a = AVG(v), \
         md = MEDIAN(v), p = PERCENTILE(v, 25), sd = ROUND(STD_DEV(v), 5), t = TOP(v, 2, \"desc\")",
    )
    .unwrap();
    assert_eq!(rows(&out), [["6", "6", "1", "6", "3.5", "3.5", "2.25", "1.70783", "[6, 5]"]]);
}

#[test]
fn values_keep_first_seen_order_per_group() {
    let out =
        run(&metrics(), "FROM metrics | STATS v = VALUES(v), p = PRESENT(d), a = ABSENT(d) BY g | SORT g").unwrap();
    assert_eq!(
        rows(&out),
        [["[3, 1, 2]", "true", "false", "a"], ["null", "true", "false", "b"], ["[5, 4, 6]", "true", "false", "null"]]
    );
}

#[test]
fn first_and_last_follow_the_sort_field() {
    let out = run(&metrics(), "FROM metrics | STATS f = FIRST(n, t), l = LAST(g, t), fv = FIRST(v, t)").unwrap();
    assert_eq!(rows(&out), [["7", "a", "null"]]);
}

#[test]
fn weighted_avg_and_its_warnings() {
    // Elastic: SUM(d * n) / SUM(n), so the weight of a row without `d` still counts.
    let out = run(&metrics(), "FROM metrics | STATS w = WEIGHTED_AVG(d, n) WHERE n < 100").unwrap();
    assert_eq!(rows(&out), [["0.17500000000000002"]]);
    let out = run(&metrics(), "FROM metrics | EVAL z = 0 | STATS w = WEIGHTED_AVG(d, z)").unwrap();
    assert_eq!(rows(&out), [["null"]]);
    assert_eq!(out.warnings[1], "Line 1:39: java.lang.ArithmeticException: / by zero");
    let err = run(&metrics(), "FROM metrics | STATS w = WEIGHTED_AVG(d, 0)").unwrap_err().to_string();
    assert!(err.contains("second argument of [WEIGHTED_AVG(d, 0)] cannot be null or 0, received [0]"), "{err}");
}

#[test]
fn aggregates_of_constants_fold_like_elastic() {
    let out = run(
        &metrics(),
        "FROM metrics | WHERE n > 1000000 | STATS s = SUM(2), a = AVG([1, 2]), t = TOP([3, 1, 2], 2), c = COUNT(*)",
    )
    .unwrap();
    assert_eq!(rows(&out), [["2", "1.5", "[1, 2]", "1"]]);
}

#[test]
fn aggregate_type_errors() {
    let err = run(&metrics(), "FROM metrics | STATS SUM(g)").unwrap_err().to_string();
    assert!(
        err.contains("argument of [SUM(g)] must be [numeric except unsigned_long or counter types], found value [g] type [keyword]"),
        "{err}"
    );
    let err = run(&metrics(), "FROM metrics | STATS TOP(n, 0, \"asc\")").unwrap_err().to_string();
    assert!(err.contains("Limit must be greater than 0 in [TOP(n, 0, \"asc\")], found [0]"), "{err}");
}

// ---- commands: ENRICH, LOOKUP JOIN -------------------------------------------------------------

/// A lookup index `hosts_lookup` (host → owner, two rows for h1) and a match policy over it.
fn with_lookup(mut c: MemCatalog) -> MemCatalog {
    use esql::catalog::{EnrichKind, EnrichPolicy};
    let fields = vec![
        FieldInfo { name: "host".into(), es_type: EsType::Keyword, multi: false },
        FieldInfo { name: "owner".into(), es_type: EsType::Keyword, multi: false },
    ];
    let schema = MemIndex::schema_for(&fields);
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["h1", "h3", "h1"])),
            Arc::new(StringArray::from(vec!["alice", "carol", "anna"])),
        ],
    )
    .unwrap();
    let idx = MemIndex::new("hosts_lookup", fields, vec![batch]).unwrap().with_lookup(true);
    c.add(Arc::new(idx));
    c.add_policy(EnrichPolicy {
        name: "owners".into(),
        kind: EnrichKind::Match,
        index: "hosts_lookup".into(),
        match_field: "host".into(),
        enrich_fields: vec!["owner".into()],
    });
    c
}

#[test]
fn lookup_join_adds_rows_per_match_in_input_order() {
    let c = with_lookup(sample());
    let out = run(&c, "FROM logs-test-default | KEEP bytes, host | LOOKUP JOIN hosts_lookup ON host").unwrap();
    assert_eq!(out.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["bytes", "host", "owner"]);
    let got = rows(&out);
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(got[0][..2], ["10", "h1"]);
    assert_eq!(got[2], ["20", "h2", "null"]);
    let err = run(&c, "FROM logs-test-default | LOOKUP JOIN logs-test-default ON host").unwrap_err();
    assert!(err.to_string().contains("lookup mode"), "{err}");
}

#[test]
fn enrich_adds_policy_fields() {
    let c = with_lookup(sample());
    let out = run(&c, "FROM logs-test-default | KEEP host | ENRICH owners ON host WITH who = owner | LIMIT 2").unwrap();
    assert_eq!(out.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["host", "who"]);
    let got = rows(&out);
    assert_eq!(got, [["h1", "[alice, anna]"], ["h2", "null"]]);
    let err = run(&c, "FROM logs-test-default | ENRICH nope").unwrap_err();
    assert!(err.to_string().contains("unresolved enrich policy [nope]"), "{err}");
}

// ===================================================================================
// KQL("..."), MATCH and the `:` operator: Elasticsearch query semantics
// ===================================================================================

/// Four docs for KQL: keyword, multi-valued keyword, text, long, ip, date and boolean fields,
/// with missing values.
///
/// | id | host.name | tags | message | process.args | bytes | source.ip | @timestamp | ok |
/// |---|---|---|---|---|---|---|---|---|
/// | d1 | web-01 | prod, linux | The quick brown fox | curl, -s, http://x | 10 | 10.1.2.3 | 2024-01-15T10:00Z | true |
/// | d2 | WEB-02 | dev | Quick silver | wget, http://y | 20 | 8.8.8.8 | 2024-01-16T00:00Z | false |
/// | d3 | db-01 | — | brown bears | — | — | — | 2024-01-14T23:59:59.999Z | — |
/// | d4 | — | prod | — | bash | 5 | fd00::1 | — | true |
fn kql_logs() -> MemCatalog {
    use esql::datafusion::arrow::array::{BooleanArray, ListBuilder, StringBuilder, TimestampMillisecondArray};
    let f = |name: &str, es_type: EsType, multi: bool| FieldInfo { name: name.into(), es_type, multi };
    let mut fields = vec![
        f("id", EsType::Keyword, false),
        f("host.name", EsType::Keyword, false),
        f("tags", EsType::Keyword, true),
        f("message", EsType::Text, false),
        f("process.args", EsType::Keyword, true),
        f("bytes", EsType::Long, false),
        f("source.ip", EsType::Ip, false),
        f("@timestamp", EsType::Date, false),
        f("ok", EsType::Boolean, false),
    ];
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    let list = |rows: &[Option<&[&str]>]| -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in rows {
            match r {
                Some(vals) => {
                    for v in *vals {
                        b.values().append_value(v);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Arc::new(b.finish())
    };
    let ms = |s: &str| esql::convert::parse_date_millis(s).unwrap();
    // Columns in field-name order: @timestamp, bytes, host.name, id, message, ok, process.args,
    // source.ip, tags.
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(ms("2024-01-15T10:00:00Z")),
            Some(ms("2024-01-16T00:00:00Z")),
            Some(ms("2024-01-14T23:59:59.999Z")),
            None,
        ])),
        Arc::new(Int64Array::from(vec![Some(10), Some(20), None, Some(5)])),
        Arc::new(StringArray::from(vec![Some("web-01"), Some("WEB-02"), Some("db-01"), None])),
        Arc::new(StringArray::from(vec!["d1", "d2", "d3", "d4"])),
        Arc::new(StringArray::from(vec![Some("The quick brown fox"), Some("Quick silver"), Some("brown bears"), None])),
        Arc::new(BooleanArray::from(vec![Some(true), Some(false), None, Some(true)])),
        list(&[Some(&["curl", "-s", "http://x"]), Some(&["wget", "http://y"]), None, Some(&["bash"])]),
        Arc::new(
            FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                vec![Some(ip("10.1.2.3")), Some(ip("8.8.8.8")), None, Some(ip("fd00::1"))].into_iter(),
                16,
            )
            .unwrap(),
        ),
        list(&[Some(&["prod", "linux"]), Some(&["dev"]), None, Some(&["prod"])]),
    ];
    let schema = MemIndex::schema_for(&fields);
    let batch = RecordBatch::try_new(schema, columns).unwrap();
    let index = MemIndex::new("kql-logs", fields, vec![batch]).unwrap();
    let mut c = MemCatalog::new();
    c.add(Arc::new(index));
    c
}

/// The ids of the docs a `WHERE` condition keeps, with the query's warnings (there should be
/// none: KQL never reads a multi-value as an ES|QL single value).
fn kql_ids(condition: &str) -> Vec<String> {
    let q = format!("FROM kql-logs | WHERE {condition} | SORT id | KEEP id");
    let out = run(&kql_logs(), &q).unwrap_or_else(|e| panic!("{q}: {e}"));
    assert!(out.warnings.is_empty(), "{q}: {:?}", out.warnings);
    rows(&out).into_iter().map(|r| r[0].clone()).collect()
}

/// `KQL("""query""")` ids.
fn kql(query: &str) -> Vec<String> {
    kql_ids(&format!("KQL(\"\"\"{query}\"\"\")"))
}

#[test]
fn kql_keyword_terms_are_exact_and_case_sensitive() {
    assert_eq!(kql("host.name:web-01"), ["d1"]);
    assert_eq!(kql("host.name:WEB-01"), Vec::<String>::new());
    assert_eq!(kql(r#"host.name:"WEB-02""#), ["d2"]);
    assert_eq!(kql("host.name:(web-01 or db-01)"), ["d1", "d3"]);
}

#[test]
fn kql_multi_values_match_if_any_value_matches() {
    assert_eq!(kql("tags:prod"), ["d1", "d4"]);
    assert_eq!(kql("tags:linux"), ["d1"]);
    assert_eq!(kql("tags:(prod and linux)"), ["d1"]);
    assert_eq!(kql("process.args:http*"), ["d1", "d2"]);
    assert_eq!(kql("process.args:(curl and -s)"), ["d1"]);
}

#[test]
fn kql_not_keeps_docs_without_the_field() {
    assert_eq!(kql("not tags:prod"), ["d2", "d3"]);
    assert_eq!(kql("not host.name:web-01"), ["d2", "d3", "d4"]);
    assert_eq!(kql("not bytes:*"), ["d3"]);
    assert_eq!(kql("bytes:*"), ["d1", "d2", "d4"]);
}

#[test]
fn kql_precedence_and_grouping() {
    assert_eq!(kql("tags:dev or tags:prod and bytes:5"), ["d2", "d4"]);
    assert_eq!(kql("(tags:dev or tags:prod) and bytes:5"), ["d4"]);
    assert_eq!(kql("tags:prod AND NOT host.name:*"), ["d4"]);
}

#[test]
fn kql_wildcards() {
    assert_eq!(kql("host.name:*-0*"), ["d1", "d2", "d3"]);
    assert_eq!(kql("host.name:web*"), ["d1"]);
    assert_eq!(kql(r#"host.name:"web*""#), Vec::<String>::new());
    // Kibana hands `* curl*` to query_string, which splits it: "exists or curl*".
    assert_eq!(kql("process.args:(* curl*)"), ["d1", "d2", "d4"]);
    assert_eq!(kql("message:qu*"), ["d1", "d2"]);
}

#[test]
fn kql_text_fields_use_analysis() {
    assert_eq!(kql("message:quick"), ["d1", "d2"]);
    assert_eq!(kql("message:QUICK bears"), ["d1", "d2", "d3"]);
    assert_eq!(kql(r#"message:"quick brown""#), ["d1"]);
    assert_eq!(kql(r#"message:"brown quick""#), Vec::<String>::new());
    assert_eq!(kql("message:qui"), Vec::<String>::new());
}

#[test]
fn kql_numbers_ips_booleans() {
    assert_eq!(kql("bytes:10"), ["d1"]);
    assert_eq!(kql("bytes >= 10"), ["d1", "d2"]);
    assert_eq!(kql("bytes < 10"), ["d4"]);
    assert_eq!(kql("bytes > 9.5 and bytes <= 10"), ["d1"]);
    assert_eq!(kql("source.ip:10.0.0.0/8"), ["d1"]);
    assert_eq!(kql(r#"source.ip:("fd00::/8" or 8.8.8.8)"#), ["d2", "d4"]);
    assert_eq!(kql("source.ip >= 9.0.0.0"), ["d1", "d4"]);
    assert_eq!(kql("ok:true"), ["d1", "d4"]);
    assert_eq!(kql("not ok:true"), ["d2", "d3"]);
}

#[test]
fn kql_dates_and_date_math() {
    assert_eq!(kql("@timestamp:2024-01-15"), ["d1"]);
    assert_eq!(kql("@timestamp >= 2024-01-15"), ["d1", "d2"]);
    assert_eq!(kql("@timestamp > 2024-01-15"), ["d2"]);
    assert_eq!(kql("@timestamp < 2024-01-15"), ["d3"]);
    assert_eq!(kql(r#"@timestamp >= "2024-01-15T10:00:00||/d" and @timestamp < 2024-01-15||+1d"#), ["d1"]);
    // `now` is the query's now: every doc is in the past.
    assert_eq!(kql("@timestamp < now"), ["d1", "d2", "d3"]);
    assert_eq!(kql("@timestamp > now-1d/d"), Vec::<String>::new());
    let opts = QueryOptions { now: Some("2024-01-16T12:00:00Z".parse().unwrap()), ..QueryOptions::default() };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let q = r#"FROM kql-logs | WHERE KQL("@timestamp >= now-1d/d") | SORT id | KEEP id"#;
    let out = rt.block_on(execute(Arc::new(kql_logs()), q, &opts)).unwrap();
    assert_eq!(rows(&out), [["d1"], ["d2"]]);
}

#[test]
fn kql_unknown_fields_match_nothing() {
    assert_eq!(kql("nope:x"), Vec::<String>::new());
    assert_eq!(kql("not nope:x"), ["d1", "d2", "d3", "d4"]);
    assert_eq!(kql("nope:* or tags:dev"), ["d2"]);
}

#[test]
fn kql_bare_values_and_wildcard_fields() {
    assert_eq!(kql("brown"), ["d1", "d3"]);
    assert_eq!(kql("prod"), ["d1", "d4"]);
    assert_eq!(kql(r#""web-01""#), ["d1"]);
    assert_eq!(kql("*"), ["d1", "d2", "d3", "d4"]);
    assert_eq!(kql("process.*:bash"), ["d4"]);
    assert_eq!(kql(""), ["d1", "d2", "d3", "d4"]);
}

#[test]
fn kql_combines_with_esql() {
    assert_eq!(kql_ids(r#"KQL("tags:prod") AND bytes > 6"#), ["d1"]);
    assert_eq!(kql_ids(r#"NOT KQL("tags:prod")"#), ["d2", "d3"]);
    let out = run(&kql_logs(), r#"FROM kql-logs | STATS n = COUNT(*) WHERE KQL("tags:prod")"#).unwrap();
    assert_eq!(rows(&out), [["2"]]);
}

#[test]
fn kql_errors() {
    let err = run(&kql_logs(), r#"FROM kql-logs | WHERE KQL("host.name:(a or )")"#).unwrap_err().to_string();
    assert!(err.contains("line 1:23: Expected \"(\", NOT, value but \")\" found."), "{err}");
    assert!(err.contains("host.name:(a or )\n----------------^"), "{err}");
    let err = run(&kql_logs(), r#"FROM kql-logs | WHERE KQL("bytes:abc")"#).unwrap_err().to_string();
    assert!(err.contains("failed to create query: For input string: \"abc\""), "{err}");
    let err = run(&kql_logs(), r#"FROM kql-logs | WHERE KQL("source.ip:10.*")"#).unwrap_err().to_string();
    assert!(err.contains("Can only use wildcard queries on keyword, text and wildcard fields"), "{err}");
    let err = run(&kql_logs(), "FROM kql-logs | WHERE KQL(id)").unwrap_err().to_string();
    assert!(err.contains("Query must be a constant string in [KQL(id)], found [id]"), "{err}");
    let err = run(&kql_logs(), "FROM kql-logs | WHERE KQL(1)").unwrap_err().to_string();
    assert!(
        err.contains("first argument of [KQL(1)] must be [keyword, text], found value [1] type [integer]"),
        "{err}"
    );
}

#[test]
fn match_function_and_operator() {
    assert_eq!(kql_ids(r#"MATCH(message, "quick fox")"#), ["d1", "d2"]);
    assert_eq!(kql_ids(r#"message : "bears""#), ["d3"]);
    assert_eq!(kql_ids(r#"tags : "prod""#), ["d1", "d4"]);
    assert_eq!(kql_ids("MATCH(bytes, 20)"), ["d2"]);
    assert_eq!(kql_ids(r#"MATCH(bytes, "20")"#), ["d2"]);
    // MATCH is lenient: a value the field cannot hold matches nothing.
    assert_eq!(kql_ids(r#"MATCH(bytes, "abc")"#), Vec::<String>::new());
    assert_eq!(kql_ids(r#"source.ip : "10.0.0.0/8""#), ["d1"]);
    assert_eq!(kql_ids(r#"MATCH(@timestamp, "2024-01-16")"#), ["d2"]);
    assert_eq!(kql_ids(r#"NOT MATCH(tags, "prod")"#), ["d2", "d3"]);
    let err = run(&kql_logs(), "FROM kql-logs | WHERE MATCH(message, 1)").unwrap_err().to_string();
    assert!(
        err.contains(
            "first argument of [MATCH(message, 1)] is [text] so second argument must also be [text] but was [integer]"
        ),
        "{err}"
    );
    // `fuzziness` allows edits on keyword values.
    let out =
        run(&kql_logs(), r#"FROM kql-logs | WHERE MATCH(id, "x1", {"fuzziness": 1, "max_expansions": 10}) | KEEP id"#)
            .unwrap();
    assert_eq!(rows(&out), [["d1"]]);
    let out = run(&kql_logs(), r#"FROM kql-logs | WHERE MATCH(id, "x1") | KEEP id"#).unwrap();
    assert!(rows(&out).is_empty());
    let err = run(&kql_logs(), r#"FROM kql-logs | WHERE MATCH(id, "x1", {"boost": 2})"#).unwrap_err();
    assert!(err.to_string().contains("option [boost]"), "{err}");
    // A computed expression is matched at run time (Elastic's runtime lexical search).
    let out = run(&kql_logs(), r#"FROM kql-logs | WHERE MATCH(TO_UPPER(id), "D1") | KEEP id"#).unwrap();
    assert_eq!(rows(&out), [["d1"]]);
    let err = run(&kql_logs(), r#"FROM kql-logs | WHERE MATCH(TO_LOWER(id), "d1", {"fuzziness": 1})"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("Options are not supported for [MATCH] function call on non-index-mapped field [TO_LOWER(id)]"),
        "{err}"
    );
}

// ===================================================================================
// Spatial: geo_point, TO_GEOPOINT, ST_X, ST_Y, ST_DISTANCE
// ===================================================================================

/// Three docs with a geo_point `location` (the last one without) and a keyword `user`.
fn places() -> MemCatalog {
    let fields = vec![
        FieldInfo { name: "location".into(), es_type: EsType::GeoPoint, multi: false },
        FieldInfo { name: "user".into(), es_type: EsType::Keyword, multi: false },
    ];
    let schema = MemIndex::schema_for(&fields);
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![
                Some("POINT (12.6493508684508 55.6285017221528)"),
                Some("POINT (-71.34 41.12)"),
                None,
            ])),
            Arc::new(StringArray::from(vec![Some("alice"), Some("alice"), Some("bob")])),
        ],
    )
    .unwrap();
    let mut c = MemCatalog::new();
    c.add(Arc::new(MemIndex::new("places", fields, vec![batch]).unwrap()));
    c
}

fn column_types(out: &QueryOutput) -> Vec<String> {
    out.columns.iter().map(|(n, t)| format!("{n}:{t}")).collect()
}

#[test]
fn to_geopoint_st_x_st_y() {
    let q = r#"ROW wkt = "POINT(42.97109629958868 14.7552534006536)" | EVAL pt = TO_GEOPOINT(wkt), x = ST_X(pt), y = ST_Y(pt)"#;
    let out = run(&MemCatalog::new(), q).unwrap();
    assert_eq!(column_types(&out), ["wkt:keyword", "pt:geo_point", "x:double", "y:double"]);
    assert_eq!(
        rows(&out),
        [[
            "POINT(42.97109629958868 14.7552534006536)",
            "POINT (42.97109629958868 14.7552534006536)",
            "42.97109629958868",
            "14.7552534006536"
        ]]
    );
    let out = run(&MemCatalog::new(), r#"ROW pt = TO_GEOPOINT("POINT(1 2)"), c = "POINT(-1 -2)"::geo_point"#).unwrap();
    assert_eq!(rows(&out), [["POINT (1.0 2.0)", "POINT (-1.0 -2.0)"]]);
    assert_eq!(column_types(&out), ["pt:geo_point", "c:geo_point"]);
}

#[test]
fn to_geopoint_converts_every_value_and_warns() {
    let q = r#"ROW wkt = ["POINT(42.97109630194 14.7552534413725)", "POINT(75.8092915005895 22.727749187571)"] | EVAL pt = TO_GEOPOINT(wkt), x = ST_X(pt)"#;
    let out = run(&MemCatalog::new(), q).unwrap();
    let got = rows(&out);
    assert_eq!(got[0][1], "[POINT (42.97109630194 14.7552534413725), POINT (75.8092915005895 22.727749187571)]");
    assert_eq!(got[0][2], "[42.97109630194, 75.8092915005895]");
    let q = "row wkt = [\"POINTX(42.97109630194 14.7552534413725)\", \"POINT(75.8092915005895 22.727749187571)\", \"POINT(111)\"]\n| mv_expand wkt\n| eval pt = to_geopoint(wkt)";
    let out = run(&MemCatalog::new(), q).unwrap();
    let pts: Vec<String> = rows(&out).into_iter().map(|r| r[1].clone()).collect();
    assert_eq!(pts, ["null", "POINT (75.8092915005895 22.727749187571)", "null"]);
    assert_eq!(
        out.warnings,
        [
            "Line 3:13: evaluation of [to_geopoint(wkt)] failed, treating result as null. Only first 20 failures recorded.",
            "Line 3:13: java.lang.IllegalArgumentException: Failed to parse WKT: Unknown geometry type: pointx",
            "Line 3:13: java.lang.IllegalArgumentException: Failed to parse WKT: expected number but found: ')'",
        ]
    );
}

#[test]
fn st_distance_matches_elastic() {
    let q = r#"ROW wkt = ["POINT(1 1)", "POINT(-1 -1)", "POINT(-1 1)", "POINT(1 -1)"]
| MV_EXPAND wkt
| EVAL pt = TO_GEOPOINT(wkt)
| EVAL distance = ST_DISTANCE(pt, TO_GEOPOINT("POINT(0 0)"))
| KEEP distance"#;
    let out = run(&MemCatalog::new(), q).unwrap();
    assert_eq!(
        rows(&out),
        [["157249.5916907891"], ["157249.6015756357"], ["157249.5982806869"], ["157249.59498573805"]]
    );
    let q = r#"ROW p1 = TO_GEOPOINT("POINT(-90.82814 29.79511)"), p2 = TO_GEOPOINT("POINT(-90.79731509999999 29.8835389)") | EVAL d = ST_DISTANCE(p1, p2)"#;
    let out = run(&MemCatalog::new(), q).unwrap();
    assert_eq!(
        rows(&out),
        [["POINT (-90.82814 29.79511)", "POINT (-90.79731509999999 29.8835389)", "10272.529272836206"]]
    );
    // Null on either side is null.
    let out =
        run(&MemCatalog::new(), r#"ROW d = ST_DISTANCE(TO_GEOPOINT("POINT(0 0)"), null), x = ST_X(null)"#).unwrap();
    assert_eq!(rows(&out), [["null", "null"]]);
}

#[test]
fn geo_point_fields_filter_group_and_aggregate() {
    let c = places();
    let q = r#"FROM places | WHERE location IS NOT NULL
| EVAL d = ROUND(ST_DISTANCE(location, TO_GEOPOINT("POINT(12.5683 55.6761)")), 3), lon = ST_X(location)
| KEEP location, d, lon"#;
    let out = run(&c, q).unwrap();
    assert_eq!(column_types(&out), ["location:geo_point", "d:double", "lon:double"]);
    assert_eq!(
        rows(&out),
        [
            ["POINT (12.6493508684508 55.6285017221528)", "7339.574", "12.6493508684508"],
            ["POINT (-71.34 41.12)", "6001289.893", "-71.34"]
        ]
    );
    let q = "FROM places | STATS n = COUNT(location), v = VALUES(location), c = COUNT(*) BY user | SORT user";
    let out = run(&c, q).unwrap();
    assert_eq!(
        rows(&out),
        [
            ["2", "[POINT (12.6493508684508 55.6285017221528), POINT (-71.34 41.12)]", "2", "alice"],
            ["0", "null", "1", "bob"]
        ]
    );
    // Equality compares points; TO_STRING gives the WKT.
    let q =
        r#"FROM places | WHERE location == TO_GEOPOINT("POINT(-71.34 41.12)") | EVAL s = TO_STRING(location) | KEEP s"#;
    assert_eq!(rows(&run(&c, q).unwrap()), [["POINT (-71.34 41.12)"]]);
    let q = "FROM places | STATS c = COUNT(*) BY location | SORT c";
    assert_eq!(rows(&run(&c, q).unwrap()).len(), 3);
}

#[test]
fn impossible_travel_pattern() {
    // The shape of the impossible-travel detection rules: coordinates out of a geo_point, through
    // aggregates, back into points built from text, then a distance in kilometers.
    let q = r#"FROM places | WHERE location IS NOT NULL
| EVAL lat = ST_Y(location), lon = ST_X(location)
| STATS min_lat = MIN(lat), max_lat = MAX(lat), min_lon = MIN(lon), max_lon = MAX(lon) BY user
| EVAL p1 = TO_GEOPOINT(CONCAT("POINT(", TO_STRING(min_lon), " ", TO_STRING(min_lat), ")")),
       p2 = TO_GEOPOINT(CONCAT("POINT(", TO_STRING(max_lon), " ", TO_STRING(max_lat), ")"))
| EVAL distance_km = ROUND(ST_DISTANCE(p1, p2) / 1000.0, 0)
| KEEP user, p1, p2, distance_km"#;
    let out = run(&places(), q).unwrap();
    assert_eq!(rows(&out), [["alice", "POINT (-71.34 41.12)", "POINT (12.6493508684508 55.6285017221528)", "6008.0"]]);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn spatial_type_errors() {
    let c = places();
    let err = |q: &str| run(&c, q).unwrap_err().to_string();
    assert!(err("FROM places | SORT location").contains("line 1:20: cannot sort on geo_point"));
    let e = err("FROM places | WHERE location < location");
    assert!(
        e.contains("first argument of [location < location] must be [date, date_nanos, double, integer, ip, keyword, long, text, unsigned_long or version], found value [location] type [geo_point]"),
        "{e}"
    );
    let e = err("FROM places | EVAL x = ST_X(user)");
    assert!(
        e.contains(
            "argument of [ST_X(user)] must be [geo_point or cartesian_point], found value [user] type [keyword]"
        ),
        "{e}"
    );
    let e = err("FROM places | EVAL d = ST_DISTANCE(location, user)");
    assert!(
        e.contains("second argument of [ST_DISTANCE(location, user)] must be [geo_point or geo_shape], found value [user] type [keyword]"),
        "{e}"
    );
    let e = err("FROM places | EVAL p = TO_GEOPOINT(1)");
    assert!(
        e.contains("argument of [TO_GEOPOINT(1)] must be [geo_point or string], found value [1] type [integer]"),
        "{e}"
    );
    let e = err(r#"ROW p = "POINT(1 91)"::geo_point"#);
    assert!(
        e.contains("Cannot convert string [POINT(1 91)] to [GEO_POINT], error [Failed to parse WKT: invalid latitude 91.0; must be between -90.0 and 90.0]"),
        "{e}"
    );
}

/// Queries over large indices run on several partitions: the same results as on one (sorted, as
/// the order of groups is not fixed then), aggregations merging their partial states.
#[test]
fn parallel_execution_gives_the_same_results() {
    let fields = vec![
        FieldInfo { name: "host".into(), es_type: EsType::Keyword, multi: false },
        FieldInfo { name: "n".into(), es_type: EsType::Long, multi: false },
        FieldInfo { name: "tags".into(), es_type: EsType::Keyword, multi: true },
    ];
    let schema = MemIndex::schema_for(&fields);
    let batches: Vec<RecordBatch> = (0..8)
        .map(|b| {
            use esql::datafusion::arrow::array::{ListBuilder, StringBuilder};
            let rows = 1000;
            let mut tags = ListBuilder::new(StringBuilder::new());
            for i in 0..rows {
                tags.values().append_value(format!("t{}", (b * rows + i) % 7));
                tags.values().append_value(format!("t{}", (b * rows + i) % 3));
                tags.append(true);
            }
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from_iter_values((0..rows).map(|i| format!("h{}", (b * rows + i) % 13)))),
                    Arc::new(Int64Array::from_iter_values((0..rows).map(|i| (b * rows + i) as i64))),
                    Arc::new(tags.finish()),
                ],
            )
            .unwrap()
        })
        .collect();
    let index = MemIndex::new("logs-big-default", fields, batches).unwrap();
    let mut catalog = MemCatalog::new();
    catalog.add(Arc::new(index));
    let query = "FROM logs-big-default | WHERE n % 5 != 0 \
        | STATS c = COUNT(*), s = SUM(n), d = COUNT_DISTINCT(tags), v = MV_SORT(VALUES(tags)), m = MEDIAN(n) BY host \
        | SORT host";
    let on = |parallelism| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let options = QueryOptions { parallelism: Some(parallelism), ..QueryOptions::default() };
        rows(&rt.block_on(execute(Arc::new(catalog.clone()), query, &options)).expect("runs"))
    };
    let one = on(1);
    assert_eq!(one.len(), 13);
    assert_eq!(on(2), one);
    assert_eq!(on(4), one);
}

fn nullify() -> QueryOptions {
    QueryOptions { unmapped_fields: esql::UnmappedFields::Nullify, ..QueryOptions::default() }
}

fn run_nullify(catalog: &MemCatalog, q: &str) -> QueryOutput {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(execute(Arc::new(catalog.clone()), q, &nullify())).unwrap_or_else(|e| panic!("{q}: {e}"))
}

fn explain_nullify(catalog: &MemCatalog, q: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(esql::explain(Arc::new(catalog.clone()), q, &nullify())).unwrap_or_else(|e| panic!("{q}: {e}"))
}

/// The physical plan part of an explanation.
fn physical(explained: &str) -> &str {
    explained.split_once("physical plan:").expect("explain prints the physical plan").1
}

#[test]
fn filters_that_never_hold_on_unmapped_fields_read_nothing() {
    let c = sample();
    for q in [
        "FROM logs-test-default | WHERE nope == \"x\"",
        "FROM logs-test-default | WHERE host == \"h1\" AND nope == \"x\"",
        "FROM logs-test-default | WHERE TO_LOWER(nope) RLIKE \"(.*)365(.*)\"",
        "FROM logs-test-default | WHERE TO_INTEGER(nope) <= 3 AND host != \"h2\" | STATS c = COUNT(*) BY host",
        "FROM logs-test-default | WHERE host LIKE \"h*\" AND (nope == \"POST\" OR TO_LOWER(nope) == \"get\")",
        "FROM logs-test-default | WHERE nope IN (\"a\", \"b\") AND bytes > 0 | KEEP host",
        "FROM logs-test-default | EVAL y = nope | WHERE y == \"x\" AND bytes > 0",
        "FROM logs-test-default | MV_EXPAND tags | EVAL d = bytes + 1 \
         | WHERE host == \"h1\" AND tags == \"a\" AND nope == \"x\" | STATS c = COUNT(*) BY d | SORT d",
        "FROM logs-test-default | STATS c = COUNT(*) BY nope | WHERE nope == \"x\"",
        "FROM logs-test-default | WHERE NOT (nope == \"x\") OR nope > 3",
    ] {
        let plan = explain_nullify(&c, q);
        let physical = physical(&plan);
        assert!(physical.contains("EmptyExec") && !physical.contains("DataSourceExec"), "{q}:\n{plan}");
        assert_eq!(rows(&run_nullify(&c, q)), Vec::<Vec<String>>::new(), "{q}");
    }
    // A global STATS over nothing still answers its one row.
    let q = "FROM logs-test-default | WHERE host == \"h1\" AND nope == \"x\" | STATS c = COUNT(*), s = SUM(bytes)";
    assert!(!physical(&explain_nullify(&c, q)).contains("DataSourceExec"));
    assert_eq!(rows(&run_nullify(&c, q)), [["0", "null"]]);
}

#[test]
fn folded_nulls_keep_three_valued_logic() {
    let c = sample();
    let hosts = |q: &str| -> Vec<String> {
        let out = run_nullify(&c, &format!("FROM logs-test-default | {q} | KEEP host, bytes"));
        rows(&out).into_iter().map(|r| format!("{}:{}", r[0], r[1])).collect()
    };
    let all = ["h1:10", "h2:20", "h1:null"];
    // `null OR x` is `x`.
    assert_eq!(hosts("WHERE nope == \"x\" OR host == \"h1\""), ["h1:10", "h1:null"]);
    assert_eq!(hosts("WHERE (nope >= 1 AND nope <= 3) OR (nope IS NULL AND bytes > 15)"), ["h2:20"]);
    // `NOT null` is null, not true.
    assert_eq!(hosts("WHERE NOT (nope == \"x\")"), Vec::<String>::new());
    assert_eq!(hosts("WHERE NOT (nope == \"x\") OR bytes == 10"), ["h1:10"]);
    // Under NOT, null is not false: NOT (null AND false) is true, NOT (null AND true) is null.
    assert_eq!(hosts("WHERE NOT (nope == \"x\" AND host == \"h1\")"), ["h2:20"]);
    // NOT (null OR true) is false, NOT (null OR false) is null.
    assert_eq!(hosts("WHERE NOT (nope == \"x\" OR host == \"h1\")"), Vec::<String>::new());
    // Inside a comparison or a function, null stays null.
    assert_eq!(hosts("WHERE (nope == \"x\") == false"), Vec::<String>::new());
    assert_eq!(hosts("WHERE (nope == \"x\" AND bytes > 0) != true"), Vec::<String>::new());
    // IS NULL of a null-folded expression is true; COALESCE of null and a value is the value.
    assert_eq!(hosts("WHERE TO_LOWER(nope) IS NULL"), all);
    assert_eq!(hosts("WHERE TO_INTEGER(nope) IS NOT NULL"), Vec::<String>::new());
    assert_eq!(hosts("WHERE COALESCE(nope, host) == \"h1\""), ["h1:10", "h1:null"]);
    assert_eq!(hosts("WHERE CASE(nope == \"x\", false, bytes > 15)"), ["h2:20"]);
    assert_eq!(hosts("WHERE nope IS NULL AND bytes < 15"), ["h1:10"]);
}

#[test]
fn indices_without_the_filtered_field_are_not_read() {
    let mut c = sample();
    let fields = vec![FieldInfo { name: "host".into(), es_type: EsType::Keyword, multi: false }];
    let batch = RecordBatch::try_new(
        MemIndex::schema_for(&fields),
        vec![Arc::new(StringArray::from(vec!["o1", "o2"])) as ArrayRef],
    )
    .unwrap();
    c.add(Arc::new(MemIndex::new("logs-other-default", fields, vec![batch]).unwrap()));
    let q = "FROM logs-* | WHERE bytes > 15 OR host == \"o2\" AND bytes IS NULL | KEEP host | SORT host";
    assert_eq!(physical(&explain_nullify(&c, q)).matches("DataSourceExec").count(), 2);
    assert_eq!(rows(&run_nullify(&c, q)), [["h2"], ["o2"]]);
    let q = "FROM logs-* | WHERE bytes > 15 AND host != \"o1\" | KEEP host";
    let plan = explain_nullify(&c, q);
    assert_eq!(physical(&plan).matches("DataSourceExec").count(), 1, "{plan}");
    assert_eq!(rows(&run_nullify(&c, q)), [["h2"]]);
}

#[test]
fn filters_on_constant_keywords_read_only_the_matching_indices() {
    let mut c = MemCatalog::new();
    for (name, dataset, hosts) in [("logs-a-default", "a", vec!["a1", "a2"]), ("logs-b-default", "b", vec!["b1"])] {
        let fields = vec![
            FieldInfo { name: "data_stream.dataset".into(), es_type: EsType::Keyword, multi: false },
            FieldInfo { name: "host".into(), es_type: EsType::Keyword, multi: false },
        ];
        let batch = RecordBatch::try_new(
            MemIndex::schema_for(&fields),
            vec![
                Arc::new(StringArray::from(vec![dataset; hosts.len()])) as ArrayRef,
                Arc::new(StringArray::from(hosts)) as ArrayRef,
            ],
        )
        .unwrap();
        let index = MemIndex::new(name, fields, vec![batch]).unwrap().with_constant("data_stream.dataset", dataset);
        c.add(Arc::new(index));
    }
    let q = "FROM logs-* | WHERE data_stream.dataset == \"b\" AND host IS NOT NULL | KEEP host, data_stream.dataset";
    let plan = explain_nullify(&c, q);
    assert_eq!(physical(&plan).matches("DataSourceExec").count(), 1, "{plan}");
    assert_eq!(rows(&run_nullify(&c, q)), [["b1", "b"]]);
    let q = "FROM logs-* | WHERE data_stream.dataset == \"c\" OR nope == \"x\"";
    assert!(!physical(&explain_nullify(&c, q)).contains("DataSourceExec"));
    let q = "FROM logs-* | STATS n = COUNT(*) BY data_stream.dataset | SORT data_stream.dataset";
    assert_eq!(rows(&run_nullify(&c, q)), [["2", "a"], ["1", "b"]]);
}

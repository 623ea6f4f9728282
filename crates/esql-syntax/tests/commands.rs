//! Every command form.

mod common;

use common::{command, err, first_error, ok, processing, sexpr};
use esql_syntax::ast::{CommandKind, ExprKind, Literal, NullsOrder, Param, SortOrder};

#[test]
fn from_patterns_and_metadata() {
    let text = "FROM idx1, logs-*, -excluded*, \"quoted\", cluster:idx, \"\"\"triple\"\"\", a::failures METADATA _id, _index, _version, _score";
    let query = ok(text);
    assert_eq!(query.commands.len(), 1);
    assert_eq!(query.commands[0].span.text(text), text);
    let CommandKind::From(from) = &query.commands[0].kind else { panic!("not FROM") };
    let patterns: Vec<&str> = from.indices.iter().map(|i| i.pattern.as_str()).collect();
    assert_eq!(patterns, ["idx1", "logs-*", "-excluded*", "quoted", "cluster:idx", "triple", "a::failures"]);
    let spans: Vec<&str> = from.indices.iter().map(|i| i.span.text(text)).collect();
    assert_eq!(spans[3], "\"quoted\"");
    assert_eq!(spans[4], "cluster:idx");
    let metadata: Vec<&str> = from.metadata.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(metadata, ["_id", "_index", "_version", "_score"]);
    assert_eq!(from.metadata[1].span.text(text), "_index");
}

#[test]
fn from_with_comments_inside_the_index_list() {
    let text = "from logs-*, /* all alerts */ .alerts-security.* // trailing\n, a.b-1 metadata _id";
    let query = ok(text);
    let CommandKind::From(from) = &query.commands[0].kind else { panic!("not FROM") };
    let patterns: Vec<&str> = from.indices.iter().map(|i| i.pattern.as_str()).collect();
    assert_eq!(patterns, ["logs-*", ".alerts-security.*", "a.b-1"]);
}

#[test]
fn from_is_case_insensitive_and_keyword_metadata() {
    let query = ok("FrOm a MeTaDaTa _id");
    let CommandKind::From(from) = &query.commands[0].kind else { panic!("not FROM") };
    assert_eq!(from.metadata.len(), 1);
}

#[test]
fn row_fields() {
    let text = "ROW a = 1, b = \"x\", c = [1, 2], d = [\"a\", \"b\"], e = [true, false], 1 + 2";
    let query = ok(text);
    let CommandKind::Row(fields) = &query.commands[0].kind else { panic!("not ROW") };
    assert_eq!(fields.len(), 6);
    assert_eq!(fields[0].name.as_ref().map(|n| n.name.as_str()), Some("a"));
    assert_eq!(sexpr(&fields[2].expr), "[1 2]");
    assert_eq!(sexpr(&fields[3].expr), "[\"a\" \"b\"]");
    assert_eq!(sexpr(&fields[4].expr), "[true false]");
    assert!(fields[5].name.is_none());
    assert_eq!(fields[5].span.text(text), "1 + 2");
    assert_eq!(fields[1].span.text(text), "b = \"x\"");
}

#[test]
fn show_info() {
    let query = ok("SHOW INFO");
    assert_eq!(query.commands[0].kind, CommandKind::ShowInfo);
    assert_eq!(query.commands[0].span.text("SHOW INFO"), "SHOW INFO");
    assert!(first_error("SHOW foo").contains("mismatched input 'foo' expecting 'info'"));
}

#[test]
fn where_command() {
    let CommandKind::Where(expr) = command("WHERE a > 1") else { panic!() };
    assert_eq!(sexpr(&expr), "(> a 1)");
}

#[test]
fn eval_named_and_unnamed() {
    let text = "FROM i | EVAL a = x + 1, to_ip(source.ip), `b c` = 2";
    let query = ok(text);
    let CommandKind::Eval(fields) = &query.commands[1].kind else { panic!() };
    assert_eq!(fields[0].name.as_ref().map(|n| n.name.as_str()), Some("a"));
    assert!(fields[1].name.is_none());
    assert_eq!(fields[1].span.text(text), "to_ip(source.ip)");
    assert_eq!(fields[1].span, fields[1].expr.span);
    assert_eq!(fields[2].name.as_ref().map(|n| n.name.as_str()), Some("b c"));
    assert_eq!(query.commands[1].span.text(text), "EVAL a = x + 1, to_ip(source.ip), `b c` = 2");
}

#[test]
fn stats_forms() {
    let text = "FROM i | STATS c = count(*), count_distinct(x) WHERE x > 1, max(y) BY host.name, b = bucket(@timestamp, 1 hour)";
    let query = ok(text);
    let CommandKind::Stats(stats) = &query.commands[1].kind else { panic!() };
    assert!(!stats.inline);
    assert_eq!(stats.aggregates.len(), 3);
    assert_eq!(sexpr(&stats.aggregates[0].field.expr), "count(*)");
    assert!(stats.aggregates[0].filter.is_none());
    let filter = stats.aggregates[1].filter.as_ref().expect("filter");
    assert_eq!(sexpr(filter), "(> x 1)");
    // Elastic names an unnamed filtered aggregate by its whole text.
    assert_eq!(stats.aggregates[1].field.span.text(text), "count_distinct(x) WHERE x > 1");
    assert_eq!(stats.aggregates[1].field.expr.span.text(text), "count_distinct(x)");
    assert_eq!(stats.groups.len(), 2);
    assert_eq!(sexpr(&stats.groups[0].expr), "host.name");
    assert_eq!(sexpr(&stats.groups[1].expr), "bucket(@timestamp, <1 hour>)");
    assert_eq!(stats.groups[1].name.as_ref().map(|n| n.name.as_str()), Some("b"));
}

#[test]
fn stats_only_by_and_only_aggregates() {
    let CommandKind::Stats(stats) = command("STATS BY a") else { panic!() };
    assert!(stats.aggregates.is_empty());
    assert_eq!(stats.groups.len(), 1);
    let CommandKind::Stats(stats) = command("stats count()") else { panic!() };
    assert_eq!(stats.aggregates.len(), 1);
    assert!(stats.groups.is_empty());
    assert!(
        first_error("FROM i | STATS").contains("At least one aggregation or grouping expression required in [STATS]")
    );
    assert!(first_error("FROM i | STATS a WHERE b").contains("WHERE clause allowed only for aggregate functions [a]"));
}

#[test]
fn inline_stats() {
    for text in
        ["INLINE STATS c = count(*) BY a", "inline /* c */ stats c = count(*) BY a", "INLINESTATS c = count(*) BY a"]
    {
        let CommandKind::Stats(stats) = command(text) else { panic!() };
        assert!(stats.inline, "{text}");
        assert_eq!(stats.aggregates.len(), 1);
        assert_eq!(stats.groups.len(), 1);
    }
    let CommandKind::Stats(stats) = command("INLINE STATS max(x)") else { panic!() };
    assert!(stats.groups.is_empty());
    assert!(first_error("FROM i | INLINE foo").contains("mismatched input 'foo' expecting 'stats'"));
    // INLINE STATS needs aggregates.
    err("FROM i | INLINE STATS BY a");
}

#[test]
fn keep_and_drop_patterns() {
    let text = "FROM i | KEEP source.ip, Esql.*, `a.b`, source.`as`.name, *, _id, @timestamp, a*b";
    let query = ok(text);
    let CommandKind::Keep(patterns) = &query.commands[1].kind else { panic!() };
    let names: Vec<&str> = patterns.iter().map(|p| p.pattern.as_str()).collect();
    assert_eq!(names, ["source.ip", "Esql.*", "a.b", "source.as.name", "*", "_id", "@timestamp", "a*b"]);
    assert!(patterns[1].is_wildcard());
    assert!(!patterns[2].is_wildcard());
    assert_eq!(patterns[3].span.text(text), "source.`as`.name");
    // Keywords of expression mode are plain names in KEEP.
    let CommandKind::Drop(patterns) = command("DROP first, last, by, where") else { panic!() };
    assert_eq!(patterns.len(), 4);
    assert!(first_error("FROM i | KEEP *, a, *").contains("Cannot specify [*] more than once"));
    assert!(first_error("FROM i | DROP *").contains("Removing all fields is not allowed [*]"));
}

#[test]
fn rename_both_forms() {
    let text = "FROM i | RENAME a AS b, c.d as `e f`, new = old";
    let query = ok(text);
    let CommandKind::Rename(renames) = &query.commands[1].kind else { panic!() };
    let pairs: Vec<(&str, &str)> = renames.iter().map(|r| (r.old.pattern.as_str(), r.new.pattern.as_str())).collect();
    assert_eq!(pairs, [("a", "b"), ("c.d", "e f"), ("old", "new")]);
    assert_eq!(renames[2].span.text(text), "new = old");
    assert!(first_error("FROM i | RENAME a* AS b").contains("Using wildcards [*] in RENAME"));
}

#[test]
fn sort_keys() {
    let text = "FROM i | SORT a, b DESC, c ASC NULLS FIRST, d desc nulls last, length(e)";
    let query = ok(text);
    let CommandKind::Sort(keys) = &query.commands[1].kind else { panic!() };
    let summary: Vec<(String, SortOrder, Option<NullsOrder>)> =
        keys.iter().map(|k| (sexpr(&k.expr), k.order, k.nulls)).collect();
    assert_eq!(
        summary,
        [
            ("a".to_string(), SortOrder::Asc, None),
            ("b".to_string(), SortOrder::Desc, None),
            ("c".to_string(), SortOrder::Asc, Some(NullsOrder::First)),
            ("d".to_string(), SortOrder::Desc, Some(NullsOrder::Last)),
            ("length(e)".to_string(), SortOrder::Asc, None),
        ]
    );
    assert_eq!(keys[2].span.text(text), "c ASC NULLS FIRST");
}

#[test]
fn limit_values() {
    let CommandKind::Limit(expr) = command("LIMIT 10") else { panic!() };
    assert_eq!(expr.kind, ExprKind::Literal(Literal::Integer(10)));
    let CommandKind::Limit(expr) = command("LIMIT ?") else { panic!() };
    assert_eq!(expr.kind, ExprKind::Param(Param::Anonymous(0)));
    assert_eq!(
        first_error("ROW a = 1 | LIMIT 1.5"),
        "line 1:13: value of [LIMIT 1.5] must be a non negative integer, found value [1.5] type [double]"
    );
    assert!(first_error("ROW a = 1 | LIMIT -1").contains("type [integer]"));
    assert!(first_error("ROW a = 1 | LIMIT \"x\"").contains("type [keyword]"));
}

#[test]
fn dissect_and_grok() {
    let text = r#"FROM i | DISSECT message "%{a} %{b}" APPEND_SEPARATOR = "-" | GROK to_lower(x) """%{IP:ip} \d""""#;
    let query = ok(text);
    let CommandKind::Dissect(dissect) = &query.commands[1].kind else { panic!() };
    assert_eq!(sexpr(&dissect.input), "message");
    assert_eq!(dissect.pattern, "%{a} %{b}");
    assert_eq!(dissect.pattern_span.text(text), "\"%{a} %{b}\"");
    assert_eq!(dissect.options.len(), 1);
    assert_eq!(dissect.options[0].0.name, "APPEND_SEPARATOR");
    assert_eq!(sexpr(&dissect.options[0].1), "\"-\"");
    let CommandKind::Grok(grok) = &query.commands[2].kind else { panic!() };
    assert_eq!(sexpr(&grok.input), "to_lower(x)");
    assert_eq!(grok.pattern, r"%{IP:ip} \d");
    assert!(first_error(r#"FROM i | DISSECT a "%{b}" foo = "x""#).contains("Invalid option for dissect: [foo]"));
    assert!(
        first_error(r#"FROM i | DISSECT a "%{b}" append_separator = 1"#).contains("expected a string, but was [1]")
    );
    // Several grok patterns parse, but the AST holds one: unsupported.
    assert_eq!(command(r#"GROK a "%{WORD:x}", "%{NUMBER:y}""#), CommandKind::Unsupported { name: "GROK".to_string() });
}

#[test]
fn mv_expand() {
    let CommandKind::MvExpand(ident) = command("MV_EXPAND a.`b c`.first") else { panic!() };
    assert_eq!(ident.name, "a.b c.first");
}

#[test]
fn enrich_forms() {
    let text = "FROM i | ENRICH _remote:my-policy.v1 ON source.ip WITH geo = city.name, country";
    let query = ok(text);
    let CommandKind::Enrich(enrich) = &query.commands[1].kind else { panic!() };
    assert_eq!(enrich.policy.name, "my-policy.v1");
    assert_eq!(enrich.policy.span.text(text), "my-policy.v1");
    assert_eq!(enrich.mode.as_deref(), Some("_remote"));
    assert_eq!(enrich.on.as_ref().map(|o| o.name.as_str()), Some("source.ip"));
    let with: Vec<(Option<&str>, &str)> =
        enrich.with.iter().map(|(n, f)| (n.as_ref().map(|n| n.name.as_str()), f.name.as_str())).collect();
    assert_eq!(with, [(Some("geo"), "city.name"), (None, "country")]);

    let CommandKind::Enrich(enrich) = command("ENRICH languages_policy") else { panic!() };
    assert_eq!(enrich.policy.name, "languages_policy");
    assert!(enrich.mode.is_none() && enrich.on.is_none() && enrich.with.is_empty());

    let CommandKind::Enrich(enrich) = command("enrich p with x") else { panic!() };
    assert_eq!(enrich.with.len(), 1);

    assert!(first_error("FROM i | ENRICH _foo:p").contains(
        "Unrecognized value [_foo], ENRICH policy qualifier needs to be one of [_ANY, _COORDINATOR, _REMOTE]"
    ));
    assert!(first_error("FROM i | ENRICH p WITH a*").contains("Using wildcards [*] in ENRICH WITH"));
}

#[test]
fn lookup_join() {
    let text = "FROM i | LOOKUP JOIN threat_intel ON source.ip, host.name";
    let query = ok(text);
    let CommandKind::LookupJoin(join) = &query.commands[1].kind else { panic!() };
    assert_eq!(join.index.pattern, "threat_intel");
    let on: Vec<&str> = join.on.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(on, ["source.ip", "host.name"]);
    assert_eq!(query.commands[1].span.text(text), "LOOKUP JOIN threat_intel ON source.ip, host.name");
    assert_eq!(command("LOOKUP JOIN t ON a == b"), CommandKind::Unsupported { name: "LOOKUP JOIN".to_string() });
    assert!(first_error("FROM i | LOOKUP JOIN t* ON a").contains("* is not allowed in LOOKUP JOIN"));
    assert!(first_error("FROM i | LOOKUP foo ON a").contains("expecting 'join'"));
}

#[test]
fn unsupported_commands_skip_to_the_next_top_level_pipe() {
    let text = r#"FROM i | COMPLETION r = prompt WITH { "inference_id": "a|b" } | FORK (WHERE a | LIMIT 1) (SORT b) | sample 0.5 | CHANGE_POINT v ON t | rerank "q" ON f | fuse | INSIST_🐔 x | KEEP r"#;
    let query = ok(text);
    let names: Vec<String> = query
        .commands
        .iter()
        .map(|c| match &c.kind {
            CommandKind::Unsupported { name } => name.clone(),
            CommandKind::From(_) => "from".to_string(),
            CommandKind::Keep(_) => "keep".to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["from", "COMPLETION", "FORK", "SAMPLE", "CHANGE_POINT", "RERANK", "FUSE", "INSIST_🐔", "keep"]);
    assert_eq!(query.commands[1].span.text(text), r#"COMPLETION r = prompt WITH { "inference_id": "a|b" }"#);
    assert_eq!(query.commands[2].span.text(text), "FORK (WHERE a | LIMIT 1) (SORT b)");
}

#[test]
fn unsupported_source_commands_and_settings() {
    for (text, name) in
        [("TS k8s-* | STATS max(x)", "TS"), ("EXPLAIN (FROM a | LIMIT 1)", "EXPLAIN"), ("METRICS k8s", "METRICS")]
    {
        let query = ok(text);
        assert_eq!(query.commands[0].kind, CommandKind::Unsupported { name: name.to_string() }, "{text}");
    }
    let text = "SET project_routing = \"_alias:x\"; SET b = 1;\nFROM a | LIMIT 1";
    let query = ok(text);
    assert_eq!(query.commands.len(), 4);
    assert_eq!(query.commands[0].kind, CommandKind::Unsupported { name: "SET".to_string() });
    assert_eq!(query.commands[0].span.text(text), "SET project_routing = \"_alias:x\";");
    assert!(matches!(query.commands[2].kind, CommandKind::From(_)));
}

#[test]
fn command_spans_start_at_the_keyword_and_end_at_the_last_token() {
    let text = "FROM a   // comment\n|   WHERE x == 1   /* c */ |LIMIT 5 ";
    let query = ok(text);
    let spans: Vec<&str> = query.commands.iter().map(|c| c.span.text(text)).collect();
    assert_eq!(spans, ["FROM a", "WHERE x == 1", "LIMIT 5"]);
    assert_eq!(query.span.text(text), text);
}

#[test]
fn long_pipelines() {
    let text = format!("ROW a = 1{}", " | EVAL a = a + 1".repeat(500));
    assert_eq!(ok(&text).commands.len(), 501);
    let text = format!("ROW a = 1{}", " | EVAL a = a + 1".repeat(501));
    assert!(first_error(&text).contains("ESQL statement exceeded the maximum query depth allowed (500)"));
}

#[test]
fn processing_helper_sanity() {
    assert_eq!(processing("WHERE a | LIMIT 1").len(), 2);
}

//! Error messages, positions, recovery and depth limits.

mod common;

use common::{err, first_error, ok};
use esql_syntax::ErrorKind;
use esql_syntax::ast::CommandKind;

#[test]
fn mismatched_input_names_found_and_expected() {
    let text = "FROM a | WHERE x y";
    let diagnostics = err(text);
    assert_eq!(diagnostics.len(), 1);
    let d = &diagnostics[0];
    assert_eq!(d.kind, ErrorKind::Parsing);
    assert_eq!(d.span.text(text), "y");
    let message = d.to_elastic_string(text);
    assert!(message.starts_with("line 1:18: mismatched input 'y' expecting {<EOF>, '|', "), "{message}");
    for expected in ["'and'", "'or'", "'=='", "'in'", "'is'", "'like'", "'+'", "'::'"] {
        assert!(message.contains(expected), "{expected} missing in {message}");
    }
}

#[test]
fn unknown_and_misplaced_commands() {
    assert_eq!(
        first_error("FROM a | foo x"),
        "line 1:10: mismatched input 'foo' expecting {'change_point', 'enrich', 'completion', \
         'dissect', 'eval', 'grok', 'limit', 'rerank', 'sample', 'sort', 'stats', 'where', 'fork', \
         'fuse', 'inline', 'inlinestats', 'lookup', 'mv_expand', 'drop', 'keep', 'rename'}"
    );
    assert_eq!(first_error("WHERE a"), "line 1:1: mismatched input 'WHERE' expecting {'row', 'from', 'ts', 'show'}");
    assert!(first_error("FROM a | FROM b").starts_with("line 1:10: mismatched input 'FROM'"));
    // Like Elasticsearch's lexer, a command keyword must be followed by whitespace.
    assert!(first_error("FROM a | where(x)").contains("mismatched input 'where(x)'"));
}

#[test]
fn end_of_input_errors() {
    assert!(first_error("FROM a |").starts_with("line 1:9: mismatched input '<EOF>' expecting {"));
    assert!(first_error("").starts_with("line 1:1: mismatched input '<EOF>' expecting {'row'"));
    let text = "FROM a\n| WHERE a ==";
    let message = first_error(text);
    assert!(message.starts_with("line 2:13: mismatched input '<EOF>' expecting {"), "{message}");
    assert!(message.contains("QUOTED_STRING"), "{message}");
    assert!(message.contains("UNQUOTED_IDENTIFIER"), "{message}");
    assert!(first_error("FROM").contains("mismatched input '<EOF>' expecting {QUOTED_STRING, UNQUOTED_SOURCE}"));
    assert!(first_error("FROM a | KEEP").contains("mismatched input '<EOF>' expecting ID_PATTERN"));
    assert!(first_error("FROM a | EVAL f(").contains("mismatched input '<EOF>'"));
}

#[test]
fn lexing_errors() {
    assert_eq!(first_error("FROM a | WHERE a # 1"), "line 1:18: token recognition error at: '#'");
    assert_eq!(first_error("FROM a | WHERE a == `"), "line 1:21: token recognition error at: '`'");
    assert!(first_error("ROW x = 1 =~ 1").contains("[=~] is not supported"));
}

#[test]
fn missing_pieces() {
    assert!(first_error("FROM a | WHERE a IN 1").contains("mismatched input '1' expecting '('"));
    assert!(first_error("FROM a | WHERE a IS NOT 1").contains("mismatched input '1' expecting 'null'"));
    assert!(first_error("FROM a | WHERE a NOT b").contains("mismatched input 'b' expecting {'in', 'like', 'rlike'}"));
    assert!(first_error("FROM a | EVAL (a + b").contains("mismatched input '<EOF>'"));
    assert!(first_error("FROM a | EVAL x = ").contains("mismatched input '<EOF>'"));
    assert!(first_error("FROM a | RENAME a b").contains("mismatched input 'b' expecting"));
    assert!(first_error("FROM a | SORT a NULLS b").contains("expecting {'first', 'last'}"));
    assert!(first_error("FROM a | DISSECT a b").contains("expecting"));
    assert!(first_error("FROM a, | LIMIT 1").starts_with("line 1:9: mismatched input '|'"));
}

#[test]
fn recovery_reports_one_error_per_command() {
    let text = "FROM a | WHERE | EVAL x = | KEEP b | LIMIT x";
    let diagnostics = err(text);
    let rendered: Vec<String> = diagnostics.iter().map(|d| d.to_elastic_string(text)).collect();
    assert_eq!(diagnostics.len(), 3, "{rendered:#?}");
    assert!(rendered[0].starts_with("line 1:16: mismatched input '|'"), "{rendered:#?}");
    assert!(rendered[1].starts_with("line 1:27: mismatched input '|'"), "{rendered:#?}");
    assert!(rendered[2].starts_with("line 1:44: mismatched input 'x'"), "{rendered:#?}");
    let all = esql_syntax::diagnostic::elastic_message(&diagnostics, text);
    assert!(all.starts_with("Found 3 problems\nline 1:16:"), "{all}");
}

#[test]
fn diagnostic_spans_are_the_offending_token() {
    let text = "FROM a | EVAL x = 1 +* 2";
    let d = &err(text)[0];
    assert_eq!(d.span.text(text), "*");
    let text = "FROM a | WHERE x == \"unterminated";
    let d = &err(text)[0];
    assert_eq!(d.span.text(text), "\"unterminated");
    // Columns count characters, not bytes.
    let text = "ROW a = \"é\" b";
    assert!(first_error(text).starts_with("line 1:13:"));
}

fn run_with_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow or panic");
}

#[test]
fn deeply_nested_parentheses_fail_cleanly() {
    run_with_small_stack(|| {
        let n = 100_000;
        let text = format!("ROW x = {}1{}", "(".repeat(n), ")".repeat(n));
        let message = first_error(&text);
        assert!(message.contains("ESQL statement exceeded the maximum expression depth allowed (400)"), "{message}");
        // Unbalanced, too.
        let text = format!("ROW x = {}", "(".repeat(n));
        assert!(first_error(&text).contains("maximum expression depth"));
        let text = format!("ROW x = {}1", "-".repeat(n));
        assert!(first_error(&text).contains("maximum expression depth"));
        let text = format!("FROM i | WHERE {}a", "NOT ".repeat(n));
        assert!(first_error(&text).contains("maximum expression depth"));
        let text = format!("ROW x = {}1{}", "f(".repeat(n), ")".repeat(n));
        assert!(first_error(&text).contains("maximum expression depth"));
        let text = format!("ROW x = {}", "[".repeat(n));
        err(&text);
    });
}

#[test]
fn moderately_nested_expressions_parse() {
    run_with_small_stack(|| {
        let n = 300;
        let text = format!("ROW x = {}1{}", "(".repeat(n), ")".repeat(n));
        ok(&text);
        let text = format!("ROW x = {}1{}", "abs(".repeat(n), ")".repeat(n));
        ok(&text);
        let text = format!("FROM i | WHERE {}a", "NOT ".repeat(n));
        ok(&text);
    });
}

#[test]
fn long_binary_chains() {
    run_with_small_stack(|| {
        // Up to the depth limit, chains parse (iteratively) and drop without trouble.
        let text = format!("FROM i | WHERE a{}", " OR a".repeat(350));
        let query = ok(&text);
        let CommandKind::Where(expr) = &query.commands[1].kind else { panic!() };
        assert_eq!(expr.span.text(&text), &text["FROM i | WHERE ".len()..]);
        let text = format!("ROW x = 1{}", " + 1".repeat(350));
        ok(&text);
        // Beyond it, Elasticsearch rejects the query, and so do we, without deep recursion.
        for op in ["OR", "AND", "+", "*"] {
            let text = format!("FROM i | WHERE a{}", format!(" {op} a").repeat(100_000));
            let message = first_error(&text);
            assert!(
                message.contains("ESQL statement exceeded the maximum expression depth allowed (400)"),
                "{op}: {message}"
            );
        }
    });
}

#[test]
fn long_flat_lists_are_fine() {
    run_with_small_stack(|| {
        let items: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
        let text = format!("FROM i | WHERE a IN ({})", items.join(", "));
        ok(&text);
        let text = format!("ROW x = [{}]", items.join(", "));
        ok(&text);
        let text = format!("ROW x = f({})", items.join(", "));
        ok(&text);
    });
}

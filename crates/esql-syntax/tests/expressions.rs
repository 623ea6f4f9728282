//! Expression forms, literals, identifiers, precedence and spans.

mod common;

use common::{first_error, ok, row_sexpr, where_expr, where_sexpr};
use esql_syntax::ast::{CommandKind, ExprKind, Literal};

#[test]
fn precedence_of_boolean_operators() {
    assert_eq!(where_sexpr("a OR b AND c"), "(or a (and b c))");
    assert_eq!(where_sexpr("a AND b OR c"), "(or (and a b) c)");
    assert_eq!(where_sexpr("a OR b OR c"), "(or (or a b) c)");
    assert_eq!(where_sexpr("NOT a AND b"), "(and (not a) b)");
    assert_eq!(where_sexpr("NOT a OR NOT b"), "(or (not a) (not b))");
    assert_eq!(where_sexpr("NOT NOT a"), "(not (not a))");
    assert_eq!(where_sexpr("a AND NOT b == c"), "(and a (not (== b c)))");
    assert_eq!(where_sexpr("NOT a IN (1, 2)"), "(not (in a [1 2]))");
    assert_eq!(where_sexpr("(a OR b) AND c"), "(and (or a b) c)");
}

#[test]
fn precedence_of_arithmetic_and_comparison() {
    assert_eq!(where_sexpr("a + b * c == d"), "(== (+ a (* b c)) d)");
    assert_eq!(where_sexpr("a * b + c"), "(+ (* a b) c)");
    assert_eq!(where_sexpr("a - b - c"), "(- (- a b) c)");
    assert_eq!(where_sexpr("a / b % c"), "(% (/ a b) c)");
    assert_eq!(where_sexpr("(a + b) * c > 1"), "(> (* (+ a b) c) 1)");
    assert_eq!(where_sexpr("-a * b < 0"), "(< (* (neg a) b) 0)");
    assert_eq!(where_sexpr("a -1 >= 0"), "(>= (- a 1) 0)");
    assert_eq!(where_sexpr("a != b"), "(!= a b)");
    assert_eq!(where_sexpr("a <= b"), "(<= a b)");
}

#[test]
fn unary_minus_and_signed_literals() {
    assert_eq!(row_sexpr("-1"), "-1");
    assert_eq!(row_sexpr("- 1"), "-1");
    assert_eq!(row_sexpr("+1"), "1");
    assert_eq!(row_sexpr("-1.5"), "-1.5");
    assert_eq!(row_sexpr("--1"), "(neg -1)");
    assert_eq!(row_sexpr("-a"), "(neg a)");
    assert_eq!(row_sexpr("-a::long"), "(neg (:: a long))");
    // ANTLR reads `-1::long` as the constant -1, cast.
    assert_eq!(row_sexpr("-1::long"), "(:: -1 long)");
    assert_eq!(row_sexpr("-9223372036854775808"), "-9223372036854775808");
    assert_eq!(row_sexpr("- 1 day"), "<-1 day>");
    assert_eq!(row_sexpr("1 - -1"), "(- 1 -1)");
}

#[test]
fn casts() {
    assert_eq!(row_sexpr("x::ip"), "(:: x ip)");
    assert_eq!(row_sexpr("\"1\"::LONG::double"), "(:: (:: \"1\" long) double)");
    assert_eq!(row_sexpr("f(x)::keyword"), "(:: f(x) keyword)");
    assert_eq!(row_sexpr("(a + b)::long"), "(:: (+ a b) long)");
    assert_eq!(row_sexpr("a.b::date_nanos"), "(:: a.b date_nanos)");
    let query = ok("ROW x = y::UNSIGNED_LONG");
    let CommandKind::Row(fields) = &query.commands[0].kind else { panic!() };
    let ExprKind::Cast { to, to_span, .. } = &fields[0].expr.kind else { panic!() };
    assert_eq!(to, "unsigned_long");
    assert_eq!(to_span.text("ROW x = y::UNSIGNED_LONG"), "UNSIGNED_LONG");
}

#[test]
fn predicates() {
    assert_eq!(where_sexpr("a IN (1, 2, b)"), "(in a [1 2 b])");
    assert_eq!(where_sexpr("a NOT IN (\"x\")"), "(not-in a [\"x\"])");
    assert_eq!(where_sexpr("a LIKE \"x*\""), "(like a \"x*\")");
    assert_eq!(where_sexpr("a NOT LIKE \"x*\""), "(not-like a \"x*\")");
    assert_eq!(where_sexpr("a LIKE (\"x*\", \"y?\")"), "(like a \"x*\" \"y?\")");
    assert_eq!(where_sexpr("a RLIKE \"x.*\""), "(rlike a \"x.*\")");
    assert_eq!(where_sexpr("a not rlike \"\"\"\\d+\"\"\""), "(not-rlike a \"\\\\d+\")");
    assert_eq!(where_sexpr("a LIKE ?p"), "(like a ?p)");
    assert_eq!(where_sexpr("a LIKE concat(\"x\", \"*\")"), "(like a concat(\"x\", \"*\"))");
    assert_eq!(where_sexpr("a IS NULL"), "(is-null a)");
    assert_eq!(where_sexpr("a IS NOT NULL"), "(is-not-null a)");
    assert_eq!(where_sexpr("to_ip(x) is not null"), "(is-not-null to_ip(x))");
    assert_eq!(where_sexpr("a : \"query\""), "(: a \"query\")");
    assert_eq!(where_sexpr("a::text : \"q\""), "(: (:: a text) \"q\")");
    assert_eq!(
        where_sexpr("a : \"q\" AND b IS NULL OR c LIKE \"d\""),
        "(or (and (: a \"q\") (is-null b)) (like c \"d\"))"
    );
    // A predicate takes a value expression (arithmetic or comparison) on its left.
    assert_eq!(where_sexpr("a + 1 IN (2)"), "(in (+ a 1) [2])");
    assert_eq!(where_sexpr("a < b IS NULL"), "(is-null (< a b))");
    assert_eq!(where_sexpr("a == b IN (true)"), "(in (== a b) [true])");
    assert_eq!(where_sexpr("a IN (b == c)"), "(in a [(== b c)])");
}

#[test]
fn predicates_and_comparisons_do_not_chain() {
    for text in [
        "FROM i | WHERE a == b == c",
        "FROM i | WHERE a < b > c",
        "FROM i | WHERE a IS NULL IS NULL",
        "FROM i | WHERE a IN (1) IN (2)",
        "FROM i | WHERE (a) : \"x\"",
        "FROM i | WHERE f(a) : \"x\"",
        "FROM i | WHERE a : b",
        "FROM i | WHERE a == NOT b",
        "FROM i | WHERE a IS NULL + 1",
    ] {
        common::err(text);
    }
}

#[test]
fn function_calls() {
    assert_eq!(row_sexpr("COUNT(*)"), "count(*)");
    assert_eq!(row_sexpr("count()"), "count()");
    assert_eq!(row_sexpr("Concat(a, \"b\", 1)"), "concat(a, \"b\", 1)");
    assert_eq!(row_sexpr("left(a, 2)"), "left(a, 2)");
    assert_eq!(row_sexpr("first(a, @timestamp)"), "first(a, @timestamp)");
    assert_eq!(row_sexpr("LAST(a, b)"), "last(a, b)");
    assert_eq!(row_sexpr("match(a, \"b\")"), "match(a, \"b\")");
    assert_eq!(row_sexpr("kql(\"\"\"a: b\"\"\")"), "kql(\"a: b\")");
    assert_eq!(row_sexpr("mv_count([1, 2])"), "mv_count([1 2])");
    assert_eq!(row_sexpr("f(g(h(x)))"), "f(g(h(x)))");
    assert_eq!(row_sexpr("f(a AND b, NOT c)"), "f((and a b), (not c))");
    assert_eq!(
        row_sexpr("f(x, {\"option\": 1, \"b\": \"s\", \"l\": [1, 2]})"),
        "f(x, {\"option\": 1, \"b\": \"s\", \"l\": [1 2]})"
    );
    let text = "ROW x = cOuNt(*)";
    let query = ok(text);
    let CommandKind::Row(fields) = &query.commands[0].kind else { panic!() };
    let ExprKind::Call { name, name_span, star, .. } = &fields[0].expr.kind else { panic!() };
    assert_eq!(name, "count");
    assert_eq!(name_span.text(text), "cOuNt");
    assert!(*star);
    assert!(
        first_error("ROW x = f(x, {\"a\": 1, \"a\": 2})")
            .contains("Duplicated function arguments with the same name [a]")
    );
    assert!(first_error("ROW x = f(x, {\"a\": null})").contains("NULL is not supported"));
    assert!(first_error("ROW x = f(x, {\" \": 1})").contains("empty key is not supported"));
}

#[test]
fn literals() {
    assert_eq!(row_sexpr("1"), "1");
    assert_eq!(row_sexpr("9223372036854775807"), "9223372036854775807");
    assert_eq!(row_sexpr("9223372036854775808"), "big:9223372036854775808");
    assert_eq!(row_sexpr("123456789012345678901234567890"), "big:123456789012345678901234567890");
    assert_eq!(row_sexpr("1.5"), "1.5");
    assert_eq!(row_sexpr(".5"), "0.5");
    assert_eq!(row_sexpr("1."), "1.0");
    assert_eq!(row_sexpr("1e10"), "10000000000.0");
    assert_eq!(row_sexpr("1.5E-3"), "0.0015");
    assert_eq!(row_sexpr("true"), "true");
    assert_eq!(row_sexpr("FALSE"), "false");
    assert_eq!(row_sexpr("null"), "null");
    assert_eq!(row_sexpr("[1, 2.5, -3]"), "[1 2.5 -3]");
    assert_eq!(row_sexpr("[\"a\"]"), "[\"a\"]");
    assert!(first_error("ROW x = 1e999").contains("Number [1e999] is too large"));
}

#[test]
fn strings_and_escapes() {
    assert_eq!(row_sexpr(r#""a\tb\nc\rd\"e\\f""#), r#""a\tb\nc\rd\"e\\f""#);
    assert_eq!(row_sexpr(r#""""raw \d "quoted" """"#), r#""raw \\d \"quoted\" ""#);
    assert_eq!(row_sexpr(r#""""ends in quotes""""""#), r#""ends in quotes\"\"""#);
    assert_eq!(row_sexpr(r#""""one more"""""#), r#""one more\"""#);
    assert_eq!(row_sexpr("\"ünïcödé 🚀\""), "\"ünïcödé 🚀\"");
    assert_eq!(row_sexpr(r#""""""""#), r#""""#);
    // Unknown escapes, raw line breaks and unterminated strings are lexing errors.
    assert_eq!(first_error(r#"ROW x = "a\qb""#), r#"line 1:9: token recognition error at: '"a\q'"#);
    assert!(first_error("ROW x = \"a\nb\"").contains("token recognition error"));
    assert!(first_error("ROW x = \"abc").contains("token recognition error at: '\"abc'"));
    // Triple-quoted strings cannot span lines in Elasticsearch's grammar.
    common::err("ROW x = \"\"\"a\nb\"\"\"");
}

#[test]
fn time_spans() {
    for (text, expected) in [
        ("1 day", "<1 day>"),
        ("8 hours", "<8 hours>"),
        ("5m", "<5 m>"),
        ("1min", "<1 min>"),
        ("2weeks", "<2 weeks>"),
        ("1 year", "<1 year>"),
        ("3 quarters", "<3 quarters>"),
        ("15 SECONDS", "<15 seconds>"),
        ("1ms", "<1 ms>"),
        ("7 d", "<7 d>"),
        ("2 mo", "<2 mo>"),
        ("1 yr", "<1 yr>"),
    ] {
        assert_eq!(row_sexpr(text), expected, "{text}");
    }
    assert_eq!(where_sexpr("@timestamp > now() - 8 hours"), "(> @timestamp (- now() <8 hours>))");
    let text = "ROW x = 15 minutes";
    let query = ok(text);
    let CommandKind::Row(fields) = &query.commands[0].kind else { panic!() };
    assert_eq!(fields[0].expr.span.text(text), "15 minutes");
    assert_eq!(first_error("ROW x = 1 foo"), "line 1:11: Unexpected temporal unit: 'foo'");
    // Decimals take no unit.
    common::err("ROW x = 1.5 hours");
}

#[test]
fn parameters() {
    assert_eq!(
        where_sexpr("a == ? AND b == ?1 AND c == ?name AND d == ?"),
        "(and (and (and (== a ?#0) (== b ?1)) (== c ?name)) (== d ?#1))"
    );
    // Anonymous parameters are numbered across the whole query.
    let query = ok("ROW a = ? | EVAL b = ?");
    let CommandKind::Eval(fields) = &query.commands[1].kind else { panic!() };
    assert_eq!(common::sexpr(&fields[0].expr), "?#1");
    assert!(
        first_error("FROM i | KEEP ?x")
            .contains("Query parameter [?x] is null or undefined, cannot be used as an identifier")
    );
    assert!(first_error("FROM i | WHERE ??f == 1").contains("Query parameter [??f]"));
}

#[test]
fn identifiers() {
    for (text, expected) in [
        ("@timestamp", "@timestamp"),
        ("source.ip", "source.ip"),
        ("Esql.source_ip", "Esql.source_ip"),
        ("_id", "_id"),
        ("`a b`", "a b"),
        ("`a``b`", "a`b"),
        ("source.`as`.organization.name", "source.as.organization.name"),
        ("`a.b`.c", "a.b.c"),
        ("event.by", "event.by"),
        ("a.first.last", "a.first.last"),
        ("a . b", "a.b"),
    ] {
        let expr = where_expr(text);
        let ExprKind::Field(ident) = &expr.kind else { panic!("{text}: {expr:?}") };
        assert_eq!(ident.name, expected, "{text}");
    }
    let text = "FROM i | WHERE source.`as`.organization.name == 1";
    let query = ok(text);
    let CommandKind::Where(expr) = &query.commands[1].kind else { panic!() };
    let ExprKind::Binary { left, .. } = &expr.kind else { panic!() };
    assert_eq!(left.span.text(text), "source.`as`.organization.name");
    // `_` and `@` alone are not identifiers; keywords need backticks.
    common::err("FROM i | WHERE _ == 1");
    common::err("FROM i | WHERE first == 1");
    assert_eq!(where_sexpr("`first` == 1"), "(== first 1)");
}

#[test]
fn named_fields_with_dotted_and_quoted_names() {
    let text = "FROM i | EVAL Esql.a = 1, `x y`.z = 2, a.`b` = 3";
    let query = ok(text);
    let CommandKind::Eval(fields) = &query.commands[1].kind else { panic!() };
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_ref().map(|n| n.name.as_str()).unwrap_or("")).collect();
    assert_eq!(names, ["Esql.a", "x y.z", "a.b"]);
    assert_eq!(fields[1].span.text(text), "`x y`.z = 2");
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(where_sexpr("a and b Or NOT c iS nOt NuLl"), "(or (and a b) (not (is-not-null c)))");
    assert_eq!(where_sexpr("a In (1) aNd b LiKe \"x\""), "(and (in a [1]) (like b \"x\"))");
}

#[test]
fn spans_cover_exactly_the_source_text() {
    let text = "FROM i | WHERE ( a + b ) * c > 1 AND NOT x IN (1, 2) OR y IS NOT NULL";
    let query = ok(text);
    let CommandKind::Where(expr) = &query.commands[1].kind else { panic!() };
    assert_eq!(expr.span.text(text), "( a + b ) * c > 1 AND NOT x IN (1, 2) OR y IS NOT NULL");
    let ExprKind::Binary { left: and, right: is_not_null, .. } = &expr.kind else { panic!() };
    assert_eq!(is_not_null.span.text(text), "y IS NOT NULL");
    let ExprKind::Binary { left: cmp, right: not, .. } = &and.kind else { panic!() };
    assert_eq!(not.span.text(text), "NOT x IN (1, 2)");
    let ExprKind::Binary { left: mul, .. } = &cmp.kind else { panic!() };
    assert_eq!(mul.span.text(text), "( a + b ) * c");
    let ExprKind::Binary { left: paren, .. } = &mul.kind else { panic!() };
    // A parenthesised expression's span includes the parentheses.
    assert_eq!(paren.span.text(text), "( a + b )");

    let text = "ROW x = -a, y = +1, z = f( 1 ,2 ), w = [ 1, 2 ], v = x :: long";
    let query = ok(text);
    let CommandKind::Row(fields) = &query.commands[0].kind else { panic!() };
    let spans: Vec<&str> = fields.iter().map(|f| f.expr.span.text(text)).collect();
    assert_eq!(spans, ["-a", "+1", "f( 1 ,2 )", "[ 1, 2 ]", "x :: long"]);
}

#[test]
fn comments_anywhere_whitespace_is_allowed() {
    let text =
        "FROM a /* x */ | WHERE /* y */ b // z\n == /* nested /* deeper */ still */ 1 | KEEP /* k */ c, // d\n e";
    let query = ok(text);
    assert_eq!(query.commands.len(), 3);
    let CommandKind::Where(expr) = &query.commands[1].kind else { panic!() };
    assert_eq!(common::sexpr(expr), "(== b 1)");
}

#[test]
fn literal_lists_must_be_homogeneous() {
    common::err("ROW x = [1, \"a\"]");
    common::err("ROW x = [true, 1]");
    common::err("ROW x = []");
    common::err("ROW x = [null]");
    let query = ok("ROW x = [1, 2.5]");
    let CommandKind::Row(fields) = &query.commands[0].kind else { panic!() };
    let ExprKind::Literal(Literal::List(items)) = &fields[0].expr.kind else { panic!() };
    assert_eq!(items.len(), 2);
}

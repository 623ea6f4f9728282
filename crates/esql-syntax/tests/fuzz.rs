//! Property tests: no input makes the parser panic, and whatever it returns is well formed
//! (spans inside the text, renderable diagnostics). Runs with a fixed seed and a bounded number of
//! cases, so it is deterministic and takes a few seconds.

use esql_syntax::diagnostic::elastic_message;
use esql_syntax::parse;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn runner(cases: u32, seed: u8) -> TestRunner {
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]))
}

/// Parses `text` and checks the result's invariants.
fn check(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(query) => {
            prop_assert!(!query.commands.is_empty());
            let mut previous_end = 0;
            for command in &query.commands {
                prop_assert!(command.span.start <= command.span.end);
                prop_assert!(command.span.end <= text.len());
                prop_assert!(command.span.start >= previous_end);
                prop_assert!(text.get(command.span.start..command.span.end).is_some());
                previous_end = command.span.end;
            }
        }
        Err(diagnostics) => {
            prop_assert!(!diagnostics.is_empty());
            for d in &diagnostics {
                prop_assert!(d.span.start <= d.span.end && d.span.end <= text.len());
                prop_assert!(text.get(d.span.start..d.span.end).is_some());
                prop_assert!(!d.message.is_empty());
                let _ = d.render(text, "query");
            }
            let _ = elastic_message(&diagnostics, text);
        }
    }
    Ok(())
}

const TOKENS: &[&str] = &[
    "FROM",
    "ROW",
    "SHOW",
    "INFO",
    "WHERE",
    "EVAL",
    "STATS",
    "INLINE",
    "INLINESTATS",
    "BY",
    "KEEP",
    "DROP",
    "RENAME",
    "AS",
    "SORT",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "DISSECT",
    "GROK",
    "MV_EXPAND",
    "ENRICH",
    "ON",
    "WITH",
    "LOOKUP",
    "JOIN",
    "METADATA",
    "COMPLETION",
    "FORK",
    "SET",
    "TS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "RLIKE",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "|",
    ",",
    ".",
    "=",
    "==",
    "=~",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "::",
    ";",
    "?",
    "?x",
    "?1",
    "??",
    "??y",
    "a",
    "b.c",
    "`q`",
    "`a``b`",
    "@timestamp",
    "_id",
    "_",
    "@",
    "1",
    "1.5",
    ".5",
    "1e3",
    "1e",
    "1 day",
    "5m",
    "99999999999999999999",
    "\"s\"",
    "\"\"\"t\"\"\"",
    "\"",
    "\"\"\"",
    "`",
    "//",
    "/*",
    "*/",
    "\n",
    "logs-*",
    "_any:p",
    "count(*)",
    "f(",
    "#",
    "é",
    "\\",
    "\"\\q\"",
];

#[test]
fn arbitrary_strings_never_panic() {
    runner(1500, 1).run(&any::<String>(), |s| check(&s)).expect("arbitrary strings");
    runner(1500, 2).run(&"[ -~\n\t]{0,120}", |s| check(&s)).expect("printable strings");
}

#[test]
fn token_soups_never_panic() {
    let soup = (prop::collection::vec(prop::sample::select(TOKENS), 0..40), prop::bool::ANY);
    runner(3000, 3)
        .run(&soup, |(tokens, spaced)| {
            let text = tokens.join(if spaced { " " } else { "" });
            check(&text)?;
            check(&format!("FROM a | {text}"))?;
            check(&format!("ROW x = {text}"))
        })
        .expect("token soups");
}

const BASE: &str = r#"FROM logs-*, -old*, "q" METADATA _id, _index
// comment
| WHERE @timestamp > now() - 1 day AND NOT host.name IN ("a", "b") OR x LIKE ("*a", "b?")
| EVAL Esql.x = to_lower(`user.name`)::keyword, y = -1.5e3 * (a + b) % 2, c = [1, 2]
| STATS n = count(*) WHERE y IS NOT NULL, max(z) BY h = bucket(@timestamp, 1 hour)
| INLINE STATS m = min(n) BY h
| KEEP Esql.*, h | DROP tmp* | RENAME n AS count, h2 = h
| SORT count DESC NULLS LAST, h
| DISSECT msg "%{a} %{b}" APPEND_SEPARATOR = "-"
| GROK msg """%{IP:ip}"""
| MV_EXPAND ip
| ENRICH _any:policy ON ip WITH geo = city.name
| LOOKUP JOIN threat ON ip
| COMPLETION r = prompt WITH { "inference_id": "x" }
| WHERE f(x, {"a": 1}) AND kql("a: b") AND y : "z"
| LIMIT 10"#;

#[test]
fn mutated_queries_never_panic() {
    let len = BASE.len();
    let mutation = (0..=len, 0..=len, prop::sample::select(TOKENS), 0..3u8);
    runner(3000, 4)
        .run(&mutation, |(a, b, token, kind)| {
            let (start, end) = (a.min(b), a.max(b));
            let text = match kind {
                // Delete a range.
                0 => format!("{}{}", &BASE[..start], &BASE[end..]),
                // Insert a token.
                1 => format!("{}{}{}", &BASE[..start], token, &BASE[start..]),
                // Replace a range with a token.
                _ => format!("{}{}{}", &BASE[..start], token, &BASE[end..]),
            };
            check(&text)
        })
        .expect("mutated queries");
}

#[test]
fn base_query_parses() {
    if let Err(d) = parse(BASE) {
        panic!("{}", elastic_message(&d, BASE));
    }
}

/// Inputs built to provoke super-linear lexing or parsing finish quickly.
#[test]
fn adversarial_inputs_stay_fast() {
    let n = 50_000;
    let inputs = [
        format!("ROW x = 1 {}", "/* /* */ ".repeat(n)),
        format!("ROW x = 1 {}", "/* ".repeat(n)),
        format!("FROM a {}", "/* /* */ ".repeat(n)),
        format!("ROW x = {}", "\"\"\" \\q ".repeat(n)),
        format!("ROW x = {}", "`\n".repeat(n)),
        format!("FROM a | KEEP {}", "a`".repeat(n)),
        format!("FROM a | COMPLETION {}", "( \" ".repeat(n)),
        format!("ROW x = {}", "[".repeat(n)),
        "| ".repeat(n),
        "FROM a | ".repeat(n),
    ];
    let start = std::time::Instant::now();
    for (i, input) in inputs.iter().enumerate() {
        let t = std::time::Instant::now();
        check(input).expect("well-formed result");
        println!("input {i}: {:?}", t.elapsed());
    }
    let elapsed = start.elapsed();
    assert!(elapsed.as_secs() < 20, "took {elapsed:?}");
}

//! Parses the shared corpora at run time: the detection rules' ES|QL queries, Elastic's csv-spec
//! queries and the seed rule. Nothing from those corpora is copied into the repository; when
//! `/work/shared` (or `$SAKER_SHARED`) is absent the tests print a message and pass.

use esql_syntax::ast::CommandKind;
use esql_syntax::diagnostic::elastic_message;
use esql_syntax::parse;
use std::fs;
use std::path::PathBuf;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SAKER_SHARED").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/work/shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: shared corpus directory {} not found", dir.display());
        None
    }
}

/// The `query` string of a rule TOML's `[rule]` table (literal `'''` or basic `"""` string).
fn rule_query(toml: &str) -> Option<String> {
    let rule = toml.find("\n[rule]").map(|i| i + 1).or_else(|| toml.starts_with("[rule]").then_some(0))?;
    let section = &toml[rule..];
    let literal = section.find("query = '''");
    let basic = section.find("query = \"\"\"");
    let (start, quote, escapes) = match (literal, basic) {
        (Some(l), Some(b)) if b < l => (b, "\"\"\"", true),
        (Some(l), _) => (l, "'''", false),
        (None, Some(b)) => (b, "\"\"\"", true),
        (None, None) => return None,
    };
    let body = &section[start + "query = ".len() + 3..];
    let body = body.strip_prefix('\n').unwrap_or(body);
    let end = body.find(quote)?;
    let raw = &body[..end];
    if !escapes {
        return Some(raw.to_string());
    }
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('\n') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Some(out)
}

#[test]
fn all_rule_queries_parse() {
    let Some(shared) = shared_dir() else { return };
    let dir = shared.join("rules/esql");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("rules dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut unsupported = 0;
    for file in &files {
        let text = fs::read_to_string(file).expect("read rule");
        let query = rule_query(&text).unwrap_or_else(|| panic!("no query in {}", file.display()));
        match parse(&query) {
            Ok(q) => {
                if q.commands.iter().any(|c| matches!(c.kind, CommandKind::Unsupported { .. })) {
                    unsupported += 1;
                }
            }
            Err(d) => failures.push(format!("{}: {}", file.display(), elastic_message(&d, &query))),
        }
    }
    println!(
        "rules: {} parsed, {} with unsupported commands, {} failed",
        files.len() - failures.len(),
        unsupported,
        failures.len()
    );
    assert_eq!(files.len(), 212, "expected 212 ES|QL rules");
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}

/// One csv-spec test: file, name and query.
struct SpecTest {
    file: String,
    name: String,
    query: String,
}

/// Reads csv-spec files as described in DATASETS.md ("The csv-spec format").
fn spec_tests(text: &str, file: &str) -> Vec<SpecTest> {
    let lines: Vec<&str> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('#')).collect();
    let mut tests = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let name = lines[i].split('#').next().unwrap_or("").trim().to_string();
        i += 1;
        while i < lines.len()
            && (lines[i].starts_with("required_capability:")
                || lines[i].starts_with("skip_flattened_rewrite:")
                || lines[i].starts_with("request_stored:"))
        {
            i += 1;
        }
        let mut query_lines = Vec::new();
        while i < lines.len() {
            let line = lines[i];
            i += 1;
            if line.ends_with(';') && !line.ends_with("\\;") {
                query_lines.push(line[..line.len() - 1].to_string());
                break;
            }
            query_lines.push(line.replace("\\;", ";"));
        }
        // Directives and the result table, up to a line starting with `;`.
        while i < lines.len() {
            let line = lines[i];
            i += 1;
            if line.starts_with(';') {
                break;
            }
        }
        tests.push(SpecTest { file: file.to_string(), name, query: query_lines.join("\n") });
    }
    tests
}

#[test]
fn spec_queries_parse() {
    let Some(shared) = shared_dir() else { return };
    let dir = shared.join("esql-spec/specs");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("spec dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".csv-spec"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("read spec");
        let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        for test in spec_tests(&text, &name) {
            total += 1;
            if let Err(d) = parse(&test.query) {
                failures.push(format!(
                    "{}/{}: {}\n    {}",
                    test.file,
                    test.name,
                    elastic_message(&d, &test.query).replace('\n', "\n    "),
                    test.query.replace('\n', "\n    ")
                ));
            }
        }
    }
    println!("csv-spec: {} of {} queries parse", total - failures.len(), total);
    for failure in &failures {
        println!("  FAIL {failure}");
    }
    assert!(total > 1000, "found only {total} spec tests");
    assert!(failures.len() * 100 <= total, "more than 1% of spec queries failed to parse:\n{}", failures.join("\n"));
}

#[test]
fn seed_rule_query_parses() {
    let Some(shared) = shared_dir() else { return };
    let text = fs::read_to_string(shared.join("seed/000_ea874a5aa972fe2a.txt")).expect("seed");
    let start = text.find("Rule query").expect("Rule query heading");
    let rest = &text[start + "Rule query".len()..];
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("edit").unwrap_or(rest);
    let end = rest.find("\nFramework:").unwrap_or(rest.len());
    let query = rest[..end].trim();
    let parsed = parse(query).unwrap_or_else(|d| panic!("{}", elastic_message(&d, query)));
    let names: Vec<&str> = parsed
        .commands
        .iter()
        .map(|c| match &c.kind {
            CommandKind::From(_) => "from",
            CommandKind::Where(_) => "where",
            CommandKind::Keep(_) => "keep",
            CommandKind::Eval(_) => "eval",
            CommandKind::Stats(_) => "stats",
            _ => "other",
        })
        .collect();
    assert_eq!(names, ["from", "where", "where", "keep", "eval", "stats", "where"]);
    let CommandKind::From(from) = &parsed.commands[0].kind else { unreachable!() };
    let indices: Vec<&str> = from.indices.iter().map(|i| i.pattern.as_str()).collect();
    assert_eq!(indices, ["logs-o365.audit-*", "logs-azure.signinlogs-*", ".alerts-security.*"]);
    let CommandKind::Stats(stats) = &parsed.commands[5].kind else { unreachable!() };
    assert_eq!(stats.aggregates.len(), 8);
    assert_eq!(stats.groups.len(), 1);
    assert_eq!(stats.groups[0].name.as_ref().map(|n| n.name.as_str()), Some("Esql.source_ip"));
}

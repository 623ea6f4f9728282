//! `saker check`: parse and analyze queries from `.esql` files and ES|QL rule TOML files.

use crate::Reporter;
use anyhow::Context;
use esql::catalog::Catalog;
use esql::syntax::Diagnostic;
use esql::syntax::ast::CommandKind;
use esql::{QueryError, QueryOptions, UnmappedFields};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  saker check rules/esql/
  saker check rule.toml query.esql
  saker check --data fixtures/ rule.toml

Folders are searched recursively for *.esql and *.toml files. A TOML file is a detection rule;
its `[rule] query` is checked when the rule's `language` or `type` is `esql`, others are skipped.
Without --data, each query is checked against empty indices, one per index pattern of its FROM,
that have every ECS, Entra ID sign-in, M365 audit and Kibana alert field.";

/// Arguments of `saker check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Check against the indices of this NDJSON folder instead of the ECS field table.
    #[arg(long, short, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Report fields that no known mapping has as errors. Without it, such a field is read as
    /// unmapped (Elastic's `SET unmapped_fields="nullify"`: a column of nulls) and listed as a
    /// note, since Saker's field tables cover ECS and the flagship's integrations only.
    #[arg(long)]
    pub strict: bool,

    /// `.esql` files, rule `.toml` files, or folders holding them.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// One query found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Source {
    /// The file's path, as diagnostics name it.
    path: PathBuf,
    /// The whole file text (diagnostic positions are rendered against it).
    text: String,
    /// The query text.
    query: String,
    /// Where the query starts in `text`, when it appears there verbatim.
    offset: Option<usize>,
}

/// What a file holds.
#[derive(Debug)]
enum Found {
    Query(Source),
    /// A rule in another language.
    Skipped,
    /// Unreadable file or TOML that is not a rule.
    Broken(String),
}

/// Runs `saker check`.
///
/// # Errors
/// When `--data` cannot be loaded.
pub fn run(args: &CheckArgs, reporter: Reporter) -> anyhow::Result<ExitCode> {
    let data_catalog = match &args.data {
        Some(dir) => {
            let loaded = ecs::ndjson::load_dir(dir).with_context(|| format!("cannot load --data {}", dir.display()))?;
            for error in &loaded.errors {
                reporter.warning(&error.to_string());
            }
            Some(loaded.catalog)
        }
        None => None,
    };
    let mut files = Vec::new();
    for path in &args.files {
        collect_files(path, &mut files);
    }
    let (mut ok, mut failed, mut skipped, mut notes) = (0usize, 0usize, 0usize, 0usize);
    for path in files {
        let source = match read_source(&path) {
            Found::Query(source) => source,
            Found::Skipped => {
                skipped += 1;
                continue;
            }
            Found::Broken(message) => {
                println!("error: {}: {message}\n", path.display());
                failed += 1;
                continue;
            }
        };
        let options = QueryOptions {
            unmapped_fields: if args.strict { UnmappedFields::Fail } else { UnmappedFields::Nullify },
            ..QueryOptions::default()
        };
        let (diagnostics, unmapped) = match &data_catalog {
            Some(catalog) => check_query(catalog, &source.query, &options),
            None => {
                let patterns = from_patterns(&source.query);
                let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
                check_query(&ecs::EcsCatalog::for_patterns(&patterns), &source.query, &options)
            }
        };
        if !unmapped.is_empty() {
            notes += 1;
            reporter.info(&format!(
                "note: {}: fields not in Saker's field tables, read as unmapped (null): {}",
                source.path.display(),
                unmapped.join(", ")
            ));
        }
        if diagnostics.is_empty() {
            ok += 1;
        } else {
            failed += 1;
            for diagnostic in &diagnostics {
                println!("{}", render(diagnostic, &source));
            }
        }
    }
    let mut summary = format!(
        "checked {} {}: {ok} ok, {failed} with errors",
        ok + failed,
        if ok + failed == 1 { "query" } else { "queries" }
    );
    if notes > 0 {
        summary.push_str(&format!(", {notes} reading unmapped fields (see notes; --strict fails them)"));
    }
    if skipped > 0 {
        summary.push_str(&format!(" ({skipped} non-ES|QL {} skipped)", if skipped == 1 { "rule" } else { "rules" }));
    }
    println!("{summary}");
    Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Every problem of one query (empty when it is valid), and the unmapped fields it reads.
fn check_query(catalog: &dyn Catalog, query: &str, options: &QueryOptions) -> (Vec<Diagnostic>, Vec<String>) {
    match esql::analyze(catalog, query, options) {
        Ok(typed) => (Vec::new(), typed.unmapped.into_iter().map(|(name, _)| name).collect()),
        Err(QueryError::Invalid { diagnostics, .. }) => (diagnostics, Vec::new()),
        Err(other) => (vec![Diagnostic::verification(Default::default(), other.to_string())], Vec::new()),
    }
}

/// The index patterns of the query's `FROM` commands (none when it does not parse).
fn from_patterns(query: &str) -> Vec<String> {
    let Ok(ast) = esql::syntax::parse(query) else {
        return Vec::new();
    };
    let mut patterns = Vec::new();
    for command in &ast.commands {
        if let CommandKind::From(from) = &command.kind {
            patterns.extend(from.indices.iter().map(|i| i.pattern.clone()));
        }
    }
    patterns
}

/// Renders a diagnostic against the file, so line:col point into the file, when the query text
/// appears in it verbatim; else against the query text alone.
fn render(diagnostic: &Diagnostic, source: &Source) -> String {
    match source.offset {
        Some(offset) => {
            let mut shifted = diagnostic.clone();
            shifted.span.start += offset;
            shifted.span.end += offset;
            shifted.render(&source.text, &source.path.display().to_string())
        }
        None => diagnostic.render(&source.query, &format!("{} (query)", source.path.display())),
    }
}

/// Adds `path`, or the `.esql` / `.toml` files under it (sorted), to `out`.
fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if !path.is_dir() {
        out.push(path.to_path_buf());
        return;
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => {
            out.push(path.to_path_buf());
            return;
        }
    };
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_files(&entry, out);
        } else if matches!(entry.extension().and_then(|e| e.to_str()), Some("esql" | "toml")) {
            out.push(entry);
        }
    }
}

fn read_source(path: &Path) -> Found {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Found::Broken(e.to_string()),
    };
    if path.extension().and_then(|e| e.to_str()) != Some("toml") {
        return Found::Query(Source { path: path.to_path_buf(), query: text.clone(), text, offset: Some(0) });
    }
    match rule_query(&text) {
        Ok(Some(query)) => {
            let offset = text.find(&query);
            Found::Query(Source { path: path.to_path_buf(), text, query, offset })
        }
        Ok(None) => Found::Skipped,
        Err(message) => Found::Broken(message),
    }
}

/// The ES|QL query of a detection rule TOML file (`[rule] query`), `None` for rules in other
/// languages.
fn rule_query(text: &str) -> Result<Option<String>, String> {
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.message().to_string())?;
    let rule = doc.get("rule").and_then(|r| r.as_table()).ok_or("no [rule] table")?;
    let field = |name: &str| rule.get(name).and_then(|v| v.as_str());
    if field("language") != Some("esql") && field("type") != Some("esql") {
        return Ok(None);
    }
    let query = field("query").ok_or("the ES|QL rule has no `query`")?;
    Ok(Some(query.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_queries() {
        let esql = "[metadata]\nmaturity = \"production\"\n[rule]\nlanguage = \"esql\"\ntype = \"esql\"\nquery = '''\nFROM logs-*\n'''\n";
        assert_eq!(rule_query(esql), Ok(Some("FROM logs-*\n".to_string())));
        let kql = "[rule]\nlanguage = \"kuery\"\ntype = \"query\"\nquery = 'event.kind:alert'\n";
        assert_eq!(rule_query(kql), Ok(None));
        assert_eq!(rule_query("[metadata]\n"), Err("no [rule] table".to_string()));
        assert_eq!(rule_query("[rule]\ntype = \"esql\"\n"), Err("the ES|QL rule has no `query`".to_string()));
        assert!(rule_query("[rule").is_err());
    }

    #[test]
    fn diagnostics_point_into_the_file() {
        let text = "[rule]\ntype = \"esql\"\nquery = '''\nFROM logs-*\n| WHERE !!\n'''\n".to_string();
        let query = rule_query(&text).expect("toml").expect("esql");
        let offset = text.find(&query);
        let source = Source { path: PathBuf::from("r.toml"), text, query, offset };
        let at = source.query.find("!!").expect("!!");
        let diagnostic = Diagnostic::parsing(esql::syntax::Span::new(at, at + 2), "bad");
        let rendered = render(&diagnostic, &source);
        assert!(rendered.contains("--> r.toml:5:9"), "{rendered}");
        assert!(rendered.contains("5 | | WHERE !!"), "{rendered}");
    }

    #[test]
    fn patterns_of_from() {
        assert_eq!(
            from_patterns("FROM logs-o365.audit-*, logs-azure.signinlogs-*, .alerts-security.* METADATA _id | LIMIT 1"),
            vec!["logs-o365.audit-*", "logs-azure.signinlogs-*", ".alerts-security.*"]
        );
        assert!(from_patterns("FROM |").is_empty());
    }
}

//! Loading rules as people keep them: elastic/detection-rules TOML files (`[metadata]` +
//! `[rule]`), Kibana rule exports (`.ndjson`, one rule per line, plus the export summary and
//! exception lists, which are skipped) and single rule objects or arrays (`.json`).
//!
//! A broken file or line is reported with its path (and line) and the reason, and never stops
//! the others ([`LoadReport::errors`]).

use crate::rule::{Origin, Rule};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A rule file (or line) that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, for NDJSON exports.
    pub line: Option<usize>,
    /// Why.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// What loading some paths found.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// The rules, in path order (folders sorted by name).
    pub rules: Vec<Rule>,
    /// Broken files and lines.
    pub errors: Vec<LoadError>,
    /// Entries that are not rules (export summaries, exception lists), skipped silently.
    pub skipped: usize,
}

/// The file extensions read as rules.
pub const RULE_EXTENSIONS: [&str; 3] = ["toml", "ndjson", "json"];

/// Loads every rule file under `paths` (files, or folders searched recursively for `.toml`,
/// `.ndjson` and `.json`). A second rule with a `rule_id` already loaded is an error.
pub fn load_paths(paths: &[PathBuf]) -> LoadReport {
    let mut report = LoadReport::default();
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect(path, &mut files, &mut report.errors);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            report.errors.push(LoadError { path: path.clone(), line: None, message: "no such file or folder".into() });
        }
    }
    let mut seen: HashMap<String, Origin> = HashMap::new();
    for file in files {
        let mut rules = Vec::new();
        load_file(&file, &mut rules, &mut report);
        for rule in rules {
            if let Some(first) = seen.get(&rule.rule_id) {
                report.errors.push(LoadError {
                    path: rule.origin.path.clone(),
                    line: rule.origin.line,
                    message: format!("duplicate rule_id `{}` (first loaded from {first}); skipped", rule.rule_id),
                });
                continue;
            }
            seen.insert(rule.rule_id.clone(), rule.origin.clone());
            report.rules.push(rule);
        }
    }
    report
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(LoadError { path: dir.to_path_buf(), line: None, message: e.to_string() });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, files, errors);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| RULE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
}

fn load_file(path: &Path, rules: &mut Vec<Rule>, report: &mut LoadReport) {
    let error = |line: Option<usize>, message: String| LoadError { path: path.to_path_buf(), line, message };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return report.errors.push(error(None, e.to_string())),
    };
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "toml" => match parse_toml(&text, path) {
            Ok(rule) => rules.push(rule),
            Err(message) => report.errors.push(error(None, message)),
        },
        "json" if serde_json::from_str::<Value>(&text).is_ok() => {
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let items = match value {
                Value::Array(items) => items,
                other => vec![other],
            };
            for item in items {
                match rule_from_json(item, Origin { path: path.to_path_buf(), line: None }) {
                    Ok(Some(rule)) => rules.push(rule),
                    Ok(None) => report.skipped += 1,
                    Err(message) => report.errors.push(error(None, message)),
                }
            }
        }
        _ => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let origin = Origin { path: path.to_path_buf(), line: Some(i + 1) };
                let value = match serde_json::from_str::<Value>(line) {
                    Ok(v) => v,
                    Err(e) => {
                        report.errors.push(error(Some(i + 1), format!("invalid JSON: {e}")));
                        continue;
                    }
                };
                match rule_from_json(value, origin) {
                    Ok(Some(rule)) => rules.push(rule),
                    Ok(None) => report.skipped += 1,
                    Err(message) => report.errors.push(error(Some(i + 1), message)),
                }
            }
        }
    }
}

/// Reads one detection-rules TOML file.
///
/// # Errors
/// TOML syntax errors, a missing `[rule]` table, and the rule's field errors.
pub fn parse_toml(text: &str, path: &Path) -> Result<Rule, String> {
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| format!("invalid TOML: {}", e.message()))?;
    let Some(toml::Value::Table(rule)) = doc.get("rule") else {
        return Err("not a detection rule: no [rule] table".to_string());
    };
    let obj = match serde_json::to_value(rule) {
        Ok(Value::Object(obj)) => obj,
        _ => return Err("the [rule] table cannot be read as a rule object".to_string()),
    };
    let obj = flatten_toml_only_keys(obj);
    let mut parsed = Rule::from_api(&obj, Origin { path: path.to_path_buf(), line: None }).map_err(join_errors)?;
    if let Some(toml::Value::Table(meta)) = doc.get("metadata") {
        parsed.maturity = meta.get("maturity").and_then(|m| m.as_str()).map(str::to_string);
    }
    Ok(parsed)
}

/// detection-rules writes a few API fields differently in TOML (`to_api_format`): new_terms'
/// `[rule.new_terms]` becomes `new_terms_fields` + `history_window_start`.
fn flatten_toml_only_keys(mut obj: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(nt)) = obj.remove("new_terms") {
        if let Some(v) = nt.get("value") {
            obj.insert("new_terms_fields".into(), v.clone());
        }
        if let Some(Value::Array(h)) = nt.get("history_window_start")
            && let Some(first) = h.first().and_then(|x| x.get("value"))
        {
            obj.insert("history_window_start".into(), first.clone());
        }
    }
    obj
}

fn join_errors(errors: Vec<crate::rule::FieldError>) -> String {
    let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!("invalid rule: {}", parts.join("; "))
}

/// Reads one JSON value of an export: `Ok(None)` for what is not a rule (the export summary,
/// exception lists and their items).
fn rule_from_json(value: Value, origin: Origin) -> Result<Option<Rule>, String> {
    let Value::Object(obj) = value else {
        return Err("expected a rule object".to_string());
    };
    let is_summary = obj.contains_key("exported_count") || obj.contains_key("exported_rules_count");
    let is_exception = obj.contains_key("list_id") && !obj.contains_key("risk_score");
    if is_summary || is_exception {
        return Ok(None);
    }
    Rule::from_api(&obj, origin).map(Some).map_err(join_errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).expect("write");
    }

    #[test]
    fn broken_files_are_reported_and_do_not_stop_the_others() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "a.toml",
            "[metadata]\nmaturity = \"production\"\n[rule]\nname = \"A\"\ndescription = \"d\"\ntype = \"query\"\nseverity = \"low\"\nrisk_score = 21\nrule_id = \"a\"\nquery = '''event.kind:alert'''\nindex = [\"logs-*\"]\n",
        );
        write(dir.path(), "b.toml", "[rule\nname = ");
        write(dir.path(), "c.toml", "[metadata]\nx = 1\n");
        write(
            dir.path(),
            "export.ndjson",
            concat!(
                r#"{"name":"E","description":"d","type":"esql","language":"esql","query":"FROM logs-* | STATS c = COUNT(*)","severity":"high","risk_score":73,"rule_id":"e","id":"so-1","interval":"1h","from":"now-8h"}"#,
                "\n",
                r#"{"name":"bad","description":"d","type":"esql","severity":"huge","risk_score":73,"rule_id":"f"}"#,
                "\n{not json\n",
                r#"{"exported_count":2,"missing_rules":[]}"#,
                "\n"
            ),
        );
        let report = load_paths(&[dir.path().to_path_buf()]);
        let names: Vec<&str> = report.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["A", "E"]);
        assert_eq!(report.rules[0].maturity.as_deref(), Some("production"));
        assert_eq!(report.rules[1].id, "so-1");
        assert_eq!(report.rules[1].interval.as_str(), "1h");
        assert_eq!(report.skipped, 1);
        let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].contains("b.toml: invalid TOML"), "{}", errors[0]);
        assert!(errors[1].contains("c.toml: not a detection rule: no [rule] table"), "{}", errors[1]);
        assert!(errors[2].contains("export.ndjson:2: invalid rule:"), "{}", errors[2]);
        assert!(errors[2].contains("unknown severity `huge`"), "{}", errors[2]);
        assert!(errors[3].contains("export.ndjson:3: invalid JSON"), "{}", errors[3]);
    }

    #[test]
    fn duplicate_rule_ids_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rule = r#"{"name":"E","description":"d","type":"query","query":"a:b","index":["x"],"severity":"low","risk_score":1,"rule_id":"same"}"#;
        write(dir.path(), "one.json", rule);
        write(dir.path(), "two.json", rule);
        let report = load_paths(&[dir.path().to_path_buf()]);
        assert_eq!(report.rules.len(), 1);
        assert!(report.errors[0].message.contains("duplicate rule_id `same`"), "{:?}", report.errors);
    }
}

//! Every KQL query of the shared detection-rule corpus parses: the `query` of each rule file in
//! `../shared/rules/query/*.toml` (and the other rule folders) whose `language` is `kuery`.

use std::path::{Path, PathBuf};

fn shared_rules() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("SAKER_SHARED") {
        return Some(Path::new(&dir).join("rules"));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidate = manifest.join("../../../shared/rules");
    candidate.is_dir().then_some(candidate)
}

/// (file, query) of every KQL rule under `dir` (one level of folders deep).
fn kql_queries(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let doc: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let Some(rule) = doc.get("rule").and_then(|r| r.as_table()) else { continue };
        if rule.get("language").and_then(|l| l.as_str()) != Some("kuery") {
            continue;
        }
        if let Some(q) = rule.get("query").and_then(|q| q.as_str()) {
            out.push((f, q.to_string()));
        }
    }
    out
}

fn check(dir: &Path, expect_at_least: usize) {
    let queries = kql_queries(dir);
    let mut failures = Vec::new();
    for (file, q) in &queries {
        if let Err(e) = kql::parse(q) {
            failures.push(format!("{}:\n{}", file.display(), e.render(q)));
        }
    }
    for f in &failures {
        eprintln!("{f}\n");
    }
    eprintln!("{}: {} of {} KQL rule queries parse", dir.display(), queries.len() - failures.len(), queries.len());
    assert!(queries.len() >= expect_at_least, "expected at least {expect_at_least} KQL rules in {}", dir.display());
    assert!(failures.is_empty(), "{} KQL rule queries failed to parse", failures.len());
}

#[test]
fn every_query_rule_parses() {
    let Some(rules) = shared_rules() else {
        eprintln!("skipped: the shared rule corpus is not available (set SAKER_SHARED)");
        return;
    };
    check(&rules.join("query"), 500);
}

#[test]
fn every_other_kql_rule_parses() {
    let Some(rules) = shared_rules() else {
        eprintln!("skipped: the shared rule corpus is not available (set SAKER_SHARED)");
        return;
    };
    check(&rules.join("other"), 1);
}

//! Which indices and enrich policies a query reads (to skip tests whose datasets are not in the
//! corpus). A light scan, not a parser: string literals and comments are blanked first, then the
//! source commands (`FROM`/`TS` at the start of a command), `LOOKUP JOIN <index>` and
//! `ENRICH <policy>` are picked out.

use regex::Regex;
use std::sync::LazyLock;

/// What a query reads.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sources {
    /// Concrete index names (remote `cluster:index` names included as written).
    pub indices: Vec<String>,
    /// Index patterns with wildcards.
    pub patterns: Vec<String>,
    /// Enrich policy names (mode prefixes such as `_remote:` removed).
    pub policies: Vec<String>,
}

static SOURCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:^|[|(;])\s*(?:from|ts)\s").expect("invariant: valid regex"));
static LOOKUP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\blookup\s+join\s+([^\s|()]+)").expect("invariant: valid regex"));
static ENRICH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:^|\|)\s*enrich\s+([^\s|()]+)").expect("invariant: valid regex"));
static METADATA: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\bmetadata\b").expect("invariant: valid regex"));

/// Replaces the contents of string literals (`"…"`, `"""…"""`) and comments with spaces,
/// byte for byte, so positions in the result are positions in the query.
fn blank(query: &str) -> String {
    let b = query.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"\"\"\"") {
            let end = query[i + 3..].find("\"\"\"").map_or(b.len(), |e| i + 3 + e);
            out[i + 3..end].fill(b' ');
            i = (end + 3).min(b.len());
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(b.len());
            out[i + 1..end].fill(b' ');
            i = end + 1;
        } else if b[i..].starts_with(b"//") {
            let end = query[i..].find('\n').map_or(b.len(), |e| i + e);
            out[i..end].fill(b' ');
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let end = query[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            out[i..end].fill(b' ');
            i = end;
        } else {
            i += 1;
        }
    }
    // Only ASCII bytes were written over whole literals/comments, so this stays valid UTF-8
    // except where a multi-byte char was cut; fall back to a lossy conversion there.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Finds the sources of a query.
pub fn sources(query: &str) -> Sources {
    let blanked = blank(query);
    let mut out = Sources::default();
    for m in SOURCE.find_iter(&blanked) {
        let start = m.end();
        let rest = &blanked[start..];
        let len = rest.find(['|', '(', ')']).unwrap_or(rest.len());
        let list = &rest[..len];
        let list = match METADATA.find(list) {
            Some(md) => &list[..md.start()],
            None => list,
        };
        // Take the original text (quoted index names keep their contents).
        let original = query.get(start..start + list.len()).unwrap_or(list);
        for name in original.split(',') {
            let name = name.trim().trim_matches('"').trim();
            if name.is_empty() {
                continue;
            }
            if name.contains('*') {
                out.patterns.push(name.to_string());
            } else {
                out.indices.push(name.to_string());
            }
        }
    }
    for c in LOOKUP.captures_iter(&blanked) {
        out.indices.push(c[1].to_string());
    }
    for c in ENRICH.captures_iter(&blanked) {
        let policy = &c[1];
        let policy = match policy.split_once(':') {
            Some((mode, p)) if mode.starts_with('_') => p,
            _ => policy,
        };
        out.policies.push(policy.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_indices_patterns_and_policies() {
        let s = sources(
            "from employees, apps metadata _index | eval x = \"| from nothere\" | lookup join languages_lookup on language_code | ENRICH _remote:languages_policy ON x",
        );
        assert_eq!(s.indices, vec!["employees", "apps", "languages_lookup"]);
        assert_eq!(s.policies, vec!["languages_policy"]);
        let s = sources("SET a = 1;\nFROM emp* | drop x");
        assert_eq!(s.patterns, vec!["emp*"]);
        assert!(s.indices.is_empty());
        let s = sources("ROW a = 1 // from x\n| eval from_x = 1");
        assert_eq!(s, Sources::default());
        let s = sources("FROM a | FORK (WHERE x > 1) (WHERE x < 1)");
        assert_eq!(s.indices, vec!["a"]);
        let s = sources("FROM \"quoted\" | KEEP a");
        assert_eq!(s.indices, vec!["quoted"]);
    }
}

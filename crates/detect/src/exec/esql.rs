//! The ES|QL rule executor (Kibana `rule_types/esql/esql.ts`, reference §2).
//!
//! The rule's query runs rewritten, never edited in the rule:
//! 1. **Time window.** Kibana sends the window as a DSL `filter` that Elasticsearch applies to
//!    the source documents before the pipeline. Saker's ES|QL engine has no DSL filter, so the
//!    same condition is injected as a `WHERE` right after `FROM`, before any other command:
//!    `FROM … | WHERE (event.ingested >= … AND event.ingested <= …) OR (event.ingested IS NULL
//!    AND @timestamp …) | <the rule's pipeline>`. Later pages add `AND NOT _id IN (…)` for the
//!    documents already alerted on (Kibana's `must_not` "excluded documents").
//! 2. **`_id`.** Non-aggregating queries (no top-level `STATS`) get `_id` added to `METADATA`
//!    and to every `KEEP` until a command that could invalidate it, as Kibana 9.4 does, so rows
//!    can be tied back to their source documents.
//! 3. **`LIMIT`.** `| LIMIT max_signals + 1` is appended on a new line (after any trailing
//!    comment), whatever LIMITs the query has.
//!
//! Non-aggregating rows are merged into their source documents (the row's columns replace the
//! document's values) and get stable ids (object-hash of `_id`, `_version`, `_index`, rule), so
//! re-runs and overlapping windows never alert twice on one document. Aggregating rows are the
//! whole alert and their ids include the window, so overlapping windows alert again — as in
//! Kibana (see detection-rules#4773).

use super::{
    MAX_SIGNALS_WARNING, Tuple, TupleOutcome, no_index_warning, resolve_indices, row_documents, time_filter,
    write_alerts,
};
use crate::alert::{ExecutionContext, Hit, SPACE_ID};
use crate::datemath::iso;
use crate::objhash::{HashValue, object_hash};
use crate::store::{DetectionStore, SourceDoc, esql_string};
use ::esql::QueryOptions;
use ::esql::analyzer::name_matches;
use ::esql::syntax::ast::{CommandKind, Query};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// Kibana's cap on documents excluded from later pages.
const EXCLUDED_DOCUMENTS_LIMIT: usize = 100_000;

/// True when a top-level command is `STATS` (not `INLINE STATS`): Kibana's
/// `computeIsESQLQueryAggregating`.
pub fn is_aggregating(query: &Query) -> bool {
    query.commands.iter().any(|c| matches!(&c.kind, CommandKind::Stats(s) if !s.inline))
}

/// The query as Saker runs it for one window: see the module documentation.
///
/// # Errors
/// When the query does not start with `FROM`.
pub fn rewrite(text: &str, ast: &Query, filter: &str, limit: usize) -> Result<(String, bool), String> {
    let Some(first) = ast.commands.first() else {
        return Err("the query is empty".to_string());
    };
    let CommandKind::From(from) = &first.kind else {
        return Err("an ES|QL rule's query must start with FROM".to_string());
    };
    let aggregating = is_aggregating(ast);
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut id_injected = !aggregating;
    if !aggregating {
        match from.metadata.last() {
            None => inserts.push((first.span.end, " METADATA _id".to_string())),
            Some(last) if !from.metadata.iter().any(|m| m.name == "_id") => {
                inserts.push((last.span.end, ", _id".into()))
            }
            Some(_) => {}
        }
        for cmd in &ast.commands[1..] {
            let stop = match &cmd.kind {
                CommandKind::Keep(patterns) => {
                    if !patterns.iter().any(|p| name_matches(&p.pattern, "_id")) {
                        inserts.push((cmd.span.end, ", _id".to_string()));
                    }
                    false
                }
                CommandKind::Drop(patterns) => patterns.iter().any(|p| name_matches(&p.pattern, "_id")),
                CommandKind::Rename(renames) => renames.iter().any(|r| name_matches(&r.old.pattern, "_id")),
                CommandKind::Eval(fields) => fields.iter().any(|f| f.name.as_ref().is_some_and(|n| n.name == "_id")),
                CommandKind::Dissect(_) | CommandKind::Grok(_) => true,
                _ => false,
            };
            if stop {
                id_injected = false;
                break;
            }
        }
    }
    inserts.push((first.span.end, format!("\n| WHERE {filter}")));
    let mut out = String::with_capacity(text.len() + 256);
    let mut pos = 0;
    inserts.sort_by_key(|(at, _)| *at);
    for (at, insert) in inserts {
        out.push_str(text.get(pos..at).unwrap_or(""));
        out.push_str(&insert);
        pos = at;
    }
    out.push_str(text.get(pos..).unwrap_or(""));
    out.push_str(&format!("\n| LIMIT {limit}"));
    Ok((out, id_injected))
}

/// Runs an ES|QL rule over one window.
pub async fn execute<S: DetectionStore>(store: &mut S, ctx: &ExecutionContext<'_>, tuple: &Tuple) -> TupleOutcome {
    let mut out = TupleOutcome::default();
    let rule = ctx.rule;
    let text = rule.query.clone().unwrap_or_default();
    let ast = match ::esql::syntax::parse(&text) {
        Ok(ast) => ast,
        Err(diagnostics) => {
            let e = ::esql::QueryError::Invalid { query: text.clone(), diagnostics };
            out.errors.push(e.to_string());
            return out;
        }
    };
    let patterns: Vec<String> = match ast.commands.first().map(|c| &c.kind) {
        Some(CommandKind::From(from)) => from.indices.iter().map(|p| p.pattern.clone()).collect(),
        _ => {
            out.errors.push("an ES|QL rule's query must start with FROM".to_string());
            return out;
        }
    };
    let catalog = store.catalog();
    let indices = resolve_indices(catalog.as_ref(), &patterns);
    if indices.is_empty() {
        out.warnings.push(no_index_warning(&patterns));
        out.skipped = true;
        return out;
    }
    let (window, warnings) = time_filter(rule, catalog.as_ref(), &indices, tuple);
    out.warnings.extend(warnings);
    let aggregating = is_aggregating(&ast);
    let expanded: Vec<String> = ast
        .commands
        .iter()
        .filter_map(|c| match &c.kind {
            CommandKind::MvExpand(field) => Some(field.name.clone()),
            _ => None,
        })
        .collect();
    let max_signals = tuple.max_signals as usize;
    let size = max_signals + 1;
    let mut excluded: BTreeSet<String> = BTreeSet::new();
    let options = QueryOptions { now: Some(ctx.started_at), ..QueryOptions::default() };
    loop {
        let filter = if excluded.is_empty() {
            window.clone()
        } else {
            let ids: Vec<String> = excluded.iter().map(|id| esql_string(id)).collect();
            format!("{window} AND NOT _id IN ({})", ids.join(", "))
        };
        let (query, _) = match rewrite(&text, &ast, &filter, size) {
            Ok(q) => q,
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        };
        let output = match ::esql::execute(store.catalog(), &query, &options).await {
            Ok(o) => o,
            Err(e) => {
                out.errors.push(e.to_string());
                return out;
            }
        };
        for w in output.warnings.iter() {
            if !out.query_warnings.contains(w) {
                out.query_warnings.push(w.clone());
            }
        }
        let rows = row_documents(&output);
        let has_id = output.columns.iter().any(|(n, _)| n == "_id");
        if !aggregating && !has_id && !rows.is_empty() && excluded.is_empty() {
            out.warnings.push(
                "The query's results have no _id column (a command of the query removes it), so alerts cannot be tied to their source documents and the same alerts may be created again on later executions."
                    .to_string(),
            );
        }
        let hits = match merge_rows(store, &rows, &indices, aggregating).await {
            Ok(h) => h,
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        };
        let mut with_ids = Vec::with_capacity(hits.len());
        for (i, hit) in hits.into_iter().enumerate() {
            let id = if !aggregating && !hit.id.is_empty() {
                let mut parts = vec![
                    HashValue::from(hit.id.as_str()),
                    hit.version.map_or(HashValue::Undefined, |v| HashValue::Number(v as f64)),
                    HashValue::from(hit.index.as_str()),
                    HashValue::String(format!("{SPACE_ID}:{}", rule.id)),
                ];
                let surviving: Vec<&String> = expanded.iter().filter(|f| rows[i].contains_key(*f)).collect();
                if !surviving.is_empty() {
                    for f in surviving {
                        parts.push(hit.source.get(f).map_or(HashValue::Undefined, HashValue::from));
                    }
                } else if !expanded.is_empty() {
                    parts.push(HashValue::from(&Value::Object(hit.source.clone())));
                }
                object_hash(&HashValue::Array(parts))
            } else {
                object_hash(&HashValue::Array(vec![
                    HashValue::String(format!("{}{}", iso(tuple.from), iso(tuple.to))),
                    HashValue::String(text.clone()),
                    HashValue::String(format!("{SPACE_ID}:{}", rule.id)),
                    HashValue::Number(i as f64),
                ]))
            };
            with_ids.push((id, hit));
        }
        let budget = max_signals.saturating_sub(out.created);
        let (created, truncated) = match write_alerts(store, ctx, tuple, with_ids, budget).await {
            Ok(r) => r,
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        };
        out.created += created;
        if truncated {
            out.warnings.push(MAX_SIGNALS_WARNING.to_string());
            break;
        }
        if aggregating || !has_id || rows.len() < size {
            break;
        }
        // The page was full: exclude what it returned (but its last row's document, which may
        // have more expanded rows) and ask again.
        let before = excluded.len();
        for row in &rows[..rows.len() - 1] {
            if let Some(Value::String(id)) = row.get("_id") {
                excluded.insert(id.clone());
            }
        }
        if excluded.len() == before {
            break;
        }
        if excluded.len() > EXCLUDED_DOCUMENTS_LIMIT {
            out.warnings.push(format!(
                "Excluded documents exceeded the limit of {EXCLUDED_DOCUMENTS_LIMIT}, some alerts might not have been created. Consider reducing the lookback time for the rule."
            ));
            break;
        }
        if out.created > max_signals {
            break;
        }
    }
    out
}

/// Ties rows to their source documents (non-aggregating rows with an `_id`): the document's
/// source with every column of the row set as a top-level dotted key, replacing the document's
/// value at that path. Aggregating rows, and rows whose document is gone, are the row alone.
async fn merge_rows<S: DetectionStore>(
    store: &S,
    rows: &[Map<String, Value>],
    indices: &[String],
    aggregating: bool,
) -> Result<Vec<Hit>, String> {
    let mut docs: HashMap<(String, String), SourceDoc> = HashMap::new();
    let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
    if !aggregating {
        let ids: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get("_id").and_then(Value::as_str).map(str::to_string))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !ids.is_empty() {
            for index in indices {
                for doc in store.source_documents(index, &ids).await.map_err(|e| e.to_string())? {
                    by_id.entry(doc.id.clone()).or_default().push(doc.index.clone());
                    docs.insert((doc.index.clone(), doc.id.clone()), doc);
                }
            }
        }
    }
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.get("_id").and_then(Value::as_str).filter(|_| !aggregating);
        let row_index = row.get("_index").and_then(Value::as_str);
        let doc = id.and_then(|id| {
            let index = match row_index {
                Some(ix) => Some(ix.to_string()),
                None => by_id.get(id).and_then(|v| v.first().cloned()),
            }?;
            docs.get(&(index, id.to_string()))
        });
        let mut source = doc.map(|d| d.source.clone()).unwrap_or_default();
        for (name, value) in row {
            if matches!(name.as_str(), "_id" | "_index" | "_version") {
                continue;
            }
            crate::doc::remove(&mut source, name);
            source.insert(name.clone(), value.clone());
        }
        hits.push(Hit {
            id: id.map(str::to_string).unwrap_or_default(),
            index: doc.map(|d| d.index.clone()).or_else(|| row_index.map(str::to_string)).unwrap_or_default(),
            version: doc.and_then(|d| d.version),
            source,
        });
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(q: &str) -> String {
        let ast = ::esql::syntax::parse(q).expect("parses");
        rewrite(q, &ast, "T", 101).expect("rewrites").0
    }

    #[test]
    fn aggregating_queries_get_the_window_and_the_limit() {
        assert_eq!(
            rewritten("from logs-* // all\n| stats c = count(*) by host.name"),
            "from logs-*\n| WHERE T // all\n| stats c = count(*) by host.name\n| LIMIT 101"
        );
        assert_eq!(
            rewritten("FROM a | STATS c = COUNT(*) // end"),
            "FROM a\n| WHERE T | STATS c = COUNT(*) // end\n| LIMIT 101"
        );
    }

    #[test]
    fn non_aggregating_queries_get_id_in_metadata_and_keep() {
        assert_eq!(
            rewritten("FROM a | KEEP host.name | WHERE true"),
            "FROM a METADATA _id\n| WHERE T | KEEP host.name, _id | WHERE true\n| LIMIT 101"
        );
        assert_eq!(
            rewritten("FROM a METADATA _index | KEEP *"),
            "FROM a METADATA _index, _id\n| WHERE T | KEEP *\n| LIMIT 101"
        );
        assert_eq!(
            rewritten("FROM a METADATA _id | INLINE STATS c = COUNT(*) BY x | KEEP x"),
            "FROM a METADATA _id\n| WHERE T | INLINE STATS c = COUNT(*) BY x | KEEP x, _id\n| LIMIT 101"
        );
        let ast = ::esql::syntax::parse("FROM a | GROK m \"%{WORD:w}\" | KEEP w").expect("parses");
        let (q, injected) = rewrite("FROM a | GROK m \"%{WORD:w}\" | KEEP w", &ast, "T", 5).expect("rewrites");
        assert!(!injected);
        assert_eq!(q, "FROM a METADATA _id\n| WHERE T | GROK m \"%{WORD:w}\" | KEEP w\n| LIMIT 5");
    }

    #[test]
    fn only_from_queries() {
        let ast = ::esql::syntax::parse("ROW a = 1").expect("parses");
        assert!(rewrite("ROW a = 1", &ast, "T", 1).is_err());
    }
}

//! The KQL ("query") rule executor (Kibana `rule_types/query/query.ts` and
//! `search_after_bulk_create`, reference §3).
//!
//! Kibana searches the rule's index patterns with the KQL query, the filters and the time
//! window, sorted by the timestamp ascending, in pages of `min(max_signals, 100)` with
//! `search_after`, until a page is empty or `max_signals` alerts were created. Saker runs each
//! page as ES|QL:
//!
//! ```text
//! FROM <index patterns> METADATA _id, _index, _version
//! | WHERE <time window>
//! | WHERE KQL("<query>") AND <filters>
//! | EVAL __saker_ts = COALESCE(<timestamp override>, @timestamp)
//! | WHERE <after the previous page's last (timestamp, _index, _id)>
//! | SORT __saker_ts ASC, _index ASC, _id ASC
//! | LIMIT <page size>
//! | KEEP _id, _index, _version, __saker_ts
//! ```
//!
//! and reads the hits' documents from the store ([`DetectionStore::source_documents`]).
//!
//! Each hit's alert id is Kibana's: SHA-256 hex of `_index + _id + _version + "default:<rule
//! uuid>"`, so an event alerts once however many windows see it. Events that are alerts of this
//! very rule (their ancestors name it) are skipped.

use super::filters::filters_condition;
use super::{
    MAX_SIGNALS_WARNING, Tuple, TupleOutcome, field_ref, no_index_warning, resolve_indices, row_documents,
    rule_indices, time_filter, write_alerts,
};
use crate::alert::{ExecutionContext, Hit, SPACE_ID, ancestor_rules};
use crate::rule::Language;
use crate::store::{DetectionStore, esql_string};
use ::esql::QueryOptions;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// Kibana's page size cap (`DEFAULT_SEARCH_AFTER_PAGE_SIZE`).
const PAGE_SIZE: usize = 100;

/// The column holding the sort timestamp.
const TS: &str = "__saker_ts";

/// Kibana's alert id of a KQL rule's hit.
pub fn alert_id(index: &str, id: &str, version: Option<i64>, rule_uuid: &str) -> String {
    let version = version.map_or_else(|| "undefined".to_string(), |v| v.to_string());
    let digest = Sha256::digest(format!("{index}{id}{version}{SPACE_ID}:{rule_uuid}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs a KQL rule over one window.
pub async fn execute<S: DetectionStore>(store: &mut S, ctx: &ExecutionContext<'_>, tuple: &Tuple) -> TupleOutcome {
    let mut out = TupleOutcome::default();
    let rule = ctx.rule;
    if rule.language == Some(Language::Lucene) {
        out.errors.push("query rules in `lucene` are not supported (only `kuery`)".to_string());
        return out;
    }
    let kql_text = rule.query.clone().unwrap_or_default();
    if let Err(e) = kql::parse(&kql_text) {
        out.errors.push(format!("invalid KQL: {}", e.render(&kql_text)));
        return out;
    }
    let patterns = rule_indices(rule);
    let catalog = store.catalog();
    let indices = resolve_indices(catalog.as_ref(), &patterns);
    if indices.is_empty() {
        out.warnings.push(no_index_warning(&patterns));
        out.skipped = true;
        return out;
    }
    out.warnings.extend(time_filter(rule, catalog.as_ref(), &indices, tuple).1);
    // Only indices with documents in the window can have hits.
    let mut ts_fields = vec![rule.primary_timestamp()];
    ts_fields.extend(rule.secondary_timestamp());
    let searched: Vec<String> = indices
        .iter()
        .filter(|ix| store.time_range(ix, &ts_fields).may_overlap(tuple.from, tuple.to))
        .cloned()
        .collect();
    if searched.is_empty() {
        return out;
    }
    let window = time_filter(rule, catalog.as_ref(), &searched, tuple).0;
    let fields: HashSet<String> = searched
        .iter()
        .filter_map(|n| catalog.index(n))
        .flat_map(|ix| ix.fields().iter().map(|f| f.name.clone()).collect::<Vec<_>>())
        .collect();
    let filters = match filters_condition(&rule.filters, &fields) {
        Ok(f) => f,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let mut conditions = Vec::new();
    if !kql_text.trim().is_empty() {
        conditions.push(format!("KQL({})", esql_string(&kql_text)));
    }
    conditions.extend(filters);
    let primary = rule.primary_timestamp();
    let has = |f: &str| fields.contains(f);
    let ts = match rule.secondary_timestamp() {
        Some(s) if has(primary) && has(s) => format!("COALESCE({}, {})", field_ref(primary), field_ref(s)),
        Some(s) if has(s) => field_ref(s),
        _ if has(primary) => field_ref(primary),
        _ => "TO_DATETIME(null)".to_string(),
    };
    let from_clause = searched.join(", ");
    let page = (tuple.max_signals as usize).clamp(1, PAGE_SIZE);
    let options = QueryOptions { now: Some(ctx.started_at), ..QueryOptions::default() };
    let mut cursor: Option<(String, String, String)> = None;
    loop {
        let mut query = format!("FROM {from_clause} METADATA _id, _index, _version\n| WHERE {window}");
        if !conditions.is_empty() {
            query.push_str(&format!("\n| WHERE {}", conditions.join(" AND ")));
        }
        query.push_str(&format!("\n| EVAL {TS} = {ts}"));
        if let Some((t, index, id)) = &cursor {
            let (t, index, id) = (esql_string(t), esql_string(index), esql_string(id));
            query.push_str(&format!(
                "\n| WHERE {TS} > TO_DATETIME({t}) OR ({TS} == TO_DATETIME({t}) AND (_index > {index} OR (_index == {index} AND _id > {id})))"
            ));
        }
        query.push_str(&format!(
            "\n| SORT {TS} ASC, _index ASC, _id ASC\n| LIMIT {page}\n| KEEP _id, _index, _version, {TS}"
        ));
        let output = match ::esql::execute(store.catalog(), &query, &options).await {
            Ok(o) => o,
            Err(e) => {
                out.errors.push(e.to_string());
                return out;
            }
        };
        for w in &output.warnings {
            if !out.query_warnings.contains(w) {
                out.query_warnings.push(w.clone());
            }
        }
        let rows = row_documents(&output);
        if rows.is_empty() {
            break;
        }
        let last = rows.last().map(|r| {
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            (s(TS), s("_index"), s("_id"))
        });
        let mut hits = Vec::new();
        for row in &rows {
            let (Some(id), Some(index)) =
                (row.get("_id").and_then(Value::as_str), row.get("_index").and_then(Value::as_str))
            else {
                continue;
            };
            let version = row.get("_version").and_then(Value::as_i64);
            let source = match store.source_documents(index, &[id.to_string()]).await {
                Ok(mut docs) if !docs.is_empty() => docs.swap_remove(0).source,
                Ok(_) => continue,
                Err(e) => {
                    out.errors.push(e.to_string());
                    return out;
                }
            };
            if ancestor_rules(&source).contains(&rule.id) {
                continue;
            }
            let hit = Hit { id: id.to_string(), index: index.to_string(), version, source };
            hits.push((alert_id(index, id, version, &rule.id), hit));
        }
        let budget = (tuple.max_signals as usize).saturating_sub(out.created);
        match write_alerts(store, ctx, tuple, hits, budget).await {
            Ok((created, truncated)) => {
                out.created += created;
                if truncated {
                    out.warnings.push(MAX_SIGNALS_WARNING.to_string());
                    break;
                }
            }
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        }
        if rows.len() < page || out.created > tuple.max_signals as usize {
            break;
        }
        match last {
            Some(l) if l.0.is_empty() => break,
            Some(l) => cursor = Some(l),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_ids_are_sha256_of_index_id_version_and_rule() {
        let mut h = Sha256::new();
        h.update(b"logs-x-defaultdoc11default:rule-so");
        let expected: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(alert_id("logs-x-default", "doc1", Some(1), "rule-so"), expected);
    }
}

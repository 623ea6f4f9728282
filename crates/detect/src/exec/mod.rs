//! Rule executors: one execution of a rule over one time window (a [`Tuple`]), with Kibana's
//! semantics for the ES|QL ([`esql`]) and KQL ([`query`]) rule types.
//!
//! Both write their alerts through the [`DetectionStore`]: ids already present are skipped
//! (Kibana's `create` with conflicts ignored), and no more than the window's `max_signals` are
//! created, with Kibana's warning when more were found.

pub mod esql;
pub mod filters;
pub mod query;
pub mod suppression;

use crate::alert::{ExecutionContext, Hit, build_alert};
use crate::datemath::iso;
use crate::rule::{Rule, RuleType};
use crate::store::{DetectionStore, esql_string};
use ::esql::analyzer::index_matches;
use ::esql::catalog::Catalog;
use ::esql::render::{Cell, rows};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};

/// One time window of an execution: `[from, to]` (both inclusive) and its alert budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuple {
    /// Window start.
    pub from: DateTime<Utc>,
    /// Window end.
    pub to: DateTime<Utc>,
    /// The most alerts this window may create.
    pub max_signals: u32,
}

/// What one window's execution did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TupleOutcome {
    /// Alerts created.
    pub created: usize,
    /// Rule warnings (they make the status "partial failure").
    pub warnings: Vec<String>,
    /// Rule errors (they make the status "failed").
    pub errors: Vec<String>,
    /// Warnings of the queries themselves (ES|QL `Warning` headers): informational.
    pub query_warnings: Vec<String>,
    /// True when no index matched and nothing was searched.
    pub skipped: bool,
}

/// Kibana's warning when an execution found more alerts than `max_signals`.
pub const MAX_SIGNALS_WARNING: &str =
    "This rule reached the maximum alert limit for the rule execution. Some alerts were not created.";

/// Runs `ctx.rule` over one window.
pub async fn execute_tuple<S: DetectionStore>(
    store: &mut S,
    ctx: &ExecutionContext<'_>,
    tuple: &Tuple,
) -> TupleOutcome {
    match ctx.rule.rule_type {
        RuleType::Esql => esql::execute(store, ctx, tuple).await,
        RuleType::Query => query::execute(store, ctx, tuple).await,
        other => {
            TupleOutcome { errors: vec![format!("`{other}` rules are not yet supported")], ..TupleOutcome::default() }
        }
    }
}

/// The index patterns a rule searches: the `FROM` of an ES|QL query, the `index` of others
/// (Kibana's `securitySolution:defaultIndex` when empty).
pub fn rule_indices(rule: &Rule) -> Vec<String> {
    match rule.rule_type {
        RuleType::Esql => rule
            .query
            .as_deref()
            .and_then(|q| ::esql::syntax::parse(q).ok())
            .and_then(|ast| match ast.commands.first().map(|c| &c.kind) {
                Some(::esql::syntax::ast::CommandKind::From(from)) => {
                    Some(from.indices.iter().map(|p| p.pattern.clone()).collect())
                }
                _ => None,
            })
            .unwrap_or_default(),
        _ if rule.index.is_empty() => DEFAULT_INDEX.iter().map(|s| s.to_string()).collect(),
        _ => rule.index.clone(),
    }
}

/// Kibana's default `securitySolution:defaultIndex`.
pub const DEFAULT_INDEX: [&str; 9] = [
    "apm-*-transaction*",
    "auditbeat-*",
    "endgame-*",
    "filebeat-*",
    "logs-*",
    "packetbeat-*",
    "traces-apm*",
    "winlogbeat-*",
    "-*elastic-cloud-logs-*",
];

/// The concrete indices of `catalog` that `patterns` select (`-pattern` excludes).
pub fn resolve_indices(catalog: &dyn Catalog, patterns: &[String]) -> Vec<String> {
    let names = catalog.index_names();
    let mut selected: BTreeSet<String> = BTreeSet::new();
    for (i, pattern) in patterns.iter().enumerate() {
        match pattern.strip_prefix('-') {
            Some(excluded) if i > 0 => selected.retain(|n| !index_matches(excluded, n)),
            _ => selected.extend(names.iter().filter(|n| index_matches(pattern, n)).cloned()),
        }
    }
    selected.into_iter().collect()
}

/// Kibana's warning when no index matches the rule's patterns (the execution is skipped).
pub fn no_index_warning(patterns: &[String]) -> String {
    format!(
        "This rule is attempting to query data from Elasticsearch indices listed in the \"Index patterns\" section of the rule definition, however no index matching: {} was found. This warning will continue to appear until a matching index is created or this rule is disabled.",
        serde_json::to_string(patterns).unwrap_or_default()
    )
}

/// The ES|QL condition selecting the rule's time window on the source documents, as Kibana's
/// DSL range filter does: the primary timestamp in `[from, to]`, or, with a fallback, the
/// document lacks it and `@timestamp` is in range. A timestamp field no index maps is left
/// out (it is null everywhere). Also returns Kibana's warning when some indices lack the
/// primary timestamp field.
pub fn time_filter(rule: &Rule, catalog: &dyn Catalog, indices: &[String], tuple: &Tuple) -> (String, Vec<String>) {
    let primary = rule.primary_timestamp();
    let secondary = rule.secondary_timestamp();
    let mut missing = Vec::new();
    let mut has_primary = false;
    let mut has_secondary = false;
    for name in indices {
        let Some(index) = catalog.index(name) else { continue };
        let has = |f: &str| index.fields().iter().any(|x| x.name == f && x.es_type.is_date());
        if has(primary) {
            has_primary = true;
        } else {
            missing.push(name.clone());
        }
        if secondary.is_some_and(has) {
            has_secondary = true;
        }
    }
    let (from, to) = (esql_string(&iso(tuple.from)), esql_string(&iso(tuple.to)));
    let range = |f: &str| {
        let f = field_ref(f);
        format!("({f} >= TO_DATETIME({from}) AND {f} <= TO_DATETIME({to}))")
    };
    let condition = match (has_primary, secondary.filter(|_| has_secondary)) {
        (true, Some(s)) => format!("({} OR ({} IS NULL AND {}))", range(primary), field_ref(primary), range(s)),
        (true, None) => range(primary),
        (false, Some(s)) => range(s),
        (false, None) => "false".to_string(),
    };
    let mut warnings = Vec::new();
    if !missing.is_empty() {
        let what = if primary == "@timestamp" {
            "timestamp field \"@timestamp\"".to_string()
        } else {
            format!("timestamp override field \"{primary}\"")
        };
        warnings.push(format!(
            "The following indices are missing the {what}: {}",
            serde_json::to_string(&missing).unwrap_or_default()
        ));
    }
    (condition, warnings)
}

/// A field name as an ES|QL identifier (backquoted unless it is plain `a.b_c` text).
pub fn field_ref(name: &str) -> String {
    let plain = !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '@')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if plain { name.to_string() } else { format!("`{}`", name.replace('`', "``")) }
}

/// The rows of a query result as documents (column name → value), null cells dropped.
pub fn row_documents(output: &::esql::QueryOutput) -> Vec<Map<String, Value>> {
    rows(output)
        .into_iter()
        .map(|row| {
            output
                .columns
                .iter()
                .zip(row)
                .filter(|(_, cell)| *cell != Cell::Null)
                .map(|((name, _), cell)| (name.clone(), cell.to_json()))
                .collect()
        })
        .collect()
}

/// `hits` without repeated ids and without those already alerts in the store (Kibana's
/// `filterDuplicateAlerts`), in order.
///
/// # Errors
/// The store's error, as a message.
pub fn new_hits<S: DetectionStore>(store: &S, hits: Vec<(String, Hit)>) -> Result<Vec<(String, Hit)>, String> {
    let mut seen = HashSet::new();
    let unique: Vec<(String, Hit)> = hits.into_iter().filter(|(id, _)| seen.insert(id.clone())).collect();
    let ids: Vec<String> = unique.iter().map(|(id, _)| id.clone()).collect();
    let existing = store.existing_alerts(&ids).map_err(|e| e.to_string())?;
    Ok(unique.into_iter().filter(|(id, _)| !existing.contains(id)).collect())
}

/// Builds the alerts of `hits` (with their ids), drops ids seen in this batch or already in the
/// store, cuts to the remaining budget and writes them. Returns (created, truncated).
///
/// # Errors
/// The store's error, as a message.
pub async fn write_alerts<S: DetectionStore>(
    store: &mut S,
    ctx: &ExecutionContext<'_>,
    tuple: &Tuple,
    hits: Vec<(String, Hit)>,
    budget: usize,
) -> Result<(usize, bool), String> {
    if let Some(s) = ctx.rule.alert_suppression.as_ref().filter(|s| !s.group_by.is_empty()) {
        return suppression::write(store, ctx, tuple, hits, budget, s).await;
    }
    let fresh = new_hits(store, hits)?;
    let truncated = fresh.len() > budget;
    let alerts: Vec<Map<String, Value>> =
        fresh.iter().take(budget).map(|(id, hit)| build_alert(ctx, hit, id)).collect();
    let created = store.write_alerts(alerts).map_err(|e| e.to_string())?;
    Ok((created, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_refs_quote_what_needs_it() {
        assert_eq!(field_ref("@timestamp"), "@timestamp");
        assert_eq!(field_ref("event.ingested"), "event.ingested");
        assert_eq!(field_ref("a.b-c"), "`a.b-c`");
        assert_eq!(field_ref("weird`name"), "`weird``name`");
    }
}

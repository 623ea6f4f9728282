//! `saker rules validate`: can Saker run each loaded rule? A rule can run when its type and
//! language are supported and its query is valid against what its indices can hold (ECS, the
//! flagship integrations and the alerts index, [`ecs::EcsCatalog`]; fields the tables do not
//! know read as unmapped nulls, as `saker check` does).

use crate::exec::filters::filters_condition;
use crate::exec::rule_indices;
use crate::rule::{Language, Rule, RuleType};
use crate::store::esql_string;
use esql::{QueryOptions, UnmappedFields};
use std::collections::HashSet;

/// Why a rule cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// Saker does not run this type or language yet.
    Unsupported(String),
    /// The KQL query does not parse (Kibana's message with the position).
    Kql(String),
    /// The ES|QL query (or the KQL translated into it) does not parse or verify.
    Query(String),
    /// A filter Saker cannot translate.
    Filter(String),
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocker::Unsupported(m) => write!(f, "not supported: {m}"),
            Blocker::Kql(m) => write!(f, "invalid KQL: {m}"),
            Blocker::Query(m) => write!(f, "invalid query: {m}"),
            Blocker::Filter(m) => write!(f, "unsupported filter: {m}"),
        }
    }
}

/// Checks that Saker can run `rule`.
///
/// # Errors
/// The first reason it cannot.
pub fn check(rule: &Rule) -> Result<(), Blocker> {
    if let Some(reason) = rule.unsupported_reason() {
        // KQL of unsupported types still has to parse: report that first.
        kql_parses(rule)?;
        return Err(Blocker::Unsupported(reason));
    }
    let options = QueryOptions { unmapped_fields: UnmappedFields::Nullify, ..QueryOptions::default() };
    let patterns = rule_indices(rule);
    let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
    let catalog = ecs::EcsCatalog::for_patterns(&refs);
    match rule.rule_type {
        RuleType::Esql => {
            let query = rule.query.as_deref().unwrap_or("");
            esql::analyze(&catalog, query, &options).map_err(|e| Blocker::Query(e.to_string()))?;
        }
        _ => {
            kql_parses(rule)?;
            filters_condition(&rule.filters, &HashSet::new()).map_err(Blocker::Filter)?;
            let kql = rule.query.as_deref().unwrap_or("");
            if !kql.trim().is_empty() {
                let from: Vec<&str> = refs.iter().copied().filter(|p| !p.starts_with('-')).collect();
                let query = format!("FROM {} | WHERE KQL({})", from.join(", "), esql_string(kql));
                esql::analyze(&catalog, &query, &options).map_err(|e| Blocker::Query(e.to_string()))?;
            }
        }
    }
    Ok(())
}

/// Whether a KQL rule's query parses (rules in other languages pass).
///
/// # Errors
/// Kibana's syntax error with the query and a caret under the position.
pub fn kql_parses(rule: &Rule) -> Result<(), Blocker> {
    if rule.rule_type == RuleType::Esql || rule.language != Some(Language::Kuery) {
        return Ok(());
    }
    let q = rule.query.as_deref().unwrap_or("");
    kql::parse(q).map(|_| ()).map_err(|e| Blocker::Kql(e.render(q)))
}

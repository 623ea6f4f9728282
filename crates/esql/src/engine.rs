//! Running a query: parse, analyze, plan, execute, collect warnings.

use crate::analyzer::analyze_query;
use crate::catalog::Catalog;
use crate::ir::{Step, TypedQuery};
use crate::optimizer::PruneFilters;
use crate::planner::Planner;
use crate::types::EsType;
use crate::warnings::Warnings;
use chrono::{DateTime, Utc};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use esql_syntax::Diagnostic;
use std::sync::Arc;

/// A query parameter value (`?name`, `?1`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// A boolean.
    Boolean(bool),
    /// An integer (typed integer if it fits in 32 bits, else long, as Elastic does).
    Integer(i64),
    /// A double.
    Double(f64),
    /// A string (keyword).
    String(String),
}

/// Settings of one query execution.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// What `now()` returns; the current time when `None`.
    pub now: Option<DateTime<Utc>>,
    /// Positional parameters (`?`, `?1`).
    pub positional_params: Vec<Value>,
    /// Named parameters (`?name`).
    pub named_params: Vec<(String, Value)>,
    /// The `LIMIT` applied when the query has none (Elastic: 1000).
    pub default_limit: usize,
    /// The most rows a query may return (Elastic: 10000).
    pub max_limit: usize,
    /// What a reference to a field that no index maps does (Elastic's `SET unmapped_fields`).
    pub unmapped_fields: UnmappedFields,
    /// How many partitions (threads) run the query; `None` decides by the size of the indices
    /// read ([`PARALLEL_ROWS`]).
    pub parallelism: Option<usize>,
}

/// From this many documents in the indices a query reads, it runs on every core. Smaller
/// queries run on one, which keeps results without `SORT` in document order (Elastic does not
/// promise any order without `SORT`; one partition makes small results repeatable).
pub const PARALLEL_ROWS: u64 = 200_000;

/// Elastic's `unmapped_fields` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnmappedFields {
    /// An unknown field is an error (the default).
    #[default]
    Fail,
    /// An unknown field read from the source indices is a null-typed column of nulls.
    Nullify,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            now: None,
            positional_params: Vec::new(),
            named_params: Vec::new(),
            default_limit: 1000,
            max_limit: 10000,
            unmapped_fields: UnmappedFields::Fail,
            parallelism: None,
        }
    }
}

/// A query's result.
#[derive(Debug, Clone)]
pub struct QueryOutput {
    /// Column names and ES|QL types, in order.
    pub columns: Vec<(String, EsType)>,
    /// The rows. A multi-valued column is a `List`; a list of one value is that value and an
    /// empty list is null.
    pub batches: Vec<RecordBatch>,
    /// Response warnings, as Elastic sends them in `Warning` headers.
    pub warnings: Vec<String>,
}

/// Why a query failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// The query is invalid: parse or verification errors, each with its position.
    #[error("{}", esql_syntax::diagnostic::elastic_message(.diagnostics, .query))]
    Invalid {
        /// The query text, for rendering positions.
        query: String,
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
    },
    /// The query was valid but failed while running (an Elastic `*_exception` at run time).
    #[error("{message}")]
    Execution {
        /// Elastic's error type, e.g. `illegal_argument_exception`.
        es_type: String,
        /// The message.
        message: String,
    },
    /// A bug in Saker.
    #[error("internal error: {0}; please report this")]
    Internal(String),
}

/// Parses and analyzes `query` against `catalog` without running it.
///
/// # Errors
/// [`QueryError::Invalid`] with every parse or verification problem.
pub fn analyze(catalog: &dyn Catalog, query: &str, options: &QueryOptions) -> Result<TypedQuery, QueryError> {
    let invalid = |diagnostics| QueryError::Invalid { query: query.to_string(), diagnostics };
    let ast = esql_syntax::parse(query).map_err(invalid)?;
    analyze_query(catalog, &ast, query, options).map_err(invalid)
}

/// How many partitions run `typed`: `options.parallelism`, else every core when the indices it
/// reads hold at least [`PARALLEL_ROWS`] documents, else one.
fn partitions(typed: &TypedQuery, options: &QueryOptions) -> usize {
    if let Some(n) = options.parallelism {
        return n.max(1);
    }
    let rows: u64 = typed
        .steps
        .iter()
        .filter_map(|step| match step {
            Step::From { sources, .. } => Some(sources.iter().filter_map(|s| s.index.estimated_rows()).sum::<u64>()),
            _ => None,
        })
        .sum();
    if rows >= PARALLEL_ROWS { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { 1 }
}

/// A DataFusion session configured for ES|QL plans, running on `partitions` partitions.
pub fn session(partitions: usize) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions.max(1)).with_batch_size(8192);
    let state = SessionStateBuilder::new().with_config(config).with_default_features().build();
    let mut rules = Vec::new();
    for rule in state.optimizers() {
        // These rules move struct field accesses (DISSECT/GROK outputs) below projections and
        // fail on the qualified names of a FROM over several indices.
        if matches!(rule.name(), "push_down_leaf_projections" | "extract_leaf_expressions") {
            continue;
        }
        rules.push(Arc::clone(rule));
        // Right after filters moved below the projections that read unmapped fields as null
        // constants, so that the same optimizer pass drops what lies under a pruned filter.
        if rule.name() == "push_down_filter" {
            rules.push(Arc::new(PruneFilters) as _);
        }
    }
    SessionContext::new_with_state(SessionStateBuilder::new_from_existing(state).with_optimizer_rules(rules).build())
}

/// Parses, analyzes, plans and runs `query` against `catalog`.
///
/// # Errors
/// [`QueryError::Invalid`] for a bad query, [`QueryError::Execution`] for run-time failures.
pub async fn execute(
    catalog: Arc<dyn Catalog>,
    query: &str,
    options: &QueryOptions,
) -> Result<QueryOutput, QueryError> {
    let planned = plan(catalog.as_ref(), query, options).await?;
    let batches = planned.df.collect().await.map_err(df_error)?;
    let columns = planned.typed.columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
    Ok(QueryOutput { columns, batches, warnings: planned.warnings.messages() })
}

/// The plans DataFusion runs for `query`: the optimized logical plan, then the physical plan
/// (with `EmptyExec` where a `WHERE` that can never hold was pruned). Nothing is executed, but
/// warnings of constants folded while planning are not reported.
///
/// # Errors
/// As [`execute`] before running.
pub async fn explain(catalog: Arc<dyn Catalog>, query: &str, options: &QueryOptions) -> Result<String, QueryError> {
    let planned = plan(catalog.as_ref(), query, options).await?;
    let logical = planned.df.clone().into_optimized_plan().map_err(df_error)?.display_indent().to_string();
    let physical = planned.df.create_physical_plan().await.map_err(df_error)?;
    let physical = datafusion::physical_plan::displayable(physical.as_ref()).indent(true).to_string();
    Ok(format!("logical plan:\n{logical}\nphysical plan:\n{physical}"))
}

struct Planned {
    typed: TypedQuery,
    df: datafusion::dataframe::DataFrame,
    warnings: Arc<Warnings>,
}

/// Analyzes and plans `query` into a DataFusion frame (optimized when it runs).
async fn plan(catalog: &dyn Catalog, query: &str, options: &QueryOptions) -> Result<Planned, QueryError> {
    let typed = analyze(catalog, query, options)?;
    let warnings = Warnings::new();
    for w in &typed.warnings {
        warnings.add(w.clone());
    }
    let now_ms = options.now.unwrap_or_else(Utc::now).timestamp_millis();
    let planner = Planner::new(query, warnings.clone(), now_ms);
    let plan = planner.plan(&typed).map_err(|e| QueryError::Internal(format!("planning failed: {e}")))?;
    let ctx = session(partitions(&typed, options));
    let df = ctx.execute_logical_plan(plan).await.map_err(df_error)?;
    Ok(Planned { typed, df, warnings })
}

fn df_error(e: DataFusionError) -> QueryError {
    match e {
        DataFusionError::Execution(m) => {
            QueryError::Execution { es_type: "illegal_argument_exception".into(), message: m }
        }
        DataFusionError::ResourcesExhausted(m) => {
            QueryError::Execution { es_type: "circuit_breaking_exception".into(), message: m }
        }
        other => QueryError::Internal(other.to_string()),
    }
}

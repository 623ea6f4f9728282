//! ES|QL's own logical optimizations, run by DataFusion's optimizer beside its rules.
//!
//! [`PruneFilters`] is Elastic's rule of the same name: a `WHERE` keeps the rows whose condition
//! is `true`, so a condition part that is always null (a comparison with a field no index maps,
//! read as null under `unmapped_fields = "nullify"`; `TO_LOWER(null) RLIKE …`) can be read as
//! `false` where only truth matters. A condition that then folds to `false` makes the filter an
//! empty relation, and the indices under it are not read.

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchemaRef, Result, ScalarValue};
use datafusion::logical_expr::expr::BinaryExpr;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{EmptyRelation, Expr, Filter, LogicalPlan, Operator, lit};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use std::sync::Arc;

/// Reads always-null parts of a filter condition as `false` and turns filters that can never
/// hold into empty relations, which DataFusion then propagates up the plan (and through
/// `MV_EXPAND`, which it does not know about).
///
/// Only positions where null and `false` select the same rows are rewritten: the condition
/// itself and the operands of `AND`/`OR` above it (`null AND x` and `false AND x` are both never
/// true; `null OR x` and `false OR x` are true exactly when `x` is). Under `NOT` or inside a
/// function, null stays null (`NOT null` is null, `x IS NULL` of it is true).
#[derive(Debug, Default)]
pub struct PruneFilters;

impl PruneFilters {
    /// The name under which the rule is registered.
    pub const NAME: &'static str = "esql_prune_filters";
}

impl OptimizerRule for PruneFilters {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        match plan {
            LogicalPlan::Filter(filter) => prune_filter(filter, config),
            LogicalPlan::Unnest(ref unnest) if is_empty(&unnest.input) => Ok(Transformed::yes(empty(&unnest.schema))),
            _ => Ok(Transformed::no(plan)),
        }
    }
}

fn is_empty(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::EmptyRelation(e) if !e.produce_one_row)
}

fn empty(schema: &DFSchemaRef) -> LogicalPlan {
    LogicalPlan::EmptyRelation(EmptyRelation { produce_one_row: false, schema: Arc::clone(schema) })
}

fn prune_filter(filter: Filter, config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
    if is_empty(&filter.input) {
        return Ok(Transformed::yes(empty(filter.input.schema())));
    }
    // The predicate may not be simplified yet: the filter was just pushed below a projection that
    // turned a column into a null constant.
    let info = SimplifyContext::builder()
        .with_schema(Arc::clone(filter.input.schema()))
        .with_config_options(config.options())
        .with_query_execution_start_time(config.query_execution_start_time())
        .build();
    let simplifier = ExprSimplifier::new(info);
    let simplified = simplifier.simplify(filter.predicate.clone())?;
    let rewritten = nulls_as_false(simplified)?;
    if !rewritten.transformed {
        return Ok(Transformed::no(LogicalPlan::Filter(filter)));
    }
    let predicate = simplifier.simplify(rewritten.data)?;
    if matches!(predicate, Expr::Literal(ScalarValue::Boolean(Some(false) | None), _)) {
        return Ok(Transformed::yes(empty(filter.input.schema())));
    }
    Ok(Transformed::yes(LogicalPlan::Filter(Filter::try_new(predicate, filter.input)?)))
}

/// Replaces null constants at the condition's top and under its `AND`/`OR` operands by `false`.
fn nulls_as_false(e: Expr) -> Result<Transformed<Expr>> {
    e.transform_down(|e| match e {
        Expr::BinaryExpr(BinaryExpr { op: Operator::And | Operator::Or, .. }) => Ok(Transformed::no(e)),
        Expr::Literal(ref v, _) if v.is_null() => Ok(Transformed::new(lit(false), true, TreeNodeRecursion::Jump)),
        // Anything else is not a boolean connective: a null inside it stays null.
        _ => Ok(Transformed::new(e, false, TreeNodeRecursion::Jump)),
    })
}

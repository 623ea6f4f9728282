//! The planner: turns an analyzed [`TypedQuery`] into a DataFusion [`LogicalPlan`].

use crate::functions::{AggPlanArgs, PlanArgs, Resolved, kernels};
use crate::ir::{Column, Literal, StatsOutput, Step, TAgg, TExpr, TExprKind, TSortKey, TypedQuery};
use crate::types::EsType;
use crate::warnings::{WarningSink, Warnings};
use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::common::{Column as DfColumn, Result, ScalarValue, TableReference, UnnestOptions};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, SortExpr, lit};
use datafusion::prelude::{is_not_null, is_null};
use esql_syntax::Span;
use esql_syntax::ast::{BinaryOp, NullsOrder, SortOrder};
use std::sync::Arc;

/// Plans an analyzed query.
pub struct Planner<'a> {
    source: &'a str,
    warnings: Arc<Warnings>,
    now_ms: i64,
}

/// A column reference by exact name (dots are part of the name, not qualifiers).
pub fn column(name: &str) -> Expr {
    Expr::Column(DfColumn::from_name(name))
}

impl<'a> Planner<'a> {
    /// A planner for `source`, reporting to `warnings`, with `now()` fixed at `now_ms`.
    pub fn new(source: &'a str, warnings: Arc<Warnings>, now_ms: i64) -> Planner<'a> {
        Planner { source, warnings, now_ms }
    }

    /// The sink for warnings raised by the expression at `span`.
    pub fn sink(&self, span: Span) -> WarningSink {
        let (line, col) = span.line_col(self.source);
        WarningSink::new(self.warnings.clone(), line, col, span.text(self.source))
    }

    /// Builds the plan.
    ///
    /// # Errors
    /// DataFusion planning errors (internal errors: the analyzer checked the query).
    pub fn plan(&self, q: &TypedQuery) -> Result<LogicalPlan> {
        let mut b: Option<LogicalPlanBuilder> = None;
        let mut scope: Vec<Column> = Vec::new();
        for step in &q.steps {
            b = Some(self.step(b, step, &mut scope)?);
        }
        let b = b.unwrap_or(LogicalPlanBuilder::empty(false));
        let out: Vec<Expr> = q.columns.iter().map(|c| column(&c.name)).collect();
        b.project(out)?.build()
    }

    fn step(&self, b: Option<LogicalPlanBuilder>, step: &Step, scope: &mut Vec<Column>) -> Result<LogicalPlanBuilder> {
        match step {
            Step::From { sources, columns } => {
                let mut plans = Vec::new();
                for (i, s) in sources.iter().enumerate() {
                    let alias = format!("__src{i}");
                    let table = s.index.table();
                    let scan = LogicalPlanBuilder::scan(alias.as_str(), provider_as_source(table), None)?;
                    let mut exprs = Vec::new();
                    for c in columns {
                        let e = match c.name.as_str() {
                            "_index" => lit(s.index.name().to_string()),
                            "_version" if !s.index.fields().iter().any(|f| f.name == "_version") => lit(1i64),
                            "_score" => lit(0.0f64),
                            _ => match s.index.fields().iter().find(|f| f.name == c.name) {
                                Some(f) if f.es_type == c.ty => {
                                    let e = match s.index.constant(&c.name) {
                                        // A `constant_keyword` reads the same value in every
                                        // document: as a constant, a filter on it folds and
                                        // skips the indices whose value differs.
                                        Some(v) if c.ty == EsType::Keyword && !f.multi => {
                                            lit(ScalarValue::Utf8(Some(v)))
                                        }
                                        _ => Expr::Column(DfColumn::new(
                                            Some(TableReference::bare(alias.as_str())),
                                            &c.name,
                                        )),
                                    };
                                    if c.multi && !f.multi { self.to_list(e, c.ty) } else { e }
                                }
                                _ => typed_null(c.ty, c.multi),
                            },
                        };
                        exprs.push(e.alias(&c.name));
                    }
                    plans.push(scan.project(exprs)?.build()?);
                }
                let mut it = plans.into_iter();
                let Some(first) = it.next() else {
                    // No index matched a wildcard pattern: an empty relation with the columns.
                    *scope = columns.clone();
                    let exprs: Vec<Expr> = columns.iter().map(|c| typed_null(c.ty, c.multi).alias(&c.name)).collect();
                    return LogicalPlanBuilder::empty(false).project(exprs);
                };
                let mut b = LogicalPlanBuilder::from(first);
                for p in it {
                    b = b.union(p)?;
                }
                *scope = columns.clone();
                Ok(b)
            }
            Step::Row(fields) => {
                let b = LogicalPlanBuilder::empty(true);
                let mut exprs = Vec::new();
                for (n, t) in fields {
                    exprs.push(self.expr(t)?.alias(n));
                }
                *scope = fields.iter().map(|(n, t)| Column { name: n.clone(), ty: t.ty, multi: t.multi }).collect();
                b.project(exprs)
            }
            Step::Where(t) => {
                let b = b.expect("invariant: a source command comes first");
                let e = self.single(t)?;
                b.filter(e)
            }
            Step::Eval(fields) => {
                let mut b = b.expect("invariant: a source command comes first");
                for (n, t) in fields {
                    let e = self.expr(t)?.alias(n);
                    let mut exprs: Vec<Expr> = scope.iter().filter(|c| c.name != *n).map(|c| column(&c.name)).collect();
                    exprs.push(e);
                    scope.retain(|c| c.name != *n);
                    scope.push(Column { name: n.clone(), ty: t.ty, multi: t.multi });
                    b = b.project(exprs)?;
                }
                Ok(b)
            }
            Step::Stats { inline, aggs, groups, outputs } => {
                let b = b.expect("invariant: a source command comes first");
                self.stats(b, *inline, aggs, groups, outputs, scope)
            }
            Step::Project(mapping) => {
                let b = b.expect("invariant: a source command comes first");
                let old = scope.clone();
                let exprs: Vec<Expr> = mapping.iter().map(|(out, inp)| column(inp).alias(out)).collect();
                *scope = mapping
                    .iter()
                    .map(|(out, inp)| {
                        let c = old.iter().find(|c| c.name == *inp).expect("invariant: analyzer resolved it");
                        Column { name: out.clone(), ty: c.ty, multi: c.multi }
                    })
                    .collect();
                b.project(exprs)
            }
            Step::Sort(keys) => {
                let b = b.expect("invariant: a source command comes first");
                let sorts = keys.iter().map(|k| self.sort_key(k)).collect::<Result<Vec<_>>>()?;
                b.sort(sorts)
            }
            Step::Limit(n) => {
                let b = b.expect("invariant: a source command comes first");
                b.limit(0, Some(*n))
            }
            Step::MvExpand(name) => {
                let b = b.expect("invariant: a source command comes first");
                let c = scope.iter_mut().find(|c| c.name == *name).expect("invariant: analyzer resolved it");
                if !c.multi {
                    return Ok(b);
                }
                c.multi = false;
                let order: Vec<Expr> = scope.iter().map(|c| column(&c.name)).collect();
                b.unnest_column_with_options(DfColumn::from_name(name), UnnestOptions::default())?.project(order)
            }
            Step::Enrich { index, match_field, on, fields } => {
                let b = b.expect("invariant: a source command comes first");
                let table = LogicalPlanBuilder::scan("__enrich", provider_as_source(index.table()), None)?;
                let mut right = vec![
                    self.to_keyword(column_q("__enrich", match_field), index_type(index, match_field)).alias("__ek"),
                ];
                for (k, (src, _)) in fields.iter().enumerate() {
                    right.push(column_q("__enrich", src).alias(format!("__ef{k}")));
                }
                // Several source documents with one key merge into multi-values, as in Elastic.
                let values = crate::functions::aggregate("values").expect("invariant: VALUES is registered");
                let sink = WarningSink::discard();
                let mut merged = Vec::new();
                for (k, (_, c)) in fields.iter().enumerate() {
                    let resolved = Resolved { ty: c.ty, multi: true, casts: Vec::new() };
                    let agg = (values.plan)(AggPlanArgs {
                        args: vec![column(&format!("__ef{k}"))],
                        types: vec![c.ty],
                        multi: vec![index_multi(index, &fields[k].0)],
                        literals: vec![None],
                        resolved: &resolved,
                        filter: None,
                        sink: &sink,
                    })?;
                    merged.push(agg.alias(format!("__ef{k}")));
                }
                let right = table.project(right)?.aggregate(vec![column("__ek")], merged)?.build()?;
                let on_key = self.to_keyword(self.single(on)?, on.ty).alias("__eon");
                let mut left: Vec<Expr> = scope.iter().map(|c| column(&c.name)).collect();
                left.push(on_key);
                let b = with_row_number(b.project(left)?)?;
                let joined = b.join_detailed(
                    right,
                    datafusion::common::JoinType::Left,
                    (vec![DfColumn::from_name("__eon")], vec![DfColumn::from_name("__ek")]),
                    None,
                    datafusion::common::NullEquality::NullEqualsNothing,
                )?;
                let joined = joined.sort(vec![column("__rn").sort(true, false)])?;
                let outs: Vec<&str> = fields.iter().map(|(_, c)| c.name.as_str()).collect();
                let mut exprs: Vec<Expr> =
                    scope.iter().filter(|c| !outs.contains(&c.name.as_str())).map(|c| column(&c.name)).collect();
                scope.retain(|c| !outs.contains(&c.name.as_str()));
                for (k, (_, c)) in fields.iter().enumerate() {
                    exprs.push(column(&format!("__ef{k}")).alias(&c.name));
                    scope.push(c.clone());
                }
                joined.project(exprs)
            }
            Step::LookupJoin { index, on, added } => {
                let b = b.expect("invariant: a source command comes first");
                let table = LogicalPlanBuilder::scan("__lookup", provider_as_source(index.table()), None)?;
                let mut right = Vec::new();
                for (k, key) in on.iter().enumerate() {
                    let left_ty = scope.iter().find(|c| c.name == *key).map(|c| c.ty).unwrap_or(EsType::Null);
                    let e = column_q("__lookup", key);
                    let e = if left_ty.is_numeric() { datafusion::logical_expr::cast(e, DataType::Float64) } else { e };
                    right.push(e.alias(format!("__rk{k}")));
                }
                for (k, c) in added.iter().enumerate() {
                    right.push(column_q("__lookup", &c.name).alias(format!("__ra{k}")));
                }
                let right = table.project(right)?.build()?;
                let mut left: Vec<Expr> = scope.iter().map(|c| column(&c.name)).collect();
                for (k, key) in on.iter().enumerate() {
                    let c = scope.iter().find(|c| c.name == *key).expect("invariant: analyzer resolved the key");
                    let e = if c.multi {
                        kernels::mv_single_expr(column(key), c.ty, &WarningSink::discard())
                    } else {
                        column(key)
                    };
                    let e = if c.ty.is_numeric() { datafusion::logical_expr::cast(e, DataType::Float64) } else { e };
                    left.push(e.alias(format!("__lk{k}")));
                }
                let b = with_row_number(b.project(left)?)?;
                let lk: Vec<DfColumn> = (0..on.len()).map(|k| DfColumn::from_name(format!("__lk{k}"))).collect();
                let rk: Vec<DfColumn> = (0..on.len()).map(|k| DfColumn::from_name(format!("__rk{k}"))).collect();
                let joined = b
                    .join_detailed(
                        right,
                        datafusion::common::JoinType::Left,
                        (lk, rk),
                        None,
                        datafusion::common::NullEquality::NullEqualsNothing,
                    )?
                    .sort(vec![column("__rn").sort(true, false)])?;
                let names: Vec<&str> = added.iter().map(|c| c.name.as_str()).collect();
                let mut exprs: Vec<Expr> =
                    scope.iter().filter(|c| !names.contains(&c.name.as_str())).map(|c| column(&c.name)).collect();
                scope.retain(|c| !names.contains(&c.name.as_str()));
                for (k, c) in added.iter().enumerate() {
                    exprs.push(column(&format!("__ra{k}")).alias(&c.name));
                    scope.push(c.clone());
                }
                joined.project(exprs)
            }
            Step::Extract { input, pattern } => {
                let b = b.expect("invariant: a source command comes first");
                let e = crate::extract::extract_expr(pattern.clone(), self.single(input)?, &self.sink(input.span));
                let outputs = pattern.outputs();
                let mut exprs: Vec<Expr> = scope
                    .iter()
                    .filter(|c| !outputs.iter().any(|(n, _, _)| *n == c.name))
                    .map(|c| column(&c.name))
                    .collect();
                exprs.push(e.alias("__extract"));
                let b = b.project(exprs)?;
                scope.retain(|c| !outputs.iter().any(|(n, _, _)| *n == c.name));
                let mut exprs: Vec<Expr> = scope.iter().map(|c| column(&c.name)).collect();
                for (n, ty, multi) in outputs {
                    exprs.push(
                        datafusion::functions::core::expr_fn::get_field(column("__extract"), n.as_str()).alias(&n),
                    );
                    scope.push(Column { name: n, ty, multi });
                }
                b.project(exprs)
            }
        }
    }

    fn stats(
        &self,
        b: LogicalPlanBuilder,
        inline: bool,
        aggs: &[TAgg],
        groups: &[(String, TExpr)],
        outputs: &[StatsOutput],
        scope: &mut Vec<Column>,
    ) -> Result<LogicalPlanBuilder> {
        // 1. materialise group keys as `__g{i}`, expanding multi-valued keys to one row per value.
        let mut pre: Vec<Expr> = scope.iter().map(|c| column(&c.name)).collect();
        for (i, (_, g)) in groups.iter().enumerate() {
            pre.push(self.expr(g)?.alias(format!("__g{i}")));
        }
        let mut input = b.project(pre)?;
        for (i, (_, g)) in groups.iter().enumerate() {
            if g.multi {
                input = input
                    .unnest_column_with_options(DfColumn::from_name(format!("__g{i}")), UnnestOptions::default())?;
            }
        }
        let input = input.build()?;
        // 2. aggregate.
        let group_exprs: Vec<Expr> = (0..groups.len()).map(|i| column(&format!("__g{i}"))).collect();
        let mut agg_exprs = Vec::new();
        for (j, a) in aggs.iter().enumerate() {
            agg_exprs.push(self.agg(a)?.alias(format!("__agg{j}")));
        }
        let b = LogicalPlanBuilder::from(input.clone()).aggregate(group_exprs, agg_exprs)?;
        // 3. name the groups, then compute the outputs.
        let mut named: Vec<Expr> = (0..aggs.len()).map(|j| column(&format!("__agg{j}"))).collect();
        for (i, (n, _)) in groups.iter().enumerate() {
            named.push(column(&format!("__g{i}")).alias(n));
        }
        let b = b.project(named)?;
        let mut out = Vec::new();
        let mut cols = Vec::new();
        for (k, o) in outputs.iter().enumerate() {
            let name = if inline { format!("__o{k}") } else { o.name.clone() };
            out.push(self.expr(&o.expr)?.alias(name));
            cols.push(Column { name: o.name.clone(), ty: o.expr.ty, multi: o.expr.multi });
        }
        for (i, (n, g)) in groups.iter().enumerate() {
            out.push(if inline { column(n).alias(format!("__k{i}")) } else { column(n) });
            cols.push(Column { name: n.clone(), ty: g.ty, multi: false });
        }
        let aggregated = b.project(out)?;
        if !inline {
            *scope = cols;
            return Ok(aggregated);
        }
        // INLINE STATS: every input row gets its group's aggregates.
        let joined = if groups.is_empty() {
            LogicalPlanBuilder::from(input).cross_join(aggregated.build()?)?
        } else {
            let left: Vec<DfColumn> = (0..groups.len()).map(|i| DfColumn::from_name(format!("__g{i}"))).collect();
            let right: Vec<DfColumn> = (0..groups.len()).map(|i| DfColumn::from_name(format!("__k{i}"))).collect();
            LogicalPlanBuilder::from(input).join_detailed(
                aggregated.build()?,
                datafusion::common::JoinType::Inner,
                (left, right),
                None,
                datafusion::common::NullEquality::NullEqualsNull,
            )?
        };
        let new_names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        let mut exprs: Vec<Expr> =
            scope.iter().filter(|c| !new_names.contains(&c.name.as_str())).map(|c| column(&c.name)).collect();
        let mut kept: Vec<Column> = scope.iter().filter(|c| !new_names.contains(&c.name.as_str())).cloned().collect();
        for (k, o) in outputs.iter().enumerate() {
            exprs.push(column(&format!("__o{k}")).alias(&o.name));
        }
        for (i, (n, _)) in groups.iter().enumerate() {
            exprs.push(column(&format!("__g{i}")).alias(n));
        }
        kept.extend(cols);
        *scope = kept;
        joined.project(exprs)
    }

    fn agg(&self, a: &TAgg) -> Result<Expr> {
        let sink = self.sink(a.span);
        let args = a.args.iter().map(|t| self.expr(t)).collect::<Result<Vec<_>>>()?;
        let filter = match &a.filter {
            Some(f) => Some(self.single(f)?),
            None => None,
        };
        let resolved = Resolved { ty: a.ty, multi: a.multi, casts: Vec::new() };
        (a.func.plan)(AggPlanArgs {
            args,
            types: a.args.iter().map(|t| t.ty).collect(),
            multi: a.args.iter().map(|t| t.multi).collect(),
            literals: a
                .args
                .iter()
                .map(|t| match &t.kind {
                    TExprKind::Literal(l) => Some(l),
                    _ => None,
                })
                .collect(),
            resolved: &resolved,
            filter,
            sink: &sink,
        })
    }

    fn sort_key(&self, k: &TSortKey) -> Result<SortExpr> {
        let mut e = self.expr(&k.expr)?;
        if k.expr.multi {
            // Elastic sorts multi-valued fields by their smallest value ascending, largest
            // descending.
            e = match k.order {
                SortOrder::Asc => kernels::mv_min_expr(e, k.expr.ty),
                SortOrder::Desc => kernels::mv_max_expr(e, k.expr.ty),
            };
        }
        Ok(e.sort(k.order == SortOrder::Asc, k.nulls == NullsOrder::First))
    }

    /// A value as keyword text, for matching enrich keys across types.
    fn to_keyword(&self, e: Expr, ty: EsType) -> Expr {
        if ty.is_string() {
            return e;
        }
        let def = crate::functions::scalar("to_string").expect("invariant: to_string is registered");
        let resolved = Resolved { ty: EsType::Keyword, multi: false, casts: Vec::new() };
        let sink = WarningSink::discard();
        (def.plan)(PlanArgs {
            args: vec![e],
            types: vec![ty],
            multi: vec![false],
            literals: vec![None],
            resolved: &resolved,
            sink: &sink,
            now_ms: self.now_ms,
        })
        .unwrap_or_else(|_| typed_null(EsType::Keyword, false))
    }

    fn to_list(&self, e: Expr, ty: EsType) -> Expr {
        kernels::to_list_expr(e, ty)
    }

    /// Plans an expression whose result must be single-valued (a predicate or sort key):
    /// a multi-valued result becomes null with a warning.
    pub fn single(&self, t: &TExpr) -> Result<Expr> {
        let e = self.expr(t)?;
        Ok(if t.multi { kernels::mv_single_expr(e, t.ty, &self.sink(t.span)) } else { e })
    }

    /// An argument of a single-value operation at `span`.
    fn single_arg(&self, t: &TExpr, span: Span) -> Result<Expr> {
        let e = self.expr(t)?;
        Ok(if t.multi { kernels::mv_single_expr(e, t.ty, &self.sink(span)) } else { e })
    }

    /// Plans a comparison, `IN` or `LIKE`, attributing multi-value failures to `span`.
    fn predicate(&self, t: &TExpr, span: Span) -> Result<Expr> {
        Ok(match &t.kind {
            TExprKind::Binary { op, left, right } => {
                let l = self.single_arg(left, span)?;
                let r = self.single_arg(right, span)?;
                match op {
                    BinaryOp::Eq => l.eq(r),
                    BinaryOp::NotEq => l.not_eq(r),
                    BinaryOp::Lt => l.lt(r),
                    BinaryOp::LtEq => l.lt_eq(r),
                    BinaryOp::Gt => l.gt(r),
                    BinaryOp::GtEq => l.gt_eq(r),
                    BinaryOp::And => l.and(r),
                    BinaryOp::Or => l.or(r),
                    other => {
                        return Err(datafusion::common::DataFusionError::Internal(format!(
                            "operator {} is planned as a function call",
                            other.symbol()
                        )));
                    }
                }
            }
            TExprKind::In { expr, list, negated } => {
                let e = self.single_arg(expr, span)?;
                let items = list.iter().map(|i| self.single_arg(i, span)).collect::<Result<Vec<_>>>()?;
                e.in_list(items, *negated)
            }
            TExprKind::Like { expr, patterns, negated, regex } => {
                let e = self.single_arg(expr, span)?;
                let pats = patterns.iter().map(|p| self.single_arg(p, span)).collect::<Result<Vec<_>>>()?;
                let constants: Vec<Option<String>> = patterns
                    .iter()
                    .map(|p| match &p.kind {
                        TExprKind::Literal(Literal::String(s)) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                let m = crate::functions::string::like::like_expr(e, pats, constants, *regex, &self.sink(span))?;
                if *negated { datafusion::logical_expr::not(m) } else { m }
            }
            _ => self.single_arg(t, span)?,
        })
    }

    /// Plans `a OR b OR ...`. Like Elastic's optimizer, equality tests and `IN` lists on one
    /// multi-valued column combine into one `IN`, whose failures name the column.
    fn disjunction(&self, operands: &[&TExpr]) -> Result<Expr> {
        fn target(t: &TExpr) -> Option<(String, &TExpr, Vec<TExpr>)> {
            match &t.kind {
                TExprKind::Binary { op: BinaryOp::Eq, left, right }
                    if left.multi
                        && matches!(left.kind, TExprKind::Column(_))
                        && matches!(right.kind, TExprKind::Literal(_)) =>
                {
                    let TExprKind::Column(c) = &left.kind else { return None };
                    Some((c.clone(), left.as_ref(), vec![right.as_ref().clone()]))
                }
                TExprKind::In { expr, list, negated: false }
                    if expr.multi
                        && matches!(expr.kind, TExprKind::Column(_))
                        && list.iter().all(|i| matches!(i.kind, TExprKind::Literal(_))) =>
                {
                    let TExprKind::Column(c) = &expr.kind else { return None };
                    Some((c.clone(), expr.as_ref(), list.clone()))
                }
                _ => None,
            }
        }
        let mut combined: Vec<(String, &TExpr, Vec<TExpr>)> = Vec::new();
        let mut rest: Vec<&TExpr> = Vec::new();
        for t in operands {
            match target(t) {
                Some((c, column, values)) => match combined.iter_mut().find(|(name, _, _)| *name == c) {
                    Some((_, _, v)) => v.extend(values),
                    None => combined.push((c, column, values)),
                },
                None => rest.push(t),
            }
        }
        let mut parts = Vec::new();
        for (_, column, values) in &combined {
            let e = self.single_arg(column, column.span)?;
            let items = values.iter().map(|v| self.expr(v)).collect::<Result<Vec<_>>>()?;
            parts.push(e.in_list(items, false));
        }
        for t in rest {
            parts.push(self.single_arg(t, t.span)?);
        }
        let mut it = parts.into_iter();
        let first = it.next().ok_or_else(|| datafusion::common::DataFusionError::Internal("empty OR".into()))?;
        Ok(it.fold(first, |acc, e| acc.or(e)))
    }

    /// Plans an expression.
    pub fn expr(&self, t: &TExpr) -> Result<Expr> {
        // Left-deep AND/OR chains: explicit stack.
        if let TExprKind::Binary { op: op @ (BinaryOp::And | BinaryOp::Or), .. } = &t.kind {
            let mut chain = Vec::new();
            let mut cur = t;
            while let TExprKind::Binary { op: o, left, right } = &cur.kind {
                if o != op {
                    break;
                }
                chain.push(right.as_ref());
                cur = left;
            }
            chain.push(cur);
            chain.reverse();
            if *op == BinaryOp::Or {
                return self.disjunction(&chain);
            }
            let mut acc: Option<Expr> = None;
            for r in chain {
                let r = self.single_arg(r, r.span)?;
                acc = Some(match acc {
                    Some(a) => a.and(r),
                    None => r,
                });
            }
            return Ok(acc.expect("invariant: a chain has at least two operands"));
        }
        Ok(match &t.kind {
            TExprKind::Literal(l) => lit(literal_to_scalar(l, t.ty)),
            TExprKind::Column(n) => column(n),
            TExprKind::Call { func, args } => {
                let sink = self.sink(t.span);
                let mut planned = Vec::with_capacity(args.len());
                for a in args {
                    let e = self.expr(a)?;
                    planned.push(if a.multi && !func.mv_args { kernels::mv_single_expr(e, a.ty, &sink) } else { e });
                }
                let resolved = Resolved { ty: t.ty, multi: t.multi, casts: Vec::new() };
                (func.plan)(PlanArgs {
                    args: planned,
                    types: args.iter().map(|a| a.ty).collect(),
                    multi: args.iter().map(|a| a.multi && func.mv_args).collect(),
                    literals: args
                        .iter()
                        .map(|a| match &a.kind {
                            TExprKind::Literal(l) => Some(l),
                            _ => None,
                        })
                        .collect(),
                    resolved: &resolved,
                    sink: &sink,
                    now_ms: self.now_ms,
                })?
            }
            TExprKind::Binary { .. } | TExprKind::In { .. } | TExprKind::Like { .. } => self.predicate(t, t.span)?,
            // Elastic pushes NOT into the comparison beneath it, whose failures then name the NOT.
            TExprKind::Not(e) => datafusion::logical_expr::not(match &e.kind {
                TExprKind::Binary { .. } | TExprKind::In { .. } | TExprKind::Like { .. } => {
                    self.predicate(e, t.span)?
                }
                _ => self.single_arg(e, t.span)?,
            }),
            TExprKind::IsNull { expr, negated } => {
                let e = self.expr(expr)?;
                if *negated { is_not_null(e) } else { is_null(e) }
            }
        })
    }
}

/// A column of a named scan.
fn column_q(table: &str, name: &str) -> Expr {
    Expr::Column(DfColumn::new(Some(TableReference::bare(table)), name))
}

/// The ES|QL type of an index field.
fn index_type(index: &Arc<dyn crate::catalog::Index>, name: &str) -> EsType {
    index.fields().iter().find(|f| f.name == name).map(|f| f.es_type).unwrap_or(EsType::Null)
}

/// Whether an index field is multi-valued.
fn index_multi(index: &Arc<dyn crate::catalog::Index>, name: &str) -> bool {
    index.fields().iter().find(|f| f.name == name).is_some_and(|f| f.multi)
}

/// Adds a `__rn` column numbering the rows in their current order.
fn with_row_number(b: LogicalPlanBuilder) -> Result<LogicalPlanBuilder> {
    let rn = datafusion::functions_window::expr_fn::row_number().alias("__rn");
    b.window(vec![rn])
}

/// A typed null of an ES|QL type.
pub fn typed_null(ty: EsType, multi: bool) -> Expr {
    let dt = ty.arrow_column(multi);
    lit(ScalarValue::try_from(&dt).unwrap_or(ScalarValue::Null))
}

/// The DataFusion constant for an ES|QL constant of type `ty`.
pub fn literal_to_scalar(l: &Literal, ty: EsType) -> ScalarValue {
    match l {
        Literal::Null => ScalarValue::try_from(&ty.arrow()).unwrap_or(ScalarValue::Null),
        Literal::Boolean(b) => ScalarValue::Boolean(Some(*b)),
        Literal::Integer(i) => ScalarValue::Int32(Some(*i)),
        Literal::Long(i) => ScalarValue::Int64(Some(*i)),
        Literal::UnsignedLong(u) => ScalarValue::UInt64(Some(*u)),
        Literal::Double(d) => ScalarValue::Float64(Some(*d)),
        Literal::String(s) => ScalarValue::Utf8(Some(s.clone())),
        Literal::Ip(b) => ScalarValue::FixedSizeBinary(16, Some(b.to_vec())),
        Literal::Version(v) => ScalarValue::Binary(Some(v.clone())),
        Literal::Date(ms) => ScalarValue::TimestampMillisecond(Some(*ms), None),
        Literal::DateNanos(ns) => ScalarValue::TimestampNanosecond(Some(*ns), None),
        Literal::Period { months, days } => ScalarValue::IntervalMonthDayNano(Some(
            datafusion::arrow::datatypes::IntervalMonthDayNano::new(*months, *days, 0),
        )),
        Literal::Duration(ms) => ScalarValue::DurationMillisecond(Some(*ms)),
        Literal::List(items) => {
            let values: Vec<ScalarValue> = items.iter().map(|i| literal_to_scalar(i, ty)).collect();
            let arr = ScalarValue::new_list_nullable(&values, &ty.arrow());
            ScalarValue::List(arr)
        }
    }
}

/// The Arrow field of a list item of an ES|QL type.
pub fn item_field(ty: EsType) -> Arc<Field> {
    Arc::new(Field::new("item", ty.arrow(), true))
}

/// Timestamp type helper.
pub fn millis_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

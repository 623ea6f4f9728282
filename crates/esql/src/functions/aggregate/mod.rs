//! Aggregate functions of `STATS`. Aggregates see every value of a multi-valued field: a
//! multi-valued input is reduced per row first (`COUNT` → value count, `MIN` → smallest, ...)
//! or collected value by value (`COUNT_DISTINCT`, `VALUES`).

use super::kernels;
use super::{AggDef, AggPlanArgs, ArgInfo, Resolved};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, ExprFunctionExt, Signature, Volatility, lit,
};
use std::collections::HashSet;
use std::sync::Arc;

/// Every aggregate function.
pub static ALL: &[&AggDef] = &[&COUNT, &COUNT_DISTINCT, &VALUES, &MIN, &MAX, &SUM, &AVG];

fn with_filter(e: Expr, filter: Option<Expr>) -> Result<Expr> {
    match filter {
        Some(f) => e.filter(f).build(),
        None => Ok(e),
    }
}

/// Per-row value counts of a (possibly multi-valued) expression.
fn mv_count_expr(e: Expr) -> Expr {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], _ctx: &EvalCtx| {
        Ok(kernels::i64_array(kernels::value_counts(&a[0]).into_iter().map(|c| Some(c as i64)).collect()))
    });
    udf::call("mv_count", DataType::Int64, &WarningSink::discard(), vec![e], kernel)
}

/// Per-row sum of a multi-valued numeric expression, in `ty`.
fn mv_sum_expr(e: Expr, ty: EsType) -> Expr {
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        let list = a[0].as_list::<i32>();
        let offs = list.value_offsets();
        let vals = list.values();
        if ty == EsType::Double {
            let v = kernels::to_f64s(vals)?;
            Ok(kernels::f64_array(
                (0..list.len())
                    .map(|i| {
                        (list.is_valid(i)).then(|| v[offs[i] as usize..offs[i + 1] as usize].iter().flatten().sum())
                    })
                    .collect(),
            ))
        } else {
            let v = kernels::to_i64s(vals)?;
            Ok(kernels::i64_array(
                (0..list.len())
                    .map(|i| {
                        if !list.is_valid(i) {
                            return None;
                        }
                        let mut s: i64 = 0;
                        for x in v[offs[i] as usize..offs[i + 1] as usize].iter().flatten() {
                            match s.checked_add(*x) {
                                Some(n) => s = n,
                                None => {
                                    ctx.sink.null_because("java.lang.ArithmeticException: long overflow");
                                    return None;
                                }
                            }
                        }
                        Some(s)
                    })
                    .collect(),
            ))
        }
    });
    let out = if ty == EsType::Double { DataType::Float64 } else { DataType::Int64 };
    udf::call("mv_sum", out, &WarningSink::discard(), vec![e], kernel)
}

fn resolve_any(name: &str, args: &[ArgInfo], min: usize) -> Result<(), String> {
    super::expect_arity(name, args, min, 1)
}

/// `COUNT(*)`, `COUNT(field)`: rows, or values of the field (each value of a multi-value).
pub static COUNT: AggDef = AggDef {
    name: "count",
    resolve: |_call, args| {
        resolve_any("count", args, 0)?;
        Ok(Resolved::of(EsType::Long))
    },
    plan: |p: AggPlanArgs| {
        let e = match p.args.first() {
            None => agg::count(lit(1i64)),
            Some(a) if p.multi[0] => {
                datafusion::functions::expr_fn::coalesce(vec![agg::sum(mv_count_expr(a.clone())), lit(0i64)])
            }
            Some(a) => {
                if p.literals[0].is_some() && p.types[0] != EsType::Null {
                    // COUNT(constant) counts rows.
                    agg::count(lit(1i64))
                } else {
                    agg::count(a.clone())
                }
            }
        };
        match (&p.filter, e) {
            (Some(f), Expr::ScalarFunction(_)) => {
                // coalesce(sum(..)) — apply the filter to the inner aggregate.
                let a = p.args[0].clone();
                Ok(datafusion::functions::expr_fn::coalesce(vec![
                    agg::sum(mv_count_expr(a)).filter(f.clone()).build()?,
                    lit(0i64),
                ]))
            }
            (_, e) => with_filter(e, p.filter),
        }
    },
};

/// `MIN(field)`.
pub static MIN: AggDef = AggDef {
    name: "min",
    resolve: |call, args| resolve_minmax("min", call, args),
    plan: |p| {
        let a = p.args[0].clone();
        let a = if p.multi[0] { kernels::mv_min_expr(a, p.types[0]) } else { a };
        with_filter(agg::min(a), p.filter)
    },
};

/// `MAX(field)`.
pub static MAX: AggDef = AggDef {
    name: "max",
    resolve: |call, args| resolve_minmax("max", call, args),
    plan: |p| {
        let a = p.args[0].clone();
        let a = if p.multi[0] { kernels::mv_max_expr(a, p.types[0]) } else { a };
        with_filter(agg::max(a), p.filter)
    },
};

fn resolve_minmax(name: &str, call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    super::expect_arity(name, args, 1, 1)?;
    use EsType::*;
    super::expect_type(
        call,
        args,
        0,
        &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Ip, Version, Date, DateNanos],
        "boolean, date, ip, string, version or numeric except unsigned_long or counter types",
    )?;
    let ty = if args[0].ty == Null { Null } else { args[0].ty };
    Ok(Resolved::of(ty))
}

/// `SUM(field)`: long for whole numbers, double for doubles.
pub static SUM: AggDef = AggDef {
    name: "sum",
    resolve: |call, args| {
        super::expect_arity("sum", args, 1, 1)?;
        super::expect_type(
            call,
            args,
            0,
            &[EsType::Integer, EsType::Long, EsType::Double],
            "numeric except unsigned_long or counter types",
        )?;
        let ty = if args[0].ty == EsType::Double { EsType::Double } else { EsType::Long };
        Ok(Resolved { ty, multi: false, casts: vec![None] })
    },
    plan: |p| {
        let ty = p.resolved.ty;
        let a = p.args[0].clone();
        let a = if p.multi[0] { mv_sum_expr(a, ty) } else { datafusion::logical_expr::cast(a, ty.arrow()) };
        with_filter(agg::sum(a), p.filter)
    },
};

/// `AVG(field)`: a double.
pub static AVG: AggDef = AggDef {
    name: "avg",
    resolve: |call, args| {
        super::expect_arity("avg", args, 1, 1)?;
        super::expect_type(
            call,
            args,
            0,
            &[EsType::Integer, EsType::Long, EsType::Double],
            "numeric except unsigned_long or counter types",
        )?;
        Ok(Resolved::of(EsType::Double))
    },
    plan: |p| {
        let a = p.args[0].clone();
        if p.multi[0] {
            let s = with_filter(agg::sum(mv_sum_expr(a.clone(), EsType::Double)), p.filter.clone())?;
            let c = with_filter(agg::sum(mv_count_expr(a)), p.filter)?;
            return Ok(s / datafusion::logical_expr::cast(c, DataType::Float64));
        }
        with_filter(agg::avg(datafusion::logical_expr::cast(a, DataType::Float64)), p.filter)
    },
};

/// `COUNT_DISTINCT(field)`: exact distinct count (Elastic's HyperLogLog is exact below its
/// precision threshold, 3000 by default).
pub static COUNT_DISTINCT: AggDef = AggDef {
    name: "count_distinct",
    resolve: |_call, args| {
        super::expect_arity("count_distinct", args, 1, 2)?;
        Ok(Resolved::of(EsType::Long))
    },
    plan: |p| {
        let udaf = AggregateUDF::new_from_impl(Distinct::new(false, p.types[0]));
        with_filter(udaf.call(vec![p.args[0].clone()]), p.filter)
    },
};

/// `VALUES(field)`: every distinct value, as a multi-value sorted ascending.
pub static VALUES: AggDef = AggDef {
    name: "values",
    resolve: |_call, args| {
        super::expect_arity("values", args, 1, 1)?;
        Ok(Resolved { ty: args[0].ty, multi: true, casts: Vec::new() })
    },
    plan: |p| {
        let udaf = AggregateUDF::new_from_impl(Distinct::new(true, p.types[0]));
        with_filter(udaf.call(vec![p.args[0].clone()]), p.filter)
    },
};

/// A distinct-set aggregate: counts (`COUNT_DISTINCT`) or lists (`VALUES`) its values.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Distinct {
    values: bool,
    ty: EsType,
    signature: Signature,
}

impl Distinct {
    fn new(values: bool, ty: EsType) -> Distinct {
        Distinct { values, ty, signature: Signature::any(1, Volatility::Immutable) }
    }
}

impl AggregateUDFImpl for Distinct {
    fn name(&self) -> &str {
        if self.values { "values" } else { "count_distinct" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.values { self.ty.arrow_column(true) } else { DataType::Int64 })
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(DistinctAcc { values: self.values, ty: self.ty, set: HashSet::new() }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}_set", args.name), self.ty.arrow_column(true), true))])
    }
}

#[derive(Debug)]
struct DistinctAcc {
    values: bool,
    ty: EsType,
    set: HashSet<ScalarValue>,
}

impl DistinctAcc {
    fn add_array(&mut self, a: &ArrayRef) -> Result<()> {
        if let Some(list) = a.as_list_opt::<i32>() {
            let offs = list.value_offsets();
            let vals = list.values();
            for i in 0..list.len() {
                if list.is_valid(i) {
                    for j in offs[i] as usize..offs[i + 1] as usize {
                        if vals.is_valid(j) {
                            self.set.insert(ScalarValue::try_from_array(vals, j)?);
                        }
                    }
                }
            }
        } else if a.data_type() != &DataType::Null {
            for i in 0..a.len() {
                if a.is_valid(i) {
                    self.set.insert(ScalarValue::try_from_array(a, i)?);
                }
            }
        }
        Ok(())
    }

    fn sorted(&self) -> Vec<ScalarValue> {
        let mut v: Vec<ScalarValue> = self.set.iter().cloned().collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        v
    }
}

impl Accumulator for DistinctAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add_array(&values[0])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if !self.values {
            return Ok(ScalarValue::Int64(Some(self.set.len() as i64)));
        }
        if self.set.is_empty() {
            return ScalarValue::try_from(&self.ty.arrow_column(true));
        }
        Ok(ScalarValue::List(ScalarValue::new_list_nullable(&self.sorted(), &self.ty.arrow())))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.set.iter().map(|v| v.size()).sum::<usize>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(&self.sorted(), &self.ty.arrow()))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.add_array(&states[0])
    }
}

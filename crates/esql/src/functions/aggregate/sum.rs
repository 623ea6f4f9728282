//! `SUM(number)`: long for integer and long input (null with a `long overflow` warning when the
//! sum does not fit), double for doubles (compensated summation, as Elastic). Every value of a
//! multi-value is added. `SUM(constant)` is `MV_SUM(constant) * COUNT(*)`, as Elastic rewrites it.

use super::{
    AccFactory, EsAgg, Flat, FreshGroups, GroupsFactory, Kahan, bools, const_arg, constant, f64_values, i64_values,
    internal, null_of, passes,
};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, expect_type};
use crate::types::EsType;
use crate::warnings::WarningSink;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, EmitTo, Expr, GroupsAccumulator, lit};
use std::sync::Arc;

/// `SUM`.
pub static DEF: AggDef = AggDef { name: "sum", resolve, plan };

/// The numeric types of `SUM`, `AVG` and the other arithmetic aggregates.
pub(crate) const NUMBERS: &[EsType] = &[EsType::Integer, EsType::Long, EsType::Double];

/// How Elastic describes [`NUMBERS`] in messages.
pub(crate) const NUMBERS_DESCRIBED: &str = "numeric except unsigned_long or counter types";

/// Elastic's exception text for a long sum that does not fit.
pub(crate) const LONG_OVERFLOW: &str = "java.lang.ArithmeticException: long overflow";

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("sum", args, 1, 1)?;
    expect_type(call, args, 0, NUMBERS, NUMBERS_DESCRIBED)?;
    let ty = match args[0].ty {
        EsType::Double => EsType::Double,
        EsType::Null => EsType::Null,
        _ => EsType::Long,
    };
    Ok(Resolved::of(ty))
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    if ty == EsType::Null {
        return constant("sum", ScalarValue::Null, p.filter);
    }
    if let Some(c) = const_arg(&p, 0)? {
        return sum_const(&c, ty, p.sink, p.filter);
    }
    sum_expr(p.args[0].clone(), ty, p.sink, p.filter)
}

/// The sum of every value of `e`, as a long (`ty` long) or a double.
pub(crate) fn sum_expr(e: Expr, ty: EsType, sink: &WarningSink, filter: Option<Expr>) -> Result<Expr> {
    if ty == EsType::Double {
        let factory: AccFactory = Arc::new(|| Box::new(SumDouble::default()));
        let sink = sink.clone();
        let groups: GroupsFactory = Arc::new(move || Box::new(KahanGroups::new(KahanResult::Sum, sink.clone())));
        return EsAgg::new(
            "sum",
            DataType::Float64,
            vec![DataType::Float64, DataType::Float64, DataType::Int64],
            factory,
        )
        .with_groups(groups)
        .call(vec![e], filter);
    }
    let (s1, s2) = (sink.clone(), sink.clone());
    let factory: AccFactory = Arc::new(move || Box::new(SumLong::new(s1.clone())));
    let groups: GroupsFactory = Arc::new(move || Box::new(SumLongGroups::new(s2.clone())));
    EsAgg::new("sum", DataType::Int64, vec![DataType::Int64, DataType::Boolean, DataType::Boolean], factory)
        .with_groups(groups)
        .call(vec![e], filter)
}

/// `MV_SUM(c) * COUNT(*)`.
fn sum_const(c: &ScalarValue, ty: EsType, sink: &WarningSink, filter: Option<Expr>) -> Result<Expr> {
    let flat = Flat::new(&c.to_array_of_size(1)?);
    if flat.all().next().is_none() {
        return constant("sum", null_of(ty)?, filter);
    }
    let per_row = if ty == EsType::Double {
        let v = f64_values(flat.values())?;
        let mut k = Kahan::default();
        flat.all().for_each(|j| k.add(v[j]));
        PerRow::Double(k.value)
    } else {
        let v = i64_values(flat.values())?;
        match flat.all().try_fold(0i64, |s, j| s.checked_add(v[j])) {
            Some(s) => PerRow::Long(s),
            None => PerRow::Overflow,
        }
    };
    let sink = sink.clone();
    let factory: AccFactory = Arc::new(move || Box::new(SumConst { per_row, rows: 0, sink: sink.clone() }));
    EsAgg::new("sum", ty.arrow(), vec![DataType::Int64], factory).call(vec![lit(true)], filter)
}

/// The per-row sum of a constant.
#[derive(Debug, Clone, Copy)]
enum PerRow {
    Long(i64),
    Double(f64),
    Overflow,
}

/// Counts rows, then multiplies the constant's sum by the count.
#[derive(Debug)]
struct SumConst {
    per_row: PerRow,
    rows: i64,
    sink: WarningSink,
}

impl Accumulator for SumConst {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.rows += values.first().map_or(0, |a| a.len()) as i64;
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(match self.per_row {
            PerRow::Double(v) => ScalarValue::Float64(Some(v * self.rows as f64)),
            PerRow::Long(v) => match v.checked_mul(self.rows) {
                Some(s) => ScalarValue::Int64(Some(s)),
                None => {
                    self.sink.null_because(LONG_OVERFLOW);
                    ScalarValue::Int64(None)
                }
            },
            PerRow::Overflow => {
                self.sink.null_because(LONG_OVERFLOW);
                ScalarValue::Int64(None)
            }
        })
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.rows))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(s) = states.first().and_then(|s| s.as_primitive_opt::<Int64Type>()) {
            self.rows += s.iter().flatten().sum::<i64>();
        }
        Ok(())
    }
}

/// Compensated sum of doubles; null without values.
#[derive(Debug, Default)]
pub(crate) struct SumDouble {
    sum: Kahan,
    count: i64,
}

impl Accumulator for SumDouble {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(a) = values.first() else { return Ok(()) };
        let flat = Flat::new(a);
        let v = f64_values(flat.values())?;
        for j in flat.all() {
            self.sum.add(v[j]);
            self.count += 1;
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64((self.count > 0).then_some(self.sum.value)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Float64(Some(self.sum.value)),
            ScalarValue::Float64(Some(self.sum.delta)),
            ScalarValue::Int64(Some(self.count)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (Some(v), Some(d), Some(c)) = (states.first(), states.get(1), states.get(2)) else {
            return Err(internal("sum state"));
        };
        let (v, d, c) =
            (v.as_primitive::<Float64Type>(), d.as_primitive::<Float64Type>(), c.as_primitive::<Int64Type>());
        for i in 0..v.len() {
            if c.is_valid(i) && c.value(i) > 0 {
                self.sum.add_with_delta(v.value(i), d.value(i));
                self.count += c.value(i);
            }
        }
        Ok(())
    }
}

/// What a [`KahanGroups`] computes from its sums and counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum KahanResult {
    /// The sum (null without values).
    Sum,
    /// The mean (null without values, null with a warning when not finite).
    Avg,
}

/// Compensated sums and value counts of every group (`SUM` of doubles, `AVG`).
#[derive(Debug)]
pub(crate) struct KahanGroups {
    result: KahanResult,
    sums: Vec<Kahan>,
    counts: Vec<i64>,
    sink: WarningSink,
}

impl KahanGroups {
    pub(crate) fn new(result: KahanResult, sink: WarningSink) -> KahanGroups {
        KahanGroups { result, sums: Vec::new(), counts: Vec::new(), sink }
    }

    fn resize(&mut self, n: usize) {
        self.sums.resize(n, Kahan::default());
        self.counts.resize(n, 0);
    }
}

impl FreshGroups for KahanGroups {
    fn fresh(&self) -> Result<Self> {
        Ok(KahanGroups::new(self.result, self.sink.clone()))
    }
}

impl GroupsAccumulator for KahanGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let Some(a) = values.first() else { return Err(internal("sum input")) };
        let flat = Flat::new(a);
        let v = f64_values(flat.values())?;
        for (i, &g) in group_indices.iter().enumerate() {
            if !passes(opt_filter, i) {
                continue;
            }
            for j in flat.row(i) {
                self.sums[g].add(v[j]);
                self.counts[g] += 1;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let sums = emit_to.take_needed(&mut self.sums);
        let counts = emit_to.take_needed(&mut self.counts);
        let out: Float64Array = sums
            .iter()
            .zip(&counts)
            .map(|(s, &c)| match (c > 0, self.result) {
                (false, _) => None,
                (true, KahanResult::Sum) => Some(s.value),
                (true, KahanResult::Avg) => match super::avg::finite(s.value / c as f64, &self.sink) {
                    ScalarValue::Float64(v) => v,
                    _ => None,
                },
            })
            .collect();
        Ok(Arc::new(out))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let sums = emit_to.take_needed(&mut self.sums);
        let counts = emit_to.take_needed(&mut self.counts);
        Ok(vec![
            Arc::new(Float64Array::from_iter_values(sums.iter().map(|s| s.value))),
            Arc::new(Float64Array::from_iter_values(sums.iter().map(|s| s.delta))),
            Arc::new(Int64Array::from(counts)),
        ])
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.resize(total_num_groups);
        let (Some(v), Some(d), Some(c)) = (values.first(), values.get(1), values.get(2)) else {
            return Err(internal("sum state"));
        };
        let (v, d, c) =
            (v.as_primitive::<Float64Type>(), d.as_primitive::<Float64Type>(), c.as_primitive::<Int64Type>());
        for (i, &g) in group_indices.iter().enumerate() {
            if c.is_valid(i) && c.value(i) > 0 {
                self.sums[g].add_with_delta(v.value(i), d.value(i));
                self.counts[g] += c.value(i);
            }
        }
        Ok(())
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        self.rows_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.sums.capacity() * 16 + self.counts.capacity() * 8
    }
}

/// Exact long sums of every group, with overflow tracking.
#[derive(Debug)]
pub(crate) struct SumLongGroups {
    sums: Vec<i64>,
    seen: Vec<bool>,
    failed: Vec<bool>,
    sink: WarningSink,
}

impl SumLongGroups {
    pub(crate) fn new(sink: WarningSink) -> SumLongGroups {
        SumLongGroups { sums: Vec::new(), seen: Vec::new(), failed: Vec::new(), sink }
    }

    fn resize(&mut self, n: usize) {
        self.sums.resize(n, 0);
        self.seen.resize(n, false);
        self.failed.resize(n, false);
    }

    fn add(&mut self, g: usize, v: i64) {
        self.seen[g] = true;
        if !self.failed[g] {
            match self.sums[g].checked_add(v) {
                Some(s) => self.sums[g] = s,
                None => self.failed[g] = true,
            }
        }
    }
}

impl FreshGroups for SumLongGroups {
    fn fresh(&self) -> Result<Self> {
        Ok(SumLongGroups::new(self.sink.clone()))
    }
}

impl GroupsAccumulator for SumLongGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let Some(a) = values.first() else { return Err(internal("sum input")) };
        let flat = Flat::new(a);
        let v = i64_values(flat.values())?;
        for (i, &g) in group_indices.iter().enumerate() {
            if !passes(opt_filter, i) {
                continue;
            }
            for j in flat.row(i) {
                self.add(g, v[j]);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let sums = emit_to.take_needed(&mut self.sums);
        let seen = emit_to.take_needed(&mut self.seen);
        let failed = emit_to.take_needed(&mut self.failed);
        let mut out = Vec::with_capacity(sums.len());
        for ((s, seen), failed) in sums.into_iter().zip(seen).zip(failed) {
            if failed {
                self.sink.null_because(LONG_OVERFLOW);
                out.push(None);
            } else {
                out.push(seen.then_some(s));
            }
        }
        Ok(Arc::new(Int64Array::from(out)))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let sums = emit_to.take_needed(&mut self.sums);
        let seen = emit_to.take_needed(&mut self.seen);
        let failed = emit_to.take_needed(&mut self.failed);
        Ok(vec![
            Arc::new(Int64Array::from(sums)),
            Arc::new(BooleanArray::from(seen)),
            Arc::new(BooleanArray::from(failed)),
        ])
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.resize(total_num_groups);
        let (Some(v), Some(s), Some(f)) = (values.first(), values.get(1), values.get(2)) else {
            return Err(internal("sum state"));
        };
        let (v, s, f) = (v.as_primitive::<Int64Type>(), bools(s)?, bools(f)?);
        for (i, &g) in group_indices.iter().enumerate() {
            if f.is_valid(i) && f.value(i) {
                self.seen[g] = true;
                self.failed[g] = true;
            } else if s.is_valid(i) && s.value(i) {
                self.add(g, v.value(i));
            }
        }
        Ok(())
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        self.rows_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.sums.capacity() * 10
    }
}

/// Exact sum of integers and longs; null without values, null with a warning on overflow.
#[derive(Debug)]
pub(crate) struct SumLong {
    sum: i64,
    seen: bool,
    failed: bool,
    sink: WarningSink,
}

impl SumLong {
    pub(crate) fn new(sink: WarningSink) -> SumLong {
        SumLong { sum: 0, seen: false, failed: false, sink }
    }

    fn add(&mut self, v: i64) {
        self.seen = true;
        if self.failed {
            return;
        }
        match self.sum.checked_add(v) {
            Some(s) => self.sum = s,
            None => self.failed = true,
        }
    }
}

impl Accumulator for SumLong {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(a) = values.first() else { return Ok(()) };
        let flat = Flat::new(a);
        let v = i64_values(flat.values())?;
        for j in flat.all() {
            self.add(v[j]);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.failed {
            self.sink.null_because(LONG_OVERFLOW);
            return Ok(ScalarValue::Int64(None));
        }
        Ok(ScalarValue::Int64(self.seen.then_some(self.sum)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Int64(Some(self.sum)),
            ScalarValue::Boolean(Some(self.seen)),
            ScalarValue::Boolean(Some(self.failed)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (Some(v), Some(s), Some(f)) = (states.first(), states.get(1), states.get(2)) else {
            return Err(internal("sum state"));
        };
        let (v, s, f) = (v.as_primitive::<Int64Type>(), bools(s)?, bools(f)?);
        for i in 0..v.len() {
            if f.is_valid(i) && f.value(i) {
                self.failed = true;
                self.seen = true;
            } else if s.is_valid(i) && s.value(i) {
                self.add(v.value(i));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;
    use crate::warnings::Warnings;
    use datafusion::arrow::array::{Float64Array, Int64Array};

    #[test]
    fn long_sum_overflows_to_null_with_warning() {
        let w = Warnings::new();
        let sink = WarningSink::new(w.clone(), 1, 7, "SUM(x)");
        let mut s = SumLong::new(sink);
        s.update_batch(&[Arc::new(Int64Array::from(vec![Some(i64::MAX), None, Some(1)])) as ArrayRef]).unwrap();
        assert_eq!(s.evaluate().unwrap(), ScalarValue::Int64(None));
        let m = w.messages();
        assert_eq!(m.len(), 2);
        assert!(m[1].ends_with("java.lang.ArithmeticException: long overflow"), "{m:?}");
    }

    #[test]
    fn long_sum_of_multi_values() {
        let mut s = SumLong::new(WarningSink::discard());
        assert_eq!(s.evaluate().unwrap(), ScalarValue::Int64(None));
        s.update_batch(&[int_lists(&[Some(&[1, 2]), None, Some(&[3])])]).unwrap();
        let mut st = s.state().unwrap();
        assert_eq!(s.evaluate().unwrap(), ScalarValue::Int64(Some(6)));
        let mut t = SumLong::new(WarningSink::discard());
        let arrays: Vec<ArrayRef> = st.drain(..).map(|v| v.to_array().unwrap()).collect();
        t.merge_batch(&arrays).unwrap();
        t.merge_batch(&arrays).unwrap();
        assert_eq!(t.evaluate().unwrap(), ScalarValue::Int64(Some(12)));
    }

    #[test]
    fn double_sum_is_compensated() {
        let mut s = SumDouble::default();
        s.update_batch(&[Arc::new(Float64Array::from(vec![0.1; 10])) as ArrayRef]).unwrap();
        assert_eq!(s.evaluate().unwrap(), ScalarValue::Float64(Some(1.0)));
    }

    #[test]
    fn groups_sum_longs_with_filter_and_overflow() {
        let w = Warnings::new();
        let mut g = SumLongGroups::new(WarningSink::new(w.clone(), 1, 1, "SUM(x)"));
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(i64::MAX), Some(2), None, Some(5)]));
        let filter = BooleanArray::from(vec![true, true, true, true, false]);
        g.update_batch(&[a], &[0, 1, 0, 2, 0], Some(&filter), 3).unwrap();
        let b: ArrayRef = Arc::new(Int64Array::from(vec![Some(1)]));
        g.update_batch(&[b], &[1], None, 3).unwrap();
        let st = g.state(EmitTo::All).unwrap();
        let mut m = SumLongGroups::new(WarningSink::new(w.clone(), 1, 1, "SUM(x)"));
        m.merge_batch(&st, &[0, 1, 2], 3).unwrap();
        let out = m.evaluate(EmitTo::All).unwrap();
        assert_eq!(out.as_primitive::<Int64Type>(), &Int64Array::from(vec![Some(3), None, None]));
        assert_eq!(w.messages().len(), 2);
        let rows = m.convert_to_state(&[Arc::new(Int64Array::from(vec![4, 5])) as ArrayRef], None).unwrap();
        assert_eq!(rows[0].len(), 2);
    }

    #[test]
    fn groups_kahan_sum_and_avg() {
        let mut g = KahanGroups::new(KahanResult::Avg, WarningSink::discard());
        let a: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 4.0]));
        g.update_batch(&[a], &[0, 0, 2], None, 3).unwrap();
        let out = g.evaluate(EmitTo::First(2)).unwrap();
        assert_eq!(out.as_primitive::<Float64Type>(), &Float64Array::from(vec![Some(1.5), None]));
        let out = g.evaluate(EmitTo::All).unwrap();
        assert_eq!(out.as_primitive::<Float64Type>(), &Float64Array::from(vec![Some(4.0)]));
    }

    #[test]
    fn resolve_types() {
        let a = |ty| ArgInfo { ty, multi: false, literal: None, text: "x" };
        assert_eq!(resolve("sum(x)", &[a(EsType::Integer)]).unwrap().ty, EsType::Long);
        assert_eq!(resolve("sum(x)", &[a(EsType::Double)]).unwrap().ty, EsType::Double);
        assert_eq!(resolve("sum(x)", &[a(EsType::Null)]).unwrap().ty, EsType::Null);
        assert_eq!(
            resolve("sum(x)", &[a(EsType::Keyword)]).unwrap_err(),
            "argument of [sum(x)] must be [numeric except unsigned_long or counter types], found value [x] type [keyword]"
        );
    }
}

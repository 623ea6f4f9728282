//! `COUNT([field])`: the number of rows (`COUNT()`, `COUNT(*)`), or the number of values of
//! `field`, where each value of a multi-value counts (`COUNT([1, 2, 3])` counts 3 per row).

use super::{AccFactory, EsAgg, Flat, FreshGroups, GroupsFactory, internal, passes, with_filter};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity};
use crate::types::EsType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Accumulator, EmitTo, Expr, GroupsAccumulator, lit};
use std::sync::Arc;

/// `COUNT`.
pub static DEF: AggDef = AggDef { name: "count", resolve, plan };

fn resolve(_call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("count", args, 0, 1)?;
    Ok(Resolved::of(EsType::Long))
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    let Some(a) = p.args.first() else {
        return with_filter(agg::count(lit(1i64)), p.filter);
    };
    if p.multi[0] || p.types[0] == EsType::Null {
        return count_values(a.clone(), p.filter);
    }
    with_filter(agg::count(a.clone()), p.filter)
}

/// Counts every value of a possibly multi-valued expression.
pub(crate) fn count_values(e: Expr, filter: Option<Expr>) -> Result<Expr> {
    let factory: AccFactory = Arc::new(|| Box::new(CountValues::default()));
    let groups: GroupsFactory = Arc::new(|| Box::new(CountGroups::default()));
    EsAgg::new("count", DataType::Int64, vec![DataType::Int64], factory).with_groups(groups).call(vec![e], filter)
}

/// Counts values, each value of a multi-value separately.
#[derive(Debug, Default)]
pub(crate) struct CountValues(pub(crate) i64);

impl Accumulator for CountValues {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if let Some(a) = values.first() {
            self.0 += Flat::new(a).all().count() as i64;
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.0)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.0))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(s) = states.first().and_then(|s| s.as_primitive_opt::<Int64Type>()) {
            self.0 += s.iter().flatten().sum::<i64>();
        }
        Ok(())
    }
}

/// Value counts of every group.
#[derive(Debug, Default)]
pub(crate) struct CountGroups {
    counts: Vec<i64>,
}

impl FreshGroups for CountGroups {
    fn fresh(&self) -> Result<Self> {
        Ok(CountGroups::default())
    }
}

impl GroupsAccumulator for CountGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.counts.resize(total_num_groups, 0);
        let Some(a) = values.first() else { return Err(internal("count input")) };
        let flat = Flat::new(a);
        for (i, &g) in group_indices.iter().enumerate() {
            if passes(opt_filter, i) {
                self.counts[g] += flat.count(i) as i64;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(Arc::new(Int64Array::from(emit_to.take_needed(&mut self.counts))))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate(emit_to)?])
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.counts.resize(total_num_groups, 0);
        let c =
            values.first().and_then(|c| c.as_primitive_opt::<Int64Type>()).ok_or_else(|| internal("count state"))?;
        for (i, &g) in group_indices.iter().enumerate() {
            if c.is_valid(i) {
                self.counts[g] += c.value(i);
            }
        }
        Ok(())
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        self.rows_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.counts.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;
    use datafusion::arrow::array::NullArray;

    #[test]
    fn counts_every_value() {
        let mut c = CountValues::default();
        c.update_batch(&[int_lists(&[Some(&[1, 2]), None, Some(&[3])])]).unwrap();
        assert_eq!(c.evaluate().unwrap(), ScalarValue::Int64(Some(3)));
        c.update_batch(&[Arc::new(NullArray::new(4)) as ArrayRef]).unwrap();
        assert_eq!(c.evaluate().unwrap(), ScalarValue::Int64(Some(3)));
    }

    #[test]
    fn groups_count_values() {
        let mut g = CountGroups::default();
        g.update_batch(&[int_lists(&[Some(&[1, 2]), None, Some(&[3])])], &[1, 0, 1], None, 2).unwrap();
        let out = g.evaluate(EmitTo::All).unwrap();
        assert_eq!(out.as_primitive::<Int64Type>(), &Int64Array::from(vec![0, 3]));
    }

    #[test]
    fn resolves_to_long() {
        assert_eq!(resolve("count()", &[]).unwrap().ty, EsType::Long);
    }
}

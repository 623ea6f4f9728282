//! `VALUES(field)`: every distinct value of the group as a multi-value, in the order they were
//! first seen (Elastic's order; its documentation does not guarantee one).

use super::{AccFactory, EsAgg, Flat, FreshGroups, GroupVec, GroupsFactory, OneGroup, constant, internal, passes};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, kernels, type_error};
use crate::types::EsType;
use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{EmitTo, Expr, GroupsAccumulator};
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// `VALUES`.
pub static DEF: AggDef = AggDef { name: "values", resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("values", args, 1, 1)?;
    let ty = args[0].ty;
    if matches!(ty, EsType::UnsignedLong | EsType::Unsupported | EsType::DatePeriod | EsType::TimeDuration) {
        return Err(type_error(call, args, 0, "any type except unsigned_long and spatial types"));
    }
    Ok(match ty {
        EsType::Null => Resolved::of(EsType::Null),
        EsType::Text => Resolved { ty: EsType::Keyword, multi: true, casts: Vec::new() },
        _ => Resolved { ty, multi: true, casts: Vec::new() },
    })
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    if ty == EsType::Null {
        return constant("values", ScalarValue::Null, p.filter);
    }
    distinct_agg("values", ty, Distinct::Values, p.args[0].clone(), p.filter)
}

/// Plans `VALUES` or `COUNT_DISTINCT` of `e`, whose values have type `ty`.
pub(crate) fn distinct_agg(name: &str, ty: EsType, what: Distinct, e: Expr, filter: Option<Expr>) -> Result<Expr> {
    DistinctGroups::new(ty, what)?;
    let factory: AccFactory = Arc::new(move || match DistinctGroups::new(ty, what) {
        Ok(g) => Box::new(OneGroup::new(g)),
        Err(_) => Box::new(super::count::CountValues::default()),
    });
    let groups: GroupsFactory = Arc::new(move || match DistinctGroups::new(ty, what) {
        Ok(g) => Box::new(g),
        Err(_) => Box::new(super::count::CountGroups::default()),
    });
    let out = match what {
        Distinct::Values => ty.arrow_column(true),
        Distinct::Count => datafusion::arrow::datatypes::DataType::Int64,
    };
    EsAgg::new(name, out, vec![ty.arrow_column(true)], factory).with_groups(groups).call(vec![e], filter)
}

/// What a [`DistinctGroups`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Distinct {
    /// The distinct values, in first-seen order (`VALUES`).
    Values,
    /// Their number (`COUNT_DISTINCT`).
    Count,
}

/// The distinct values of one group, in first-seen order, in Arrow's row format.
#[derive(Debug, Default)]
struct DistinctSet {
    order: Vec<Arc<[u8]>>,
    /// Built once the group has more than [`LINEAR_LIMIT`] values; below that, a scan of
    /// `order` is faster than hashing (most groups of a `BY` hold a handful of values).
    set: Option<HashSet<Arc<[u8]>, foldhash::fast::RandomState>>,
}

/// Distinct values a group holds before it gets a hash set.
const LINEAR_LIMIT: usize = 16;

impl DistinctSet {
    fn add(&mut self, row: &[u8]) {
        match &mut self.set {
            Some(set) => {
                if !set.contains(row) {
                    let r: Arc<[u8]> = Arc::from(row);
                    set.insert(r.clone());
                    self.order.push(r);
                }
            }
            None => {
                if self.order.iter().any(|r| r.as_ref() == row) {
                    return;
                }
                self.order.push(Arc::from(row));
                if self.order.len() > LINEAR_LIMIT {
                    let mut set = HashSet::with_capacity_and_hasher(self.order.len() * 2, Default::default());
                    set.extend(self.order.iter().cloned());
                    self.set = Some(set);
                }
            }
        }
    }
}

/// The distinct values of every group.
pub(crate) struct DistinctGroups {
    ty: EsType,
    what: Distinct,
    converter: RowConverter,
    groups: Vec<DistinctSet>,
}

impl fmt::Debug for DistinctGroups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DistinctGroups({:?}, {} groups)", self.what, self.groups.len())
    }
}

impl DistinctGroups {
    pub(crate) fn new(ty: EsType, what: Distinct) -> Result<DistinctGroups> {
        let converter = RowConverter::new(vec![SortField::new(ty.arrow())])?;
        Ok(DistinctGroups { ty, what, converter, groups: Vec::new() })
    }

    fn add(&mut self, a: &ArrayRef, group_indices: &[usize], filter: Option<&BooleanArray>) -> Result<()> {
        let flat = Flat::new(a);
        let rows = self.converter.convert_columns(&[flat.values().clone()])?;
        for (i, &g) in group_indices.iter().enumerate() {
            if !passes(filter, i) {
                continue;
            }
            let Some(set) = self.groups.get_mut(g) else { return Err(internal("distinct group")) };
            for j in flat.row(i) {
                set.add(rows.row(j).as_ref());
            }
        }
        Ok(())
    }

    /// The values of the groups as a multi-valued array (null where a group has none).
    fn lists(&self, groups: &[DistinctSet]) -> Result<ArrayRef> {
        let parser = self.converter.parser();
        let mut offsets = Vec::with_capacity(groups.len() + 1);
        offsets.push(0i32);
        let mut n = 0usize;
        for g in groups {
            n += g.order.len();
            offsets.push(i32::try_from(n).map_err(|_| DataFusionError::Execution("too many values".into()))?);
        }
        let rows = groups.iter().flat_map(|g| g.order.iter().map(|r| parser.parse(r)));
        let values = self.converter.convert_rows(rows)?;
        let values = values.into_iter().next().ok_or_else(|| internal("distinct rows"))?;
        kernels::list_from_offsets(values, offsets, self.ty)
    }
}

impl GroupVec for DistinctGroups {
    fn ensure_groups(&mut self, n: usize) {
        if self.groups.len() < n {
            self.groups.resize_with(n, DistinctSet::default);
        }
    }
}

impl FreshGroups for DistinctGroups {
    fn fresh(&self) -> Result<Self> {
        DistinctGroups::new(self.ty, self.what)
    }
}

impl GroupsAccumulator for DistinctGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.ensure_groups(total_num_groups);
        let Some(a) = values.first() else { return Err(internal("distinct input")) };
        self.add(a, group_indices, opt_filter)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = emit_to.take_needed(&mut self.groups);
        match self.what {
            Distinct::Values => self.lists(&groups),
            Distinct::Count => Ok(Arc::new(Int64Array::from_iter_values(groups.iter().map(|g| g.order.len() as i64)))),
        }
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = emit_to.take_needed(&mut self.groups);
        Ok(vec![self.lists(&groups)?])
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.ensure_groups(total_num_groups);
        let Some(a) = values.first() else { return Err(internal("distinct state")) };
        self.add(a, group_indices, None)
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        self.rows_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self.groups.iter().map(|g| 64 + g.order.iter().map(|r| r.len() + 48).sum::<usize>()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::super::scalar_list;
    use super::super::tests::int_lists;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;
    use datafusion::logical_expr::Accumulator;

    #[test]
    fn first_seen_order_without_duplicates() {
        let mut v = OneGroup::new(DistinctGroups::new(EsType::Integer, Distinct::Values).unwrap());
        v.update_batch(&[int_lists(&[Some(&[3, 1]), None, Some(&[1, 2])])]).unwrap();
        let st: Vec<ArrayRef> = v.state().unwrap().into_iter().map(|s| s.to_array().unwrap()).collect();
        let mut m = OneGroup::new(DistinctGroups::new(EsType::Integer, Distinct::Values).unwrap());
        assert_eq!(m.evaluate().unwrap(), ScalarValue::try_from(&EsType::Integer.arrow_column(true)).unwrap());
        m.merge_batch(&st).unwrap();
        m.merge_batch(&st).unwrap();
        let expected = scalar_list(
            &[ScalarValue::Int32(Some(3)), ScalarValue::Int32(Some(1)), ScalarValue::Int32(Some(2))],
            &EsType::Integer.arrow(),
        );
        assert_eq!(m.evaluate().unwrap(), expected);
    }

    #[test]
    fn groups_count_and_list() {
        let mut g = DistinctGroups::new(EsType::Integer, Distinct::Count).unwrap();
        let a = int_lists(&[Some(&[1, 2]), Some(&[2]), Some(&[5]), None]);
        let filter = BooleanArray::from(vec![true, true, false, true]);
        g.update_batch(std::slice::from_ref(&a), &[0, 0, 1, 1], Some(&filter), 3).unwrap();
        let out = g.evaluate(EmitTo::All).unwrap();
        assert_eq!(out.as_primitive::<Int64Type>(), &Int64Array::from(vec![2, 0, 0]));
        let mut v = DistinctGroups::new(EsType::Integer, Distinct::Values).unwrap();
        v.update_batch(&[a], &[1, 1, 0, 0], None, 2).unwrap();
        let out = v.evaluate(EmitTo::First(1)).unwrap();
        assert_eq!(out.len(), 1);
        let rest = v.evaluate(EmitTo::All).unwrap();
        assert_eq!(rest.as_list::<i32>().value(0).len(), 2);
    }

    #[test]
    fn text_values_are_keywords() {
        let a = ArgInfo { ty: EsType::Text, multi: false, literal: None, text: "x" };
        let r = resolve("values(x)", &[a]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::Keyword, true));
    }
}

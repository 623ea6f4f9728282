//! `VALUES(field)`: every distinct value of the group as a multi-value, in the order they were
//! first seen (Elastic's order; its documentation does not guarantee one).

use super::{AccFactory, EsAgg, Flat, FreshGroups, GroupVec, GroupsFactory, OneGroup, constant, internal, passes};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, kernels, type_error};
use crate::types::EsType;
use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{EmitTo, Expr, GroupsAccumulator};
use std::collections::HashMap;
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

/// Where a value lies in a [`DistinctGroups`]' arena: its bytes in Arrow's row format.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

/// The distinct values of one group, in first-seen order. Most groups of a `BY` hold one value
/// (or a handful): one value costs no allocation, a few are compared one by one.
#[derive(Debug, Default)]
enum DistinctSet {
    #[default]
    Empty,
    One(Span),
    Many(Box<ManyValues>),
}

/// The values of a group with more than one.
#[derive(Debug, Default)]
struct ManyValues {
    order: Vec<Span>,
    /// Built once the group has more than [`LINEAR_LIMIT`] values; below that, a scan of
    /// `order` is faster than hashing. Maps a value's hash to the last value (index in `order`)
    /// with that hash; `chain` links each value to the previous one with the same hash.
    index: Option<(HashMap<u64, u32, foldhash::fast::RandomState>, Vec<u32>)>,
}

/// The end of a hash chain.
const NO_VALUE: u32 = u32::MAX;

/// Distinct values a group holds before it gets a hash index.
const LINEAR_LIMIT: usize = 16;

impl DistinctSet {
    fn len(&self) -> usize {
        match self {
            DistinctSet::Empty => 0,
            DistinctSet::One(_) => 1,
            DistinctSet::Many(m) => m.order.len(),
        }
    }

    fn spans(&self) -> &[Span] {
        match self {
            DistinctSet::Empty => &[],
            DistinctSet::One(s) => std::slice::from_ref(s),
            DistinctSet::Many(m) => &m.order,
        }
    }

    /// About what the group holds in memory beyond its slot and its values' bytes.
    fn heap_bytes(&self) -> usize {
        match self {
            DistinctSet::Many(m) => {
                std::mem::size_of::<ManyValues>()
                    + m.order.capacity() * std::mem::size_of::<Span>()
                    + m.index.as_ref().map_or(0, |(map, chain)| map.capacity() * 24 + chain.capacity() * 4)
            }
            _ => 0,
        }
    }
}

impl ManyValues {
    /// Whether `row` is among the values of `arena`.
    fn contains(&self, arena: &[u8], row: &[u8], hash: u64) -> bool {
        match &self.index {
            Some((map, chain)) => {
                let mut at = map.get(&hash).copied().unwrap_or(NO_VALUE);
                while at != NO_VALUE {
                    if bytes(arena, self.order[at as usize]) == row {
                        return true;
                    }
                    at = chain[at as usize];
                }
                false
            }
            None => self.order.iter().any(|&s| bytes(arena, s) == row),
        }
    }

    /// Adds a value known to be new.
    fn push(&mut self, arena: &[u8], span: Span, hash: u64) {
        self.order.push(span);
        let at = (self.order.len() - 1) as u32;
        match &mut self.index {
            Some((map, chain)) => {
                chain.push(map.insert(hash, at).unwrap_or(NO_VALUE));
            }
            None if self.order.len() > LINEAR_LIMIT => {
                let mut map = HashMap::with_capacity_and_hasher(self.order.len() * 2, Default::default());
                let mut chain = Vec::with_capacity(self.order.len() * 2);
                for (i, &s) in self.order.iter().enumerate() {
                    chain.push(map.insert(hash_of(bytes(arena, s)), i as u32).unwrap_or(NO_VALUE));
                }
                self.index = Some((map, chain));
            }
            None => {}
        }
    }
}

fn bytes(arena: &[u8], s: Span) -> &[u8] {
    &arena[s.start as usize..(s.start + s.len) as usize]
}

fn hash_of(row: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5ac3).hash_one(row)
}

/// The distinct values of every group.
pub(crate) struct DistinctGroups {
    ty: EsType,
    what: Distinct,
    converter: RowConverter,
    groups: Vec<DistinctSet>,
    /// The bytes of every value kept, one after the other. Values of emitted groups stay until
    /// every group is emitted.
    arena: Vec<u8>,
    /// The [`DistinctSet::heap_bytes`] of every group, kept up to date as values come and
    /// groups go: DataFusion asks for [`GroupsAccumulator::size`] after every batch, and summing
    /// over every group each time made aggregations with many groups quadratic.
    heap: usize,
}

impl fmt::Debug for DistinctGroups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DistinctGroups({:?}, {} groups)", self.what, self.groups.len())
    }
}

impl DistinctGroups {
    pub(crate) fn new(ty: EsType, what: Distinct) -> Result<DistinctGroups> {
        let converter = RowConverter::new(vec![SortField::new(ty.arrow())])?;
        Ok(DistinctGroups { ty, what, converter, groups: Vec::new(), arena: Vec::new(), heap: 0 })
    }

    fn add(&mut self, a: &ArrayRef, group_indices: &[usize], filter: Option<&BooleanArray>) -> Result<()> {
        let flat = Flat::new(a);
        let rows = self.converter.convert_columns(&[flat.values().clone()])?;
        for (i, &g) in group_indices.iter().enumerate() {
            if !passes(filter, i) {
                continue;
            }
            for j in flat.row(i) {
                let row = rows.row(j);
                self.add_value(g, row.as_ref())?;
            }
        }
        Ok(())
    }

    /// Adds `row` to group `g` unless the group has it.
    fn add_value(&mut self, g: usize, row: &[u8]) -> Result<()> {
        let arena = &mut self.arena;
        let Some(set) = self.groups.get_mut(g) else { return Err(internal("distinct group")) };
        let store = |arena: &mut Vec<u8>| -> Result<Span> {
            let start = u32::try_from(arena.len()).ok();
            let len = u32::try_from(row.len()).ok();
            match (start, len) {
                (Some(start), Some(len)) if start.checked_add(len).is_some() => {
                    arena.extend_from_slice(row);
                    Ok(Span { start, len })
                }
                _ => Err(DataFusionError::ResourcesExhausted(
                    "more than 4 GiB of distinct values in one aggregation".into(),
                )),
            }
        };
        match set {
            DistinctSet::Empty => *set = DistinctSet::One(store(arena)?),
            DistinctSet::One(first) => {
                if bytes(arena, *first) == row {
                    return Ok(());
                }
                let first = *first;
                let span = store(arena)?;
                let mut order = Vec::with_capacity(4);
                order.extend([first, span]);
                *set = DistinctSet::Many(Box::new(ManyValues { order, index: None }));
                self.heap += set.heap_bytes();
            }
            DistinctSet::Many(m) => {
                let hash = if m.index.is_some() || m.order.len() >= LINEAR_LIMIT { hash_of(row) } else { 0 };
                if m.contains(arena, row, hash) {
                    return Ok(());
                }
                let before = set.heap_bytes();
                let DistinctSet::Many(m) = set else { unreachable!("matched above") };
                let span = store(arena)?;
                m.push(arena, span, hash);
                self.heap = self.heap + set.heap_bytes() - before;
            }
        }
        Ok(())
    }

    /// Removes the groups `emit_to` asks for.
    fn take(&mut self, emit_to: EmitTo) -> Vec<DistinctSet> {
        let groups = emit_to.take_needed(&mut self.groups);
        let taken: usize = groups.iter().map(DistinctSet::heap_bytes).sum();
        self.heap = self.heap.saturating_sub(taken);
        groups
    }

    /// The values of the groups as a multi-valued array (null where a group has none).
    fn lists(&mut self, groups: &[DistinctSet]) -> Result<ArrayRef> {
        let parser = self.converter.parser();
        let mut offsets = Vec::with_capacity(groups.len() + 1);
        offsets.push(0i32);
        let mut n = 0usize;
        for g in groups {
            n += g.len();
            offsets.push(i32::try_from(n).map_err(|_| DataFusionError::Execution("too many values".into()))?);
        }
        let arena = &self.arena;
        let rows = groups.iter().flat_map(|g| g.spans().iter().map(|&s| parser.parse(bytes(arena, s))));
        let values = self.converter.convert_rows(rows)?;
        let values = values.into_iter().next().ok_or_else(|| internal("distinct rows"))?;
        self.release_arena();
        kernels::list_from_offsets(values, offsets, self.ty)
    }

    /// Frees the arena once every group is emitted.
    fn release_arena(&mut self) {
        if self.groups.is_empty() {
            self.arena = Vec::new();
        }
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
        let groups = self.take(emit_to);
        match self.what {
            Distinct::Values => self.lists(&groups),
            Distinct::Count => {
                self.release_arena();
                Ok(Arc::new(Int64Array::from_iter_values(groups.iter().map(|g| g.len() as i64))))
            }
        }
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
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
            + self.groups.capacity() * std::mem::size_of::<DistinctSet>()
            + self.arena.capacity()
            + self.heap
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
    fn many_values_keep_order_past_the_hash_index() {
        use datafusion::arrow::array::Int32Array;
        let mut v = DistinctGroups::new(EsType::Integer, Distinct::Values).unwrap();
        let mut c = DistinctGroups::new(EsType::Integer, Distinct::Count).unwrap();
        // Group 0 gets 0..100 twice (shuffled the second time), group 1 a few values repeated.
        let first: Vec<i32> = (0..100).collect();
        let second: Vec<i32> = (0..100).map(|i| (i * 37) % 100).collect();
        for batch in [&first, &second] {
            let a: ArrayRef = Arc::new(Int32Array::from(batch.clone()));
            let groups: Vec<usize> = batch.iter().map(|&x| if x % 10 == 3 { 1 } else { 0 }).collect();
            v.update_batch(std::slice::from_ref(&a), &groups, None, 2).unwrap();
            c.update_batch(std::slice::from_ref(&a), &groups, None, 2).unwrap();
        }
        assert_eq!(c.evaluate(EmitTo::All).unwrap().as_primitive::<Int64Type>(), &Int64Array::from(vec![90, 10]));
        let lists = v.evaluate(EmitTo::First(1)).unwrap();
        let g0 = lists.as_list::<i32>().value(0);
        let expected: Vec<i32> = (0..100).filter(|x| x % 10 != 3).collect();
        assert_eq!(g0.as_primitive::<datafusion::arrow::datatypes::Int32Type>().values().to_vec(), expected);
        // The remaining group still reads its values after the first was emitted.
        let a: ArrayRef = Arc::new(Int32Array::from(vec![3, 1000]));
        v.update_batch(&[a], &[0, 0], None, 1).unwrap();
        let rest = v.evaluate(EmitTo::All).unwrap();
        let g1 = rest.as_list::<i32>().value(0);
        let expected: Vec<i32> = (0..100).filter(|x| x % 10 == 3).chain([1000]).collect();
        assert_eq!(g1.as_primitive::<datafusion::arrow::datatypes::Int32Type>().values().to_vec(), expected);
        assert!(v.arena.is_empty(), "the arena is freed once every group is emitted");
    }

    #[test]
    fn text_values_are_keywords() {
        let a = ArgInfo { ty: EsType::Text, multi: false, literal: None, text: "x" };
        let r = resolve("values(x)", &[a]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::Keyword, true));
    }
}

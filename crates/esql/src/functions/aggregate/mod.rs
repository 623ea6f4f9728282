//! Aggregate functions of `STATS`, one file each.
//!
//! An aggregate sees every value of a multi-valued argument (a list array). Each function plans
//! to exactly one DataFusion aggregate call (with the `STATS ... WHERE` filter attached): a
//! built-in one where its semantics are exactly Elastic's (`count`, `min`, `max`), otherwise an
//! [`EsAgg`] running one of the [`Accumulator`]s written here.
//!
//! Where Elastic computes an aggregate of a constant from the constant alone (it rewrites
//! `TOP([3, 1, 2], 2)` to `MV_SLICE(MV_SORT(...))`, `AVG(c)` to `MV_AVG(c)`, ...), the constant is
//! folded once while planning: the accumulator runs over a single row holding the constant, and
//! the query gets a [`constant`] aggregate.

use super::{AggDef, AggPlanArgs};
use crate::types::EsType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, ListArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Schema};
use datafusion::common::{DFSchema, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, EmitTo, Expr, ExprFunctionExt, GroupsAccumulator,
    Signature, Volatility, lit,
};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub mod absent;
pub mod avg;
pub mod count;
pub mod count_distinct;
pub mod first;
pub mod last;
pub mod max;
pub mod median;
pub mod median_absolute_deviation;
pub mod min;
pub mod percentile;
pub mod present;
pub mod sample;
pub mod std_dev;
pub mod sum;
pub mod top;
pub mod values;
pub mod variance;
pub mod weighted_avg;

/// Every aggregate function.
pub static ALL: &[&AggDef] = &[
    &absent::DEF,
    &avg::DEF,
    &count::DEF,
    &count_distinct::DEF,
    &first::DEF,
    &last::DEF,
    &max::DEF,
    &median::DEF,
    &median_absolute_deviation::DEF,
    &min::DEF,
    &percentile::DEF,
    &present::DEF,
    &sample::DEF,
    &std_dev::DEF,
    &sum::DEF,
    &top::DEF,
    &values::DEF,
    &variance::DEF,
    &variance::STD_VAR,
    &weighted_avg::DEF,
];

/// Attaches the `STATS agg WHERE cond` filter to an aggregate call.
pub(crate) fn with_filter(e: Expr, filter: Option<Expr>) -> Result<Expr> {
    match filter {
        Some(f) => e.filter(f).build(),
        None => Ok(e),
    }
}

/// Makes the accumulator of one group.
pub(crate) type AccFactory = Arc<dyn Fn() -> Box<dyn Accumulator> + Send + Sync>;

/// Makes an accumulator of every group at once (for the hot aggregates).
pub(crate) type GroupsFactory = Arc<dyn Fn() -> Box<dyn GroupsAccumulator> + Send + Sync>;

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// A DataFusion aggregate running one of our accumulators at one call site (each call site gets
/// its own instance: it carries the warning sink and constant parameters).
pub(crate) struct EsAgg {
    name: String,
    id: usize,
    signature: Signature,
    return_type: DataType,
    state: Vec<DataType>,
    factory: AccFactory,
    groups: Option<GroupsFactory>,
}

impl EsAgg {
    /// An aggregate named `name` returning `return_type`, whose partial state is one value of
    /// each of `state`, with accumulators made by `factory`.
    pub(crate) fn new(name: &str, return_type: DataType, state: Vec<DataType>, factory: AccFactory) -> EsAgg {
        EsAgg {
            name: name.to_string(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            signature: Signature::variadic_any(Volatility::Immutable),
            return_type,
            state,
            factory,
            groups: None,
        }
    }

    /// Also accumulates all groups at once with accumulators made by `groups`.
    pub(crate) fn with_groups(mut self, groups: GroupsFactory) -> EsAgg {
        self.groups = Some(groups);
        self
    }

    /// The aggregate call on `args`, filtered by `filter`.
    pub(crate) fn call(self, args: Vec<Expr>, filter: Option<Expr>) -> Result<Expr> {
        with_filter(AggregateUDF::new_from_impl(self).call(args), filter)
    }
}

impl fmt::Debug for EsAgg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EsAgg({}#{})", self.name, self.id)
    }
}

impl PartialEq for EsAgg {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for EsAgg {}

impl Hash for EsAgg {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl AggregateUDFImpl for EsAgg {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.return_type.clone())
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok((self.factory)())
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        self.groups.is_some()
    }

    fn create_groups_accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        match &self.groups {
            Some(g) => Ok(g()),
            None => Err(internal("no groups accumulator")),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(self
            .state
            .iter()
            .enumerate()
            .map(|(i, dt)| Arc::new(Field::new(format!("{}_{}_{i}", args.name, self.id), dt.clone(), true)))
            .collect())
    }
}

/// An aggregate whose result is known while planning.
pub(crate) fn constant(name: &str, value: ScalarValue, filter: Option<Expr>) -> Result<Expr> {
    let dt = value.data_type();
    let factory: AccFactory = Arc::new(move || Box::new(ConstAcc(value.clone())));
    EsAgg::new(name, dt, vec![DataType::Boolean], factory).call(vec![lit(true)], filter)
}

#[derive(Debug)]
struct ConstAcc(ScalarValue);

impl Accumulator for ConstAcc {
    fn update_batch(&mut self, _values: &[ArrayRef]) -> Result<()> {
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.0.clone())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Boolean(Some(true))])
    }

    fn merge_batch(&mut self, _states: &[ArrayRef]) -> Result<()> {
        Ok(())
    }
}

/// Runs `acc` over one row holding `args` (Elastic's `MV_*` rewrite of an aggregate over a
/// constant).
pub(crate) fn fold(mut acc: Box<dyn Accumulator>, args: &[ScalarValue]) -> Result<ScalarValue> {
    let arrays = args.iter().map(|a| a.to_array_of_size(1)).collect::<Result<Vec<_>>>()?;
    acc.update_batch(&arrays)?;
    acc.evaluate()
}

/// The value of an expression that reads no column (Elastic's "foldable"), `None` otherwise.
pub(crate) fn const_value(e: &Expr) -> Result<Option<ScalarValue>> {
    if !e.column_refs().is_empty() {
        return Ok(None);
    }
    if let Expr::Literal(v, _) = e {
        return Ok(Some(v.clone()));
    }
    let props = datafusion::logical_expr::execution_props::ExecutionProps::new();
    let ctx = datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext::default();
    let phys = datafusion::physical_expr::create_physical_expr(e, &DFSchema::empty(), &props, &ctx)?;
    let batch = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    Ok(Some(match phys.evaluate(&batch)? {
        ColumnarValue::Scalar(s) => s,
        ColumnarValue::Array(a) => ScalarValue::try_from_array(&a, 0)?,
    }))
}

/// The constant value of argument `i`, `None` when it reads columns.
pub(crate) fn const_arg(p: &AggPlanArgs, i: usize) -> Result<Option<ScalarValue>> {
    match p.args.get(i) {
        Some(e) => const_value(e),
        None => Ok(None),
    }
}

/// A constant number as f64 (`None` for null or a non-number).
pub(crate) fn scalar_f64(v: &ScalarValue) -> Option<f64> {
    match v {
        ScalarValue::Int32(Some(x)) => Some(f64::from(*x)),
        ScalarValue::Int64(Some(x)) => Some(*x as f64),
        ScalarValue::UInt64(Some(x)) => Some(*x as f64),
        ScalarValue::Float64(Some(x)) => Some(*x),
        _ => None,
    }
}

/// A constant whole number as i64.
pub(crate) fn scalar_i64(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::Int32(Some(x)) => Some(i64::from(*x)),
        ScalarValue::Int64(Some(x)) => Some(*x),
        ScalarValue::UInt64(Some(x)) => i64::try_from(*x).ok(),
        _ => None,
    }
}

/// The values of a single- or multi-valued argument array, row by row.
pub(crate) struct Flat {
    values: ArrayRef,
    valid: Option<NullBuffer>,
    ranges: Vec<(usize, usize)>,
}

impl Flat {
    /// Reads `a` (a list array when multi-valued).
    pub(crate) fn new(a: &ArrayRef) -> Flat {
        let (values, ranges): (ArrayRef, Vec<(usize, usize)>) = match a.as_list_opt::<i32>() {
            Some(list) => {
                let offs = list.value_offsets();
                let row_nulls = list.logical_nulls();
                let ranges = (0..list.len())
                    .map(|i| {
                        if row_nulls.as_ref().is_none_or(|n| n.is_valid(i)) {
                            (offs[i] as usize, offs[i + 1] as usize)
                        } else {
                            (0, 0)
                        }
                    })
                    .collect();
                (list.values().clone(), ranges)
            }
            None => (a.clone(), (0..a.len()).map(|i| (i, i + 1)).collect()),
        };
        let valid = if values.data_type() == &DataType::Null {
            Some(NullBuffer::new_null(values.len()))
        } else {
            values.logical_nulls()
        };
        Flat { values, valid, ranges }
    }

    /// The array holding the values (indices below point into it).
    pub(crate) fn values(&self) -> &ArrayRef {
        &self.values
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.ranges.len()
    }

    fn is_valid(&self, j: usize) -> bool {
        self.valid.as_ref().is_none_or(|n| n.is_valid(j))
    }

    /// Indices of the non-null values of row `i`.
    pub(crate) fn row(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let (s, e) = self.ranges.get(i).copied().unwrap_or((0, 0));
        (s..e).filter(move |&j| self.is_valid(j))
    }

    /// Number of non-null values of row `i`.
    pub(crate) fn count(&self, i: usize) -> usize {
        self.row(i).count()
    }

    /// Indices of every non-null value, row after row.
    pub(crate) fn all(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.rows()).flat_map(move |i| self.row(i))
    }
}

/// Reads the numbers of a numeric array as f64, indexed like the array (0 where null).
pub(crate) fn f64_values(a: &ArrayRef) -> Result<Vec<f64>> {
    Ok(super::kernels::to_f64s(a)?.into_iter().map(|v| v.unwrap_or(0.0)).collect())
}

/// Reads the numbers of an integer, long or date array as i64, indexed like the array.
pub(crate) fn i64_values(a: &ArrayRef) -> Result<Vec<i64>> {
    Ok(super::kernels::to_i64s(a)?.into_iter().map(|v| v.unwrap_or(0)).collect())
}

/// Elastic's compensated (Kahan) summation of doubles, `CompensatedSum`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Kahan {
    /// The running sum.
    pub value: f64,
    /// The running compensation.
    pub delta: f64,
}

impl Kahan {
    /// Adds one value.
    pub(crate) fn add(&mut self, v: f64) {
        self.add_with_delta(v, 0.0);
    }

    /// Adds another partial sum.
    pub(crate) fn add_with_delta(&mut self, v: f64, delta: f64) {
        if !v.is_finite() {
            // A non-finite value turns the sum non-finite, as plain addition would.
            self.value += v;
            return;
        }
        if !self.value.is_finite() {
            return;
        }
        let corrected = v + (self.delta + delta);
        let updated = self.value + corrected;
        self.delta = corrected - (updated - self.value);
        self.value = updated;
    }
}

/// Welford's online mean and variance, as Elastic's `WelfordAlgorithm` computes them.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Welford {
    /// Mean so far.
    pub mean: f64,
    /// Sum of squared differences from the mean.
    pub m2: f64,
    /// Values seen.
    pub count: i64,
}

impl Welford {
    /// Adds one value.
    pub(crate) fn add(&mut self, v: f64) {
        let delta = v - self.mean;
        self.count += 1;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (v - self.mean);
    }

    /// Merges another partial state.
    pub(crate) fn merge(&mut self, mean: f64, m2: f64, count: i64) {
        if count == 0 {
            return;
        }
        if self.count == 0 {
            *self = Welford { mean, m2, count };
            return;
        }
        let (n1, n2) = (self.count as f64, count as f64);
        let delta = self.mean - mean;
        self.m2 += m2 + delta * delta * n1 * n2 / (n1 + n2);
        self.mean = (self.mean * n1 + mean * n2) / (n1 + n2);
        self.count += count;
    }

    /// Population variance: null without values (or when it overflowed), 0 for one value.
    pub(crate) fn variance(&self) -> Option<f64> {
        if self.count == 0 || !self.m2.is_finite() {
            return None;
        }
        Some(if self.count < 2 { 0.0 } else { self.m2 / self.count as f64 })
    }

    /// Updates from the values of a numeric argument.
    pub(crate) fn update(&mut self, a: &ArrayRef) -> Result<()> {
        let flat = Flat::new(a);
        let v = f64_values(flat.values())?;
        for j in flat.all() {
            self.add(v[j]);
        }
        Ok(())
    }

    /// The partial state: mean, m2, count.
    pub(crate) fn state(&self) -> Vec<ScalarValue> {
        vec![
            ScalarValue::Float64(Some(self.mean)),
            ScalarValue::Float64(Some(self.m2)),
            ScalarValue::Int64(Some(self.count)),
        ]
    }

    /// The partial state's types.
    pub(crate) fn state_types() -> Vec<DataType> {
        vec![DataType::Float64, DataType::Float64, DataType::Int64]
    }

    /// Merges partial states.
    pub(crate) fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (Some(mean), Some(m2), Some(count)) = (states.first(), states.get(1), states.get(2)) else {
            return Err(internal("welford state"));
        };
        let mean = mean.as_primitive::<Float64Type>();
        let m2 = m2.as_primitive::<Float64Type>();
        let count = count.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for i in 0..mean.len() {
            if mean.is_valid(i) && m2.is_valid(i) && count.is_valid(i) {
                self.merge(mean.value(i), m2.value(i), count.value(i));
            }
        }
        Ok(())
    }
}

/// Whether row `i` passes the aggregate's filter.
pub(crate) fn passes(filter: Option<&BooleanArray>, i: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(i) && f.value(i))
}

/// A groups accumulator with per-group vectors that can start over empty (used to turn rows
/// straight into partial states).
pub(crate) trait FreshGroups: GroupsAccumulator + Sized {
    /// The same accumulator with no groups.
    fn fresh(&self) -> Result<Self>;

    /// Each row as its own group's partial state.
    fn rows_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let n = values.first().map_or(0, |a| a.len());
        let mut t = self.fresh()?;
        let groups: Vec<usize> = (0..n).collect();
        t.update_batch(values, &groups, opt_filter, n)?;
        t.state(EmitTo::All)
    }
}

/// A groups accumulator that can be told how many groups exist (so that one can stand for a
/// single group, see [`OneGroup`]).
pub(crate) trait GroupVec: GroupsAccumulator + Sized {
    /// Makes room for at least `n` groups.
    fn ensure_groups(&mut self, n: usize);
}

/// A groups accumulator used as the accumulator of a single group.
#[derive(Debug)]
pub(crate) struct OneGroup<G>(pub(crate) G);

impl<G: GroupVec + fmt::Debug + Sync> OneGroup<G> {
    pub(crate) fn new(mut g: G) -> OneGroup<G> {
        g.ensure_groups(1);
        OneGroup(g)
    }
}

impl<G: GroupVec + fmt::Debug + Sync> Accumulator for OneGroup<G> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let n = values.first().map_or(0, |a| a.len());
        self.0.update_batch(values, &vec![0; n], None, 1)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let a = self.0.evaluate(EmitTo::All)?;
        self.0.ensure_groups(1);
        ScalarValue::try_from_array(&a, 0)
    }

    fn size(&self) -> usize {
        self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let s = self.0.state(EmitTo::All)?;
        self.0.ensure_groups(1);
        s.iter().map(|a| ScalarValue::try_from_array(a, 0)).collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let n = states.first().map_or(0, |a| a.len());
        self.0.merge_batch(states, &vec![0; n], 1)
    }
}

/// An internal error (a broken invariant of an accumulator's state).
pub(crate) fn internal(what: &str) -> DataFusionError {
    DataFusionError::Internal(format!("unexpected aggregate state: {what}"))
}

/// A list of doubles as a constant (an accumulator state).
pub(crate) fn f64_list(values: &[f64]) -> ScalarValue {
    let list =
        ListArray::from_iter_primitive::<Float64Type, _, _>(std::iter::once(Some(values.iter().copied().map(Some))));
    ScalarValue::List(Arc::new(list))
}

/// Appends every double of every row of a list-of-doubles state array to `out`.
pub(crate) fn extend_f64s(state: &ArrayRef, out: &mut Vec<f64>) -> Result<()> {
    let flat = Flat::new(state);
    let v = f64_values(flat.values())?;
    out.extend(flat.all().map(|j| v[j]));
    Ok(())
}

/// A list of values of Arrow type `item` as a constant.
pub(crate) fn scalar_list(values: &[ScalarValue], item: &DataType) -> ScalarValue {
    ScalarValue::List(ScalarValue::new_list_nullable(values, item))
}

/// A multi-valued result of ES|QL type `ty`: null without values, a list otherwise.
pub(crate) fn multi_result(values: &[ScalarValue], ty: EsType) -> Result<ScalarValue> {
    if values.is_empty() {
        return ScalarValue::try_from(&ty.arrow_column(true));
    }
    Ok(scalar_list(values, &ty.arrow()))
}

/// A typed null of ES|QL type `ty`, single-valued.
pub(crate) fn null_of(ty: EsType) -> Result<ScalarValue> {
    ScalarValue::try_from(&ty.arrow())
}

/// A boolean state array's values (null counts as false).
pub(crate) fn bools(a: &ArrayRef) -> Result<&BooleanArray> {
    a.as_boolean_opt().ok_or_else(|| internal("expected booleans"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, Int32Builder, ListBuilder};

    /// A list array of i32 rows.
    pub(crate) fn int_lists(rows: &[Option<&[i32]>]) -> ArrayRef {
        let mut b = ListBuilder::new(Int32Builder::new());
        for r in rows {
            match r {
                Some(vals) => {
                    for v in *vals {
                        b.values().append_value(*v);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Arc::new(b.finish())
    }

    #[test]
    fn flat_reads_lists_and_scalars() {
        let a = int_lists(&[Some(&[1, 2]), None, Some(&[])]);
        let f = Flat::new(&a);
        assert_eq!(f.rows(), 3);
        assert_eq!(f.count(0), 2);
        assert_eq!(f.count(1), 0);
        assert_eq!(f.all().count(), 2);
        let s: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(3)]));
        let f = Flat::new(&s);
        assert_eq!(f.all().collect::<Vec<_>>(), vec![0, 2]);
        let n: ArrayRef = Arc::new(datafusion::arrow::array::NullArray::new(3));
        assert_eq!(Flat::new(&n).all().count(), 0);
    }

    #[test]
    fn kahan_compensates() {
        let mut k = Kahan::default();
        for _ in 0..10 {
            k.add(0.1);
        }
        assert_eq!(k.value, 1.0);
        let mut naive = 0.0;
        for _ in 0..10 {
            naive += 0.1;
        }
        assert_ne!(naive, 1.0);
        k.add(f64::INFINITY);
        assert!(k.value.is_infinite());
    }

    #[test]
    fn welford_population_variance() {
        let mut w = Welford::default();
        assert_eq!(w.variance(), None);
        w.add(5.0);
        assert_eq!(w.variance(), Some(0.0));
        let mut w = Welford::default();
        for v in [1.0, 2.0, 3.0] {
            w.add(v);
        }
        assert!((w.variance().unwrap_or(0.0) - 2.0 / 3.0).abs() < 1e-12);
        let mut a = Welford::default();
        a.add(1.0);
        let mut b = Welford::default();
        b.add(2.0);
        b.add(3.0);
        a.merge(b.mean, b.m2, b.count);
        assert!((a.variance().unwrap_or(0.0) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn const_value_folds_column_free_expressions() {
        let e = lit(2i32);
        assert_eq!(const_value(&e).unwrap(), Some(ScalarValue::Int32(Some(2))));
        let c = crate::planner::column("x");
        assert_eq!(const_value(&c).unwrap(), None);
    }
}

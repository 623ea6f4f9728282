//! Multi-value functions (`MV_*`), one file each, and the helpers they share.
//!
//! Every function here takes its arguments as they come (`mv_args`): a `List` array when the
//! argument may be multi-valued, a plain array otherwise. [`MvArray`] gives both shapes the same
//! per-row view: the positions of a row's (non-null) values in one values array. Results that may
//! hold several values are built as lists ([`pick`]), where a row without values is null.

use super::{ArgInfo, ScalarDef, kernels, type_error};
use crate::types::EsType;
use datafusion::arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, PrimitiveArray, UInt32Array};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::ops::Range;

pub mod mv_append;
pub mod mv_avg;
pub mod mv_concat;
pub mod mv_contains;
pub mod mv_count;
pub mod mv_dedupe;
pub mod mv_first;
pub mod mv_intersection;
pub mod mv_last;
pub mod mv_max;
pub mod mv_median;
pub mod mv_median_absolute_deviation;
pub mod mv_min;
pub mod mv_percentile;
pub mod mv_pseries_weighted_sum;
pub mod mv_slice;
pub mod mv_sort;
pub mod mv_sum;
pub mod mv_zip;

/// The multi-value functions.
pub static ALL: &[&ScalarDef] = &[
    &mv_append::DEF,
    &mv_avg::DEF,
    &mv_concat::DEF,
    &mv_contains::DEF,
    &mv_count::DEF,
    &mv_dedupe::DEF,
    &mv_first::DEF,
    &mv_intersection::DEF,
    &mv_last::DEF,
    &mv_max::DEF,
    &mv_median::DEF,
    &mv_median_absolute_deviation::DEF,
    &mv_min::DEF,
    &mv_percentile::DEF,
    &mv_pseries_weighted_sum::DEF,
    &mv_slice::DEF,
    &mv_sort::DEF,
    &mv_sum::DEF,
    &mv_zip::DEF,
];

/// A single- or multi-valued argument seen row by row: each row is a range of positions in
/// [`MvArray::values`] (null positions inside the range are skipped by [`MvArray::positions`]).
pub struct MvArray {
    /// The values of every row.
    pub values: ArrayRef,
    ranges: Vec<Range<usize>>,
}

impl MvArray {
    /// The view of an argument array (a list, a plain array, or an all-null `Null` array).
    pub fn new(a: &ArrayRef) -> MvArray {
        if let Some(list) = a.as_list_opt::<i32>() {
            let values = list.values().clone();
            let offsets = list.value_offsets();
            let ranges = if values.data_type() == &DataType::Null {
                vec![0..0; list.len()]
            } else {
                (0..list.len())
                    .map(|i| if list.is_valid(i) { offsets[i] as usize..offsets[i + 1] as usize } else { 0..0 })
                    .collect()
            };
            return MvArray { values, ranges };
        }
        let ranges = if a.data_type() == &DataType::Null {
            vec![0..0; a.len()]
        } else {
            (0..a.len()).map(|i| if a.is_valid(i) { i..i + 1 } else { 0..0 }).collect()
        };
        MvArray { values: a.clone(), ranges }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Positions (in [`MvArray::values`]) of the row's values, in order.
    pub fn positions(&self, row: usize) -> impl Iterator<Item = usize> + '_ {
        let r = self.ranges.get(row).cloned().unwrap_or(0..0);
        r.filter(move |&j| self.values.is_valid(j))
    }

    /// The row's positions as `u32` indices (for [`pick`]).
    pub fn indices(&self, row: usize) -> Vec<u32> {
        self.positions(row).map(|j| j as u32).collect()
    }

    /// Number of values in the row (0 for null).
    pub fn count(&self, row: usize) -> usize {
        let r = self.ranges.get(row).cloned().unwrap_or(0..0);
        if self.values.null_count() == 0 { r.len() } else { self.positions(row).count() }
    }

    /// The values as a primitive array of `T`.
    pub fn prim<T: ArrowPrimitiveType>(&self) -> Result<&PrimitiveArray<T>> {
        self.values.as_primitive_opt::<T>().ok_or_else(|| {
            DataFusionError::Internal(format!(
                "multi-value function: unexpected values of type {}",
                self.values.data_type()
            ))
        })
    }
}

/// Builds a result from per-row picks of positions in `values`: a multi-valued (list) array when
/// `multi`, else one value per row (the first pick). A row with no picks is null.
pub fn pick(values: &ArrayRef, rows: &[Vec<u32>], ty: EsType, multi: bool) -> Result<ArrayRef> {
    if multi {
        return kernels::list_from_indices(values, rows, ty);
    }
    let idx: UInt32Array = rows.iter().map(|r| r.first().copied()).collect();
    let out = take(values.as_ref(), &idx, None)?;
    if out.data_type() == &ty.arrow() { Ok(out) } else { Ok(cast(&out, &ty.arrow())?) }
}

/// Order-preserving, comparable encodings of `values` (byte-wise for strings, ips and versions,
/// numeric for numbers, false before true).
pub fn sort_keys(values: &ArrayRef) -> Result<Rows> {
    let conv = RowConverter::new(vec![SortField::new(values.data_type().clone())])?;
    Ok(conv.convert_columns(std::slice::from_ref(values))?)
}

/// Encodings of two value arrays of the same type that compare with each other.
pub fn sort_keys2(a: &ArrayRef, b: &ArrayRef) -> Result<(Rows, Rows)> {
    let b = if b.data_type() == a.data_type() { b.clone() } else { cast(b, a.data_type())? };
    let conv = RowConverter::new(vec![SortField::new(a.data_type().clone())])?;
    let ra = conv.convert_columns(std::slice::from_ref(a))?;
    let rb = conv.convert_columns(&[b])?;
    Ok((ra, rb))
}

/// An all-null result of the kernel's return type.
pub fn null_result(ctx: &crate::udf::EvalCtx) -> ArrayRef {
    kernels::nulls(ctx.return_type, ctx.rows)
}

/// True when the argument array holds no value at all because its type is `null`.
pub fn is_null_type(a: &ArrayRef) -> bool {
    match a.as_list_opt::<i32>() {
        Some(l) => l.values().data_type() == &DataType::Null,
        None => a.data_type() == &DataType::Null,
    }
}

/// Makes a possibly multi-valued argument single-valued (null plus Elastic's warning when it has
/// several values), for the parameters Elastic evaluates one value at a time.
pub fn single(e: Expr, ty: EsType, multi: bool, sink: &crate::warnings::WarningSink) -> Expr {
    if multi { kernels::mv_single_expr(e, ty, sink) } else { e }
}

/// keyword for text, else the type itself (Elastic's `noText`).
pub fn no_text(t: EsType) -> EsType {
    if t == EsType::Text { EsType::Keyword } else { t }
}

/// Whether a type can be an MV function argument (anything a column can hold).
pub fn representable(t: EsType) -> bool {
    t == EsType::Null || super::sets::ANY.contains(&t)
}

/// Checks that argument `i` is of a column type, with Elastic's message.
pub fn expect_representable(call: &str, args: &[ArgInfo], i: usize) -> Result<(), String> {
    match args.get(i) {
        Some(a) if !representable(a.ty) => {
            Err(type_error(call, args, i, "any type except counter types, dense_vector, or aggregate_metric_double"))
        }
        _ => Ok(()),
    }
}

/// The message for an argument whose type is not `expected`, with the argument's ordinal.
pub fn mismatch(call: &str, a: &ArgInfo, i: usize, expected: &str) -> String {
    format!("{} argument of [{call}] must be [{expected}], found value [{}] type [{}]", super::ordinal(i), a.text, a.ty)
}

/// Elastic's `CompensatedSum`: Kahan summation, where a non-finite value poisons the sum.
#[derive(Debug, Default, Clone, Copy)]
pub struct CompensatedSum {
    value: f64,
    delta: f64,
}

impl CompensatedSum {
    /// Adds a value.
    pub fn add(&mut self, v: f64) {
        if !v.is_finite() {
            self.value += v;
        }
        if self.value.is_finite() {
            let corrected = v + (self.delta + 0.0);
            let updated = self.value + corrected;
            self.delta = corrected - (updated - self.value);
            self.value = updated;
        }
    }

    /// The sum so far.
    pub fn value(&self) -> f64 {
        self.value
    }
}

/// Elastic's `unsignedLongToDouble` (two roundings above 2^63, like Java).
pub fn ul_to_f64(u: u64) -> f64 {
    if u < 1 << 63 { u as i64 as f64 } else { 9_223_372_036_854_775_808.0 + ((u - (1 << 63)) as i64 as f64) }
}

/// Every value of the array as f64 (numbers only), for averaging and the like.
pub fn f64_values(mv: &MvArray, ty: EsType) -> Result<Vec<f64>> {
    use datafusion::arrow::datatypes as t;
    let n = mv.values.len();
    Ok(match ty {
        EsType::Integer => {
            let a = mv.prim::<t::Int32Type>()?;
            (0..n).map(|j| f64::from(a.value(j))).collect()
        }
        EsType::Long => {
            let a = mv.prim::<t::Int64Type>()?;
            (0..n).map(|j| a.value(j) as f64).collect()
        }
        EsType::UnsignedLong => {
            let a = mv.prim::<t::UInt64Type>()?;
            (0..n).map(|j| ul_to_f64(a.value(j))).collect()
        }
        EsType::Double => mv.prim::<t::Float64Type>()?.values().to_vec(),
        other => return Err(DataFusionError::Internal(format!("expected numeric values, found {other}"))),
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers for the functions' unit tests: building list arrays and calling resolve.

    use crate::functions::{ArgInfo, Resolved, ScalarDef};
    use crate::ir::Literal;
    use crate::types::EsType;
    use crate::udf::EvalCtx;
    use crate::warnings::{WarningSink, Warnings};
    use datafusion::arrow::array::{ArrayRef, Int32Array, ListArray};
    use datafusion::arrow::datatypes::{DataType, Int32Type};
    use std::sync::Arc;

    /// A multi-valued integer array; `None` rows are null.
    pub fn int_lists(rows: Vec<Option<Vec<Option<i32>>>>) -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(rows))
    }

    /// A single-valued integer array.
    pub fn ints(v: Vec<Option<i32>>) -> ArrayRef {
        Arc::new(Int32Array::from(v))
    }

    /// Resolves `def` on arguments described as (type, multi, text).
    pub fn check(def: &ScalarDef, call: &str, args: &[(EsType, bool, &str)]) -> Result<Resolved, String> {
        check_lit(def, call, args, &[])
    }

    /// Like [`check`], with constants for some arguments.
    pub fn check_lit(
        def: &ScalarDef,
        call: &str,
        args: &[(EsType, bool, &str)],
        lits: &[(usize, Literal)],
    ) -> Result<Resolved, String> {
        let infos: Vec<ArgInfo> = args
            .iter()
            .enumerate()
            .map(|(i, (ty, multi, text))| ArgInfo {
                ty: *ty,
                multi: *multi,
                literal: lits.iter().find(|(k, _)| *k == i).map(|(_, l)| l),
                text,
            })
            .collect();
        (def.resolve)(call, &infos)
    }

    /// Runs a kernel-like function with a fresh warnings collector; returns the result and the
    /// warnings raised.
    pub fn with_ctx<T>(ret: DataType, rows: usize, f: impl FnOnce(&EvalCtx) -> T) -> (T, Vec<String>) {
        let warnings = Warnings::new();
        let sink = WarningSink::new(warnings.clone(), 1, 1, "f(x)");
        let ctx = EvalCtx { sink: &sink, rows, return_type: &ret };
        let out = f(&ctx);
        (out, warnings.messages())
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;

    #[test]
    fn mv_array_views_lists_plain_and_null_arrays() {
        let l = int_lists(vec![Some(vec![Some(1), None, Some(3)]), None, Some(vec![])]);
        let mv = MvArray::new(&l);
        assert_eq!(mv.len(), 3);
        assert_eq!(mv.positions(0).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(mv.count(0), 2);
        assert_eq!(mv.count(1), 0);
        assert_eq!(mv.count(2), 0);
        let p = ints(vec![Some(5), None]);
        let mv = MvArray::new(&p);
        assert_eq!(mv.indices(0), vec![0]);
        assert_eq!(mv.count(1), 0);
        let n = kernels::nulls(&DataType::Null, 2);
        let mv = MvArray::new(&n);
        assert_eq!(mv.count(0), 0);
        assert!(is_null_type(&n));
    }

    #[test]
    fn compensated_sum_matches_kahan() {
        let mut s = CompensatedSum::default();
        for v in [-6.77, 4.69, 5.05, 12.15] {
            s.add(v);
        }
        assert_eq!(s.value() / 4.0, 3.7800000000000002);
        let mut s = CompensatedSum::default();
        s.add(f64::INFINITY);
        s.add(1.0);
        assert_eq!(s.value(), f64::INFINITY);
    }

    #[test]
    fn pick_builds_single_or_multi() {
        let v = ints(vec![Some(1), Some(2), Some(3)]);
        let single = pick(&v, &[vec![2], vec![], vec![0, 1]], EsType::Integer, false).unwrap();
        assert_eq!(single.len(), 3);
        assert!(single.is_null(1));
        let multi = pick(&v, &[vec![2], vec![], vec![0, 1]], EsType::Integer, true).unwrap();
        let l = multi.as_list::<i32>();
        assert!(l.is_null(1));
        assert_eq!(l.value_length(2), 2);
    }
}

//! `MV_MEDIAN(number)`: the median of the values. For an even count of whole numbers the two
//! middle values are averaged rounding down, as Elastic does.

use super::mv_sum::resolve_numeric;
use super::{MvArray, is_null_type, null_result};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type, UInt64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_MEDIAN`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_median", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    resolve_numeric("mv_median", call, args)?;
    Ok(Resolved::of(args[0].ty))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) {
            return Ok(null_result(ctx));
        }
        median(&a[0], ty)
    });
    Ok(udf::call("mv_median", ty.arrow(), p.sink, p.args, kernel))
}

/// Per row, the row's values sorted (by `cmp`), or `None` for a row without values.
pub fn sorted_rows<T: Copy>(
    mv: &MvArray,
    get: impl Fn(usize) -> T,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> Vec<Option<Vec<T>>> {
    (0..mv.len())
        .map(|r| {
            let mut v: Vec<T> = mv.positions(r).map(&get).collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(&cmp);
            Some(v)
        })
        .collect()
}

/// The middle value, or `avg` of the two middle values, of a sorted non-empty slice.
pub fn middle<T: Copy>(v: &[T], avg: impl Fn(T, T) -> T) -> T {
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { avg(v[m - 1], v[m]) }
}

/// The kernel.
pub fn median(a: &ArrayRef, ty: EsType) -> Result<ArrayRef> {
    let mv = MvArray::new(a);
    Ok(match ty {
        EsType::Integer => {
            let v = mv.prim::<Int32Type>()?;
            let rows = sorted_rows(&mv, |j| v.value(j), Ord::cmp);
            let avg = |a: i32, b: i32| (i64::from(a) + i64::from(b)).div_euclid(2) as i32;
            kernels::i32_array(rows.into_iter().map(|r| r.map(|r| middle(&r, avg))).collect())
        }
        EsType::Long => {
            let v = mv.prim::<Int64Type>()?;
            let rows = sorted_rows(&mv, |j| v.value(j), Ord::cmp);
            let avg = |a: i64, b: i64| (i128::from(a) + i128::from(b)).div_euclid(2) as i64;
            kernels::i64_array(rows.into_iter().map(|r| r.map(|r| middle(&r, avg))).collect())
        }
        EsType::UnsignedLong => {
            let v = mv.prim::<UInt64Type>()?;
            let rows = sorted_rows(&mv, |j| v.value(j), Ord::cmp);
            let avg = |a: u64, b: u64| ((u128::from(a) + u128::from(b)) >> 1) as u64;
            kernels::u64_array(rows.into_iter().map(|r| r.map(|r| middle(&r, avg))).collect())
        }
        EsType::Double => {
            let v = mv.prim::<Float64Type>()?;
            let rows = sorted_rows(&mv, |j| v.value(j), f64::total_cmp);
            kernels::f64_array(rows.into_iter().map(|r| r.map(|r| middle(&r, |a, b| (a + b) / 2.0))).collect())
        }
        other => return Err(DataFusionError::Internal(format!("mv_median of {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, ListArray};

    #[test]
    fn integer_medians_round_down() {
        let a = int_lists(vec![
            Some(vec![Some(3), Some(5), Some(1)]),
            Some(vec![Some(3), Some(7), Some(1), Some(6)]),
            Some(vec![Some(-3), Some(0)]),
            None,
        ]);
        let out = median(&a, EsType::Integer).unwrap();
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(out.value(0), 3);
        assert_eq!(out.value(1), 4);
        assert_eq!(out.value(2), -2);
        assert!(out.is_null(3));
    }

    #[test]
    fn unsigned_long_medians() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<UInt64Type, _, _>(vec![
            Some(vec![Some(u64::MAX), Some(0), Some(1), Some(9223372036854775807), Some(9223372036854775808)]),
            Some(vec![Some(u64::MAX), Some(0), Some(1), Some(9223372036854775807), Some(9223372036854775808), Some(2)]),
        ]));
        let out = median(&a, EsType::UnsignedLong).unwrap();
        let out = out.as_primitive::<UInt64Type>();
        assert_eq!(out.value(0), 9223372036854775807);
        assert_eq!(out.value(1), 4611686018427387904);
    }

    #[test]
    fn double_medians() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(-6.77), Some(4.69), Some(5.05), Some(12.15)]),
            Some(vec![Some(-1.89), Some(9.07)]),
        ]));
        let out = median(&a, EsType::Double).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 4.87);
        assert_eq!(out.value(1), 3.5900000000000003);
    }
}

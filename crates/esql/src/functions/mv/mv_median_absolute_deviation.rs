//! `MV_MEDIAN_ABSOLUTE_DEVIATION(number)`: the median of the absolute deviations from the median
//! of the values. A value that does not fit the result type is null with a warning.

use super::mv_median::{middle, sorted_rows};
use super::mv_sum::resolve_numeric;
use super::{MvArray, is_null_type, null_result};
use crate::convert::format_double;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type, UInt64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_MEDIAN_ABSOLUTE_DEVIATION`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_median_absolute_deviation", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    resolve_numeric("mv_median_absolute_deviation", call, args)?;
    Ok(Resolved::of(args[0].ty))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) {
            return Ok(null_result(ctx));
        }
        mad(&a[0], ty, ctx.sink)
    });
    Ok(udf::call("mv_median_absolute_deviation", ty.arrow(), p.sink, p.args, kernel))
}

/// Average of two signed whole numbers rounding toward zero (Elastic's MAD median).
fn avg_toward_zero(a: i128, b: i128) -> i128 {
    (a + b) / 2
}

/// The kernel.
pub fn mad(a: &ArrayRef, ty: EsType, sink: &WarningSink) -> Result<ArrayRef> {
    let mv = MvArray::new(a);
    let arith = |what: &str| sink.null_because(&format!("java.lang.ArithmeticException: {what}"));
    Ok(match ty {
        EsType::Integer | EsType::Long => {
            let rows = if ty == EsType::Integer {
                let v = mv.prim::<Int32Type>()?;
                sorted_rows(&mv, |j| i128::from(v.value(j)), Ord::cmp)
            } else {
                let v = mv.prim::<Int64Type>()?;
                sorted_rows(&mv, |j| i128::from(v.value(j)), Ord::cmp)
            };
            let out: Vec<Option<i128>> = rows
                .into_iter()
                .map(|r| {
                    let r = r?;
                    let m = middle(&r, avg_toward_zero);
                    let mut dev: Vec<i128> = r.iter().map(|x| (x - m).abs()).collect();
                    dev.sort_unstable();
                    Some(middle(&dev, |a, b| (a + b) >> 1))
                })
                .collect();
            if ty == EsType::Integer {
                kernels::i32_array(
                    out.into_iter()
                        .map(|d| {
                            let d = d?;
                            i32::try_from(d).map_err(|_| arith("integer overflow")).ok()
                        })
                        .collect(),
                )
            } else {
                kernels::i64_array(
                    out.into_iter()
                        .map(|d| {
                            let d = d?;
                            i64::try_from(d).map_err(|_| arith("unsigned_long overflow")).ok()
                        })
                        .collect(),
                )
            }
        }
        EsType::UnsignedLong => {
            let v = mv.prim::<UInt64Type>()?;
            let rows = sorted_rows(&mv, |j| u128::from(v.value(j)), Ord::cmp);
            let out = rows
                .into_iter()
                .map(|r| {
                    let r = r?;
                    let m = middle(&r, |a, b| (a + b) >> 1);
                    let mut dev: Vec<u128> = r.iter().map(|&x| x.abs_diff(m)).collect();
                    dev.sort_unstable();
                    Some(middle(&dev, |a, b| (a + b) >> 1) as u64)
                })
                .collect();
            kernels::u64_array(out)
        }
        EsType::Double => {
            let v = mv.prim::<Float64Type>()?;
            let rows = sorted_rows(&mv, |j| v.value(j), f64::total_cmp);
            let finite = |d: f64| {
                if d.is_finite() {
                    Some(d)
                } else {
                    arith(&format!("not a finite double number: {}", format_double(d)));
                    None
                }
            };
            let out = rows
                .into_iter()
                .map(|r| {
                    let r = r?;
                    if r.len() == 1 {
                        return Some(0.0);
                    }
                    let half = |a: f64, b: f64| a / 2.0 + b / 2.0;
                    let m = finite(middle(&r, half))?;
                    let mut dev: Vec<f64> = r.iter().map(|&x| if x > m { x - m } else { m - x }).collect();
                    dev.sort_by(f64::total_cmp);
                    finite(middle(&dev, half))
                })
                .collect();
            kernels::f64_array(out)
        }
        other => return Err(DataFusionError::Internal(format!("mv_median_absolute_deviation of {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, ListArray};
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn integer_mad() {
        let a = int_lists(vec![Some(vec![Some(0), Some(2), Some(5), Some(6)]), Some(vec![Some(4)]), None]);
        let (out, w) = with_ctx(DataType::Int32, 3, |ctx| mad(&a, EsType::Integer, ctx.sink).unwrap());
        let out = out.as_primitive::<Int32Type>();
        // median (2 + 5) / 2 = 3; deviations 3, 1, 2, 3 → sorted 1, 2, 3, 3 → (2 + 3) / 2 = 2.
        assert_eq!(out.value(0), 2);
        assert_eq!(out.value(1), 0);
        assert!(out.is_null(2));
        assert!(w.is_empty());
    }

    #[test]
    fn negative_median_rounds_toward_zero() {
        // median (-3 + 0) / 2 = -1 (toward zero); deviations 2, 1 → (1 + 2) / 2 = 1.
        let a = int_lists(vec![Some(vec![Some(-3), Some(0)])]);
        let (out, _) = with_ctx(DataType::Int32, 1, |ctx| mad(&a, EsType::Integer, ctx.sink).unwrap());
        assert_eq!(out.as_primitive::<Int32Type>().value(0), 1);
    }

    #[test]
    fn long_extremes_do_not_overflow() {
        // median (MIN + MAX) / 2 = 0 toward zero; deviations MAX, MAX, 2^63, 2^63 → MAX.
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![
            Some(i64::MIN),
            Some(i64::MAX),
            Some(i64::MIN),
            Some(i64::MAX),
        ])]));
        let (out, w) = with_ctx(DataType::Int64, 1, |ctx| mad(&a, EsType::Long, ctx.sink).unwrap());
        assert_eq!(out.as_primitive::<Int64Type>().value(0), i64::MAX);
        assert!(w.is_empty());
    }

    #[test]
    fn double_mad() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![Some(vec![
            Some(1.0),
            Some(1.0),
            Some(2.0),
            Some(2.0),
            Some(4.0),
            Some(6.0),
            Some(9.0),
        ])]));
        let (out, _) = with_ctx(DataType::Float64, 1, |ctx| mad(&a, EsType::Double, ctx.sink).unwrap());
        assert_eq!(out.as_primitive::<Float64Type>().value(0), 1.0);
    }
}

//! `MV_PERCENTILE(number, percentile)`: the value at a percentile (0 to 100) of the values,
//! interpolating linearly between the two nearest; out-of-range percentiles are null with a
//! warning.

use super::{MvArray, is_null_type, mismatch, null_result, single};
use crate::convert::format_double;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_PERCENTILE`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_percentile", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_percentile", args, 2, 2)?;
    for (i, a) in args.iter().enumerate() {
        if a.ty != EsType::Null && !(a.ty.is_numeric() && a.ty != EsType::UnsignedLong) {
            return Err(mismatch(call, a, i, "numeric except unsigned_long"));
        }
    }
    let cast = (args[1].ty != EsType::Double && args[1].ty != EsType::Null).then_some(EsType::Double);
    Ok(Resolved { ty: args[0].ty, multi: false, casts: vec![None, cast] })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let mut args = p.args;
    args[1] = single(args[1].clone(), p.types[1], p.multi[1], p.sink);
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) || a[1].data_type() == &datafusion::arrow::datatypes::DataType::Null {
            return Ok(null_result(ctx));
        }
        percentile(&a[0], &a[1], ty, ctx.sink)
    });
    Ok(udf::call("mv_percentile", ty.arrow(), p.sink, args, kernel))
}

/// Largest magnitude below which a long converts to a double exactly.
const MAX_SAFE_LONG_DOUBLE: i64 = 1 << 53;

/// Where the percentile falls: lower index and the fraction toward the next one.
fn position(pct: f64, n: usize) -> (usize, f64) {
    let index = pct / 100.0 * (n - 1) as f64;
    let lower = index as i32;
    (usize::try_from(lower).unwrap_or(0), index - f64::from(lower))
}

/// `lower + fraction * (upper - lower)` computed exactly and truncated toward zero, as Elastic
/// does with BigDecimal for longs beyond 2^53.
fn exact_long_interpolation(fraction: f64, lower: i64, upper: i64) -> i64 {
    if fraction <= 0.0 || !fraction.is_finite() {
        return lower;
    }
    let diff = (i128::from(upper) - i128::from(lower)).unsigned_abs();
    let bits = fraction.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac_bits = bits & ((1u64 << 52) - 1);
    let (mant, shift) = if exp == 0 { (frac_bits, 1074) } else { (frac_bits | (1u64 << 52), 1075 - exp) };
    let prod = u128::from(mant) * diff;
    let (whole, rem) = if shift <= 0 {
        (prod << shift.unsigned_abs().min(127), false)
    } else if shift >= 128 {
        (0, prod != 0)
    } else {
        (prod >> shift, prod & ((1u128 << shift) - 1) != 0)
    };
    let signed = if upper >= lower {
        i128::try_from(whole).unwrap_or(i128::MAX)
    } else {
        -i128::try_from(whole).unwrap_or(i128::MAX)
    };
    let mut base = i128::from(lower) + signed;
    if rem && base < 0 {
        base += 1;
    }
    i64::try_from(base).unwrap_or(if base < 0 { i64::MIN } else { i64::MAX })
}

fn double_interpolation(fraction: f64, lower: f64, upper: f64) -> f64 {
    if lower < 0.0 && upper > 0.0 {
        (lower + fraction * upper) - fraction * lower
    } else {
        lower + fraction * (upper - lower)
    }
}

/// The kernel: `values` (numbers of type `ty`) at percentile `pct` (a single-valued double array).
pub fn percentile(values: &ArrayRef, pct: &ArrayRef, ty: EsType, sink: &WarningSink) -> Result<ArrayRef> {
    let mv = MvArray::new(values);
    let pct = pct
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| DataFusionError::Internal("mv_percentile: percentile is not a double".into()))?;
    // Per row: the percentile when the row has values and a valid percentile.
    let pct_at = |r: usize| -> Option<f64> {
        if mv.count(r) == 0 || pct.is_null(r) {
            return None;
        }
        let p = pct.value(r);
        if !(0.0..=100.0).contains(&p) {
            sink.null_because(&format!(
                "java.lang.IllegalArgumentException: Percentile parameter must be a number between 0 and 100, found [{}]",
                format_double(p)
            ));
            return None;
        }
        Some(p)
    };
    macro_rules! whole {
        ($T:ty, $build:path, $interp:expr) => {{
            let v = mv.prim::<$T>()?;
            let out = (0..mv.len())
                .map(|r| {
                    let p = pct_at(r)?;
                    let mut xs: Vec<_> = mv.positions(r).map(|j| v.value(j)).collect();
                    if xs.len() == 1 {
                        return Some(xs[0]);
                    }
                    if p == 0.0 {
                        return xs.iter().copied().min();
                    }
                    if p == 100.0 {
                        return xs.iter().copied().max();
                    }
                    xs.sort_unstable();
                    let (lo, fraction) = position(p, xs.len());
                    let (a, b) = (xs[lo.min(xs.len() - 1)], xs[(lo + 1).min(xs.len() - 1)]);
                    Some($interp(fraction, a, b))
                })
                .collect();
            $build(out)
        }};
    }
    Ok(match ty {
        EsType::Integer => whole!(Int32Type, kernels::i32_array, |f: f64, a: i32, b: i32| {
            a.wrapping_add((f * (i64::from(b) - i64::from(a)) as f64) as i32)
        }),
        EsType::Long => whole!(Int64Type, kernels::i64_array, |f: f64, a: i64, b: i64| {
            if b < MAX_SAFE_LONG_DOUBLE && a > -MAX_SAFE_LONG_DOUBLE {
                a + (f * (b - a) as f64) as i64
            } else {
                exact_long_interpolation(f, a, b)
            }
        }),
        EsType::Double => {
            let v = mv.prim::<Float64Type>()?;
            let out = (0..mv.len())
                .map(|r| {
                    let p = pct_at(r)?;
                    let mut xs: Vec<f64> = mv.positions(r).map(|j| v.value(j)).collect();
                    if xs.len() == 1 {
                        return Some(xs[0]);
                    }
                    if p == 0.0 {
                        return Some(xs.iter().copied().fold(f64::INFINITY, f64::min));
                    }
                    if p == 100.0 {
                        return Some(xs.iter().copied().fold(f64::NEG_INFINITY, f64::max));
                    }
                    xs.sort_by(f64::total_cmp);
                    let (lo, fraction) = position(p, xs.len());
                    let (a, b) = (xs[lo.min(xs.len() - 1)], xs[(lo + 1).min(xs.len() - 1)]);
                    Some(double_interpolation(fraction, a, b))
                })
                .collect();
            kernels::f64_array(out)
        }
        other => return Err(DataFusionError::Internal(format!("mv_percentile of {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Float64Array, ListArray};
    use datafusion::arrow::datatypes::DataType;

    fn pcts(v: Vec<Option<f64>>) -> ArrayRef {
        Arc::new(Float64Array::from(v))
    }

    #[test]
    fn interpolates_integers() {
        let a = int_lists(vec![
            Some(vec![Some(5), Some(5), Some(10), Some(12), Some(5000)]),
            Some(vec![Some(5), Some(5), Some(10), Some(12), Some(5000)]),
            Some(vec![Some(5), Some(5), Some(10), Some(12), Some(5000)]),
            Some(vec![Some(1), Some(2)]),
            None,
        ]);
        let p = pcts(vec![Some(50.0), Some(99.0), Some(0.0), Some(150.0), Some(50.0)]);
        let (out, w) = with_ctx(DataType::Int32, 5, |ctx| percentile(&a, &p, EsType::Integer, ctx.sink).unwrap());
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(out.value(0), 10);
        assert_eq!(out.value(1), 4800);
        assert_eq!(out.value(2), 5);
        assert!(out.is_null(3));
        assert!(out.is_null(4));
        assert_eq!(
            w[1],
            "Line 1:1: java.lang.IllegalArgumentException: Percentile parameter must be a number between 0 and 100, found [150.0]"
        );
    }

    #[test]
    fn interpolates_doubles() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![Some(vec![
            Some(5.0),
            Some(5.0),
            Some(10.0),
            Some(12.0),
            Some(5000.0),
        ])]));
        let (out, _) = with_ctx(DataType::Float64, 1, |ctx| {
            percentile(&a, &pcts(vec![Some(99.0)]), EsType::Double, ctx.sink).unwrap()
        });
        assert_eq!(out.as_primitive::<Float64Type>().value(0), 12.0 + 0.96 * 4988.0);
    }

    #[test]
    fn long_interpolation_is_exact_beyond_2_pow_53() {
        assert_eq!(exact_long_interpolation(0.5, 0, i64::MAX), 4611686018427387903);
        assert_eq!(exact_long_interpolation(0.5, i64::MIN, 1), -4611686018427387903);
        assert_eq!(exact_long_interpolation(0.0, 7, 9), 7);
        assert_eq!(exact_long_interpolation(0.25, i64::MIN, i64::MIN + 4), i64::MIN + 1);
    }

    #[test]
    fn resolves() {
        let r =
            check(&DEF, "mv_percentile(x, 50)", &[(EsType::Long, true, "x"), (EsType::Integer, false, "50")]).unwrap();
        assert_eq!(r.ty, EsType::Long);
        assert_eq!(r.casts, vec![None, Some(EsType::Double)]);
        let e =
            check(&DEF, "mv_percentile(x, 50)", &[(EsType::UnsignedLong, true, "x"), (EsType::Integer, false, "50")])
                .unwrap_err();
        assert_eq!(
            e,
            "first argument of [mv_percentile(x, 50)] must be [numeric except unsigned_long], found value [x] type [unsigned_long]"
        );
    }
}

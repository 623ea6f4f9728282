//! `ROUND(number [, decimals])`: the number rounded half away from zero to `decimals` decimal
//! places (0 by default; negative values round to tens, hundreds, ...). The result keeps the
//! number's type; a whole result that no longer fits its type gives null with an overflow
//! warning. Like Elastic, `ROUND` of a whole number without decimals returns the number as
//! is, multi-values included.

use super::{Pos, arith, arity, effective, is_string_literal, null_result, numeric_param, report, type_err};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::datatypes as t;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `ROUND`.
pub static DEF: ScalarDef = ScalarDef { name: "round", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("round", args, 1, 2)?;
    let c0 = numeric_param(call, args, 0, Pos::Nth(0))?;
    let mut casts = vec![c0];
    if let Some(d) = args.get(1) {
        if matches!(d.ty, EsType::Null | EsType::Integer | EsType::Long) {
            casts.push(None);
        } else if is_string_literal(d) {
            casts.push(Some(EsType::Integer));
        } else {
            return Err(type_err(call, d, Pos::Nth(1), "whole number except unsigned_long or counter types"));
        }
    }
    let ty = effective(&args[0], c0);
    Ok(Resolved { ty, multi: args[0].multi && args.len() == 1 && ty.is_whole(), casts })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    if ty == EsType::Null {
        return Ok(null_result());
    }
    if p.args.len() == 1 {
        return if ty == EsType::Double {
            super::plan_unary_double("round", super::single_valued(p), |x| Ok(round_double(x, 0)))
        } else {
            // Whole numbers are already rounded to 0 decimals.
            Ok(p.args.into_iter().next().expect("invariant: one argument"))
        };
    }
    let p = super::single_valued(p);
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| round(&a[0], &a[1], ty, ctx));
    Ok(udf::call("round", ty.arrow(), p.sink, p.args, kernel))
}

/// Rounds each value of `values` (of type `ty`) to the matching number of `decimals`.
fn round(values: &ArrayRef, decimals: &ArrayRef, ty: EsType, ctx: &EvalCtx) -> Result<ArrayRef> {
    let values = &datafusion::arrow::compute::cast(values, &ty.arrow())?;
    let decimals = kernels::to_i64s(decimals)?;
    Ok(match ty {
        EsType::Double => kernels::f64_array(
            values
                .as_primitive::<t::Float64Type>()
                .iter()
                .zip(decimals)
                .map(|(v, d)| Some(round_double(v?, d?)))
                .collect(),
        ),
        EsType::Integer => kernels::i32_array(
            values
                .as_primitive::<t::Int32Type>()
                .iter()
                .zip(decimals)
                .map(|(v, d)| {
                    let r = round_long(i64::from(v?), d?)
                        .and_then(|x| i32::try_from(x).map_err(|_| arith("integer overflow")));
                    report(r, ctx)
                })
                .collect(),
        ),
        EsType::Long => kernels::i64_array(
            values
                .as_primitive::<t::Int64Type>()
                .iter()
                .zip(decimals)
                .map(|(v, d)| report(round_long(v?, d?), ctx))
                .collect(),
        ),
        EsType::UnsignedLong => kernels::u64_array(
            values
                .as_primitive::<t::UInt64Type>()
                .iter()
                .zip(decimals)
                .map(|(v, d)| report(round_unsigned(v?, d?), ctx))
                .collect(),
        ),
        other => return Err(DataFusionError::Internal(format!("round of {other}"))),
    })
}

/// `10^n` as Elastic computes it (exact table for small `n`, `pow` otherwise).
fn ten_power(n: i64) -> f64 {
    match n {
        0 => 1.0,
        1 => 10.0,
        2 => 100.0,
        3 => 1000.0,
        4 => 10000.0,
        5 => 100000.0,
        _ => libm::pow(10.0, n as f64),
    }
}

/// Rounds a double half away from zero to `precision` decimals, the way Elastic does: scale,
/// round the magnitude, scale back, restore the sign (so a negative number rounding to zero
/// gives `-0.0`).
pub fn round_double(x: f64, precision: i64) -> f64 {
    if x.is_nan() {
        return 0.0;
    }
    let ten = ten_power(precision);
    if ten == 0.0 || x == 0.0 {
        return 0.0;
    }
    let scaled = x * ten;
    if scaled.is_infinite() {
        return x;
    }
    let sign = if scaled >= 0.0 { 1.0 } else { -1.0 };
    let magnitude = scaled.abs();
    // Below 2^63 the magnitude may still have a fraction; above it every double is whole.
    let rounded = if magnitude < i64::MAX as f64 { magnitude.round() } else { magnitude };
    rounded / ten * sign
}

/// Rounds a long half away from zero at `10^-precision` (only negative precisions change it).
pub fn round_long(n: i64, precision: i64) -> std::result::Result<i64, String> {
    if n == 0 || precision >= 0 {
        return Ok(n);
    }
    // Every long is below 10^19, hence below half of 10^20.
    if precision <= -20 {
        return Ok(0);
    }
    let digits = u32::try_from(-precision).map_err(|_| arith("long overflow"))?;
    if digits == 19 {
        // Either zero or ±10^19, which does not fit.
        const HALF: i64 = 5_000_000_000_000_000_000;
        return if n >= HALF || n <= -HALF { Err(arith("long overflow")) } else { Ok(0) };
    }
    let ten = 10i64.pow(digits);
    let half = ten / 2;
    let (mut mid, rem) = (n / ten, n % ten);
    if rem >= half {
        mid += 1;
    } else if rem <= -half {
        mid -= 1;
    }
    mid.checked_mul(ten).ok_or_else(|| arith("long overflow"))
}

/// Rounds an unsigned long half up at `10^-precision`.
pub fn round_unsigned(n: u64, precision: i64) -> std::result::Result<u64, String> {
    if n == 0 || precision >= 0 {
        return Ok(n);
    }
    // u64::MAX is below half of 10^20.
    if precision <= -20 {
        return Ok(0);
    }
    let digits = u32::try_from(-precision).map_err(|_| arith("unsigned_long overflow"))?;
    let ten = 10u128.pow(digits);
    let n = u128::from(n);
    let mut mid = n / ten;
    if n % ten >= ten / 2 {
        mid += 1;
    }
    u64::try_from(mid * ten).map_err(|_| arith("unsigned_long overflow"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::math::test_util::run;
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn doubles() {
        assert_eq!(round_double(123.45, 1), 123.5);
        assert_eq!(round_double(123.45, 0), 123.0);
        assert_eq!(round_double(-123.5, 0), -124.0);
        assert_eq!(round_double(-123.45, -1), -120.0);
        assert_eq!(round_double(999.0, -1), 1000.0);
        assert_eq!(round_double(12350.0, -2), 12400.0);
        assert_eq!(round_double(12349.0, -2), 12300.0);
        assert_eq!(round_double(-123.56789, 3), -123.568);
        assert_eq!(round_double(123.456, i64::from(i32::MAX)), 123.456);
        assert_eq!(round_double(123.456, i64::from(i32::MIN)), 0.0);
        assert_eq!(round_double(1.23, 0), 1.0);
        assert!(round_double(-0.4, 0).is_sign_negative());
        assert_eq!(round_double(1e300, 2), 1e300);
    }

    #[test]
    fn longs() {
        assert_eq!(round_long(123, -1), Ok(120));
        assert_eq!(round_long(123, -2), Ok(100));
        assert_eq!(round_long(123, -3), Ok(0));
        assert_eq!(round_long(567, -3), Ok(1000));
        assert_eq!(round_long(5, -1), Ok(10));
        assert_eq!(round_long(125, -1), Ok(130));
        assert_eq!(round_long(-12350, -2), Ok(-12400));
        assert_eq!(round_long(-12349, -2), Ok(-12300));
        assert_eq!(round_long(123, -100), Ok(0));
        assert_eq!(round_long(i64::MAX, 5), Ok(i64::MAX));
        assert_eq!(round_long(i64::MIN, i64::MIN), Ok(0));
        assert_eq!(round_long(i64::MAX, -1), Err(arith("long overflow")));
        assert_eq!(round_long(i64::MAX, -19), Err(arith("long overflow")));
        assert_eq!(round_long(4_999_999_999_999_999_999, -19), Ok(0));
    }

    #[test]
    fn unsigned_longs() {
        assert_eq!(round_unsigned(9223372036854775804, -1), Ok(9223372036854775800));
        assert_eq!(round_unsigned(9223372036854775808, -1), Ok(9223372036854775810));
        assert_eq!(round_unsigned(18446744073709551614, -1), Ok(18446744073709551610));
        assert_eq!(round_unsigned(18446744073709551614, -4), Ok(18446744073709550000));
        assert_eq!(round_unsigned(u64::MAX, -6144415263046370459), Ok(0));
        assert_eq!(round_unsigned(u64::MAX, -20), Ok(0));
        assert_eq!(round_unsigned(12446744073709551615, -19), Ok(10000000000000000000));
        assert_eq!(round_unsigned(u64::MAX, -19), Err(arith("unsigned_long overflow")));
        assert_eq!(round_unsigned(u64::MAX, 3), Ok(u64::MAX));
    }

    #[test]
    fn integer_overflow_warns() {
        let (out, w) = run(2, DataType::Int32, |ctx| {
            round(
                &kernels::i32_array(vec![Some(i32::MAX), Some(1234)]),
                &kernels::i32_array(vec![Some(-1), Some(-2)]),
                EsType::Integer,
                ctx,
            )
            .unwrap()
        });
        assert_eq!(out.as_ref(), kernels::i32_array(vec![None, Some(1200)]).as_ref());
        assert_eq!(w, ["java.lang.ArithmeticException: integer overflow"]);
    }

    #[test]
    fn resolution() {
        let d = ArgInfo { ty: EsType::Double, multi: false, literal: None, text: "x" };
        let f = ArgInfo { ty: EsType::Double, multi: false, literal: None, text: "1.5" };
        assert_eq!(
            resolve("round(x, 1.5)", &[d.clone(), f]).unwrap_err(),
            "second argument of [round(x, 1.5)] must be [whole number except unsigned_long or counter types], found value [1.5] type [double]"
        );
        let k = ArgInfo { ty: EsType::Keyword, multi: false, literal: None, text: "k" };
        assert_eq!(
            resolve("round(k)", &[k]).unwrap_err(),
            "first argument of [round(k)] must be [numeric], found value [k] type [keyword]"
        );
        let n = ArgInfo { ty: EsType::Null, multi: false, literal: None, text: "null" };
        assert_eq!(resolve("round(null)", &[n]).unwrap().ty, EsType::Null);
        assert_eq!(resolve("round(x)", &[d]).unwrap().ty, EsType::Double);
    }
}

//! `MV_SUM(number)`: the sum of the values; integer types overflow to null with a warning.

use super::{CompensatedSum, MvArray, is_null_type, null_result};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels, type_error};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type, UInt64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_SUM`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_sum", mv_args: true, resolve, plan };

/// Type check for the numeric MV functions: one numeric argument, described as `numeric`.
pub fn resolve_numeric(name: &str, call: &str, args: &[ArgInfo]) -> Result<(), String> {
    expect_arity(name, args, 1, 1)?;
    let t = args[0].ty;
    if t != EsType::Null && !t.is_numeric() {
        return Err(type_error(call, args, 0, "numeric"));
    }
    Ok(())
}

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    resolve_numeric("mv_sum", call, args)?;
    Ok(Resolved::of(args[0].ty))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) {
            return Ok(null_result(ctx));
        }
        sum(&a[0], ty, ctx.sink)
    });
    Ok(udf::call("mv_sum", ty.arrow(), p.sink, p.args, kernel))
}

/// The kernel.
pub fn sum(a: &ArrayRef, ty: EsType, sink: &WarningSink) -> Result<ArrayRef> {
    let mv = MvArray::new(a);
    let rows = 0..mv.len();
    macro_rules! exact {
        ($T:ty, $build:path, $what:literal) => {{
            let v = mv.prim::<$T>()?;
            let out = rows
                .map(|r| {
                    let mut acc: Option<_> = None;
                    for j in mv.positions(r) {
                        let x = v.value(j);
                        acc = match acc {
                            None => Some(x),
                            Some(s) => match s.checked_add(x) {
                                Some(s) => Some(s),
                                None => {
                                    sink.null_because(concat!("java.lang.ArithmeticException: ", $what));
                                    return None;
                                }
                            },
                        };
                    }
                    acc
                })
                .collect();
            $build(out)
        }};
    }
    Ok(match ty {
        EsType::Integer => exact!(Int32Type, kernels::i32_array, "integer overflow"),
        EsType::Long => exact!(Int64Type, kernels::i64_array, "long overflow"),
        EsType::UnsignedLong => exact!(UInt64Type, kernels::u64_array, "unsigned_long overflow"),
        EsType::Double => {
            let v = mv.prim::<Float64Type>()?;
            let out = rows
                .map(|r| {
                    let mut s = CompensatedSum::default();
                    let mut any = false;
                    for j in mv.positions(r) {
                        s.add(v.value(j));
                        any = true;
                    }
                    any.then(|| s.value())
                })
                .collect();
            kernels::f64_array(out)
        }
        other => return Err(DataFusionError::Internal(format!("mv_sum of {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, ListArray};
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn sums_integers() {
        let a = int_lists(vec![
            Some(vec![Some(3), Some(5), Some(6)]),
            None,
            Some(vec![Some(-7), Some(3), Some(8), Some(10)]),
        ]);
        let (out, w) = with_ctx(DataType::Int32, 3, |ctx| sum(&a, EsType::Integer, ctx.sink).unwrap());
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(out.value(0), 14);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 14);
        assert!(w.is_empty());
    }

    #[test]
    fn integer_overflow_is_null_with_warning() {
        let a = int_lists(vec![Some(vec![Some(0), Some(1), Some(i32::MAX)])]);
        let (out, w) = with_ctx(DataType::Int32, 1, |ctx| sum(&a, EsType::Integer, ctx.sink).unwrap());
        assert!(out.is_null(0));
        assert_eq!(w[1], "Line 1:1: java.lang.ArithmeticException: integer overflow");
    }

    #[test]
    fn unsigned_long_overflow() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<UInt64Type, _, _>(vec![
            Some(vec![Some(1), Some(9223372036854775806), Some(9223372036854775808)]),
            Some(vec![Some(0), Some(1), Some(u64::MAX)]),
        ]));
        let (out, w) = with_ctx(DataType::UInt64, 2, |ctx| sum(&a, EsType::UnsignedLong, ctx.sink).unwrap());
        assert_eq!(out.as_primitive::<UInt64Type>().value(0), u64::MAX);
        assert!(out.is_null(1));
        assert_eq!(w[1], "Line 1:1: java.lang.ArithmeticException: unsigned_long overflow");
    }

    #[test]
    fn resolves_numeric_only() {
        assert_eq!(check(&DEF, "mv_sum(x)", &[(EsType::Long, true, "x")]).unwrap().ty, EsType::Long);
        let e = check(&DEF, "mv_sum(k)", &[(EsType::Keyword, true, "k")]).unwrap_err();
        assert_eq!(e, "argument of [mv_sum(k)] must be [numeric], found value [k] type [keyword]");
    }
}

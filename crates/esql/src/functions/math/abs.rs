//! `ABS(number)`: the absolute value, of the argument's own type. The one integer and long
//! value whose absolute value does not fit (`MIN_VALUE`) gives null with a warning. As in
//! Elastic, an unsigned long is returned as is, multi-values included.

use super::{Pos, arith, arity, effective, null_result, numeric_param, report};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::datatypes as t;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `ABS`.
pub static DEF: ScalarDef = ScalarDef { name: "abs", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("abs", args, 1, 1)?;
    let cast = numeric_param(call, args, 0, Pos::Default)?;
    let ty = effective(&args[0], cast);
    Ok(Resolved { ty, multi: args[0].multi && ty == EsType::UnsignedLong, casts: vec![cast] })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    match ty {
        EsType::Null => return Ok(null_result()),
        // Unsigned values are their own absolute value.
        EsType::UnsignedLong => return Ok(p.args.into_iter().next().expect("invariant: one argument")),
        _ => {}
    }
    let p = super::single_valued(p);
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| abs(&a[0], ty, ctx));
    Ok(udf::call("abs", ty.arrow(), p.sink, p.args, kernel))
}

fn abs(a: &ArrayRef, ty: EsType, ctx: &EvalCtx) -> Result<ArrayRef> {
    let a = &datafusion::arrow::compute::cast(a, &ty.arrow())?;
    Ok(match ty {
        EsType::Double => {
            kernels::f64_array(a.as_primitive::<t::Float64Type>().iter().map(|v| v.map(f64::abs)).collect())
        }
        EsType::Integer => kernels::i32_array(
            a.as_primitive::<t::Int32Type>()
                .iter()
                .map(|v| {
                    v.and_then(|x| {
                        report(
                            x.checked_abs()
                                .ok_or_else(|| arith("Overflow to represent absolute value of Integer.MIN_VALUE")),
                            ctx,
                        )
                    })
                })
                .collect(),
        ),
        EsType::Long => kernels::i64_array(
            a.as_primitive::<t::Int64Type>()
                .iter()
                .map(|v| {
                    v.and_then(|x| {
                        report(
                            x.checked_abs()
                                .ok_or_else(|| arith("Overflow to represent absolute value of Long.MIN_VALUE")),
                            ctx,
                        )
                    })
                })
                .collect(),
        ),
        other => return Err(DataFusionError::Internal(format!("abs of {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::math::test_util::{doubles, run};
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn keeps_the_type() {
        let i = ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "x" };
        assert_eq!(resolve("abs(x)", &[i]).unwrap().ty, EsType::Integer);
        let n = ArgInfo { ty: EsType::Null, multi: false, literal: None, text: "null" };
        assert_eq!(resolve("abs(null)", &[n]).unwrap().ty, EsType::Null);
        let k = ArgInfo { ty: EsType::Keyword, multi: false, literal: None, text: "k" };
        assert_eq!(
            resolve("abs(k)", &[k]).unwrap_err(),
            "argument of [abs(k)] must be [numeric], found value [k] type [keyword]"
        );
    }

    #[test]
    fn values_and_overflow() {
        let (out, w) = run(3, DataType::Int32, |ctx| {
            abs(&kernels::i32_array(vec![Some(-5), Some(i32::MIN), None]), EsType::Integer, ctx).unwrap()
        });
        assert_eq!(out.as_ref(), kernels::i32_array(vec![Some(5), None, None]).as_ref());
        assert_eq!(w, ["java.lang.ArithmeticException: Overflow to represent absolute value of Integer.MIN_VALUE"]);
        let (out, w) = run(2, DataType::Float64, |ctx| {
            abs(&kernels::f64_array(vec![Some(-1.5), Some(-0.0)]), EsType::Double, ctx).unwrap()
        });
        assert_eq!(doubles(&out), [Some(1.5), Some(0.0)]);
        assert!(w.is_empty());
    }
}

//! `MV_PSERIES_WEIGHTED_SUM(number, p)`: the sum of the values, the i-th (from 1) divided by
//! `i^p`; `p` must be a constant. A non-finite sum is null with a warning.

use super::{CompensatedSum, MvArray, is_null_type, mismatch, null_result};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_PSERIES_WEIGHTED_SUM`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_pseries_weighted_sum", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_pseries_weighted_sum", args, 2, 2)?;
    for (i, a) in args.iter().enumerate() {
        if a.ty != EsType::Double && a.ty != EsType::Null {
            return Err(mismatch(call, a, i, "double"));
        }
    }
    if args[1].ty == EsType::Null {
        return Ok(Resolved::of(EsType::Null));
    }
    if args[1].literal.is_none() {
        return Err(format!("second argument of [{call}] must be a constant, received [{}]", args[1].text));
    }
    Ok(Resolved::of(args[0].ty))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let power = match p.literals.get(1).copied().flatten() {
        Some(Literal::Double(d)) => Some(*d),
        _ => None,
    };
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| match power {
        Some(power) if !is_null_type(&a[0]) => weighted_sum(&a[0], power, ctx.sink),
        _ => Ok(null_result(ctx)),
    });
    let ret = if ty == EsType::Null { DataType::Null } else { DataType::Float64 };
    Ok(udf::call("mv_pseries_weighted_sum", ret, p.sink, p.args, kernel))
}

/// The kernel.
pub fn weighted_sum(a: &ArrayRef, power: f64, sink: &WarningSink) -> Result<ArrayRef> {
    let mv = MvArray::new(a);
    let v = mv.prim::<Float64Type>()?;
    let out = (0..mv.len())
        .map(|r| {
            if mv.count(r) == 0 {
                return None;
            }
            let mut s = CompensatedSum::default();
            for (i, j) in mv.positions(r).enumerate() {
                s.add(v.value(j) / ((i + 1) as f64).powf(power));
            }
            if s.value().is_finite() {
                Some(s.value())
            } else {
                sink.null_because("java.lang.ArithmeticException: double overflow");
                None
            }
        })
        .collect();
    Ok(kernels::f64_array(out))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, ListArray};

    #[test]
    fn weighted_sum_of_docs_example() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(70.0), Some(45.0), Some(21.0), Some(21.0), Some(21.0)]),
            None,
            Some(vec![Some(f64::MAX), Some(f64::MAX)]),
        ]));
        let (out, w) = with_ctx(DataType::Float64, 3, |ctx| weighted_sum(&a, 1.5, ctx.sink).unwrap());
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 94.45465156212452);
        assert!(out.is_null(1));
        assert!(out.is_null(2));
        assert_eq!(w[1], "Line 1:1: java.lang.ArithmeticException: double overflow");
    }

    #[test]
    fn resolves() {
        let lit = Literal::Double(1.5);
        let r =
            check_lit(&DEF, "f(a, 1.5)", &[(EsType::Double, true, "a"), (EsType::Double, false, "1.5")], &[(1, lit)])
                .unwrap();
        assert_eq!(r.ty, EsType::Double);
        let e = check(&DEF, "f(a, b)", &[(EsType::Double, true, "a"), (EsType::Double, false, "b")]).unwrap_err();
        assert_eq!(e, "second argument of [f(a, b)] must be a constant, received [b]");
        let e = check(&DEF, "f(a, 1)", &[(EsType::Integer, true, "a"), (EsType::Integer, false, "1")]).unwrap_err();
        assert_eq!(e, "first argument of [f(a, 1)] must be [double], found value [a] type [integer]");
    }
}

//! `TO_DEGREES(number)`: converts radians to degrees. Like the conversion functions it accepts
//! multi-valued input and converts every value; a value whose result is not finite is dropped
//! with a warning.

use super::{Pos, arity, finite, report, type_err};
use crate::functions::values::map_values;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `TO_DEGREES`.
pub static DEF: ScalarDef = ScalarDef { name: "to_degrees", mv_args: true, resolve, plan };

/// Resolves `TO_DEGREES` and `TO_RADIANS`: one numeric, possibly multi-valued, argument.
pub fn resolve_angle(name: &str, call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity(name, args, 1, 1)?;
    let a = &args[0];
    if a.ty != EsType::Null && !a.ty.is_numeric() {
        return Err(type_err(call, a, Pos::Default, "double, integer, long or unsigned_long"));
    }
    Ok(Resolved { ty: EsType::Double, multi: a.multi, casts: Vec::new() })
}

/// Plans `TO_DEGREES` and `TO_RADIANS`: `f` on every value.
pub fn plan_angle(name: &'static str, p: PlanArgs, f: fn(f64) -> f64) -> Result<Expr> {
    let from = p.types[0];
    let ret = EsType::Double.arrow_column(p.resolved.multi);
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| convert(&a[0], from, f, ctx));
    Ok(udf::call(name, ret, p.sink, p.args, kernel))
}

fn convert(a: &ArrayRef, from: EsType, f: fn(f64) -> f64, ctx: &EvalCtx) -> Result<ArrayRef> {
    map_values(a, from, EsType::Double, |v| {
        let x = match v {
            Literal::Integer(i) => f64::from(i),
            Literal::Long(l) => l as f64,
            Literal::UnsignedLong(u) => u as f64,
            Literal::Double(d) => d,
            _ => return Literal::Null,
        };
        report(finite(f(x)), ctx).map_or(Literal::Null, Literal::Double)
    })
}

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_angle("to_degrees", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_angle("to_degrees", p, f64::to_degrees)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::kernels::{f64_array, to_list};
    use crate::functions::math::test_util::{doubles, run};
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn every_value_is_converted() {
        let list = to_list(&f64_array(vec![Some(1.57), None]), EsType::Double).unwrap();
        let (out, w) = run(2, DataType::Float64, |ctx| convert(&list, EsType::Double, f64::to_degrees, ctx).unwrap());
        let l = out.as_list::<i32>();
        assert_eq!(doubles(&l.value(0)), [Some(89.95437383553924)]);
        assert!(l.is_null(1));
        assert!(w.is_empty());
    }

    #[test]
    fn overflow_is_dropped_with_a_warning() {
        let (out, w) = run(1, DataType::Float64, |ctx| {
            convert(&f64_array(vec![Some(1e307)]), EsType::Double, f64::to_degrees, ctx).unwrap()
        });
        assert_eq!(doubles(&out), [None]);
        assert_eq!(w, ["java.lang.ArithmeticException: not a finite double number: Infinity"]);
    }

    #[test]
    fn type_error_lists_the_types() {
        let k = ArgInfo { ty: EsType::Keyword, multi: false, literal: None, text: "k" };
        assert_eq!(
            resolve("to_degrees(k)", &[k]).unwrap_err(),
            "argument of [to_degrees(k)] must be [double, integer, long or unsigned_long], found value [k] type [keyword]"
        );
    }
}

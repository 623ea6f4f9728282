//! `GREATEST(first, rest...)`: the largest value of all the arguments, where a multi-valued
//! argument contributes its largest value. Any null argument makes the result null. Works on
//! numbers (mixed numeric types widen), strings (byte order), booleans (`true` if any is
//! true), ips, versions and dates.

use super::{Pos, arity, pick_extreme, type_err};
use crate::analyzer::widen_numeric;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `GREATEST`.
pub static DEF: ScalarDef = ScalarDef { name: "greatest", mv_args: true, resolve, plan };

/// Types `GREATEST` and `LEAST` accept.
const COMPARABLE: &[EsType] = &[
    EsType::Boolean,
    EsType::Integer,
    EsType::Long,
    EsType::UnsignedLong,
    EsType::Double,
    EsType::Keyword,
    EsType::Text,
    EsType::Ip,
    EsType::Version,
    EsType::Date,
    EsType::DateNanos,
];

/// Resolves `GREATEST` / `LEAST`: the first non-null argument sets the type (text counts as
/// keyword); the others must have it too, except that numeric types mix and widen.
pub fn resolve_extreme(name: &str, call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity(name, args, 1, usize::MAX)?;
    let mut ty = EsType::Null;
    for (i, a) in args.iter().enumerate() {
        let t = if a.ty == EsType::Text { EsType::Keyword } else { a.ty };
        if t == EsType::Null {
            continue;
        }
        if ty == EsType::Null {
            if !COMPARABLE.contains(&t) {
                return Err(type_err(
                    call,
                    a,
                    Pos::Nth(i),
                    "boolean, date, date_nanos, double, integer, ip, keyword, long, text or version",
                ));
            }
            ty = t;
            continue;
        }
        if t == ty {
            continue;
        }
        match widen_numeric(ty, t) {
            Some(w) => ty = w,
            None => return Err(type_err(call, a, Pos::Nth(i), super::type_name(ty))),
        }
    }
    let casts = args.iter().map(|a| if a.ty.is_numeric() && a.ty != ty { Some(ty) } else { None }).collect();
    Ok(Resolved { ty, multi: false, casts })
}

/// Plans `GREATEST` (`max`) or `LEAST`.
pub fn plan_extreme(name: &'static str, p: PlanArgs, max: bool) -> Result<Expr> {
    let ty = p.resolved.ty;
    if ty == EsType::Null {
        return Ok(super::null_result());
    }
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| extreme(a, max, ty, ctx));
    Ok(udf::call(name, ty.arrow(), p.sink, p.args, kernel))
}

/// Reduces each (possibly multi-valued) argument to its own extreme, then takes the extreme
/// across the arguments.
fn extreme(args: &[ArrayRef], max: bool, ty: EsType, _ctx: &EvalCtx) -> Result<ArrayRef> {
    let singles =
        args.iter().map(|a| if max { kernels::mv_max(a) } else { kernels::mv_min(a) }).collect::<Result<Vec<_>>>()?;
    pick_extreme(&singles, max, &ty.arrow())
}

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_extreme("greatest", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_extreme("greatest", p, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::kernels::{bool_array, i32_array, to_list};
    use crate::functions::math::test_util::run;
    use datafusion::arrow::datatypes::DataType;

    fn info(ty: EsType, text: &str) -> ArgInfo<'_> {
        ArgInfo { ty, multi: false, literal: None, text }
    }

    #[test]
    fn multi_values_use_every_value() {
        let mv = to_list(&i32_array(vec![Some(10), None]), EsType::Integer).unwrap();
        let (out, _) = run(2, DataType::Int32, |ctx| {
            extreme(&[mv.clone(), i32_array(vec![Some(1), Some(1)])], true, EsType::Integer, ctx).unwrap()
        });
        assert_eq!(out.as_ref(), i32_array(vec![Some(10), None]).as_ref());
    }

    #[test]
    fn booleans() {
        let (out, _) = run(2, DataType::Boolean, |ctx| {
            extreme(
                &[bool_array(vec![Some(false), Some(false)]), bool_array(vec![Some(true), Some(false)])],
                true,
                EsType::Boolean,
                ctx,
            )
            .unwrap()
        });
        assert_eq!(out.as_ref(), bool_array(vec![Some(true), Some(false)]).as_ref());
    }

    #[test]
    fn types() {
        let r = resolve(
            "greatest(a, b, c)",
            &[info(EsType::Double, "a"), info(EsType::Integer, "b"), info(EsType::Null, "c")],
        )
        .unwrap();
        assert_eq!(r.ty, EsType::Double);
        assert_eq!(r.casts, [None, Some(EsType::Double), None]);
        let r = resolve("greatest(a, b)", &[info(EsType::Text, "a"), info(EsType::Keyword, "b")]).unwrap();
        assert_eq!(r.ty, EsType::Keyword);
        assert_eq!(
            resolve("greatest(a, b)", &[info(EsType::Integer, "a"), info(EsType::Keyword, "b")]).unwrap_err(),
            "second argument of [greatest(a, b)] must be [integer], found value [b] type [keyword]"
        );
        assert_eq!(resolve("greatest(null)", &[info(EsType::Null, "null")]).unwrap().ty, EsType::Null);
    }
}

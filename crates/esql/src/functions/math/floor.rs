//! `FLOOR(number)`: the largest whole number not above the argument. Whole-number types are
//! returned unchanged (multi-values included, as in
//! Elastic); the result keeps the argument's type.

use super::{Pos, arity, effective, null_result, numeric_param};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `FLOOR`.
pub static DEF: ScalarDef = ScalarDef { name: "floor", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("floor", args, 1, 1)?;
    let cast = numeric_param(call, args, 0, Pos::Default)?;
    let ty = effective(&args[0], cast);
    Ok(Resolved { ty, multi: args[0].multi && ty.is_whole(), casts: vec![cast] })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    match p.resolved.ty {
        EsType::Null => Ok(null_result()),
        EsType::Double => super::plan_unary_double("floor", super::single_valued(p), floor),
        _ => Ok(p.args.into_iter().next().expect("invariant: one argument")),
    }
}

fn floor(x: f64) -> std::result::Result<f64, String> {
    Ok(x.floor())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(floor(1.8), Ok(1.0));
        assert_eq!(floor(-1.8), Ok(-2.0));
        assert_eq!(floor(0.5), Ok(0.0));
    }

    #[test]
    fn keeps_whole_types() {
        let l = ArgInfo { ty: EsType::Long, multi: false, literal: None, text: "x" };
        assert_eq!(resolve("floor(x)", &[l]).unwrap().ty, EsType::Long);
    }
}

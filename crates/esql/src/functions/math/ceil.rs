//! `CEIL(number)`: the smallest whole number not below the argument. Whole-number types are
//! returned unchanged (multi-values included, as in
//! Elastic); the result keeps the argument's type.

use super::{Pos, arity, effective, null_result, numeric_param};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `CEIL`.
pub static DEF: ScalarDef = ScalarDef { name: "ceil", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("ceil", args, 1, 1)?;
    let cast = numeric_param(call, args, 0, Pos::Default)?;
    let ty = effective(&args[0], cast);
    Ok(Resolved { ty, multi: args[0].multi && ty.is_whole(), casts: vec![cast] })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    match p.resolved.ty {
        EsType::Null => Ok(null_result()),
        EsType::Double => super::plan_unary_double("ceil", super::single_valued(p), ceil),
        _ => Ok(p.args.into_iter().next().expect("invariant: one argument")),
    }
}

fn ceil(x: f64) -> std::result::Result<f64, String> {
    Ok(x.ceil())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(ceil(1.8), Ok(2.0));
        assert_eq!(ceil(-1.8), Ok(-1.0));
        assert!(ceil(-0.5).unwrap().is_sign_negative());
    }

    #[test]
    fn keeps_whole_types() {
        let l = ArgInfo { ty: EsType::Long, multi: false, literal: None, text: "x" };
        assert_eq!(resolve("ceil(x)", &[l]).unwrap().ty, EsType::Long);
    }
}

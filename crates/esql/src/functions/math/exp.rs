//! `EXP(number)`: e raised to the number; null with a warning when it overflows.

use super::{plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `EXP`.
pub static DEF: ScalarDef = ScalarDef { name: "exp", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("exp", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("exp", p, exp)
}

fn exp(x: f64) -> std::result::Result<f64, String> {
    Ok(libm::exp(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(exp(5.0), Ok(148.4131591025766));
        assert_eq!(exp(0.0), Ok(1.0));
    }
}

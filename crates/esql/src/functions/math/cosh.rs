//! `COSH(number)`: the hyperbolic cosine; null with a warning when it overflows.

use super::{arith, plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `COSH`.
pub static DEF: ScalarDef = ScalarDef { name: "cosh", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("cosh", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("cosh", p, cosh)
}

fn cosh(x: f64) -> std::result::Result<f64, String> {
    let r = libm::cosh(x);
    if r.is_finite() { Ok(r) } else { Err(arith("cosh overflow")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(cosh(1.8), Ok(3.1074731763172667));
        assert_eq!(cosh(2.0), Ok(3.7621956910836314));
        assert_eq!(cosh(1000.0), Err(arith("cosh overflow")));
    }
}

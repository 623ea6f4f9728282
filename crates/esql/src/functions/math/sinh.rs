//! `SINH(number)`: the hyperbolic sine; null with a warning when it overflows.

use super::{arith, plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `SINH`.
pub static DEF: ScalarDef = ScalarDef { name: "sinh", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("sinh", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("sinh", p, sinh)
}

fn sinh(x: f64) -> std::result::Result<f64, String> {
    let r = libm::sinh(x);
    if r.is_finite() { Ok(r) } else { Err(arith("sinh overflow")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(sinh(1.8), Ok(2.94217428809568));
        assert_eq!(sinh(2.0), Ok(3.626860407847019));
        assert_eq!(sinh(-1000.0), Err(arith("sinh overflow")));
    }
}

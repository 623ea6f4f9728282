//! `CBRT(number)`: the cube root.

use super::{plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `CBRT`.
pub static DEF: ScalarDef = ScalarDef { name: "cbrt", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("cbrt", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("cbrt", p, cbrt)
}

fn cbrt(x: f64) -> std::result::Result<f64, String> {
    Ok(libm::cbrt(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(cbrt(1000.0), Ok(10.0));
        assert_eq!(cbrt(1e18), Ok(1e6));
        assert_eq!(cbrt(-1.0), Ok(-1.0));
    }
}

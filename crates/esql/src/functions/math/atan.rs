//! `ATAN(number)`: the arctangent, in radians.

use super::{plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `ATAN`.
pub static DEF: ScalarDef = ScalarDef { name: "atan", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("atan", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("atan", p, atan)
}

fn atan(x: f64) -> std::result::Result<f64, String> {
    Ok(libm::atan(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(atan(12.9), Ok(1.4934316673669235));
        assert_eq!(atan(2.0), Ok(1.1071487177940904));
    }
}

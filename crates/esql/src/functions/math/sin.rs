//! `SIN(angle)`: the sine of an angle in radians.

use super::{plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `SIN`.
pub static DEF: ScalarDef = ScalarDef { name: "sin", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("sin", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("sin", p, sin)
}

fn sin(x: f64) -> std::result::Result<f64, String> {
    Ok(libm::sin(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(sin(1.8), Ok(0.9738476308781951));
        assert_eq!(sin(2.0), Ok(0.9092974268256817));
    }
}

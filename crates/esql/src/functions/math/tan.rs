//! `TAN(angle)`: the tangent of an angle in radians.

use super::{plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `TAN`.
pub static DEF: ScalarDef = ScalarDef { name: "tan", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("tan", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("tan", p, tan)
}

fn tan(x: f64) -> std::result::Result<f64, String> {
    Ok(libm::tan(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(tan(1.8), Ok(-4.286261674628062));
        assert_eq!(tan(2.0), Ok(-2.185039863261519));
    }
}

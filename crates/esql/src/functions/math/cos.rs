//! `COS(angle)`: the cosine of an angle in radians.

use super::{plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `COS`.
pub static DEF: ScalarDef = ScalarDef { name: "cos", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("cos", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("cos", p, cos)
}

fn cos(x: f64) -> std::result::Result<f64, String> {
    Ok(libm::cos(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(cos(1.8), Ok(-0.2272020946930871));
        assert_eq!(cos(2.0), Ok(-0.4161468365471424));
    }
}

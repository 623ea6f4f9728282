//! `HYPOT(number1, number2)`: the hypotenuse, `sqrt(a² + b²)` without intermediate overflow;
//! null with a warning when the result is not finite.

use super::{plan_binary_double, resolve_binary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `HYPOT`.
pub static DEF: ScalarDef = ScalarDef { name: "hypot", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_binary_double("hypot", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_binary_double("hypot", p, hypot)
}

fn hypot(a: f64, b: f64) -> std::result::Result<f64, String> {
    Ok(libm::hypot(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(hypot(3.0, 4.0), Ok(5.0));
        assert_eq!(hypot(3448205404634246112.0, 5409549730889481641.0), Ok(6.415087591258227E18));
    }
}

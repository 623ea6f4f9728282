//! `POW(base, exponent)`: the base raised to the exponent, always a double; null with a warning
//! when the result is not a finite number (`POW(-4, 0.5)`, `POW(2, 1e19)`).

use super::{plan_binary_double, resolve_binary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `POW`.
pub static DEF: ScalarDef = ScalarDef { name: "pow", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_binary_double("pow", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_binary_double("pow", p, pow)
}

fn pow(base: f64, exponent: f64) -> std::result::Result<f64, String> {
    Ok(libm::pow(base, exponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(pow(2.0, 2.0), Ok(4.0));
        assert_eq!(pow(4.0, 0.5), Ok(2.0));
        assert_eq!(pow(9223372036854775808.0, -0.1), Ok(0.012691443693066178));
    }
}

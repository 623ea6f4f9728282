//! `LOG10(number)`: the base-10 logarithm; null with a warning for zero and negatives.

use super::{arith, plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `LOG10`.
pub static DEF: ScalarDef = ScalarDef { name: "log10", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("log10", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("log10", p, log10)
}

fn log10(x: f64) -> std::result::Result<f64, String> {
    if x <= 0.0 {
        return Err(arith("Log of non-positive number"));
    }
    Ok(libm::log10(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(log10(1000.0), Ok(3.0));
        assert_eq!(log10(1e18), Ok(18.0));
        assert_eq!(log10(0.0), Err(arith("Log of non-positive number")));
        assert_eq!(log10(-0.0), Err(arith("Log of non-positive number")));
    }
}

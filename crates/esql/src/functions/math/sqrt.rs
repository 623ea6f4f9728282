//! `SQRT(number)`: the square root; null with a warning for negatives (`-0.0` stays `-0.0`).

use super::{arith, plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `SQRT`.
pub static DEF: ScalarDef = ScalarDef { name: "sqrt", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("sqrt", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("sqrt", p, sqrt)
}

fn sqrt(x: f64) -> std::result::Result<f64, String> {
    if x < 0.0 {
        return Err(arith("Square root of negative"));
    }
    Ok(x.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(sqrt(100.0), Ok(10.0));
        assert_eq!(sqrt(1e18), Ok(1e9));
        assert_eq!(sqrt(-1.0), Err(arith("Square root of negative")));
    }
}

//! `ASIN(number)`: the arcsine, in radians; null with a warning outside [-1, 1].

use super::{arith, plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `ASIN`.
pub static DEF: ScalarDef = ScalarDef { name: "asin", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("asin", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("asin", p, asin)
}

fn asin(x: f64) -> std::result::Result<f64, String> {
    if x.abs() > 1.0 {
        return Err(arith("Asin input out of range"));
    }
    Ok(libm::asin(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(asin(0.9), Ok(1.1197695149986342));
        assert_eq!(asin(1.0), Ok(std::f64::consts::FRAC_PI_2));
        assert_eq!(asin(-12.0), Err(arith("Asin input out of range")));
    }
}

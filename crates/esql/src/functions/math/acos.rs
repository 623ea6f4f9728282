//! `ACOS(number)`: the arccosine, in radians; null with a warning outside [-1, 1].

use super::{arith, plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `ACOS`.
pub static DEF: ScalarDef = ScalarDef { name: "acos", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("acos", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("acos", p, acos)
}

fn acos(x: f64) -> std::result::Result<f64, String> {
    if x.abs() > 1.0 {
        return Err(arith("Acos input out of range"));
    }
    Ok(libm::acos(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(acos(0.9), Ok(0.45102681179626236));
        assert_eq!(acos(1.0), Ok(0.0));
        assert_eq!(acos(12.0), Err(arith("Acos input out of range")));
    }
}

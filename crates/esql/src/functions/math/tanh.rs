//! `TANH(number)`: the hyperbolic tangent.

use super::{plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `TANH`.
pub static DEF: ScalarDef = ScalarDef { name: "tanh", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("tanh", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("tanh", p, tanh)
}

fn tanh(x: f64) -> std::result::Result<f64, String> {
    Ok(libm::tanh(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(tanh(1.8), Ok(0.9468060128462683));
        assert_eq!(tanh(2.0), Ok(0.9640275800758169));
    }
}

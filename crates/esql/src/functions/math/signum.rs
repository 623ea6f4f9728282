//! `SIGNUM(number)`: -1.0, 0.0 or 1.0 by the sign of the number, always a double.

use super::{plan_unary_double, resolve_unary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `SIGNUM`.
pub static DEF: ScalarDef = ScalarDef { name: "signum", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_unary_double("signum", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_unary_double("signum", p, signum)
}

fn signum(x: f64) -> std::result::Result<f64, String> {
    Ok(if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(signum(100.0), Ok(1.0));
        assert_eq!(signum(-100.0), Ok(-1.0));
        assert_eq!(signum(0.0), Ok(0.0));
    }
}

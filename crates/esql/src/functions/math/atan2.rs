//! `ATAN2(y_coordinate, x_coordinate)`: the angle, in radians, between the positive x axis and
//! the ray from the origin to the point (x, y).

use super::{plan_binary_double, resolve_binary_double};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `ATAN2`.
pub static DEF: ScalarDef = ScalarDef { name: "atan2", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_binary_double("atan2", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_binary_double("atan2", p, atan2)
}

fn atan2(y: f64, x: f64) -> std::result::Result<f64, String> {
    Ok(libm::atan2(y, x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(atan2(12.9, 0.6), Ok(1.5243181954438936));
        assert_eq!(atan2(2.0, 12.0), Ok(0.16514867741462683));
    }
}

//! `TO_RADIANS(number)`: converts degrees to radians, every value of a multi-valued input.

use super::to_degrees::{plan_angle, resolve_angle};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `TO_RADIANS`.
pub static DEF: ScalarDef = ScalarDef { name: "to_radians", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_angle("to_radians", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_angle("to_radians", p, f64::to_radians)
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_constant_as_java() {
        assert_eq!(270f64.to_radians(), 4.71238898038469);
        assert_eq!(90f64.to_radians(), std::f64::consts::FRAC_PI_2);
    }
}

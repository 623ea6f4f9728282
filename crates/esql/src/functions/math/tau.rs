//! `TAU()`: the ratio of a circle's circumference to its radius.

use super::arity;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::{Expr, lit};

/// `TAU`.
pub static DEF: ScalarDef = ScalarDef { name: "tau", mv_args: false, resolve, plan };

/// The value.
pub const VALUE: f64 = std::f64::consts::TAU;

fn resolve(_call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("tau", args, 0, 0)?;
    Ok(Resolved::of(EsType::Double))
}

fn plan(_p: PlanArgs) -> Result<Expr> {
    Ok(lit(VALUE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_and_arity() {
        assert_eq!(crate::convert::format_double(VALUE), "6.283185307179586");
        assert_eq!(resolve("TAU()", &[]), Ok(Resolved::of(EsType::Double)));
        let a = ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "1" };
        assert_eq!(resolve("TAU(1)", &[a]).unwrap_err(), "error building [tau]: expects no arguments");
    }
}

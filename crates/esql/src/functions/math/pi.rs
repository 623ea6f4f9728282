//! `PI()`: the ratio of a circle's circumference to its diameter.

use super::arity;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::{Expr, lit};

/// `PI`.
pub static DEF: ScalarDef = ScalarDef { name: "pi", mv_args: false, resolve, plan };

/// The value.
pub const VALUE: f64 = std::f64::consts::PI;

fn resolve(_call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("pi", args, 0, 0)?;
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
        assert_eq!(crate::convert::format_double(VALUE), "3.141592653589793");
        assert_eq!(resolve("PI()", &[]), Ok(Resolved::of(EsType::Double)));
        let a = ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "1" };
        assert_eq!(resolve("PI(1)", &[a]).unwrap_err(), "error building [pi]: expects no arguments");
    }
}

//! `E()`: Euler's number.

use super::arity;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::{Expr, lit};

/// `E`.
pub static DEF: ScalarDef = ScalarDef { name: "e", mv_args: false, resolve, plan };

/// The value.
pub const VALUE: f64 = std::f64::consts::E;

fn resolve(_call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("e", args, 0, 0)?;
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
        assert_eq!(crate::convert::format_double(VALUE), "2.718281828459045");
        assert_eq!(resolve("E()", &[]), Ok(Resolved::of(EsType::Double)));
        let a = ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "1" };
        assert_eq!(resolve("E(1)", &[a]).unwrap_err(), "error building [e]: expects no arguments");
    }
}

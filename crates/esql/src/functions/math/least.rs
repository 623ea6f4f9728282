//! `LEAST(first, rest...)`: the smallest value of all the arguments, where a multi-valued
//! argument contributes its smallest value. Any null argument makes the result null. Same
//! types as [`super::greatest`] (`false` if any boolean is false).

use super::greatest::{plan_extreme, resolve_extreme};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `LEAST`.
pub static DEF: ScalarDef = ScalarDef { name: "least", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    resolve_extreme("least", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_extreme("least", p, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::EsType;

    #[test]
    fn arity() {
        assert_eq!(resolve("least()", &[]).unwrap_err(), "error building [least]: expects at least one argument");
        let a = ArgInfo { ty: EsType::Date, multi: false, literal: None, text: "d" };
        let b = ArgInfo { ty: EsType::DateNanos, multi: false, literal: None, text: "n" };
        assert_eq!(
            resolve("least(d, n)", &[a, b]).unwrap_err(),
            "second argument of [least(d, n)] must be [datetime], found value [n] type [date_nanos]"
        );
    }
}

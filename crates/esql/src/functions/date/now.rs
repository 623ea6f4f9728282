//! `NOW()`: the query's start time (fixed for the whole query, as in Elastic).

use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Expr, lit};

/// `NOW`.
pub static DEF: ScalarDef = ScalarDef { name: "now", mv_args: false, resolve, plan };

fn resolve(_call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("now", args, 0, 0)?;
    Ok(Resolved::of(EsType::Date))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    Ok(lit(ScalarValue::TimestampMillisecond(Some(p.now_ms), None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_no_arguments() {
        assert_eq!(resolve("now()", &[]).unwrap().ty, EsType::Date);
        let a = ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "1" };
        assert_eq!(resolve("now(1)", &[a]).unwrap_err(), "error building [now]: expects no arguments");
    }
}

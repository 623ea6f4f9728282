//! `MONTH_NAME(date)`: the English name of the date's month (`January`).

use super::{DateTime, MONTHS, check_date_arg, epoch_values};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MONTH_NAME`.
pub static DEF: ScalarDef = ScalarDef { name: "month_name", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("month_name", args, 1, 1)?;
    let cast = check_date_arg(call, args, 0, "datetime or date_nanos", true)?;
    Ok(Resolved { ty: EsType::Keyword, multi: false, casts: vec![cast] })
}

/// The month name of an epoch value of a date type.
fn month_name(v: i64, ty: EsType) -> String {
    MONTHS[(DateTime::from_epoch(v, ty).month - 1) as usize].to_string()
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.types[0];
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], _ctx: &EvalCtx| {
        let out = epoch_values(&a[0])?.into_iter().map(|v| v.map(|v| month_name(v, ty))).collect();
        Ok(kernels::str_array(out))
    });
    Ok(udf::call("month_name", EsType::Keyword.arrow(), p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(month_name(0, EsType::Date), "January");
        assert_eq!(month_name(1_698_069_301_543, EsType::Date), "October");
        assert_eq!(month_name(-1, EsType::DateNanos), "December");
    }
}

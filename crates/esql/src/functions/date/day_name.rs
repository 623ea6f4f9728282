//! `DAY_NAME(date)`: the English name of the date's day of the week (`Monday`).

use super::{DAYS, DateTime, check_date_arg, epoch_values};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `DAY_NAME`.
pub static DEF: ScalarDef = ScalarDef { name: "day_name", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("day_name", args, 1, 1)?;
    let cast = check_date_arg(call, args, 0, "datetime or date_nanos", true)?;
    Ok(Resolved { ty: EsType::Keyword, multi: false, casts: vec![cast] })
}

/// The day name of an epoch value of a date type.
fn day_name(v: i64, ty: EsType) -> String {
    DAYS[(DateTime::from_epoch(v, ty).day_of_week() - 1) as usize].to_string()
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.types[0];
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], _ctx: &EvalCtx| {
        let out = epoch_values(&a[0])?.into_iter().map(|v| v.map(|v| day_name(v, ty))).collect();
        Ok(kernels::str_array(out))
    });
    Ok(udf::call("day_name", EsType::Keyword.arrow(), p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(day_name(0, EsType::Date), "Thursday");
        assert_eq!(day_name(1_698_069_301_543, EsType::Date), "Monday");
        assert_eq!(day_name(-1, EsType::DateNanos), "Wednesday");
        let bad = [ArgInfo { ty: EsType::Long, multi: false, literal: None, text: "x" }];
        assert_eq!(
            resolve("day_name(x)", &bad).unwrap_err(),
            "first argument of [day_name(x)] must be [datetime or date_nanos], found value [x] type [long]"
        );
    }
}

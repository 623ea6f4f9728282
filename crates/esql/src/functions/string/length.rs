//! `LENGTH(s)`: the number of characters (Unicode code points) in the string.

use super::util::{code_points, expect_string, map_to_int};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `LENGTH`.
pub static DEF: ScalarDef = ScalarDef { name: "length", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("length", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Integer))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| length(&a[0], ctx));
    Ok(udf::call("length", DataType::Int32, p.sink, p.args, kernel))
}

fn length(a: &ArrayRef, ctx: &EvalCtx) -> Result<ArrayRef> {
    map_to_int(a, ctx.sink, |s| Ok(i32::try_from(code_points(s)).unwrap_or(i32::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{arg, ctx, int_rows, str_col};

    #[test]
    fn counts_code_points() {
        let sink = ctx();
        let out = length(&str_col(&[Some("hello"), Some(""), Some("¡"), Some("❗️"), None]), &sink.ctx(5)).unwrap();
        assert_eq!(int_rows(&out), vec![Some(5), Some(0), Some(1), Some(2), None]);
    }

    #[test]
    fn rejects_numbers() {
        assert_eq!(
            resolve("length(1)", &[arg("1", EsType::Integer)]).unwrap_err(),
            "argument of [length(1)] must be [string], found value [1] type [integer]"
        );
    }
}

//! `BYTE_LENGTH(s)`: the length of the string's UTF-8 encoding in bytes.

use super::util::{expect_string, map_to_int};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `BYTE_LENGTH`.
pub static DEF: ScalarDef = ScalarDef { name: "byte_length", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("byte_length", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Integer))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| byte_length(&a[0], ctx));
    Ok(udf::call("byte_length", DataType::Int32, p.sink, p.args, kernel))
}

fn byte_length(a: &ArrayRef, ctx: &EvalCtx) -> Result<ArrayRef> {
    map_to_int(a, ctx.sink, |s| Ok(i32::try_from(s.len()).unwrap_or(i32::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{ctx, int_rows, str_col};

    #[test]
    fn counts_bytes() {
        let sink = ctx();
        let out = byte_length(&str_col(&[Some("abc"), Some("é❗️"), None]), &sink.ctx(3)).unwrap();
        assert_eq!(int_rows(&out), vec![Some(3), Some(8), None]);
    }
}

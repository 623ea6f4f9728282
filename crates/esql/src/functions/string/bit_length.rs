//! `BIT_LENGTH(s)`: the length of the string's UTF-8 encoding in bits.

use super::util::{Fail, expect_string, map_to_int};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `BIT_LENGTH`.
pub static DEF: ScalarDef = ScalarDef { name: "bit_length", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("bit_length", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Integer))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| bit_length(&a[0], ctx));
    Ok(udf::call("bit_length", DataType::Int32, p.sink, p.args, kernel))
}

fn bit_length(a: &ArrayRef, ctx: &EvalCtx) -> Result<ArrayRef> {
    map_to_int(a, ctx.sink, |s| {
        i32::try_from(s.len())
            .ok()
            .and_then(|n| n.checked_mul(8))
            .ok_or_else(|| Fail::Warn("java.lang.ArithmeticException: integer overflow".into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{ctx, int_rows, str_col};

    #[test]
    fn counts_bits() {
        let sink = ctx();
        let out = bit_length(&str_col(&[Some("abc"), Some("é"), Some(""), None]), &sink.ctx(4)).unwrap();
        assert_eq!(int_rows(&out), vec![Some(24), Some(16), Some(0), None]);
    }
}

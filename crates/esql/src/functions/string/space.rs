//! `SPACE(n)`: a string of `n` spaces.

use super::util::{Fail, MAX_RESULT_BYTES, expect_integer, ints, per_row, string_array};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `SPACE`.
pub static DEF: ScalarDef = ScalarDef { name: "space", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("space", args, 1, 1)?;
    expect_integer(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| space(&a[0], ctx));
    Ok(udf::call("space", DataType::Utf8, p.sink, p.args, kernel))
}

/// `n` spaces, or why not.
pub fn spaces(n: i32) -> Result<String, Fail> {
    if n < 0 {
        return Err(Fail::illegal_argument(format_args!("Number parameter cannot be negative, found [{n}]")));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > MAX_RESULT_BYTES {
        return Err(Fail::illegal_argument(format_args!(
            "Creating strings longer than [{MAX_RESULT_BYTES}] bytes is not supported"
        )));
    }
    Ok(" ".repeat(n))
}

fn space(a: &ArrayRef, ctx: &EvalCtx) -> Result<ArrayRef> {
    let n = ints(a)?;
    let out = per_row(ctx.rows, ctx.sink, |row| n[row].map(spaces).transpose())?;
    Ok(string_array(&out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{ctx, int_col, string_rows};

    #[test]
    fn builds_spaces_and_warns() {
        let sink = ctx();
        let out = space(&int_col(&[Some(3), Some(0), Some(-1), Some(2_000_000), None]), &sink.ctx(5)).unwrap();
        assert_eq!(string_rows(&out), vec![Some("   ".into()), Some("".into()), None, None, None]);
        let w = sink.warnings();
        assert!(w.iter().any(|m| {
            m.ends_with("java.lang.IllegalArgumentException: Number parameter cannot be negative, found [-1]")
        }));
        assert!(w.iter().any(|m| m.ends_with("Creating strings longer than [1048576] bytes is not supported")));
    }
}

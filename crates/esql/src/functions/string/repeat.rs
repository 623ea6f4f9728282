//! `REPEAT(s, n)`: the string repeated `n` times.

use super::util::{Fail, MAX_RESULT_BYTES, expect_integer, expect_string, ints, per_row, string_array, strs};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `REPEAT`.
pub static DEF: ScalarDef = ScalarDef { name: "repeat", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("repeat", args, 2, 2)?;
    expect_string(call, args, 0, true)?;
    expect_integer(call, args, 1, true)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| repeat(a, ctx));
    Ok(udf::call("repeat", DataType::Utf8, p.sink, p.args, kernel))
}

/// `s` repeated `n` times, or why not.
pub fn repeated(s: &str, n: i32) -> Result<String, Fail> {
    if n < 0 {
        return Err(Fail::illegal_argument(format_args!("Number parameter cannot be negative, found [{n}]")));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if s.len().saturating_mul(n) > MAX_RESULT_BYTES {
        return Err(Fail::illegal_argument(format_args!(
            "Creating repeated strings with more than [{MAX_RESULT_BYTES}] bytes is not supported"
        )));
    }
    Ok(s.repeat(n))
}

fn repeat(args: &[ArrayRef], ctx: &EvalCtx) -> Result<ArrayRef> {
    let (s, n) = (strs(&args[0])?, ints(&args[1])?);
    let out = per_row(ctx.rows, ctx.sink, |row| s[row].zip(n[row]).map(|(s, n)| repeated(s, n)).transpose())?;
    Ok(string_array(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats() {
        assert_eq!(repeated("ab", 3), Ok("ababab".into()));
        assert_eq!(repeated("ab", 0), Ok(String::new()));
        assert_eq!(
            repeated("ab", -2),
            Err(Fail::Warn(
                "java.lang.IllegalArgumentException: Number parameter cannot be negative, found [-2]".into()
            ))
        );
        assert!(repeated("ab", 600_000).is_err());
        assert!(repeated("", i32::MAX).is_ok());
    }
}

//! `LEFT(s, n)`: the first `n` characters of the string (none when `n` is negative).

use super::util::{byte_offset, expect_integer, expect_string, ints, per_row, string_array, strs};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `LEFT`.
pub static DEF: ScalarDef = ScalarDef { name: "left", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("left", args, 2, 2)?;
    expect_string(call, args, 0, true)?;
    expect_integer(call, args, 1, true)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| left(a, ctx));
    Ok(udf::call("left", DataType::Utf8, p.sink, p.args, kernel))
}

/// The first `n` code points of `s`.
pub fn left_of(s: &str, n: i32) -> &str {
    &s[..byte_offset(s, usize::try_from(n).unwrap_or(0))]
}

fn left(args: &[ArrayRef], ctx: &EvalCtx) -> Result<ArrayRef> {
    let (s, n) = (strs(&args[0])?, ints(&args[1])?);
    let out = per_row(ctx.rows, ctx.sink, |row| Ok(s[row].zip(n[row]).map(|(s, n)| left_of(s, n))))?;
    Ok(string_array(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_prefix() {
        assert_eq!(left_of("Awdeh", 3), "Awd");
        assert_eq!(left_of("Aw", 3), "Aw");
        assert_eq!(left_of("Awdeh", 0), "");
        assert_eq!(left_of("Awdeh", -1), "");
        assert_eq!(left_of("héllo", 2), "hé");
    }
}

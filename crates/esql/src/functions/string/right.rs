//! `RIGHT(s, n)`: the last `n` characters of the string (none when `n` is negative).

use super::util::{byte_offset, code_points, expect_integer, expect_string, ints, per_row, string_array, strs};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `RIGHT`.
pub static DEF: ScalarDef = ScalarDef { name: "right", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("right", args, 2, 2)?;
    expect_string(call, args, 0, true)?;
    expect_integer(call, args, 1, true)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| right(a, ctx));
    Ok(udf::call("right", DataType::Utf8, p.sink, p.args, kernel))
}

/// The last `n` code points of `s`.
pub fn right_of(s: &str, n: i32) -> &str {
    // Java's int arithmetic, overflow included: `RIGHT(s, -2147483648)` is all of `s` there.
    let count = i32::try_from(code_points(s)).unwrap_or(i32::MAX);
    let skip = count.wrapping_sub(n).max(0);
    &s[byte_offset(s, usize::try_from(skip).unwrap_or(usize::MAX))..]
}

fn right(args: &[ArrayRef], ctx: &EvalCtx) -> Result<ArrayRef> {
    let (s, n) = (strs(&args[0])?, ints(&args[1])?);
    let out = per_row(ctx.rows, ctx.sink, |row| Ok(s[row].zip(n[row]).map(|(s, n)| right_of(s, n))))?;
    Ok(string_array(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_suffix() {
        assert_eq!(right_of("Awdeh", 3), "deh");
        assert_eq!(right_of("Aw", 3), "Aw");
        assert_eq!(right_of("Awdeh", 0), "");
        assert_eq!(right_of("Awdeh", -2), "");
        assert_eq!(right_of("héllo", 4), "éllo");
        assert_eq!(right_of("abc", i32::MIN), "abc");
    }
}

//! `SUBSTRING(s, start[, length])`: the characters from the 1-based `start` (negative counts
//! from the end), `length` of them or all the rest.

use super::util::{
    Fail, byte_offset, code_points, expect_integer, expect_string, ints, per_row, start_index, string_array, strs,
};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `SUBSTRING`.
pub static DEF: ScalarDef = ScalarDef { name: "substring", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("substring", args, 2, 3)?;
    expect_string(call, args, 0, true)?;
    expect_integer(call, args, 1, true)?;
    expect_integer(call, args, 2, true)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| substring(a, ctx));
    Ok(udf::call("substring", DataType::Utf8, p.sink, p.args, kernel))
}

/// The substring of `s` at code points `start` (Elastic's convention) for `len` of them.
pub fn substr(s: &str, start: i32, len: Option<i32>) -> Result<&str, Fail> {
    if let Some(l) = len
        && l < 0
    {
        // Elastic does not catch this one: the query fails.
        return Err(Fail::Fatal(format!("Length parameter cannot be negative, found [{l}]")));
    }
    if s.is_empty() {
        return Ok(s);
    }
    let count = code_points(s);
    let from = start_index(count, start);
    let to = match len {
        Some(l) => from.saturating_add(usize::try_from(l).unwrap_or(0)).min(count),
        None => count,
    };
    let (b, e) = (byte_offset(s, from), byte_offset(s, to));
    Ok(&s[b..e])
}

fn substring(args: &[ArrayRef], ctx: &EvalCtx) -> Result<ArrayRef> {
    let s = strs(&args[0])?;
    let start = ints(&args[1])?;
    let len = match args.get(2) {
        Some(a) => Some(ints(a)?),
        None => None,
    };
    let out = per_row(ctx.rows, ctx.sink, |row| {
        let (Some(s), Some(start)) = (s[row], start[row]) else { return Ok(None) };
        let l = match &len {
            Some(l) => match l[row] {
                Some(l) => Some(l),
                None => return Ok(None),
            },
            None => None,
        };
        substr(s, start, l).map(Some)
    })?;
    Ok(string_array(&out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{arg, ctx, int_col, keyword_arg, str_col, string_rows};

    #[test]
    fn positions() {
        assert_eq!(substr("Facello", 3, None), Ok("cello"));
        assert_eq!(substr("Facello", 3, Some(1)), Ok("c"));
        assert_eq!(substr("Facello", -3, None), Ok("llo"));
        assert_eq!(substr("Facello", 0, Some(2)), Ok("Fa"));
        assert_eq!(substr("Facello", 100, None), Ok(""));
        assert_eq!(substr("Facello", -100, Some(1)), Ok("F"));
        assert_eq!(substr("Facello", 2, Some(i32::MAX)), Ok("acello"));
        assert_eq!(substr("héllo", 2, Some(2)), Ok("él"));
        assert_eq!(substr("", 2, Some(2)), Ok(""));
        assert!(
            matches!(substr("abc", 1, Some(-1)), Err(Fail::Fatal(m)) if m == "Length parameter cannot be negative, found [-1]")
        );
    }

    #[test]
    fn kernel_with_nulls() {
        let sink = ctx();
        let out = substring(
            &[
                str_col(&[Some("abcdef"), None, Some("xyz")]),
                int_col(&[Some(2), Some(1), None]),
                int_col(&[Some(3), Some(1), Some(1)]),
            ],
            &sink.ctx(3),
        )
        .unwrap();
        assert_eq!(string_rows(&out), vec![Some("bcd".into()), None, None]);
    }

    #[test]
    fn resolve_checks() {
        let s = keyword_arg("s");
        assert_eq!(
            resolve(
                "substring(s, 1, 2, 3)",
                &[s.clone(), arg("1", EsType::Integer), arg("2", EsType::Integer), arg("3", EsType::Integer)]
            )
            .unwrap_err(),
            "error building [substring]: expects two or three arguments"
        );
        assert_eq!(
            resolve("substring(s, 1.0)", &[s.clone(), arg("1.0", EsType::Double)]).unwrap_err(),
            "second argument of [substring(s, 1.0)] must be [integer], found value [1.0] type [double]"
        );
        assert_eq!(
            resolve("substring(1, 1)", &[arg("1", EsType::Integer), arg("1", EsType::Integer)]).unwrap_err(),
            "first argument of [substring(1, 1)] must be [string], found value [1] type [integer]"
        );
    }
}

//! `LOCATE(s, substring[, start])`: the 1-based position of the first occurrence of the
//! substring at or after `start`, 0 when absent.

use super::util::{byte_offset, code_points, expect_integer, expect_string, ints, start_index, strs};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{ArrayRef, Int32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `LOCATE`.
pub static DEF: ScalarDef = ScalarDef { name: "locate", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("locate", args, 2, 3)?;
    expect_string(call, args, 0, true)?;
    expect_string(call, args, 1, true)?;
    expect_integer(call, args, 2, true)?;
    Ok(Resolved::of(EsType::Integer))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| locate(a, ctx.rows));
    Ok(udf::call("locate", DataType::Int32, p.sink, p.args, kernel))
}

/// Elastic's position of `sub` in `s` from `start`.
pub fn position(s: &str, sub: &str, start: i32) -> i32 {
    if s.len() < sub.len() {
        return 0;
    }
    let from = byte_offset(s, start_index(code_points(s), start));
    match s[from..].find(sub) {
        Some(i) => i32::try_from(code_points(&s[..from + i]) + 1).unwrap_or(i32::MAX),
        None => 0,
    }
}

fn locate(args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (s, sub) = (strs(&args[0])?, strs(&args[1])?);
    let start = match args.get(2) {
        Some(a) => Some(ints(a)?),
        None => None,
    };
    let out: Int32Array = (0..rows)
        .map(|row| {
            let st = match &start {
                Some(v) => v[row]?,
                None => 0,
            };
            Some(position(s[row]?, sub[row]?, st))
        })
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{int_col, int_rows, str_col};

    #[test]
    fn positions() {
        assert_eq!(position("hello", "ll", 0), 3);
        assert_eq!(position("hello", "l", 4), 4);
        assert_eq!(position("hello", "l", 5), 0);
        assert_eq!(position("hello", "h", -5), 1);
        assert_eq!(position("hello", "o", -1), 5);
        assert_eq!(position("hello", "", 0), 1);
        assert_eq!(position("hello", "", 3), 3);
        assert_eq!(position("héllo", "l", 0), 3);
        assert_eq!(position("ab", "abc", 0), 0);
        assert_eq!(position("", "", 0), 1);
    }

    #[test]
    fn kernel_nulls() {
        let out = locate(
            &[
                str_col(&[Some("abc"), None, Some("abc")]),
                str_col(&[Some("c"), Some("a"), Some("b")]),
                int_col(&[Some(1), Some(1), None]),
            ],
            3,
        )
        .unwrap();
        assert_eq!(int_rows(&out), vec![Some(3), None, None]);
    }
}

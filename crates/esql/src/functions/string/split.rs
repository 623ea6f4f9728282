//! `SPLIT(s, delim)`: the string split on a single-byte delimiter, as a multi-valued keyword.

use super::util::{expect_string, strs};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `SPLIT`.
pub static DEF: ScalarDef = ScalarDef { name: "split", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("split", args, 2, 2)?;
    expect_string(call, args, 0, true)?;
    expect_string(call, args, 1, true)?;
    Ok(Resolved { ty: EsType::Keyword, multi: true, casts: Vec::new() })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| split(&a[0], &a[1], ctx.rows));
    Ok(udf::call("split", EsType::Keyword.arrow_column(true), p.sink, p.args, kernel))
}

fn split(s: &ArrayRef, d: &ArrayRef, rows: usize) -> Result<ArrayRef> {
    let (s, d) = (strs(s)?, strs(d)?);
    let mut values = StringBuilder::new();
    let mut offsets = Vec::with_capacity(rows + 1);
    offsets.push(0i32);
    let mut n = 0usize;
    for row in 0..rows {
        if let (Some(s), Some(d)) = (s[row], d[row]) {
            // Elastic only splits on one byte; anything else fails the query.
            let &[delim] = d.as_bytes() else {
                return Err(DataFusionError::Execution("delimiter must be single byte for now".into()));
            };
            // A one-byte delimiter is ASCII, so every piece is valid UTF-8.
            for piece in s.split(char::from(delim)) {
                values.append_value(piece);
                n += 1;
            }
        }
        offsets.push(i32::try_from(n).map_err(|_| DataFusionError::Execution("multi-value too large".into()))?);
    }
    kernels::list_from_offsets(Arc::new(values.finish()), offsets, EsType::Keyword)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{list_rows, str_col};

    #[test]
    fn splits_on_one_byte() {
        let out = split(
            &str_col(&[Some("foo;bar;baz"), Some("a;;b;"), Some("solo"), Some(""), None]),
            &str_col(&[Some(";"), Some(";"), Some(";"), Some(";"), Some(";")]),
            5,
        )
        .unwrap();
        assert_eq!(
            list_rows(&out),
            vec![
                Some(vec!["foo".into(), "bar".into(), "baz".into()]),
                Some(vec!["a".into(), "".into(), "b".into(), "".into()]),
                Some(vec!["solo".into()]),
                Some(vec!["".into()]),
                None
            ]
        );
    }

    #[test]
    fn multi_byte_delimiter_fails() {
        let err = split(&str_col(&[Some("a")]), &str_col(&[Some("ab")]), 1).unwrap_err();
        assert!(err.to_string().contains("delimiter must be single byte for now"));
    }
}

//! `CONCAT(s1, s2, ...)`: the strings joined; null when any is null.

use super::util::{MAX_RESULT_BYTES, expect_string, strs};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `CONCAT`.
pub static DEF: ScalarDef = ScalarDef { name: "concat", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("concat", args, 2, usize::MAX)?;
    for i in 0..args.len() {
        // Elastic checks each argument without naming its position.
        expect_string(call, args, i, false)?;
    }
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| concat(a, ctx.rows));
    Ok(udf::call("concat", DataType::Utf8, p.sink, p.args, kernel))
}

fn concat(args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let cols = args.iter().map(strs).collect::<Result<Vec<_>>>()?;
    let mut out = StringBuilder::new();
    let mut buf = String::new();
    'rows: for row in 0..rows {
        buf.clear();
        let mut total = 0usize;
        for c in &cols {
            match c.get(row).copied().flatten() {
                Some(s) => total += s.len(),
                None => {
                    out.append_null();
                    continue 'rows;
                }
            }
        }
        if total > MAX_RESULT_BYTES {
            return Err(DataFusionError::Execution(format!(
                "concatenating more than [{MAX_RESULT_BYTES}] bytes is not supported"
            )));
        }
        for c in &cols {
            buf.push_str(c[row].unwrap_or_default());
        }
        out.append_value(&buf);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{arg, keyword_arg, str_col, string_rows};

    #[test]
    fn joins_and_propagates_null() {
        let out = concat(&[str_col(&[Some("a"), Some("x"), None]), str_col(&[Some("b"), None, Some("y")])], 3).unwrap();
        assert_eq!(string_rows(&out), vec![Some("ab".into()), None, None]);
    }

    #[test]
    fn too_long_is_an_error() {
        let big = "x".repeat(MAX_RESULT_BYTES);
        let err = concat(&[str_col(&[Some(&big)]), str_col(&[Some("y")])], 1).unwrap_err();
        assert!(err.to_string().contains("concatenating more than [1048576] bytes is not supported"));
    }

    #[test]
    fn resolve_messages() {
        let a = keyword_arg("a");
        assert_eq!(
            resolve("concat(a)", std::slice::from_ref(&a)).unwrap_err(),
            "error building [concat]: expects at least two arguments"
        );
        let i = arg("1", EsType::Integer);
        assert_eq!(
            resolve("concat(a, 1)", &[a.clone(), i]).unwrap_err(),
            "argument of [concat(a, 1)] must be [string], found value [1] type [integer]"
        );
        assert_eq!(resolve("concat(a, a)", &[a.clone(), a]).unwrap().ty, EsType::Keyword);
    }
}

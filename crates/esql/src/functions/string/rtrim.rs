//! `RTRIM(s)`: the string without its trailing whitespace (Java's `Character.isWhitespace`).

use super::util::{expect_string, java_whitespace, map_string};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `RTRIM`.
pub static DEF: ScalarDef = ScalarDef { name: "rtrim", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("rtrim", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    // Text in, keyword out (Elastic's signatures).
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| rtrim(&a[0], ctx));
    Ok(udf::call("rtrim", DataType::Utf8, p.sink, p.args, kernel))
}

fn rtrim(a: &ArrayRef, ctx: &EvalCtx) -> Result<ArrayRef> {
    map_string(a, ctx.sink, |s| Ok(Some(s.trim_end_matches(java_whitespace))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{ctx, str_col, string_rows};

    #[test]
    fn trims_the_end() {
        let sink = ctx();
        let out = rtrim(&str_col(&[Some("   some text  "), Some(" red \n")]), &sink.ctx(2)).unwrap();
        assert_eq!(string_rows(&out), vec![Some("   some text".into()), Some(" red".into())]);
    }
}

//! `TRIM(s)`: the string without its leading and trailing whitespace (Java's `Character.isWhitespace`).

use super::util::{expect_string, java_whitespace, map_string};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `TRIM`.
pub static DEF: ScalarDef = ScalarDef { name: "trim", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("trim", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    // Text in, keyword out (Elastic's signatures).
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| trim(&a[0], ctx));
    Ok(udf::call("trim", DataType::Utf8, p.sink, p.args, kernel))
}

fn trim(a: &ArrayRef, ctx: &EvalCtx) -> Result<ArrayRef> {
    map_string(a, ctx.sink, |s| Ok(Some(s.trim_matches(java_whitespace))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{ctx, str_col, string_rows};

    #[test]
    fn trims_java_whitespace() {
        let sink = ctx();
        let out = trim(
            &str_col(&[Some("   some text  "), Some("\t\u{1f}x\u{3000}"), Some("\u{a0}x\u{a0}"), None]),
            &sink.ctx(4),
        )
        .unwrap();
        assert_eq!(
            string_rows(&out),
            vec![Some("some text".into()), Some("x".into()), Some("\u{a0}x\u{a0}".into()), None]
        );
    }
}

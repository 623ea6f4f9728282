//! `MD5(s)`: the MD5 digest of the string's UTF-8 bytes, as lower-case hex.

use super::util::{expect_string, map_string};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use md5::{Digest, Md5};
use std::sync::Arc;

/// `MD5`.
pub static DEF: ScalarDef = ScalarDef { name: "md5", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("md5", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| map_string(&a[0], ctx.sink, |s| Ok(Some(digest(s)))));
    Ok(udf::call("md5", DataType::Utf8, p.sink, p.args, kernel))
}

/// The hex digest of `s`.
pub fn digest(s: &str) -> String {
    super::util::hex(&Md5::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        assert_eq!(digest("hello"), "5d41402abc4b2a76b9719d911017c592");
    }
}

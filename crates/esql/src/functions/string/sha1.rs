//! `SHA1(s)`: the SHA1 digest of the string's UTF-8 bytes, as lower-case hex.

use super::util::{expect_string, map_string};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use sha1::{Digest, Sha1};
use std::sync::Arc;

/// `SHA1`.
pub static DEF: ScalarDef = ScalarDef { name: "sha1", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("sha1", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| map_string(&a[0], ctx.sink, |s| Ok(Some(digest(s)))));
    Ok(udf::call("sha1", DataType::Utf8, p.sink, p.args, kernel))
}

/// The hex digest of `s`.
pub fn digest(s: &str) -> String {
    super::util::hex(&Sha1::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        assert_eq!(digest("hello"), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    }
}

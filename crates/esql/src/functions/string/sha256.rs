//! `SHA256(s)`: the SHA256 digest of the string's UTF-8 bytes, as lower-case hex.

use super::util::{expect_string, map_string};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// `SHA256`.
pub static DEF: ScalarDef = ScalarDef { name: "sha256", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("sha256", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| map_string(&a[0], ctx.sink, |s| Ok(Some(digest(s)))));
    Ok(udf::call("sha256", DataType::Utf8, p.sink, p.args, kernel))
}

/// The hex digest of `s`.
pub fn digest(s: &str) -> String {
    super::util::hex(&Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        assert_eq!(digest("hello"), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    }
}

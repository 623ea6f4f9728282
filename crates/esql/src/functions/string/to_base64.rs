//! `TO_BASE64(s)`: the string's UTF-8 bytes encoded as padded base64.

use super::util::{expect_string, map_string};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `TO_BASE64`.
pub static DEF: ScalarDef = ScalarDef { name: "to_base64", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("to_base64", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel =
        Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| map_string(&a[0], ctx.sink, |s| Ok(Some(encode(s.as_bytes())))));
    Ok(udf::call("to_base64", DataType::Utf8, p.sink, p.args, kernel))
}

/// Standard base64 with padding.
pub fn encode(src: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(src.len().div_ceil(3) * 4);
    for chunk in src.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes() {
        assert_eq!(encode(b"elastic"), "ZWxhc3RpYw==");
        assert_eq!(encode(b"hello world"), "aGVsbG8gd29ybGQ=");
        assert_eq!(encode(b"abc"), "YWJj");
        assert_eq!(encode(b""), "");
        assert_eq!(super::super::from_base64::decode(encode("é❗️".as_bytes()).as_bytes()).unwrap(), "é❗️".as_bytes());
    }
}

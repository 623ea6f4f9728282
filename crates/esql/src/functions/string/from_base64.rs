//! `FROM_BASE64(s)`: the string decoded from base64 (Java's strict basic decoder; an invalid
//! input fails the query, as in Elastic).

use super::util::{Fail, expect_string, map_string};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `FROM_BASE64`.
pub static DEF: ScalarDef = ScalarDef { name: "from_base64", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("from_base64", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| {
        map_string(&a[0], ctx.sink, |s| {
            let bytes = decode(s.as_bytes()).map_err(Fail::Fatal)?;
            Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
        })
    });
    Ok(udf::call("from_base64", DataType::Utf8, p.sink, p.args, kernel))
}

fn sextet(b: u8) -> Option<u32> {
    Some(u32::from(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Decodes like `java.util.Base64.getDecoder().decode(byte[])`, with its error messages.
pub fn decode(src: &[u8]) -> Result<Vec<u8>, String> {
    match src.len() {
        0 => return Ok(Vec::new()),
        1 => return Err("Input byte[] should at least have 2 bytes for base64 bytes".into()),
        _ => {}
    }
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 2);
    let (mut bits, mut shift, mut sp) = (0u32, 18i32, 0usize);
    while sp < src.len() {
        let c = src[sp];
        sp += 1;
        let Some(v) = sextet(c) else {
            if c == b'=' {
                // `=` ends the data: `xx==`, `xxx=` or an unpadded tail.
                let bad = shift == 18 || (shift == 6 && (sp == src.len() || src[sp] != b'='));
                if bad {
                    return Err("Input byte array has wrong 4-byte ending unit".into());
                }
                if shift == 6 {
                    sp += 1;
                }
                break;
            }
            // Java prints the byte signed, in hex.
            let signed = i32::from(c as i8);
            let hex = if signed < 0 { format!("-{:x}", -signed) } else { format!("{signed:x}") };
            return Err(format!("Illegal base64 character {hex}"));
        };
        bits |= v << shift;
        shift -= 6;
        if shift < 0 {
            out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]);
            shift = 18;
            bits = 0;
        }
    }
    match shift {
        6 => out.push((bits >> 16) as u8),
        0 => out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8]),
        12 => return Err("Last unit does not have enough valid bits".into()),
        _ => {}
    }
    if sp < src.len() {
        return Err(format!("Input byte array has incorrect ending byte at {sp}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        String::from_utf8(decode(s.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn decodes() {
        assert_eq!(ok("ZWxhc3RpYw=="), "elastic");
        assert_eq!(ok("ZWxhc3RpYw"), "elastic");
        assert_eq!(ok("aGVsbG8gd29ybGQ="), "hello world");
        assert_eq!(ok(""), "");
    }

    #[test]
    fn java_errors() {
        assert_eq!(decode(b"a").unwrap_err(), "Input byte[] should at least have 2 bytes for base64 bytes");
        assert_eq!(decode(b"ab-d").unwrap_err(), "Illegal base64 character 2d");
        assert_eq!(decode("abé".as_bytes()).unwrap_err(), "Illegal base64 character -3d");
        assert_eq!(decode(b"abcde").unwrap_err(), "Last unit does not have enough valid bits");
        assert_eq!(decode(b"=abc").unwrap_err(), "Input byte array has wrong 4-byte ending unit");
        assert_eq!(decode(b"ab=c").unwrap_err(), "Input byte array has wrong 4-byte ending unit");
        assert_eq!(decode(b"ZWxhc3RpYw=").unwrap_err(), "Input byte array has wrong 4-byte ending unit");
        assert_eq!(decode(b"ab==c").unwrap_err(), "Input byte array has incorrect ending byte at 4");
        assert_eq!(decode(b"abc=d").unwrap_err(), "Input byte array has incorrect ending byte at 4");
    }
}

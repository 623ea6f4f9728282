//! `URL_DECODE(s)`: the string URL-decoded like Java's `URLDecoder` (`+` is a space, `%xy`
//! sequences are UTF-8 bytes); an invalid input is null with a warning. Every value of a
//! multi-valued input is decoded.

use super::util::{Fail, expect_string};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, values};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `URL_DECODE`.
pub static DEF: ScalarDef = ScalarDef { name: "url_decode", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("url_decode", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved { ty: EsType::Keyword, multi: args[0].multi, casts: Vec::new() })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| {
        values::map_values(&a[0], EsType::Keyword, EsType::Keyword, |v| match v {
            Literal::String(s) => match decode(&s) {
                Ok(d) => Literal::String(d),
                Err(m) => {
                    if let Fail::Warn(m) = Fail::illegal_argument(m) {
                        ctx.sink.null_because(&m);
                    }
                    Literal::Null
                }
            },
            _ => Literal::Null,
        })
    });
    let multi = p.multi.first().copied().unwrap_or(false);
    Ok(udf::call("url_decode", EsType::Keyword.arrow_column(multi), p.sink, p.args, kernel))
}

/// Java's `Integer.parseInt` of two UTF-16 units in base 16, with its error message.
fn parse_hex_pair(units: &[u16]) -> Result<i32, String> {
    let text = String::from_utf16_lossy(units);
    let err = |at: usize| format!("Error at index {at} in: \"{text}\"");
    let digit = |u: u16| char::from_u32(u32::from(u)).and_then(|c| c.to_digit(16)).map(|d| d as i32);
    let (neg, first) = match units[0] {
        0x2d => (true, 1),
        0x2b => (false, 1),
        u if u < u16::from(b'0') => return Err(err(0)),
        _ => (false, 0),
    };
    let mut v = 0i32;
    for (i, &u) in units.iter().enumerate().skip(first) {
        v = v * 16 + digit(u).ok_or_else(|| err(i))?;
    }
    Ok(if neg { -v } else { v })
}

/// Decodes like `java.net.URLDecoder.decode(s, UTF_8)`.
pub fn decode(s: &str) -> Result<String, String> {
    if !s.contains(['%', '+']) {
        return Ok(s.to_string());
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    let n = units.len();
    let mut out: Vec<u16> = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        match units[i] {
            0x2b => {
                out.push(u16::from(b' '));
                i += 1;
            }
            0x25 => {
                let mut bytes = Vec::new();
                while i + 2 < n && units[i] == 0x25 {
                    let v = parse_hex_pair(&units[i + 1..i + 3])
                        .map_err(|e| format!("URLDecoder: Illegal hex characters in escape (%) pattern - {e}"))?;
                    if v < 0 {
                        return Err("URLDecoder: Illegal hex characters in escape (%) pattern - negative value".into());
                    }
                    bytes.push(v as u8);
                    i += 3;
                }
                if i < n && units[i] == 0x25 {
                    return Err("URLDecoder: Incomplete trailing escape (%) pattern".into());
                }
                out.extend(String::from_utf8_lossy(&bytes).encode_utf16());
            }
            u => {
                out.push(u);
                i += 1;
            }
        }
    }
    Ok(String::from_utf16_lossy(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(
            decode("https%3A%2F%2Fwww.example.com%2Fpapers%3Fq%3Dinformation%2Bretrieval%26year%3D2024").unwrap(),
            "https://www.example.com/papers?q=information+retrieval&year=2024"
        );
        assert_eq!(decode("a+b%20c").unwrap(), "a b c");
        assert_eq!(decode("%C3%A9t%C3%A9").unwrap(), "été");
        assert_eq!(decode("%C3").unwrap(), "\u{fffd}");
        assert_eq!(decode("%+1").unwrap(), "\u{1}");
        assert_eq!(decode("plain").unwrap(), "plain");
    }

    #[test]
    fn java_errors() {
        assert_eq!(
            decode("%zz").unwrap_err(),
            "URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 0 in: \"zz\""
        );
        assert_eq!(
            decode("%2z").unwrap_err(),
            "URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 1 in: \"2z\""
        );
        assert_eq!(decode("a%2").unwrap_err(), "URLDecoder: Incomplete trailing escape (%) pattern");
        assert_eq!(decode("%").unwrap_err(), "URLDecoder: Incomplete trailing escape (%) pattern");
        assert_eq!(
            decode("%-1").unwrap_err(),
            "URLDecoder: Illegal hex characters in escape (%) pattern - negative value"
        );
    }
}

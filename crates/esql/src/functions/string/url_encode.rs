//! `URL_ENCODE(s)`: the string percent-encoded, spaces as `+` (every value of a multi-valued
//! input is encoded).

use super::util::expect_string;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, values};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `URL_ENCODE`.
pub static DEF: ScalarDef = ScalarDef { name: "url_encode", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("url_encode", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved { ty: EsType::Keyword, multi: args[0].multi, casts: Vec::new() })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_encode(p, "url_encode", true)
}

/// Plans URL_ENCODE (`plus_for_space`) or URL_ENCODE_COMPONENT.
pub fn plan_encode(p: PlanArgs, name: &str, plus_for_space: bool) -> Result<Expr> {
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], _ctx: &EvalCtx| {
        values::map_values(&a[0], EsType::Keyword, EsType::Keyword, |v| match v {
            Literal::String(s) => Literal::String(encode(&s, plus_for_space)),
            _ => Literal::Null,
        })
    });
    let multi = p.multi.first().copied().unwrap_or(false);
    Ok(udf::call(name, EsType::Keyword.arrow_column(multi), p.sink, p.args, kernel))
}

/// Percent-encodes every byte but ASCII letters, digits and `-._~` (space as `+` when asked).
pub fn encode(s: &str, plus_for_space: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if plus_for_space && b == b' ' {
            out.push('+');
        } else if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{list_rows, str_col};

    #[test]
    fn encodes() {
        assert_eq!(
            encode("https://www.example.com/papers?q=information+retrieval&year=2024", true),
            "https%3A%2F%2Fwww.example.com%2Fpapers%3Fq%3Dinformation%2Bretrieval%26year%3D2024"
        );
        assert_eq!(encode("a b~é", true), "a+b~%C3%A9");
        assert_eq!(encode("a b", false), "a%20b");
    }

    #[test]
    fn encodes_each_value() {
        let list = crate::functions::kernels::to_list(&str_col(&[Some("a b"), None]), EsType::Keyword).unwrap();
        let out = values::map_values(&list, EsType::Keyword, EsType::Keyword, |v| match v {
            Literal::String(s) => Literal::String(encode(&s, true)),
            _ => Literal::Null,
        })
        .unwrap();
        assert_eq!(list_rows(&out), vec![Some(vec!["a+b".into()]), None]);
    }
}

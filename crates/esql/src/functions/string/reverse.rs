//! `REVERSE(s)`: the string reversed, keeping grapheme clusters (emoji sequences, combining
//! marks) together.

use super::util::{expect_string, map_string};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;
use unicode_segmentation::UnicodeSegmentation;

/// `REVERSE`.
pub static DEF: ScalarDef = ScalarDef { name: "reverse", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("reverse", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel =
        Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| map_string(&a[0], ctx.sink, |s| Ok(Some(reversed(s)))));
    Ok(udf::call("reverse", DataType::Utf8, p.sink, p.args, kernel))
}

/// `s` with its grapheme clusters in reverse order.
pub fn reversed(s: &str) -> String {
    // Elastic reverses bytes when they are all ASCII and none is `(`; otherwise it walks
    // grapheme clusters (which differs only for `\r\n`).
    if s.is_ascii() && !s.contains('(') {
        return s.chars().rev().collect();
    }
    s.graphemes(true).rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverses_graphemes() {
        assert_eq!(reversed("Some Text"), "txeT emoS");
        assert_eq!(reversed("💧🪨🔥💨"), "💨🔥🪨💧");
        assert_eq!(reversed("e\u{301}a"), "ae\u{301}");
        assert_eq!(reversed("👩‍👩‍👧x"), "x👩‍👩‍👧");
        assert_eq!(reversed(""), "");
        assert_eq!(reversed("a\r\n"), "\n\ra");
        assert_eq!(reversed("(\r\n"), "\r\n(");
    }
}

//! `URL_ENCODE_COMPONENT(s)`: the string percent-encoded, spaces as `%20` (every value of a
//! multi-valued input is encoded).

use super::util::expect_string;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `URL_ENCODE_COMPONENT`.
pub static DEF: ScalarDef = ScalarDef { name: "url_encode_component", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("url_encode_component", args, 1, 1)?;
    expect_string(call, args, 0, false)?;
    Ok(Resolved { ty: EsType::Keyword, multi: args[0].multi, casts: Vec::new() })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    super::url_encode::plan_encode(p, "url_encode_component", false)
}

#[cfg(test)]
mod tests {
    use super::super::url_encode::encode;

    #[test]
    fn encodes_spaces_as_percent_20() {
        assert_eq!(encode("a b+c", false), "a%20b%2Bc");
    }
}

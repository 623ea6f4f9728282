//! `MIN(field)`: the smallest value (numbers numerically, strings byte-wise, ip and version in
//! their sort order, `false < true`); every value of a multi-value takes part.

use super::{constant, null_of, with_filter};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, expect_type, kernels};
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::Expr;

/// `MIN`.
pub static DEF: AggDef =
    AggDef { name: "min", resolve: |call, args| resolve_extreme("min", call, args), plan: |p| plan_extreme(p, false) };

/// The types `MIN` and `MAX` accept.
const TYPES: &[EsType] = &[
    EsType::Boolean,
    EsType::Integer,
    EsType::Long,
    EsType::UnsignedLong,
    EsType::Double,
    EsType::Keyword,
    EsType::Text,
    EsType::Ip,
    EsType::Version,
    EsType::Date,
    EsType::DateNanos,
];

/// Type check of `MIN` / `MAX`: the result has the argument's type (text becomes keyword).
pub(crate) fn resolve_extreme(name: &str, call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity(name, args, 1, 1)?;
    expect_type(
        call,
        args,
        0,
        TYPES,
        "boolean, date, ip, string, version, aggregate_metric_double or numeric except counter types",
    )?;
    let ty = if args[0].ty == EsType::Text { EsType::Keyword } else { args[0].ty };
    Ok(Resolved::of(ty))
}

/// Plans `MIN` (`max: false`) or `MAX` (`max: true`).
pub(crate) fn plan_extreme(p: AggPlanArgs, max: bool) -> Result<Expr> {
    let name = if max { "max" } else { "min" };
    let ty = p.types[0];
    if ty == EsType::Null {
        return constant(name, null_of(EsType::Null)?, p.filter);
    }
    let mut a = p.args[0].clone();
    if p.multi[0] {
        a = if max { kernels::mv_max_expr(a, ty) } else { kernels::mv_min_expr(a, ty) };
    }
    with_filter(if max { agg::max(a) } else { agg::min(a) }, p.filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(ty: EsType) -> ArgInfo<'static> {
        ArgInfo { ty, multi: false, literal: None, text: "x" }
    }

    #[test]
    fn text_becomes_keyword() {
        assert_eq!(resolve_extreme("min", "min(x)", &[arg(EsType::Text)]).unwrap().ty, EsType::Keyword);
        assert_eq!(resolve_extreme("min", "min(x)", &[arg(EsType::UnsignedLong)]).unwrap().ty, EsType::UnsignedLong);
        assert_eq!(resolve_extreme("min", "min(x)", &[arg(EsType::Null)]).unwrap().ty, EsType::Null);
    }

    #[test]
    fn rejects_spans() {
        let e = resolve_extreme("min", "min(x)", &[arg(EsType::TimeDuration)]).unwrap_err();
        assert!(e.starts_with("argument of [min(x)] must be [boolean, date, ip, string, version"), "{e}");
    }
}

//! `DATE_TRUNC(interval, date)`: rounds a date down to the closest multiple of a calendar
//! (`1 month`) or fixed (`15 minutes`) span, as Elastic's date roundings do.

use super::rounding::{Rounding, Span, round_epoch};
use super::{arg_type_error, check_date_arg, date_array, epoch_values, span_text};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `DATE_TRUNC`.
pub static DEF: ScalarDef = ScalarDef { name: "date_trunc", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("date_trunc", args, 2, 2)?;
    let span_cast = span_text::implicit_cast(args[0].literal);
    if args[0].ty != EsType::Null && !args[0].ty.is_span() && span_cast.is_none() {
        return Err(arg_type_error(call, args, 0, "dateperiod or timeduration"));
    }
    let cast = check_date_arg(call, args, 1, "date_nanos or datetime", true)?;
    let ty = if args[1].ty == EsType::DateNanos { EsType::DateNanos } else { EsType::Date };
    Ok(Resolved { ty, multi: false, casts: vec![span_cast, cast] })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let field_ty = p.types[1];
    let constant = Span::of_literal(p.literals[0]);
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        let values = epoch_values(&a[1])?;
        let spans = match constant {
            Some(s) => vec![s; values.len()],
            None => Span::values(&a[0])?,
        };
        truncate_all(&values, &spans, field_ty, ctx).map(|v| date_array(ty, v))
    });
    Ok(udf::call("date_trunc", ty.arrow(), p.sink, p.args, kernel))
}

/// Rounds each value by its span. An unsupported span fails the query, as in Elastic.
pub fn truncate_all(
    values: &[Option<i64>],
    spans: &[Option<Span>],
    ty: EsType,
    ctx: &EvalCtx,
) -> Result<Vec<Option<i64>>> {
    let mut cache: Option<(Span, Rounding)> = None;
    let mut out = Vec::with_capacity(values.len());
    for (v, span) in values.iter().zip(spans) {
        let (Some(v), Some(span)) = (v, span) else {
            out.push(None);
            continue;
        };
        let rounding = match cache {
            Some((s, r)) if s == *span => r,
            _ => {
                let r = span.rounding().map_err(DataFusionError::Execution)?;
                cache = Some((*span, r));
                r
            }
        };
        let rounded = round_epoch(rounding, *v, ty);
        if rounded.is_none() {
            ctx.sink.null_because("java.lang.ArithmeticException: long overflow");
        }
        out.push(rounded);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{format_date_millis, parse_date_millis};
    use crate::ir::Literal;
    use crate::warnings::WarningSink;

    fn arg<'a>(ty: EsType, literal: Option<&'a Literal>, text: &'a str) -> ArgInfo<'a> {
        ArgInfo { ty, multi: false, literal, text }
    }

    fn trunc(span: Span, date: &str) -> Result<String> {
        let sink = WarningSink::discard();
        let dt = EsType::Date.arrow();
        let ctx = EvalCtx { sink: &sink, rows: 1, return_type: &dt };
        let v = truncate_all(&[parse_date_millis(date)], &[Some(span)], EsType::Date, &ctx)?;
        Ok(format_date_millis(v[0].unwrap()))
    }

    #[test]
    fn truncates() {
        let month = Span::Period { months: 1, days: 0 };
        assert_eq!(trunc(month, "1985-02-18T10:11:12Z").unwrap(), "1985-02-01T00:00:00.000Z");
        let hours = Span::Duration(240 * 3_600_000);
        assert_eq!(trunc(hours, "1985-09-17T00:00:00Z").unwrap(), "1985-09-09T00:00:00.000Z");
        let week = Span::Period { months: 0, days: 7 };
        assert_eq!(trunc(week, "1985-09-17T00:00:00Z").unwrap(), "1985-09-16T00:00:00.000Z");
        let err = trunc(Span::Duration(0), "1985-09-17T00:00:00Z").unwrap_err();
        assert!(err.to_string().contains("Zero or negative time interval is not supported"));
    }

    #[test]
    fn nanos_round_as_millis() {
        let sink = WarningSink::discard();
        let dt = EsType::DateNanos.arrow();
        let ctx = EvalCtx { sink: &sink, rows: 1, return_type: &dt };
        let v =
            truncate_all(&[Some(1_698_069_301_543_123_456)], &[Some(Span::Duration(1000))], EsType::DateNanos, &ctx);
        assert_eq!(v.unwrap(), vec![Some(1_698_069_301_000_000_000)]);
    }

    #[test]
    fn resolves() {
        let span = Literal::Period { months: 12, days: 0 };
        let s = Literal::String("2020-01-01".into());
        let ok = resolve(
            "date_trunc(1 year, d)",
            &[arg(EsType::DatePeriod, Some(&span), "1 year"), arg(EsType::DateNanos, None, "d")],
        );
        assert_eq!(ok.unwrap().ty, EsType::DateNanos);
        let cast = resolve(
            "x",
            &[arg(EsType::DatePeriod, Some(&span), "1 year"), arg(EsType::Keyword, Some(&s), "\"2020-01-01\"")],
        );
        assert_eq!(cast.unwrap().casts, vec![None, Some(EsType::Date)]);
        let hour = Literal::String("1 hour".into());
        let r = resolve("x", &[arg(EsType::Keyword, Some(&hour), "\"1 hour\""), arg(EsType::Date, None, "d")]);
        assert_eq!(r.unwrap().casts, vec![Some(EsType::TimeDuration), None]);
        let bad = resolve("date_trunc(1, d)", &[arg(EsType::Integer, None, "1"), arg(EsType::Date, None, "d")]);
        assert_eq!(
            bad.unwrap_err(),
            "first argument of [date_trunc(1, d)] must be [dateperiod or timeduration], found value [1] type [integer]"
        );
        let bad = resolve(
            "date_trunc(1 year, k)",
            &[arg(EsType::DatePeriod, Some(&span), "1 year"), arg(EsType::Keyword, None, "k")],
        );
        assert_eq!(
            bad.unwrap_err(),
            "second argument of [date_trunc(1 year, k)] must be [date_nanos or datetime], found value [k] type [keyword]"
        );
    }
}

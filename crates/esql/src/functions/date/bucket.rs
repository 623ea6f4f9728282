//! `BUCKET(field, span)` and `BUCKET(field, buckets, from, to)` (also `AUTO_BUCKET`, `BIN`):
//! groups dates or numbers into buckets. With a span, dates round like `DATE_TRUNC` and numbers
//! to multiples of the span; with a target bucket count over a range, Elastic picks a
//! human-friendly date rounding or a power-of-ten-ish numeric width giving at most that many
//! buckets. Numeric buckets are doubles.

use super::date_trunc::truncate_all;
use super::rounding::{Rounding, Span, round_epoch};
use super::{arg_type_error, date_array, epoch_values, span_text, to_millis};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `BUCKET`.
pub static DEF: ScalarDef = ScalarDef { name: "bucket", mv_args: false, resolve: resolve_bucket, plan };
/// `AUTO_BUCKET`, its former name.
pub static AUTO_BUCKET: ScalarDef =
    ScalarDef { name: "auto_bucket", mv_args: false, resolve: resolve_auto_bucket, plan };
/// `BIN`, an alias.
pub static BIN: ScalarDef = ScalarDef { name: "bin", mv_args: false, resolve: resolve_bin, plan };

fn resolve_bucket(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    resolve("bucket", call, args)
}

fn resolve_auto_bucket(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    resolve("auto_bucket", call, args)
}

fn resolve_bin(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    resolve("bin", call, args)
}

/// Elastic's upper-case name of a type, as in `BUCKET`'s argument count messages.
fn enum_name(t: EsType) -> &'static str {
    match t {
        EsType::Null => "NULL",
        EsType::Boolean => "BOOLEAN",
        EsType::Integer => "INTEGER",
        EsType::Long => "LONG",
        EsType::UnsignedLong => "UNSIGNED_LONG",
        EsType::Double => "DOUBLE",
        EsType::Keyword => "KEYWORD",
        EsType::Text => "TEXT",
        EsType::Ip => "IP",
        EsType::Version => "VERSION",
        EsType::Date => "DATETIME",
        EsType::DateNanos => "DATE_NANOS",
        EsType::DatePeriod => "DATE_PERIOD",
        EsType::TimeDuration => "TIME_DURATION",
        EsType::GeoPoint => "GEO_POINT",
        EsType::Unsupported => "UNSUPPORTED",
    }
}

/// Elastic's check that the call has the argument count the first two types call for.
fn check_count(args: &[ArgInfo], expected: usize) -> Result<(), String> {
    let (from, to) = (args.len() > 2, args.len() > 3);
    let words = if expected == 2 && (from || to) {
        Some("two")
    } else if expected == 4 && (!from || !to) {
        Some("four")
    } else if from != to {
        Some("two or four")
    } else {
        None
    };
    match words {
        None => Ok(()),
        Some(w) => Err(format!(
            "function expects exactly {w} arguments when the first one is of type [{}] and the second of type [{}]",
            enum_name(args[0].ty),
            enum_name(args[1].ty)
        )),
    }
}

fn resolve(name: &str, call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity(name, args, 2, 4)?;
    let (field, buckets) = (&args[0], &args[1]);
    let ty = if field.ty.is_numeric() { EsType::Double } else { field.ty };
    if field.ty == EsType::Null || buckets.ty == EsType::Null {
        return Ok(Resolved::of(ty));
    }
    let is_null = |i: usize| args[i].ty == EsType::Null;
    if field.ty.is_date() {
        let span_cast = span_text::implicit_cast(buckets.literal);
        if let Some(span) = span_cast {
            let mut cast_args = args.to_vec();
            cast_args[1].ty = span;
            check_count(&cast_args, 2)?;
            return Ok(Resolved { ty, multi: false, casts: vec![None, Some(span)] });
        }
        if !buckets.ty.is_whole() && !buckets.ty.is_span() {
            return Err(arg_type_error(call, args, 1, "integral, date_period or time_duration"));
        }
        if buckets.ty.is_whole() {
            check_count(args, 4)?;
            for i in 2..4 {
                if !is_null(i) && !args[i].ty.is_string() && !args[i].ty.is_date() {
                    return Err(arg_type_error(call, args, i, "datetime, date_nanos or string"));
                }
            }
        } else {
            check_count(args, 2)?;
        }
        return Ok(Resolved::of(ty));
    }
    if field.ty.is_numeric() {
        if !buckets.ty.is_numeric() {
            return Err(arg_type_error(call, args, 1, "numeric"));
        }
        if buckets.ty == EsType::Double {
            check_count(args, 2)?;
        } else if check_count(args, 2).is_err() {
            check_count(args, 4)?;
            for i in 2..4 {
                if !is_null(i) && !args[i].ty.is_numeric() {
                    return Err(arg_type_error(call, args, i, "numeric"));
                }
            }
        }
        return Ok(Resolved::of(ty));
    }
    Err(arg_type_error(call, args, 0, "datetime or numeric"))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let field_ty = p.types[0];
    let buckets_ty = p.types[1];
    let span_form = p.args.len() == 2;
    let constant_span = Span::of_literal(p.literals[1]);
    let is_null_literal = |l: Option<&Literal>| matches!(l, Some(Literal::Null));
    let all_null =
        field_ty == EsType::Null || buckets_ty == EsType::Null || p.literals.iter().copied().any(is_null_literal);
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        let n = a[0].len();
        if all_null {
            return Ok(kernels::nulls(ctx.return_type, n));
        }
        if field_ty.is_date() {
            let values = epoch_values(&a[0])?;
            let out = if span_form {
                let spans = match constant_span {
                    Some(s) => vec![s; n],
                    None => Span::values(&a[1])?,
                };
                truncate_all(&values, &spans, field_ty, ctx)?
            } else {
                date_buckets(&values, field_ty, &a[1..], ctx)?
            };
            return Ok(date_array(ty, out));
        }
        let values = kernels::to_f64s(&a[0])?;
        let widths: Vec<Option<f64>> = if span_form { kernels::to_f64s(&a[1])? } else { numeric_widths(&a[1..])? };
        let mut out = Vec::with_capacity(n);
        for (v, w) in values.into_iter().zip(widths) {
            out.push(match (v, w) {
                (Some(v), Some(w)) => numeric_bucket(v, w, ctx),
                _ => None,
            });
        }
        Ok(kernels::f64_array(out))
    });
    Ok(udf::call("bucket", ty.arrow(), p.sink, p.args, kernel))
}

/// `floor(v / width) * width`, with the warnings of Elastic's division and multiplication.
fn numeric_bucket(v: f64, width: f64, ctx: &EvalCtx) -> Option<f64> {
    let q = v / width;
    if !q.is_finite() {
        ctx.sink.null_because("java.lang.ArithmeticException: / by zero");
        return None;
    }
    let r = q.floor() * width;
    if !r.is_finite() {
        ctx.sink.null_because(&format!(
            "java.lang.ArithmeticException: not a finite double number: {}",
            crate::convert::format_double(r)
        ));
        return None;
    }
    Some(r)
}

/// The bucket width for `buckets` buckets over `from..to`: the range divided by the count,
/// rounded up to a power of ten or half of one.
pub fn numeric_width(buckets: i32, from: f64, to: f64) -> f64 {
    let precise = (to - from) / f64::from(buckets);
    let next_power_of_ten = 10f64.powf(precise.log10().ceil());
    let half = next_power_of_ten / 2.0;
    if precise < half { half } else { next_power_of_ten }
}

/// A whole-number count as Java's `Number.intValue()` reads it.
fn int_value(a: &ArrayRef) -> Result<Vec<Option<i32>>> {
    Ok(match a.data_type() {
        DataType::UInt64 => {
            a.as_primitive::<datafusion::arrow::datatypes::UInt64Type>().iter().map(|v| v.map(|x| x as i32)).collect()
        }
        _ => kernels::to_i64s(a)?.into_iter().map(|v| v.map(|x| x as i32)).collect(),
    })
}

fn numeric_widths(a: &[ArrayRef]) -> Result<Vec<Option<f64>>> {
    let counts = int_value(&a[0])?;
    let from = kernels::to_f64s(&a[1])?;
    let to = kernels::to_f64s(&a[2])?;
    Ok(counts.into_iter().zip(from).zip(to).map(|((b, f), t)| Some(numeric_width(b?, f?, t?))).collect())
}

/// Reads a range bound: a date (date_nanos count as milliseconds) or a date string, parsed as
/// `strict_date_optional_time`. An unparseable string fails the query, as in Elastic.
fn bounds(a: &ArrayRef) -> Result<Vec<Option<i64>>> {
    match a.data_type() {
        DataType::Utf8 => a
            .as_string::<i32>()
            .iter()
            .map(|s| match s {
                None => Ok(None),
                Some(s) => crate::convert::parse_date_millis(s).map(Some).ok_or_else(|| {
                    DataFusionError::Execution(format!(
                        "failed to parse date field [{s}] with format [strict_date_optional_time]"
                    ))
                }),
            })
            .collect(),
        DataType::Timestamp(unit, _) => {
            let ty = if *unit == datafusion::arrow::datatypes::TimeUnit::Nanosecond {
                EsType::DateNanos
            } else {
                EsType::Date
            };
            Ok(epoch_values(a)?.into_iter().map(|v| v.map(|v| to_millis(v, ty))).collect())
        }
        _ => epoch_values(a),
    }
}

fn date_buckets(values: &[Option<i64>], ty: EsType, a: &[ArrayRef], ctx: &EvalCtx) -> Result<Vec<Option<i64>>> {
    let counts = int_value(&a[0])?;
    let from = bounds(&a[1])?;
    let to = bounds(&a[2])?;
    let mut cache: Option<((i32, i64, i64), Rounding)> = None;
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let (Some(v), Some(b), Some(f), Some(t)) = (*v, counts[i], from[i], to[i]) else {
            out.push(None);
            continue;
        };
        let key = (b, f, t);
        let rounding = match cache {
            Some((k, r)) if k == key => r,
            _ => {
                let r = Rounding::pick(b, f, t);
                cache = Some((key, r));
                r
            }
        };
        let rounded = round_epoch(rounding, v, ty);
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
    use crate::warnings::WarningSink;

    fn arg(ty: EsType, text: &str) -> ArgInfo<'_> {
        ArgInfo { ty, multi: false, literal: None, text }
    }

    #[test]
    fn numeric_widths_as_elastic() {
        assert_eq!(numeric_width(20, 1.41, 2.10), 0.05);
        assert_eq!(numeric_width(20, 25324.0, 74999.0), 5000.0);
        assert_eq!(numeric_width(10, 0.0, 100.0), 10.0);
        assert_eq!(numeric_width(3, 0.0, 100.0), 50.0);
        let sink = WarningSink::discard();
        let dt = DataType::Float64;
        let ctx = EvalCtx { sink: &sink, rows: 1, return_type: &dt };
        assert_eq!(numeric_bucket(1.83, 0.05, &ctx), Some(1.8));
        assert_eq!(numeric_bucket(1.45, 0.05, &ctx), Some(1.4000000000000001));
        assert_eq!(numeric_bucket(2.08, 0.05, &ctx), Some(2.0500000000000003));
        assert_eq!(numeric_bucket(-1.0, 5.0, &ctx), Some(-5.0));
        assert_eq!(numeric_bucket(1.0, 0.0, &ctx), None);
        assert_eq!(sink.collector().messages()[1], "Line 1:1: java.lang.ArithmeticException: / by zero");
    }

    #[test]
    fn resolves() {
        let r = resolve("bucket", "b", &[arg(EsType::Date, "d"), arg(EsType::TimeDuration, "1 hour")]);
        assert_eq!(r.unwrap().ty, EsType::Date);
        let r = resolve(
            "bucket",
            "b",
            &[arg(EsType::Integer, "x"), arg(EsType::Integer, "20"), arg(EsType::Integer, "1"), arg(EsType::Long, "9")],
        );
        assert_eq!(r.unwrap().ty, EsType::Double);
        let r = resolve("bucket", "b", &[arg(EsType::Integer, "x"), arg(EsType::Double, "5.")]);
        assert_eq!(r.unwrap().ty, EsType::Double);
        let e = resolve("bucket", "bucket(d, 20)", &[arg(EsType::Date, "d"), arg(EsType::Integer, "20")]);
        assert_eq!(
            e.unwrap_err(),
            "function expects exactly four arguments when the first one is of type [DATETIME] and the second of type [INTEGER]"
        );
        let e = resolve(
            "bucket",
            "b",
            &[arg(EsType::Date, "d"), arg(EsType::DatePeriod, "1 month"), arg(EsType::Keyword, "\"x\"")],
        );
        assert_eq!(
            e.unwrap_err(),
            "function expects exactly two arguments when the first one is of type [DATETIME] and the second of type [DATE_PERIOD]"
        );
        let e =
            resolve("bucket", "b", &[arg(EsType::Integer, "x"), arg(EsType::Integer, "20"), arg(EsType::Integer, "1")]);
        assert_eq!(
            e.unwrap_err(),
            "function expects exactly four arguments when the first one is of type [INTEGER] and the second of type [INTEGER]"
        );
        let e = resolve("bucket", "bucket(k, 1 day)", &[arg(EsType::Keyword, "k"), arg(EsType::DatePeriod, "1 day")]);
        assert_eq!(
            e.unwrap_err(),
            "first argument of [bucket(k, 1 day)] must be [datetime or numeric], found value [k] type [keyword]"
        );
        let e = resolve("bucket", "bucket(d, 1.5)", &[arg(EsType::Date, "d"), arg(EsType::Double, "1.5")]);
        assert_eq!(
            e.unwrap_err(),
            "second argument of [bucket(d, 1.5)] must be [integral, date_period or time_duration], found value [1.5] type [double]"
        );
        let e = resolve(
            "bucket",
            "b(d, 3, 1, 2)",
            &[arg(EsType::Date, "d"), arg(EsType::Integer, "3"), arg(EsType::Integer, "1"), arg(EsType::Integer, "2")],
        );
        assert_eq!(
            e.unwrap_err(),
            "third argument of [b(d, 3, 1, 2)] must be [datetime, date_nanos or string], found value [1] type [integer]"
        );
    }
}

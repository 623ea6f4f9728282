//! Arithmetic operators (`+ - * / %`, unary `-`) with ES|QL semantics: overflow and division by
//! zero give null plus a warning; date ± span is calendar arithmetic.

use super::kernels::{f64_array, i32_array, i64_array, to_f64s, u64_array};
use super::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::analyzer::widen_numeric;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use chrono::{DateTime, Duration, Months, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMillisecondArray, TimestampNanosecondArray};
use datafusion::arrow::datatypes::{self as t, DataType};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// The arithmetic operators.
pub static ALL: &[&ScalarDef] = &[&ADD, &SUB, &MUL, &DIV, &MOD, &NEG];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Mod => "%",
        }
    }
}

macro_rules! arith_def {
    ($def:ident, $name:literal, $op:expr) => {
        /// Arithmetic operator.
        pub static $def: ScalarDef = ScalarDef {
            name: $name,
            mv_args: false,
            resolve: |call, args| resolve($op, call, args),
            plan: |p| plan($op, p),
        };
    };
}

arith_def!(ADD, "add", Op::Add);
arith_def!(SUB, "sub", Op::Sub);
arith_def!(MUL, "mul", Op::Mul);
arith_def!(DIV, "div", Op::Div);
arith_def!(MOD, "mod", Op::Mod);

/// Unary minus.
pub static NEG: ScalarDef = ScalarDef {
    name: "neg",
    mv_args: false,
    resolve: |call, args| {
        let a = &args[0];
        if a.ty.is_numeric() || a.ty.is_span() || a.ty == EsType::Null {
            Ok(Resolved::of(if a.ty == EsType::Null { EsType::Integer } else { a.ty }))
        } else {
            Err(format!(
                "argument of [{call}] must be [numeric, date_period or time_duration], found value [{}] type [{}]",
                a.text, a.ty
            ))
        }
    },
    plan: |p| {
        let ty = p.resolved.ty;
        let kernel: Kernel = Arc::new(move |args: &[ArrayRef], ctx: &EvalCtx| {
            let a = &args[0];
            Ok(match ty {
                EsType::Integer => i32_array(
                    a.as_primitive::<t::Int32Type>()
                        .iter()
                        .map(|v| v.and_then(|x| checked(x.checked_neg(), ctx, "integer overflow")))
                        .collect(),
                ),
                EsType::Long => i64_array(
                    a.as_primitive::<t::Int64Type>()
                        .iter()
                        .map(|v| v.and_then(|x| checked(x.checked_neg(), ctx, "long overflow")))
                        .collect(),
                ),
                EsType::Double => f64_array(to_f64s(a)?.into_iter().map(|v| v.map(|x| -x)).collect()),
                _ => return Err(DataFusionError::NotImplemented(format!("negation of {ty}"))),
            })
        });
        Ok(udf::call("neg", ty.arrow(), p.sink, p.args, kernel))
    },
};

fn checked<T>(v: Option<T>, ctx: &EvalCtx, what: &str) -> Option<T> {
    if v.is_none() {
        ctx.sink.null_because(&format!("java.lang.ArithmeticException: {what}"));
    }
    v
}

fn resolve(op: Op, call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    let (l, r) = (&args[0], &args[1]);
    let null = EsType::Null;
    // Date arithmetic. A string constant beside a span is a date.
    if matches!(op, Op::Add | Op::Sub) {
        let date_text = |a: &ArgInfo| a.ty.is_string() && a.literal.is_some();
        if date_text(l) && r.ty.is_span() {
            return Ok(Resolved { ty: EsType::Date, multi: false, casts: vec![Some(EsType::Date), None] });
        }
        if op == Op::Add && l.ty.is_span() && date_text(r) {
            return Ok(Resolved { ty: EsType::Date, multi: false, casts: vec![None, Some(EsType::Date)] });
        }
        if l.ty.is_date() && (r.ty.is_span() || r.ty == null) {
            return Ok(Resolved::of(l.ty));
        }
        if op == Op::Add && (l.ty.is_span() || l.ty == null) && r.ty.is_date() {
            return Ok(Resolved::of(r.ty));
        }
        if l.ty.is_span() && (l.ty == r.ty || r.ty == null) {
            return Ok(Resolved::of(l.ty));
        }
        if l.ty == null && r.ty.is_span() {
            return Ok(Resolved::of(r.ty));
        }
    }
    if (l.ty.is_numeric() || l.ty == null) && (r.ty.is_numeric() || r.ty == null) {
        let ty = match (l.ty, r.ty) {
            (EsType::Null, EsType::Null) => EsType::Integer,
            (EsType::Null, x) | (x, EsType::Null) => x,
            (a, b) => {
                if (a == EsType::UnsignedLong) != (b == EsType::UnsignedLong)
                    && a != EsType::Double
                    && b != EsType::Double
                {
                    return Err(format!("[{}] has arguments with incompatible types [{}] and [{}]", op.symbol(), a, b));
                }
                widen_numeric(a, b).unwrap_or(EsType::Double)
            }
        };
        return Ok(Resolved { ty, multi: false, casts: vec![Some(ty), Some(ty)] });
    }
    let allowed = if matches!(op, Op::Add | Op::Sub) { "date_nanos, datetime or numeric" } else { "numeric" };
    let (bad, which) = if l.ty.is_numeric() || l.ty.is_date() || l.ty == null { (r, "second") } else { (l, "first") };
    Err(format!("{which} argument of [{call}] must be [{allowed}], found value [{}] type [{}]", bad.text, bad.ty))
}

fn plan(op: Op, p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let (lt, rt) = (p.types[0], p.types[1]);
    if lt == EsType::Null || rt == EsType::Null {
        // Arithmetic with null is null.
        return Ok(crate::planner::typed_null(ty, false));
    }
    let kernel: Kernel = if ty.is_date() {
        let span_left = lt.is_span();
        Arc::new(move |args: &[ArrayRef], ctx: &EvalCtx| {
            let (d, s) = if span_left { (&args[1], &args[0]) } else { (&args[0], &args[1]) };
            date_span(op, d, s, ty, ctx)
        })
    } else if ty.is_span() {
        return Err(DataFusionError::NotImplemented(format!("arithmetic on two {ty} values outside constants")));
    } else {
        let _ = rt;
        Arc::new(move |args: &[ArrayRef], ctx: &EvalCtx| numeric(op, &args[0], &args[1], ty, ctx))
    };
    Ok(udf::call(op.symbol(), ty.arrow(), p.sink, p.args, kernel))
}

fn numeric(op: Op, l: &ArrayRef, r: &ArrayRef, ty: EsType, ctx: &EvalCtx) -> Result<ArrayRef> {
    let zero = |ctx: &EvalCtx| {
        ctx.sink.null_because("java.lang.ArithmeticException: / by zero");
    };
    macro_rules! ints {
        ($T:ty, $arr:ident, $what:literal) => {{
            let a = l.as_primitive::<$T>();
            let b = r.as_primitive::<$T>();
            $arr(
                a.iter()
                    .zip(b.iter())
                    .map(|(x, y)| {
                        let (x, y) = (x?, y?);
                        match op {
                            Op::Add => checked(x.checked_add(y), ctx, $what),
                            Op::Sub => checked(x.checked_sub(y), ctx, $what),
                            Op::Mul => checked(x.checked_mul(y), ctx, $what),
                            Op::Div | Op::Mod if y == 0 => {
                                zero(ctx);
                                None
                            }
                            Op::Div => checked(x.checked_div(y), ctx, $what),
                            Op::Mod => x.checked_rem(y).or(Some(0)),
                        }
                    })
                    .collect(),
            )
        }};
    }
    let l = &cast_if_null(l, ty)?;
    let r = &cast_if_null(r, ty)?;
    Ok(match ty {
        EsType::Integer => ints!(t::Int32Type, i32_array, "integer overflow"),
        EsType::Long => ints!(t::Int64Type, i64_array, "long overflow"),
        EsType::UnsignedLong => ints!(t::UInt64Type, u64_array, "unsigned_long overflow"),
        EsType::Double => {
            let a = to_f64s(l)?;
            let b = to_f64s(r)?;
            f64_array(
                a.into_iter()
                    .zip(b)
                    .map(|(x, y)| {
                        let (x, y) = (x?, y?);
                        if matches!(op, Op::Div | Op::Mod) && y == 0.0 {
                            zero(ctx);
                            return None;
                        }
                        let v = match op {
                            Op::Add => x + y,
                            Op::Sub => x - y,
                            Op::Mul => x * y,
                            Op::Div => x / y,
                            Op::Mod => x % y,
                        };
                        if v.is_finite() {
                            Some(v)
                        } else {
                            ctx.sink.null_because(&format!(
                                "java.lang.ArithmeticException: not a finite double number: {}",
                                crate::convert::format_double(v)
                            ));
                            None
                        }
                    })
                    .collect(),
            )
        }
        other => return Err(DataFusionError::Internal(format!("arithmetic on {other}"))),
    })
}

fn cast_if_null(a: &ArrayRef, ty: EsType) -> Result<ArrayRef> {
    if a.data_type() == &DataType::Null || a.data_type() != &ty.arrow() {
        return Ok(datafusion::arrow::compute::cast(a, &ty.arrow())?);
    }
    Ok(a.clone())
}

/// Adds or subtracts a span to each date, calendar-aware for periods.
fn date_span(op: Op, d: &ArrayRef, s: &ArrayRef, ty: EsType, ctx: &EvalCtx) -> Result<ArrayRef> {
    let nanos = ty == EsType::DateNanos;
    let d = cast_if_null(d, ty)?;
    let vals: Vec<Option<i64>> = if nanos {
        d.as_primitive::<t::TimestampNanosecondType>().iter().collect()
    } else {
        d.as_primitive::<t::TimestampMillisecondType>().iter().collect()
    };
    let sign = if op == Op::Sub { -1 } else { 1 };
    let mut out = Vec::with_capacity(vals.len());
    for (i, v) in vals.into_iter().enumerate() {
        let Some(v) = v else {
            out.push(None);
            continue;
        };
        if s.is_null(i) {
            out.push(None);
            continue;
        }
        let dt: DateTime<Utc> = if nanos {
            DateTime::from_timestamp_nanos(v)
        } else {
            match DateTime::from_timestamp_millis(v) {
                Some(x) => x,
                None => {
                    ctx.sink.null_because("java.lang.ArithmeticException: long overflow");
                    out.push(None);
                    continue;
                }
            }
        };
        let shifted = match s.data_type() {
            DataType::Interval(_) => {
                let p = s.as_primitive::<t::IntervalMonthDayNanoType>().value(i);
                let months = i64::from(p.months) * sign;
                let days = i64::from(p.days) * sign;
                let m = if months >= 0 {
                    dt.checked_add_months(Months::new(months as u32))
                } else {
                    dt.checked_sub_months(Months::new((-months) as u32))
                };
                m.and_then(|x| x.checked_add_signed(Duration::days(days)))
            }
            DataType::Duration(_) => {
                let ms = s.as_primitive::<t::DurationMillisecondType>().value(i) * sign;
                dt.checked_add_signed(Duration::milliseconds(ms))
            }
            other => return Err(DataFusionError::Internal(format!("date arithmetic with {other}"))),
        };
        match shifted {
            Some(x) => out.push(if nanos { x.timestamp_nanos_opt() } else { Some(x.timestamp_millis()) }),
            None => {
                ctx.sink.null_because("java.lang.ArithmeticException: long overflow");
                out.push(None);
            }
        }
    }
    Ok(if nanos {
        Arc::new(TimestampNanosecondArray::from(out))
    } else {
        Arc::new(TimestampMillisecondArray::from(out))
    })
}

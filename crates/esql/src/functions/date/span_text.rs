//! Time span strings (`"1 day"`, `"15 minutes"`): what `TO_DATEPERIOD`, `TO_TIMEDURATION` and
//! the `::date_period` / `::time_duration` casts of string constants accept.

use crate::functions::{ArgInfo, PlanArgs, Resolved, expect_arity};
use crate::ir::Literal;
use crate::planner::{literal_to_scalar, typed_null};
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::{Expr, lit};

/// Parses `"<integer> <unit>"` (case-insensitive, any spacing) to a constant of `ty`
/// (date_period or time_duration); `None` when the text is not such a span.
pub fn parse(s: &str, ty: EsType) -> Option<Literal> {
    let lower = s.to_lowercase();
    let mut parts = lower.split_whitespace();
    let (Some(number), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else { return None };
    let v: i32 = number.parse().ok()?;
    let period =
        |months: i32, days: i32| Some(Literal::Period { months: v.checked_mul(months)?, days: v.checked_mul(days)? });
    let duration = |ms: i64| Some(Literal::Duration(i64::from(v) * ms));
    match (ty, unit) {
        (EsType::DatePeriod, "day" | "days" | "d") => period(0, 1),
        (EsType::DatePeriod, "week" | "weeks" | "w") => period(0, 7),
        (EsType::DatePeriod, "month" | "months" | "mo") => period(1, 0),
        (EsType::DatePeriod, "quarter" | "quarters" | "q") => period(3, 0),
        (EsType::DatePeriod, "year" | "years" | "yr" | "y") => period(12, 0),
        (EsType::TimeDuration, "millisecond" | "milliseconds" | "ms") => duration(1),
        (EsType::TimeDuration, "second" | "seconds" | "sec" | "s") => duration(1_000),
        (EsType::TimeDuration, "minute" | "minutes" | "min") => duration(60_000),
        (EsType::TimeDuration, "hour" | "hours" | "h") => duration(3_600_000),
        _ => None,
    }
}

/// The span type a string constant converts to where a function takes a date_period or a
/// time_duration (Elastic's implicit casting of string literals): by the unit it uses.
pub fn implicit_cast(l: Option<&Literal>) -> Option<EsType> {
    let Some(Literal::String(s)) = l else { return None };
    [EsType::DatePeriod, EsType::TimeDuration].into_iter().find(|t| parse(s, *t).is_some())
}

/// Type-checks a conversion to `target`: a value already of that type, or a constant string
/// that parses. `described` names the accepted types in messages.
pub fn resolve(
    name: &str,
    target: EsType,
    units: &[&str],
    described: &str,
    call: &str,
    args: &[ArgInfo],
) -> std::result::Result<Resolved, String> {
    expect_arity(name, args, 1, 1)?;
    let a = &args[0];
    if a.ty == target || a.ty == EsType::Null {
        return Ok(Resolved::of(target));
    }
    if !a.ty.is_string() {
        return Err(super::arg_type_error(call, args, 0, described));
    }
    match a.literal {
        Some(Literal::String(s)) => match parse(s, target) {
            Some(_) => Ok(Resolved::of(target)),
            None => Err(format!(
                "Invalid interval value in [{call}], expected integer followed by one of [{}] but got [{s}]",
                units.join(", ")
            )),
        },
        Some(Literal::Null) => Ok(Resolved::of(target)),
        _ => Err(format!("first argument of [{call}] must be a constant, received [{}]", a.text)),
    }
}

/// Plans the conversion: the parsed constant, or the argument itself when already a span.
pub fn plan(target: EsType, mut p: PlanArgs) -> Result<Expr> {
    if let Some(Literal::String(s)) = p.literals[0]
        && let Some(v) = parse(s, target)
    {
        return Ok(lit(literal_to_scalar(&v, target)));
    }
    if p.types[0] == target {
        return Ok(p.args.remove(0));
    }
    Ok(typed_null(target, false))
}

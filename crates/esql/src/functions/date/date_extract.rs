//! `DATE_EXTRACT(part, date)`: one field of a date, named like Java's `ChronoField`s
//! (`year`, `month_of_year`, `day_of_week`, `hour_of_day`, ..., case-insensitive), as a long.

use super::{DateTime, check_date_arg, check_string_arg, const_str, epoch_values, str_values};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `DATE_EXTRACT`.
pub static DEF: ScalarDef = ScalarDef { name: "date_extract", mv_args: false, resolve, plan };

/// Java's `ChronoField` names.
const FIELDS: [&str; 30] = [
    "NANO_OF_SECOND",
    "NANO_OF_DAY",
    "MICRO_OF_SECOND",
    "MICRO_OF_DAY",
    "MILLI_OF_SECOND",
    "MILLI_OF_DAY",
    "SECOND_OF_MINUTE",
    "SECOND_OF_DAY",
    "MINUTE_OF_HOUR",
    "MINUTE_OF_DAY",
    "HOUR_OF_AMPM",
    "CLOCK_HOUR_OF_AMPM",
    "HOUR_OF_DAY",
    "CLOCK_HOUR_OF_DAY",
    "AMPM_OF_DAY",
    "DAY_OF_WEEK",
    "ALIGNED_DAY_OF_WEEK_IN_MONTH",
    "ALIGNED_DAY_OF_WEEK_IN_YEAR",
    "DAY_OF_MONTH",
    "DAY_OF_YEAR",
    "EPOCH_DAY",
    "ALIGNED_WEEK_OF_MONTH",
    "ALIGNED_WEEK_OF_YEAR",
    "MONTH_OF_YEAR",
    "PROLEPTIC_MONTH",
    "YEAR_OF_ERA",
    "YEAR",
    "ERA",
    "INSTANT_SECONDS",
    "OFFSET_SECONDS",
];

/// The field named `s` (an index into [`FIELDS`]), or the Java exception text.
fn field(s: &str) -> std::result::Result<usize, String> {
    let upper = s.to_uppercase();
    FIELDS
        .iter()
        .position(|f| *f == upper)
        .ok_or_else(|| format!("No enum constant java.time.temporal.ChronoField.{upper}"))
}

/// The value of field `f` of a UTC date-time.
fn extract(f: usize, t: &DateTime) -> i64 {
    let hour = t.hour();
    let dom = i64::from(t.day);
    match FIELDS[f] {
        "NANO_OF_SECOND" => t.nano(),
        "NANO_OF_DAY" => t.nano_of_day,
        "MICRO_OF_SECOND" => t.nano() / 1_000,
        "MICRO_OF_DAY" => t.nano_of_day / 1_000,
        "MILLI_OF_SECOND" => t.nano() / 1_000_000,
        "MILLI_OF_DAY" => t.nano_of_day / 1_000_000,
        "SECOND_OF_MINUTE" => t.second(),
        "SECOND_OF_DAY" => t.nano_of_day / 1_000_000_000,
        "MINUTE_OF_HOUR" => t.minute(),
        "MINUTE_OF_DAY" => t.nano_of_day / 60_000_000_000,
        "HOUR_OF_AMPM" => hour % 12,
        "CLOCK_HOUR_OF_AMPM" => {
            if hour % 12 == 0 {
                12
            } else {
                hour % 12
            }
        }
        "HOUR_OF_DAY" => hour,
        "CLOCK_HOUR_OF_DAY" => {
            if hour == 0 {
                24
            } else {
                hour
            }
        }
        "AMPM_OF_DAY" => hour / 12,
        "DAY_OF_WEEK" => t.day_of_week(),
        "ALIGNED_DAY_OF_WEEK_IN_MONTH" => (dom - 1) % 7 + 1,
        "ALIGNED_DAY_OF_WEEK_IN_YEAR" => (t.day_of_year() - 1) % 7 + 1,
        "DAY_OF_MONTH" => dom,
        "DAY_OF_YEAR" => t.day_of_year(),
        "EPOCH_DAY" => t.epoch_day,
        "ALIGNED_WEEK_OF_MONTH" => (dom - 1) / 7 + 1,
        "ALIGNED_WEEK_OF_YEAR" => (t.day_of_year() - 1) / 7 + 1,
        "MONTH_OF_YEAR" => i64::from(t.month),
        "PROLEPTIC_MONTH" => t.year * 12 + i64::from(t.month) - 1,
        "YEAR_OF_ERA" => {
            if t.year >= 1 {
                t.year
            } else {
                1 - t.year
            }
        }
        "YEAR" => t.year,
        "ERA" => i64::from(t.year >= 1),
        "INSTANT_SECONDS" => t.epoch_day * 86_400 + t.nano_of_day / 1_000_000_000,
        _ => 0, // OFFSET_SECONDS: always UTC
    }
}

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("date_extract", args, 2, 2)?;
    check_string_arg(call, args, 0)?;
    let cast = check_date_arg(call, args, 1, "datetime or date_nanos", true)?;
    Ok(Resolved { ty: EsType::Long, multi: false, casts: vec![None, cast] })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let date_ty = p.types[1];
    let text = p.sink.key().1.to_string();
    let constant = const_str(p.literals[0]).map(|f| f.map(|f| (field(&f), f)));
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        let dates = epoch_values(&a[1])?;
        let fields: Vec<Option<std::result::Result<usize, String>>> = match &constant {
            Some(Some((Err(_), name))) => {
                return Err(DataFusionError::Execution(format!("invalid date field for [{text}]: {name}")));
            }
            Some(f) => vec![f.as_ref().map(|(f, _)| f.clone()); dates.len()],
            None => str_values(&a[0])?.into_iter().map(|f| f.map(field)).collect(),
        };
        let mut out = Vec::with_capacity(dates.len());
        for (f, d) in fields.into_iter().zip(dates) {
            let (Some(f), Some(d)) = (f, d) else {
                out.push(None);
                continue;
            };
            match f {
                Ok(f) => out.push(Some(extract(f, &DateTime::from_epoch(d, date_ty)))),
                Err(e) => {
                    ctx.sink.null_because(&format!("java.lang.IllegalArgumentException: {e}"));
                    out.push(None);
                }
            }
        }
        Ok(kernels::i64_array(out))
    });
    Ok(udf::call("date_extract", EsType::Long.arrow(), p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(name: &str, ms: i64) -> i64 {
        extract(field(name).unwrap(), &DateTime::from_millis(ms))
    }

    #[test]
    fn fields() {
        // 2023-10-23T13:55:01.543Z, a Monday.
        let t = 1_698_069_301_543;
        let expect = [
            ("year", 2023),
            ("MONTH_OF_YEAR", 10),
            ("day_of_month", 23),
            ("Day_Of_Week", 1),
            ("day_of_year", 296),
            ("hour_of_day", 13),
            ("clock_hour_of_ampm", 1),
            ("ampm_of_day", 1),
            ("minute_of_hour", 55),
            ("second_of_minute", 1),
            ("milli_of_second", 543),
            ("micro_of_second", 543_000),
            ("nano_of_second", 543_000_000),
            ("aligned_week_of_month", 4),
            ("aligned_day_of_week_in_month", 2),
            ("aligned_week_of_year", 43),
            ("epoch_day", 19_653),
            ("instant_seconds", 1_698_069_301),
            ("proleptic_month", 2023 * 12 + 9),
            ("era", 1),
            ("year_of_era", 2023),
            ("offset_seconds", 0),
            ("minute_of_day", 13 * 60 + 55),
        ];
        for (name, v) in expect {
            assert_eq!(get(name, t), v, "{name}");
        }
        assert_eq!(get("clock_hour_of_day", 0), 24);
        assert_eq!(get("instant_seconds", -1), -1);
        assert_eq!(field("foo").unwrap_err(), "No enum constant java.time.temporal.ChronoField.FOO");
    }
}

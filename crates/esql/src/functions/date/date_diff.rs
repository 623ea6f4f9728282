//! `DATE_DIFF(unit, start, end)`: `end - start` in whole `unit`s (an integer), counted the way
//! Java's `ChronoUnit.between` counts them on UTC date-times: calendar units only count fully
//! elapsed units, results outside the integer range become null with a warning.

use super::{DateTime, NANOS_PER_DAY, check_date_arg, check_string_arg, const_str, epoch_values, str_values};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `DATE_DIFF`.
pub static DEF: ScalarDef = ScalarDef { name: "date_diff", mv_args: false, resolve, plan };

/// A unit of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Calendar years.
    Year,
    /// Quarters (3 calendar months).
    Quarter,
    /// Calendar months.
    Month,
    /// Days.
    DayOfYear,
    /// Days.
    Day,
    /// Weeks (7 days).
    Week,
    /// Days.
    Weekday,
    /// Hours.
    Hour,
    /// Minutes.
    Minute,
    /// Seconds.
    Second,
    /// Milliseconds.
    Millisecond,
    /// Microseconds.
    Microsecond,
    /// Nanoseconds.
    Nanosecond,
}

/// The units with their names and aliases, in Elastic's order.
const PARTS: [(Part, &str, &[&str]); 13] = [
    (Part::Year, "YEAR", &["years", "yyyy", "yy"]),
    (Part::Quarter, "QUARTER", &["quarters", "qq", "q"]),
    (Part::Month, "MONTH", &["months", "mm", "m"]),
    (Part::DayOfYear, "DAYOFYEAR", &["dy", "y"]),
    (Part::Day, "DAY", &["days", "dd", "d"]),
    (Part::Week, "WEEK", &["weeks", "wk", "ww"]),
    (Part::Weekday, "WEEKDAY", &["weekdays", "dw"]),
    (Part::Hour, "HOUR", &["hours", "hh"]),
    (Part::Minute, "MINUTE", &["minutes", "mi", "n"]),
    (Part::Second, "SECOND", &["seconds", "ss", "s"]),
    (Part::Millisecond, "MILLISECOND", &["milliseconds", "ms"]),
    (Part::Microsecond, "MICROSECOND", &["microseconds", "mcs"]),
    (Part::Nanosecond, "NANOSECOND", &["nanoseconds", "ns"]),
];

impl Part {
    /// The unit named `s` (case-insensitive), or Elastic's message.
    pub fn resolve(s: &str) -> std::result::Result<Part, String> {
        let lower = s.to_lowercase();
        for (part, name, aliases) in PARTS {
            if name.to_lowercase() == lower || aliases.contains(&lower.as_str()) {
                return Ok(part);
            }
        }
        let similar = find_similar(s);
        if similar.is_empty() {
            let names: Vec<&str> = PARTS.iter().map(|(_, n, _)| *n).collect();
            Err(format!("A value of [{}] or their aliases is required; received [{s}]", names.join(", ")))
        } else {
            Err(format!("Received value [{s}] is not valid date part to add; did you mean [{}]?", similar.join(", ")))
        }
    }

    /// `end - start` in this unit; `None` when Java's long arithmetic overflows.
    pub fn between(self, start: &DateTime, end: &DateTime) -> Option<i64> {
        Some(match self {
            Part::Year => months_between(start, end) / 12,
            Part::Quarter => months_between(start, end) / 3,
            Part::Month => months_between(start, end),
            Part::DayOfYear | Part::Day | Part::Weekday => days_between(start, end),
            Part::Week => days_between(start, end) / 7,
            Part::Hour => time_between(start, end, 3_600_000_000_000)?,
            Part::Minute => time_between(start, end, 60_000_000_000)?,
            Part::Second => time_between(start, end, 1_000_000_000)?,
            Part::Millisecond => time_between(start, end, 1_000_000)?,
            Part::Microsecond => time_between(start, end, 1_000)?,
            Part::Nanosecond => time_between(start, end, 1)?,
        })
    }
}

/// The end date for date-based units: a day that is not complete does not count.
fn adjusted_end_day(start: &DateTime, end: &DateTime) -> i64 {
    if end.epoch_day > start.epoch_day && end.nano_of_day < start.nano_of_day {
        end.epoch_day - 1
    } else if end.epoch_day < start.epoch_day && end.nano_of_day > start.nano_of_day {
        end.epoch_day + 1
    } else {
        end.epoch_day
    }
}

fn days_between(start: &DateTime, end: &DateTime) -> i64 {
    adjusted_end_day(start, end) - start.epoch_day
}

fn months_between(start: &DateTime, end: &DateTime) -> i64 {
    let e = DateTime::from_parts(adjusted_end_day(start, end), 0);
    let packed = |t: &DateTime| (t.year * 12 + i64::from(t.month) - 1) * 32 + i64::from(t.day);
    (packed(&e) - packed(start)) / 32
}

fn time_between(start: &DateTime, end: &DateTime, unit: i64) -> Option<i64> {
    let mut days = end.epoch_day - start.epoch_day;
    let mut time = end.nano_of_day - start.nano_of_day;
    if days == 0 {
        return Some(time / unit);
    }
    if days > 0 {
        days -= 1;
        time += NANOS_PER_DAY;
    } else {
        days += 1;
        time -= NANOS_PER_DAY;
    }
    days.checked_mul(NANOS_PER_DAY / unit)?.checked_add(time / unit)
}

/// Java's `String.hashCode`.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Lucene's Levenshtein similarity: 1 - distance / longest length.
fn similarity(a: &str, b: &str) -> f32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() || b.is_empty() {
        return if a.len() == b.len() { 1.0 } else { 0.0 };
    }
    let mut prev: Vec<usize> = (0..=a.len()).collect();
    for (j, cb) in b.iter().enumerate() {
        let mut cur = vec![j + 1; a.len() + 1];
        for i in 1..=a.len() {
            let cost = usize::from(a[i - 1] != *cb);
            cur[i] = (cur[i - 1] + 1).min(prev[i] + 1).min(prev[i - 1] + cost);
        }
        prev = cur;
    }
    1.0 - prev[a.len()] as f32 / a.len().max(b.len()) as f32
}

/// The unit names similar to `s`, most similar first, ties in the order Elastic's hash map
/// iterates them.
fn find_similar(s: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (_, name, aliases) in PARTS {
        keys.push(name.to_lowercase());
        keys.extend(aliases.iter().map(|a| a.to_string()));
    }
    // A java.util.HashMap of this many keys has 64 buckets; it iterates them in order.
    let bucket = |k: &str| {
        let h = java_hash(k);
        ((h ^ ((h as u32) >> 16) as i32) & 63) as usize
    };
    let mut ordered: Vec<(usize, usize, String)> =
        keys.into_iter().enumerate().map(|(i, k)| (bucket(&k), i, k)).collect();
    ordered.sort();
    let mut scored: Vec<(f32, String)> =
        ordered.into_iter().map(|(_, _, k)| (similarity(s, &k), k)).filter(|(d, _)| *d >= 0.5).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().map(|(_, k)| k).collect()
}

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("date_diff", args, 3, 3)?;
    check_string_arg(call, args, 0)?;
    let start = check_date_arg(call, args, 1, "datetime or date_nanos", true)?;
    let end = check_date_arg(call, args, 2, "datetime or date_nanos", true)?;
    Ok(Resolved { ty: EsType::Integer, multi: false, casts: vec![None, start, end] })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let (start_ty, end_ty) = (p.types[1], p.types[2]);
    let text = p.sink.key().1.to_string();
    // A constant unit is resolved once; an invalid one fails the query.
    let constant = const_str(p.literals[0]).map(|u| u.map(|u| Part::resolve(&u)));
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        let starts = epoch_values(&a[1])?;
        let ends = epoch_values(&a[2])?;
        let units: Vec<Option<std::result::Result<Part, String>>> = match &constant {
            Some(Some(Err(e))) => {
                return Err(DataFusionError::Execution(format!("invalid unit format for [{text}]: {e}")));
            }
            Some(u) => vec![u.clone(); starts.len()],
            None => str_values(&a[0])?.into_iter().map(|u| u.map(Part::resolve)).collect(),
        };
        let mut out = Vec::with_capacity(starts.len());
        for ((unit, s), e) in units.into_iter().zip(starts).zip(ends) {
            let (Some(unit), Some(s), Some(e)) = (unit, s, e) else {
                out.push(None);
                continue;
            };
            let part = match unit {
                Ok(p) => p,
                Err(msg) => {
                    ctx.sink.null_because(&format!("java.lang.IllegalArgumentException: {msg}"));
                    out.push(None);
                    continue;
                }
            };
            let (s, e) = (DateTime::from_epoch(s, start_ty), DateTime::from_epoch(e, end_ty));
            let Some(d) = part.between(&s, &e) else {
                return Err(DataFusionError::Execution("long overflow".into()));
            };
            match i32::try_from(d) {
                Ok(v) => out.push(Some(v)),
                Err(_) => {
                    ctx.sink.null_because(&format!(
                        "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{d}] out of [integer] range"
                    ));
                    out.push(None);
                }
            }
        }
        Ok(kernels::i32_array(out))
    });
    Ok(udf::call("date_diff", EsType::Integer.arrow(), p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::parse_date_millis;
    use crate::ir::Literal;

    fn diff(unit: &str, a: &str, b: &str) -> Option<i64> {
        let a = DateTime::from_millis(parse_date_millis(a).unwrap());
        let b = DateTime::from_millis(parse_date_millis(b).unwrap());
        Part::resolve(unit).unwrap().between(&a, &b)
    }

    #[test]
    fn units_and_aliases() {
        let (a, b) = ("2023-12-02T11:00:00.000Z", "2023-12-02T11:00:00.001Z");
        for (u, v) in [("nanoseconds", 1_000_000), ("ns", 1_000_000), ("mcs", 1000), ("ms", 1), ("MILLISECONDS", 1)] {
            assert_eq!(diff(u, a, b), Some(v), "{u}");
        }
        let (a, b) = ("2023-12-02T11:00:00.000Z", "2023-12-24T11:00:00.000Z");
        for (u, v) in
            [("weekdays", 22), ("dw", 22), ("weeks", 3), ("wk", 3), ("ww", 3), ("dy", 22), ("y", 22), ("d", 22)]
        {
            assert_eq!(diff(u, a, b), Some(v), "{u}");
        }
        let (a, b) = ("2023-12-02T11:00:00.000Z", "2024-12-24T11:00:00.000Z");
        for (u, v) in
            [("months", 12), ("mm", 12), ("m", 12), ("quarters", 4), ("qq", 4), ("q", 4), ("yyyy", 1), ("yy", 1)]
        {
            assert_eq!(diff(u, a, b), Some(v), "{u}");
        }
        assert_eq!(diff("hh", "2023-12-02T11:00:00Z", "2023-12-02T12:00:00Z"), Some(1));
        assert_eq!(diff("n", "2023-12-02T11:00:00Z", "2023-12-02T12:00:00Z"), Some(60));
    }

    #[test]
    fn whole_calendar_units() {
        assert_eq!(diff("month", "2023-12-31T23:59:59.999Z", "2024-01-01T00:00:00Z"), Some(0));
        assert_eq!(diff("month", "2023-12-31T23:59:59.999Z", "2024-02-01T00:00:00Z"), Some(1));
        assert_eq!(diff("year", "2023-12-31T23:59:59.999Z", "2024-01-01T00:00:00Z"), Some(0));
        assert_eq!(diff("year", "2023-12-31T23:59:59.999Z", "2025-01-01T00:00:00Z"), Some(1));
        assert_eq!(diff("year", "2024-01-01T00:00:00Z", "2024-12-31T23:59:59.999Z"), Some(0));
        assert_eq!(diff("year", "2023-12-31T23:59:59.999Z", "2024-12-31T23:59:59.999Z"), Some(1));
        assert_eq!(diff("month", "2024-02-01T00:00:00Z", "2023-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(diff("day", "2024-01-02T10:00:00Z", "2024-01-01T11:00:00Z"), Some(0));
        assert_eq!(diff("hour", "2024-01-02T10:00:00Z", "2024-01-01T11:00:00Z"), Some(-23));
        assert_eq!(diff("second", "2023-12-31T23:59:59.999Z", "2024-02-01T00:00:00Z"), Some(2_678_400));
        assert_eq!(diff("nanosecond", "1900-01-01T00:00:00Z", "2200-01-01T00:00:00Z"), None);
    }

    #[test]
    fn unknown_units() {
        assert_eq!(
            Part::resolve("foo").unwrap_err(),
            "A value of [YEAR, QUARTER, MONTH, DAYOFYEAR, DAY, WEEK, WEEKDAY, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, NANOSECOND] or their aliases is required; received [foo]"
        );
        let e = Part::resolve("minuts").unwrap_err();
        assert!(
            e.starts_with("Received value [minuts] is not valid date part to add; did you mean [minutes, minute"),
            "{e}"
        );
        assert_eq!(java_hash("year"), 3_704_893);
        assert_eq!(
            java_hash("microseconds"),
            "microseconds".chars().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
        );
    }

    #[test]
    fn resolves() {
        let unit = Literal::String("day".into());
        let date = Literal::String("2023-12-02T11:00:00.001Z".into());
        let args = [
            ArgInfo { ty: EsType::Keyword, multi: false, literal: Some(&unit), text: "\"day\"" },
            ArgInfo { ty: EsType::Date, multi: false, literal: None, text: "a" },
            ArgInfo { ty: EsType::Keyword, multi: false, literal: Some(&date), text: "\"2023\"" },
        ];
        let r = resolve("date_diff(\"day\", a, \"2023\")", &args).unwrap();
        assert_eq!((r.ty, r.casts), (EsType::Integer, vec![None, None, Some(EsType::Date)]));
        let bad = [
            ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "1" },
            ArgInfo { ty: EsType::Date, multi: false, literal: None, text: "a" },
            ArgInfo { ty: EsType::Date, multi: false, literal: None, text: "b" },
        ];
        assert_eq!(
            resolve("date_diff(1, a, b)", &bad).unwrap_err(),
            "first argument of [date_diff(1, a, b)] must be [string], found value [1] type [integer]"
        );
    }
}

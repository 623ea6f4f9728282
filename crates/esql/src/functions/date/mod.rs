//! Date and time functions, one file each, plus what they share: proleptic Gregorian calendar
//! arithmetic on epoch values (UTC, the only zone ES|QL queries run in here), Elastic's date
//! roundings ([`rounding`]) and a translator for Java `DateTimeFormatter` patterns ([`pattern`]).

use super::{ArgInfo, ScalarDef, ordinal};
use crate::ir::Literal;
use crate::types::EsType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMillisecondArray, TimestampNanosecondArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use std::sync::Arc;

pub mod bucket;
pub mod date_diff;
pub mod date_extract;
pub mod date_format;
pub mod date_parse;
pub mod date_trunc;
pub mod day_name;
pub mod month_name;
pub mod now;
pub mod pattern;
pub mod rounding;
pub mod span_text;
pub mod to_dateperiod;
pub mod to_timeduration;

/// The date functions.
pub static ALL: &[&ScalarDef] = &[
    &now::DEF,
    &date_trunc::DEF,
    &date_diff::DEF,
    &date_extract::DEF,
    &date_format::DEF,
    &date_parse::DEF,
    &bucket::DEF,
    &bucket::AUTO_BUCKET,
    &bucket::BIN,
    &day_name::DEF,
    &month_name::DEF,
    &to_dateperiod::DEF,
    &to_timeduration::DEF,
];

/// Milliseconds in a day.
pub const MILLIS_PER_DAY: i64 = 86_400_000;
/// Nanoseconds in a day.
pub const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month 1-12, day) of a day since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400;
    (if month <= 2 { year + 1 } else { year }, month, day)
}

/// Whether a proleptic Gregorian year is a leap year.
pub fn is_leap(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

/// Number of days in a month.
pub fn month_length(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A UTC date-time broken into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Days since 1970-01-01.
    pub epoch_day: i64,
    /// Proleptic year (0 is 1 BC).
    pub year: i64,
    /// 1-12.
    pub month: u32,
    /// 1-31.
    pub day: u32,
    /// Nanoseconds since midnight.
    pub nano_of_day: i64,
}

impl DateTime {
    /// The date-time of epoch milliseconds.
    pub fn from_millis(ms: i64) -> DateTime {
        DateTime::from_parts(ms.div_euclid(MILLIS_PER_DAY), ms.rem_euclid(MILLIS_PER_DAY) * 1_000_000)
    }

    /// The date-time of epoch nanoseconds.
    pub fn from_nanos(ns: i64) -> DateTime {
        DateTime::from_parts(ns.div_euclid(NANOS_PER_DAY), ns.rem_euclid(NANOS_PER_DAY))
    }

    /// The date-time of an epoch value of a date type.
    pub fn from_epoch(v: i64, ty: EsType) -> DateTime {
        if ty == EsType::DateNanos { DateTime::from_nanos(v) } else { DateTime::from_millis(v) }
    }

    /// From days since epoch and nanoseconds of the day.
    pub fn from_parts(epoch_day: i64, nano_of_day: i64) -> DateTime {
        let (year, month, day) = civil_from_days(epoch_day);
        DateTime { epoch_day, year, month, day, nano_of_day }
    }

    /// 0-23.
    pub fn hour(&self) -> i64 {
        self.nano_of_day / 3_600_000_000_000
    }

    /// 0-59.
    pub fn minute(&self) -> i64 {
        self.nano_of_day / 60_000_000_000 % 60
    }

    /// 0-59.
    pub fn second(&self) -> i64 {
        self.nano_of_day / 1_000_000_000 % 60
    }

    /// Nanoseconds of the second.
    pub fn nano(&self) -> i64 {
        self.nano_of_day % 1_000_000_000
    }

    /// ISO day of week: Monday 1 .. Sunday 7.
    pub fn day_of_week(&self) -> i64 {
        (self.epoch_day + 3).rem_euclid(7) + 1
    }

    /// 1-366.
    pub fn day_of_year(&self) -> i64 {
        self.epoch_day - days_from_civil(self.year, 1, 1) + 1
    }

    /// ISO week-based year and week of that year.
    pub fn iso_week(&self) -> (i64, i64) {
        let thursday = self.epoch_day + (4 - self.day_of_week());
        let t = DateTime::from_parts(thursday, 0);
        (t.year, (t.day_of_year() - 1) / 7 + 1)
    }

    /// Epoch milliseconds (saturating: only used for values that came from milliseconds or
    /// from calendar fields in range).
    pub fn to_millis(&self) -> Option<i64> {
        self.epoch_day.checked_mul(MILLIS_PER_DAY)?.checked_add(self.nano_of_day / 1_000_000)
    }
}

/// English month names, January first.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English day names, Monday first.
pub const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Epoch milliseconds of an epoch value of a date type.
pub fn to_millis(v: i64, ty: EsType) -> i64 {
    if ty == EsType::DateNanos { v.div_euclid(1_000_000) } else { v }
}

/// The epoch values of a date or date_nanos array (null where null).
pub fn epoch_values(a: &ArrayRef) -> Result<Vec<Option<i64>>> {
    super::kernels::to_i64s(a)
}

/// The strings of a keyword/text array (null where null).
pub fn str_values(a: &ArrayRef) -> Result<Vec<Option<&str>>> {
    match a.data_type() {
        DataType::Null => Ok(vec![None; a.len()]),
        DataType::Utf8 => Ok(a.as_string::<i32>().iter().collect()),
        other => Err(DataFusionError::Internal(format!("expected a string array, found {other}"))),
    }
}

/// A date (`Date`) or date_nanos array from epoch values.
pub fn date_array(ty: EsType, v: Vec<Option<i64>>) -> ArrayRef {
    if ty == EsType::DateNanos {
        Arc::new(TimestampNanosecondArray::from(v))
    } else {
        Arc::new(TimestampMillisecondArray::from(v))
    }
}

/// `{ordinal} argument of [{call}] must be [{described}], found value [{text}] type [{type}]`:
/// Elastic's type error for functions that always name the argument position.
pub fn arg_type_error(call: &str, args: &[ArgInfo], i: usize, described: &str) -> String {
    let a = &args[i];
    format!("{} argument of [{call}] must be [{described}], found value [{}] type [{}]", ordinal(i), a.text, a.ty)
}

/// Checks a date argument (date or date_nanos; `described` is how the message names them).
/// With `cast_strings`, a string constant is accepted and converted to a date, as Elastic's
/// implicit casting of string literals does; the returned cast says so.
pub fn check_date_arg(
    call: &str,
    args: &[ArgInfo],
    i: usize,
    described: &str,
    cast_strings: bool,
) -> Result<Option<EsType>, String> {
    let a = &args[i];
    if a.ty == EsType::Null || a.ty.is_date() {
        return Ok(None);
    }
    if cast_strings && a.ty.is_string() && matches!(a.literal, Some(Literal::String(_))) {
        return Ok(Some(EsType::Date));
    }
    Err(arg_type_error(call, args, i, described))
}

/// Checks a string argument, with Elastic's `[string]` message.
pub fn check_string_arg(call: &str, args: &[ArgInfo], i: usize) -> Result<(), String> {
    let a = &args[i];
    if a.ty == EsType::Null || a.ty.is_string() {
        return Ok(());
    }
    Err(arg_type_error(call, args, i, "string"))
}

/// The string of a constant argument: `Some(None)` for a constant null, `None` when not constant.
pub fn const_str(l: Option<&Literal>) -> Option<Option<String>> {
    match l {
        Some(Literal::String(s)) => Some(Some(s.clone())),
        Some(Literal::Null) => Some(None),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(days_from_civil(-4713, 11, 24)), (-4713, 11, 24));
        for d in (-1_000_000..1_000_000).step_by(997) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn date_time_fields() {
        // 2023-10-23T13:55:01.543Z, a Monday.
        let t = DateTime::from_millis(1_698_069_301_543);
        assert_eq!((t.year, t.month, t.day), (2023, 10, 23));
        assert_eq!((t.hour(), t.minute(), t.second(), t.nano()), (13, 55, 1, 543_000_000));
        assert_eq!(t.day_of_week(), 1);
        assert_eq!(t.day_of_year(), 296);
        assert_eq!(t.iso_week(), (2023, 43));
        // 2021-01-01 is in ISO week 53 of 2020.
        assert_eq!(DateTime::from_parts(days_from_civil(2021, 1, 1), 0).iso_week(), (2020, 53));
        let before = DateTime::from_millis(-1);
        assert_eq!((before.year, before.month, before.day, before.hour()), (1969, 12, 31, 23));
        assert_eq!(DateTime::from_millis(i64::MIN).year, -292_275_055);
        assert_eq!(DateTime::from_millis(i64::MAX).year, 292_278_994);
    }
}

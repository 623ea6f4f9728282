//! Elastic's date roundings (its `Rounding`), in UTC on epoch milliseconds: what `DATE_TRUNC`
//! and `BUCKET` round dates with, and `BUCKET`'s choice of a rounding from a bucket count.

use super::{DateTime, MILLIS_PER_DAY, civil_from_days, days_from_civil};
use crate::ir::Literal;
use crate::types::EsType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, DurationMillisecondType, IntervalMonthDayNanoType};
use datafusion::common::{DataFusionError, Result};

const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;
const SECOND: i64 = 1_000;

/// A rounding of epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// A fixed interval in milliseconds, aligned on the epoch.
    Interval(i64),
    /// Start of the day.
    Day,
    /// Start of the ISO week (Monday).
    Week,
    /// First day of the month.
    Month,
    /// First day of the quarter.
    Quarter,
    /// January 1st.
    Year,
    /// Multiples of this many months, counted from 0001-01-01.
    Months(i64),
    /// Multiples of this many years, counted from 0001-01-01.
    Years(i64),
}

/// Elastic's message for a span that is zero or negative.
pub const NON_POSITIVE: &str = "Zero or negative time interval is not supported";

impl Rounding {
    /// The rounding `DATE_TRUNC` and `BUCKET` use for a calendar span.
    pub fn for_period(months: i32, days: i32) -> Result<Rounding, String> {
        if months < 0 || days < 0 || (months == 0 && days == 0) {
            return Err(NON_POSITIVE.into());
        }
        if months != 0 && days != 0 {
            return Err("Time interval with multiple periods is not supported".into());
        }
        let months = i64::from(months);
        Ok(match days {
            1 => Rounding::Day,
            7 => Rounding::Week,
            d if d > 1 => Rounding::Interval(i64::from(d) * MILLIS_PER_DAY),
            _ => match months {
                1 => Rounding::Month,
                3 => Rounding::Quarter,
                12 => Rounding::Year,
                m if m % 12 == 0 => Rounding::Years(m / 12),
                m => Rounding::Months(m),
            },
        })
    }

    /// The rounding for a fixed span in milliseconds.
    pub fn for_duration(ms: i64) -> Result<Rounding, String> {
        if ms <= 0 {
            return Err(NON_POSITIVE.into());
        }
        Ok(Rounding::Interval(ms))
    }

    /// Rounds epoch milliseconds down; `None` when the result does not fit.
    pub fn round(self, ms: i64) -> Option<i64> {
        let start_of = |days: i64| days.checked_mul(MILLIS_PER_DAY);
        match self {
            Rounding::Interval(i) => ms.div_euclid(i).checked_mul(i),
            Rounding::Day => start_of(ms.div_euclid(MILLIS_PER_DAY)),
            Rounding::Week => {
                let shift = 3 * MILLIS_PER_DAY;
                let week = 7 * MILLIS_PER_DAY;
                ms.checked_add(shift)?.div_euclid(week).checked_mul(week)?.checked_sub(shift)
            }
            Rounding::Month | Rounding::Quarter | Rounding::Year | Rounding::Months(_) | Rounding::Years(_) => {
                let t = DateTime::from_millis(ms);
                let (year, month) = match self {
                    Rounding::Month => (t.year, t.month),
                    Rounding::Quarter => (t.year, (t.month - 1) / 3 * 3 + 1),
                    Rounding::Year => (t.year, 1),
                    Rounding::Months(n) => {
                        let total = (t.year - 1) * 12 + i64::from(t.month) - 1;
                        let first = total.div_euclid(n) * n;
                        let month = first.rem_euclid(12) + 1;
                        ((first - (month - 1)) / 12 + 1, month as u32)
                    }
                    Rounding::Years(n) => ((t.year - 1).div_euclid(n) * n + 1, 1),
                    _ => (t.year, t.month),
                };
                start_of(days_from_civil(year, month, 1))
            }
        }
    }

    /// How many steps from the rounded `from` it takes to reach `to` or beyond (at least one),
    /// as Elastic's bucket picker counts them. Only for the roundings the picker uses.
    fn steps(self, from: i64, to: i64) -> Option<i128> {
        let fixed = |step: i64| -> Option<i128> {
            let r0 = i128::from(self.round(from)?);
            let gap = i128::from(to) - r0;
            let step = i128::from(step);
            Some(((gap + step - 1).div_euclid(step)).max(1))
        };
        match self {
            Rounding::Interval(i) => fixed(i),
            Rounding::Day => fixed(MILLIS_PER_DAY),
            Rounding::Week => fixed(7 * MILLIS_PER_DAY),
            Rounding::Month | Rounding::Year => {
                let months = self == Rounding::Month;
                let index = |ms: i64| {
                    let t = DateTime::from_millis(ms);
                    let i = if months { t.year * 12 + i64::from(t.month) - 1 } else { t.year };
                    let exact = t.nano_of_day == 0 && t.day == 1 && (months || t.month == 1);
                    (i128::from(i), exact)
                };
                let (i0, _) = index(from);
                let (it, exact) = index(to);
                let target = if exact { it } else { it + 1 };
                Some((target - i0).max(1))
            }
            _ => None,
        }
    }

    /// Whether rounding `from..to` gives at most `buckets` buckets (Elastic's `roundingIsOk`).
    fn fits(self, buckets: i32, from: i64, to: i64) -> bool {
        buckets > 0 && self.steps(from, to).is_some_and(|s| s <= i128::from(buckets))
    }

    /// `BUCKET`'s choice for `buckets` buckets over `from..to`: the finest of a list of
    /// human-friendly roundings that gives at most that many buckets, else a year.
    pub fn pick(buckets: i32, from: i64, to: i64) -> Rounding {
        const PRIMARY: [Rounding; 16] = [
            Rounding::Day,
            Rounding::Interval(12 * HOUR),
            Rounding::Interval(3 * HOUR),
            Rounding::Interval(HOUR),
            Rounding::Interval(30 * MINUTE),
            Rounding::Interval(10 * MINUTE),
            Rounding::Interval(5 * MINUTE),
            Rounding::Interval(MINUTE),
            Rounding::Interval(30 * SECOND),
            Rounding::Interval(10 * SECOND),
            Rounding::Interval(5 * SECOND),
            Rounding::Interval(SECOND),
            Rounding::Interval(100),
            Rounding::Interval(50),
            Rounding::Interval(10),
            Rounding::Interval(1),
        ];
        // Binary search for the last rounding that fits, as Elastic does.
        let (mut low, mut high) = (0i64, PRIMARY.len() as i64 - 1);
        let mut best = None;
        while low <= high {
            let mid = (low + high) / 2;
            let r = PRIMARY[mid as usize];
            if r.fits(buckets, from, to) {
                best = Some(r);
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        if let Some(b) = best {
            return b;
        }
        [Rounding::Week, Rounding::Month, Rounding::Year]
            .into_iter()
            .find(|r| r.fits(buckets, from, to))
            .unwrap_or(Rounding::Year)
    }
}

/// The (year, month, day) of epoch milliseconds.
pub fn ymd(ms: i64) -> (i64, u32, u32) {
    civil_from_days(ms.div_euclid(MILLIS_PER_DAY))
}

/// Rounds an epoch value of a date type (date_nanos are rounded as milliseconds, as Elastic
/// does); `None` when the result does not fit.
pub fn round_epoch(r: Rounding, v: i64, ty: EsType) -> Option<i64> {
    if ty == EsType::DateNanos { r.round(v.div_euclid(1_000_000))?.checked_mul(1_000_000) } else { r.round(v) }
}

/// A time span value: a `date_period` or a `time_duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// Calendar months and days.
    Period {
        /// Months (years count as 12).
        months: i32,
        /// Days (weeks count as 7).
        days: i32,
    },
    /// Milliseconds.
    Duration(i64),
}

impl Span {
    /// The rounding for this span, or Elastic's message for an unsupported one.
    pub fn rounding(self) -> Result<Rounding, String> {
        match self {
            Span::Period { months, days } => Rounding::for_period(months, days),
            Span::Duration(ms) => Rounding::for_duration(ms),
        }
    }

    /// The span of a constant: `Some(None)` for a constant null, `None` when not a span constant.
    pub fn of_literal(l: Option<&Literal>) -> Option<Option<Span>> {
        match l? {
            Literal::Period { months, days } => Some(Some(Span::Period { months: *months, days: *days })),
            Literal::Duration(ms) => Some(Some(Span::Duration(*ms))),
            Literal::Null => Some(None),
            _ => None,
        }
    }

    /// The spans of a date_period or time_duration array.
    pub fn values(a: &ArrayRef) -> Result<Vec<Option<Span>>> {
        Ok(match a.data_type() {
            DataType::Null => vec![None; a.len()],
            DataType::Interval(_) => a
                .as_primitive_opt::<IntervalMonthDayNanoType>()
                .ok_or_else(|| DataFusionError::Internal("expected a month-day-nano interval array".into()))?
                .iter()
                .map(|v| v.map(|v| Span::Period { months: v.months, days: v.days }))
                .collect(),
            DataType::Duration(_) => a
                .as_primitive_opt::<DurationMillisecondType>()
                .ok_or_else(|| DataFusionError::Internal("expected a millisecond duration array".into()))?
                .iter()
                .map(|v| v.map(Span::Duration))
                .collect(),
            other => return Err(DataFusionError::Internal(format!("expected a time span array, found {other}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::parse_date_millis;

    fn ms(s: &str) -> i64 {
        parse_date_millis(s).unwrap()
    }

    fn round(r: Rounding, s: &str) -> String {
        crate::convert::format_date_millis(r.round(ms(s)).unwrap())
    }

    #[test]
    fn calendar_roundings() {
        assert_eq!(round(Rounding::Month, "1985-02-18T10:00:00Z"), "1985-02-01T00:00:00.000Z");
        assert_eq!(round(Rounding::Quarter, "1985-09-17T00:00:00Z"), "1985-07-01T00:00:00.000Z");
        assert_eq!(round(Rounding::Year, "1985-09-17T00:00:00Z"), "1985-01-01T00:00:00.000Z");
        assert_eq!(round(Rounding::Week, "1985-02-24T00:00:00Z"), "1985-02-18T00:00:00.000Z");
        assert_eq!(round(Rounding::Week, "1985-07-09T00:00:00Z"), "1985-07-08T00:00:00.000Z");
        assert_eq!(round(Rounding::Day, "1969-12-31T23:00:00Z"), "1969-12-31T00:00:00.000Z");
        // 240 hours: aligned on the epoch.
        assert_eq!(round(Rounding::Interval(240 * HOUR), "1985-02-18T00:00:00Z"), "1985-02-11T00:00:00.000Z");
        assert_eq!(round(Rounding::Interval(240 * HOUR), "1985-07-09T00:00:00Z"), "1985-07-01T00:00:00.000Z");
        // Multiples of months and years count from year 1.
        assert_eq!(round(Rounding::Months(2), "2023-02-15T00:00:00Z"), "2023-01-01T00:00:00.000Z");
        assert_eq!(round(Rounding::Months(5), "2023-04-15T00:00:00Z"), "2023-02-01T00:00:00.000Z");
        assert_eq!(round(Rounding::Years(2), "2023-02-15T00:00:00Z"), "2023-01-01T00:00:00.000Z");
        assert_eq!(round(Rounding::Years(2), "2024-02-15T00:00:00Z"), "2023-01-01T00:00:00.000Z");
        assert_eq!(round(Rounding::Years(10), "1985-02-15T00:00:00Z"), "1981-01-01T00:00:00.000Z");
        assert_eq!(Rounding::Interval(1000).round(i64::MIN), None);
        assert_eq!(Rounding::Week.round(i64::MAX), None);
    }

    #[test]
    fn spans() {
        assert_eq!(Rounding::for_period(12, 0), Ok(Rounding::Year));
        assert_eq!(Rounding::for_period(0, 14), Ok(Rounding::Interval(14 * MILLIS_PER_DAY)));
        assert_eq!(Rounding::for_period(0, 0).unwrap_err(), NON_POSITIVE);
        assert_eq!(Rounding::for_period(-1, 0).unwrap_err(), NON_POSITIVE);
        assert!(Rounding::for_period(1, 1).is_err());
        assert_eq!(Rounding::for_duration(0).unwrap_err(), NON_POSITIVE);
        assert_eq!(Rounding::for_duration(5), Ok(Rounding::Interval(5)));
        assert_eq!(ymd(0), (1970, 1, 1));
    }

    #[test]
    fn picker() {
        let year = (ms("1985-01-01T00:00:00Z"), ms("1986-01-01T00:00:00Z"));
        assert_eq!(Rounding::pick(20, year.0, year.1), Rounding::Month);
        assert_eq!(Rounding::pick(100, year.0, year.1), Rounding::Week);
        assert_eq!(Rounding::pick(400, year.0, year.1), Rounding::Day);
        assert_eq!(Rounding::pick(1, year.0, year.1), Rounding::Year);
        assert_eq!(Rounding::pick(0, year.0, year.1), Rounding::Year);
        let day = (ms("2023-10-22T13:00:00Z"), ms("2023-10-23T13:00:00Z"));
        assert_eq!(Rounding::pick(25, day.0, day.1), Rounding::Interval(HOUR));
        assert_eq!(Rounding::pick(24, day.0, day.1), Rounding::Interval(HOUR));
        assert_eq!(Rounding::pick(23, day.0, day.1), Rounding::Interval(3 * HOUR));
        assert_eq!(Rounding::pick(i32::MAX, 0, i64::MAX), Rounding::Year);
    }
}

//! Kibana date math (`now-6m`, `now-5m/m`, `2024-05-01T00:00:00Z||+1d`) for a rule's `from` and
//! `to`, rule intervals (`5m`), and moment.js's `humanize` for gap messages.
//!
//! Kibana: `@elastic/datemath` (`parse(text, {forceNow})`), used by `getRuleRangeTuples` in
//! `detection_engine/rule_types/utils/utils.ts`. Units are `y M w d h m s ms` (`H` is accepted as
//! `h`, as Elasticsearch does); a missing number means 1 (`now-d`); `/unit` rounds down to the
//! start of the unit in UTC. Deviation: weeks round to Monday (ISO, as Elasticsearch) where
//! moment's default English locale starts them on Sunday.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Timelike, Utc};
use std::fmt;
use std::str::FromStr;

/// A date-math time unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `y`
    Year,
    /// `M`
    Month,
    /// `w`
    Week,
    /// `d`
    Day,
    /// `h` (or `H`)
    Hour,
    /// `m`
    Minute,
    /// `s`
    Second,
    /// `ms`
    Millisecond,
}

impl Unit {
    fn symbol(self) -> &'static str {
        match self {
            Unit::Year => "y",
            Unit::Month => "M",
            Unit::Week => "w",
            Unit::Day => "d",
            Unit::Hour => "h",
            Unit::Minute => "m",
            Unit::Second => "s",
            Unit::Millisecond => "ms",
        }
    }
}

/// One step of date math after the anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add(i64, Unit),
    Round(Unit),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Anchor {
    Now,
    Date(DateTime<Utc>),
}

/// A parsed date-math expression; [`DateMath::resolve`] evaluates it for a given `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateMath {
    text: String,
    anchor: Anchor,
    ops: Vec<Op>,
}

/// Why a date-math expression or an interval does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateMathError {
    /// Not Kibana date math.
    #[error("invalid date math `{text}`: {reason}; expected e.g. `now-6m`, `now-1h/h` or an ISO-8601 date")]
    DateMath {
        /// The expression.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// Not an interval.
    #[error("invalid interval `{0}`, expected a positive number followed by one of: s, m, h, d (e.g. `5m`)")]
    Interval(String),
}

impl DateMath {
    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant this expression names when the current time is `now`; `None` when the result
    /// is out of range.
    pub fn resolve(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut t = match &self.anchor {
            Anchor::Now => now,
            Anchor::Date(d) => *d,
        };
        for op in &self.ops {
            t = match *op {
                Op::Add(n, unit) => add(t, n, unit)?,
                Op::Round(unit) => round_down(t, unit)?,
            };
        }
        Some(t)
    }
}

impl fmt::Display for DateMath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for DateMath {
    type Err = DateMathError;

    fn from_str(text: &str) -> Result<DateMath, DateMathError> {
        let err = |reason: &str| DateMathError::DateMath { text: text.to_string(), reason: reason.to_string() };
        let trimmed = text.trim();
        let (anchor, math) = if let Some(rest) = trimmed.strip_prefix("now") {
            (Anchor::Now, rest)
        } else if let Some((date, rest)) = trimmed.split_once("||") {
            (Anchor::Date(parse_date(date).ok_or_else(|| err("the date before `||` does not parse"))?), rest)
        } else {
            (Anchor::Date(parse_date(trimmed).ok_or_else(|| err("not `now…` and not a date"))?), "")
        };
        let mut ops = Vec::new();
        let chars: Vec<char> = math.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '/' => {
                    let (unit, next) = parse_unit(&chars, i).ok_or_else(|| err("`/` must be followed by a unit"))?;
                    ops.push(Op::Round(unit));
                    i = next;
                }
                '+' | '-' => {
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    let digits: String = chars[start..i].iter().collect();
                    let n: i64 =
                        if digits.is_empty() { 1 } else { digits.parse().map_err(|_| err("number too large"))? };
                    let (unit, next) =
                        parse_unit(&chars, i).ok_or_else(|| err("a number must be followed by a unit"))?;
                    i = next;
                    ops.push(Op::Add(if c == '-' { -n } else { n }, unit));
                }
                _ => return Err(err(&format!("unexpected `{c}`"))),
            }
        }
        Ok(DateMath { text: text.to_string(), anchor, ops })
    }
}

fn parse_unit(chars: &[char], i: usize) -> Option<(Unit, usize)> {
    let c = *chars.get(i)?;
    if c == 'm' && chars.get(i + 1) == Some(&'s') {
        return Some((Unit::Millisecond, i + 2));
    }
    let unit = match c {
        'y' => Unit::Year,
        'M' => Unit::Month,
        'w' => Unit::Week,
        'd' => Unit::Day,
        'h' | 'H' => Unit::Hour,
        'm' => Unit::Minute,
        's' => Unit::Second,
        _ => return None,
    };
    Some((unit, i + 1))
}

/// Parses an ISO-8601 / RFC 3339 instant, a date-time without zone (UTC), a date, or epoch
/// milliseconds.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return DateTime::from_timestamp_millis(text.parse().ok()?);
    }
    None
}

fn add(t: DateTime<Utc>, n: i64, unit: Unit) -> Option<DateTime<Utc>> {
    let months = |m: i64| -> Option<DateTime<Utc>> {
        let abs = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
        if m >= 0 { t.checked_add_months(abs) } else { t.checked_sub_months(abs) }
    };
    match unit {
        Unit::Year => months(n.checked_mul(12)?),
        Unit::Month => months(n),
        Unit::Week => t.checked_add_signed(Duration::try_weeks(n)?),
        Unit::Day => t.checked_add_signed(Duration::try_days(n)?),
        Unit::Hour => t.checked_add_signed(Duration::try_hours(n)?),
        Unit::Minute => t.checked_add_signed(Duration::try_minutes(n)?),
        Unit::Second => t.checked_add_signed(Duration::try_seconds(n)?),
        Unit::Millisecond => t.checked_add_signed(Duration::try_milliseconds(n)?),
    }
}

fn round_down(t: DateTime<Utc>, unit: Unit) -> Option<DateTime<Utc>> {
    let date = t.date_naive();
    let midnight = |d: NaiveDate| Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?));
    match unit {
        Unit::Year => midnight(NaiveDate::from_ymd_opt(date.year(), 1, 1)?),
        Unit::Month => midnight(NaiveDate::from_ymd_opt(date.year(), date.month(), 1)?),
        Unit::Week => midnight(date - Duration::days(i64::from(date.weekday().num_days_from_monday()))),
        Unit::Day => midnight(date),
        Unit::Hour => t.with_nanosecond(0)?.with_second(0)?.with_minute(0),
        Unit::Minute => t.with_nanosecond(0)?.with_second(0),
        Unit::Second => t.with_nanosecond(0),
        Unit::Millisecond => t.with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000),
    }
}

/// A rule's run interval (`5m`): a positive number of seconds, minutes, hours or days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    text: String,
    millis: i64,
}

impl Interval {
    /// The interval as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its length.
    pub fn duration(&self) -> Duration {
        Duration::milliseconds(self.millis)
    }

    /// Its length in milliseconds.
    pub fn millis(&self) -> i64 {
        self.millis
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Interval {
    type Err = DateMathError;

    fn from_str(text: &str) -> Result<Interval, DateMathError> {
        let err = || DateMathError::Interval(text.to_string());
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (digits, unit) = t.split_at(split);
        let n: i64 = digits.parse().map_err(|_| err())?;
        let unit_ms: i64 = match unit {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(err()),
        };
        let millis = n.checked_mul(unit_ms).filter(|m| *m > 0).ok_or_else(err)?;
        Ok(Interval { text: text.to_string(), millis })
    }
}

/// A duration as moment.js's `duration.humanize()` words it (`a few seconds`, `5 minutes`,
/// `an hour`, `2 hours`, `a day`), as Kibana's gap message does.
pub fn humanize(d: Duration) -> String {
    let secs = d.num_milliseconds().abs() as f64 / 1000.0;
    let round = |x: f64| x.round() as i64;
    let (minutes, hours, days) = (secs / 60.0, secs / 3600.0, secs / 86400.0);
    let months = days / 30.436875;
    let years = days / 365.2425;
    if round(secs) < 45 {
        "a few seconds".to_string()
    } else if round(minutes) <= 1 {
        "a minute".to_string()
    } else if round(minutes) < 45 {
        format!("{} minutes", round(minutes))
    } else if round(hours) <= 1 {
        "an hour".to_string()
    } else if round(hours) < 22 {
        format!("{} hours", round(hours))
    } else if round(days) <= 1 {
        "a day".to_string()
    } else if round(days) < 26 {
        format!("{} days", round(days))
    } else if round(months) <= 1 {
        "a month".to_string()
    } else if round(months) < 11 {
        format!("{} months", round(months))
    } else if round(years) <= 1 {
        "a year".to_string()
    } else {
        format!("{} years", round(years))
    }
}

/// An instant as JavaScript's `toISOString` writes it (`2024-05-01T10:00:00.000Z`), the form
/// Kibana sends in range filters and hashes into alert ids.
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl Unit {
    /// The unit as date math writes it.
    pub fn as_str(self) -> &'static str {
        self.symbol()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        parse_date(s).expect("date")
    }

    struct Case {
        math: &'static str,
        expected: &'static str,
    }

    #[test]
    fn date_math_resolves_against_now() {
        let now = at("2024-05-01T10:07:31.250Z");
        let cases = [
            Case { math: "now", expected: "2024-05-01T10:07:31.250Z" },
            Case { math: "now-6m", expected: "2024-05-01T10:01:31.250Z" },
            Case { math: "now-8h", expected: "2024-05-01T02:07:31.250Z" },
            Case { math: "now-5m/m", expected: "2024-05-01T10:02:00.000Z" },
            Case { math: "now/d", expected: "2024-05-01T00:00:00.000Z" },
            Case { math: "now-7205m", expected: "2024-04-26T10:02:31.250Z" },
            Case { math: "now+1h", expected: "2024-05-01T11:07:31.250Z" },
            Case { math: "now-d", expected: "2024-04-30T10:07:31.250Z" },
            Case { math: "now-1M/M", expected: "2024-04-01T00:00:00.000Z" },
            Case { math: "now/w", expected: "2024-04-29T00:00:00.000Z" },
            Case { math: "now-360s", expected: "2024-05-01T10:01:31.250Z" },
            Case { math: "2024-01-01T00:00:00Z||+1d", expected: "2024-01-02T00:00:00.000Z" },
            Case { math: "2024-01-01", expected: "2024-01-01T00:00:00.000Z" },
        ];
        for case in cases {
            let dm: DateMath = case.math.parse().unwrap_or_else(|e| panic!("{}: {e}", case.math));
            assert_eq!(iso(dm.resolve(now).expect("in range")), case.expected, "{}", case.math);
        }
    }

    #[test]
    fn bad_date_math_says_why() {
        for bad in ["yesterday", "now-5x", "now-", "now*2"] {
            let e = bad.parse::<DateMath>().expect_err(bad).to_string();
            assert!(e.starts_with(&format!("invalid date math `{bad}`")), "{e}");
        }
    }

    #[test]
    fn intervals() {
        assert_eq!("5m".parse::<Interval>().expect("5m").millis(), 300_000);
        assert_eq!("1h".parse::<Interval>().expect("1h").millis(), 3_600_000);
        assert_eq!("30s".parse::<Interval>().expect("30s").millis(), 30_000);
        for bad in ["", "m", "5", "0m", "5w", "-5m", "5 m"] {
            let e = bad.parse::<Interval>().expect_err(bad).to_string();
            assert!(e.contains("expected a positive number followed by one of: s, m, h, d"), "{e}");
        }
    }

    #[test]
    fn humanized_like_moment() {
        let cases = [
            (10_000, "a few seconds"),
            (60_000, "a minute"),
            (5 * 60_000, "5 minutes"),
            (50 * 60_000, "an hour"),
            (3 * 3_600_000, "3 hours"),
            (24 * 3_600_000, "a day"),
            (3 * 86_400_000, "3 days"),
        ];
        for (ms, text) in cases {
            assert_eq!(humanize(Duration::milliseconds(ms)), text, "{ms}");
        }
    }
}

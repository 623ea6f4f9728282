//! Elasticsearch date math for query bounds: `now-1d/d`, `2024-01-01||+1M/M`, plain dates in
//! `strict_date_optional_time` or `epoch_millis`, rounded down or up the way range queries
//! round them.
//!
//! Elasticsearch parses a bound with `roundUp = true` for `gt` and `lte` (and the upper end of an
//! exact-date match) and `false` for `gte` and `lt`. Rounding up means: `/d` goes to the last
//! millisecond of the day, and a date written without a time gets its *time* fields filled with
//! their maxima (`2024-01-01` → `2024-01-01T23:59:59.999`; missing month and day stay `01`, as
//! Elasticsearch documents). Everything is UTC.
//!
//! ES: `JavaDateMathParser`, `DateFormatters` (round-up parser defaults).

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// The formats of a date field, as Elasticsearch names them in errors.
pub const DEFAULT_FORMAT: &str = "strict_date_optional_time||epoch_millis";

/// Parses a date-math expression into epoch nanoseconds, relative to `now_ms`.
///
/// # Errors
/// Elasticsearch's message (without the `failed to create query: ` prefix).
pub fn parse_nanos(text: &str, now_ms: i64, round_up: bool) -> Result<i64, String> {
    let (base, math) = if let Some(math) = text.strip_prefix("now") {
        (i128::from(now_ms) * 1_000_000, math)
    } else if let Some(idx) = text.find("||") {
        (parse_date(&text[..idx], false).ok_or_else(|| date_error(&text[..idx]))?, &text[idx + 2..])
    } else {
        return parse_date(text, round_up).and_then(to_i64).ok_or_else(|| date_error(text));
    };
    let out = apply_math(base, math, round_up)?;
    to_i64(out).ok_or_else(|| date_error(text))
}

/// Parses a date-math expression into epoch milliseconds (nanoseconds truncated toward the past).
///
/// # Errors
/// As [`parse_nanos`].
pub fn parse_millis(text: &str, now_ms: i64, round_up: bool) -> Result<i64, String> {
    parse_nanos(text, now_ms, round_up).map(|n| n.div_euclid(1_000_000))
}

fn to_i64(v: i128) -> Option<i64> {
    i64::try_from(v).ok()
}

fn date_error(text: &str) -> String {
    format!("failed to parse date field [{text}] with format [{DEFAULT_FORMAT}]")
}

fn to_datetime(nanos: i128) -> Option<NaiveDateTime> {
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok()?;
    chrono::DateTime::from_timestamp(secs, sub).map(|d| d.naive_utc())
}

fn from_datetime(dt: NaiveDateTime) -> i128 {
    let utc = dt.and_utc();
    i128::from(utc.timestamp()) * 1_000_000_000 + i128::from(utc.timestamp_subsec_nanos())
}

/// Applies `+1d`, `-2h`, `/M`... in order.
fn apply_math(base: i128, math: &str, round_up: bool) -> Result<i128, String> {
    let err_dt = || format!("date math [{math}] is out of range");
    let mut dt = to_datetime(base).ok_or_else(err_dt)?;
    let chars: Vec<char> = math.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        let (round, sign) = match c {
            '/' => (true, 1i64),
            '+' => (false, 1),
            '-' => (false, -1),
            _ => return Err(format!("operator not supported for date math [{math}]")),
        };
        if i >= chars.len() {
            return Err(format!("truncated date math [{math}]"));
        }
        let num: i64 = if chars[i].is_ascii_digit() {
            let from = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i >= chars.len() {
                return Err(format!("truncated date math [{math}]"));
            }
            let digits: String = chars[from..i].iter().collect();
            digits.parse::<i32>().map_err(|_| format!("For input string: \"{digits}\""))?.into()
        } else {
            1
        };
        if round && num != 1 {
            return Err(format!("rounding `/` can only be used on single unit types [{math}]"));
        }
        let unit = chars[i];
        i += 1;
        let n = sign * num;
        let start_of_day = |d: NaiveDate| d.and_time(NaiveTime::MIN);
        dt = match (unit, round) {
            ('y', true) => {
                let d = start_of_day(dt.date().with_ordinal(1).ok_or_else(err_dt)?);
                if round_up { add_months(d, 12).ok_or_else(err_dt)? } else { d }
            }
            ('y', false) => add_months(dt, n * 12).ok_or_else(err_dt)?,
            ('M', true) => {
                let d = start_of_day(dt.date().with_day(1).ok_or_else(err_dt)?);
                if round_up { add_months(d, 1).ok_or_else(err_dt)? } else { d }
            }
            ('M', false) => add_months(dt, n).ok_or_else(err_dt)?,
            ('w', true) => {
                let back = i64::from(dt.weekday().num_days_from_monday());
                let d = shift(start_of_day(dt.date()), Duration::days(-back))?;
                if round_up { shift(d, Duration::weeks(1))? } else { d }
            }
            ('w', false) => dt.checked_add_signed(Duration::try_weeks(n).ok_or_else(err_dt)?).ok_or_else(err_dt)?,
            ('d', true) => {
                let d = start_of_day(dt.date());
                if round_up { shift(d, Duration::days(1))? } else { d }
            }
            ('d', false) => dt.checked_add_signed(Duration::try_days(n).ok_or_else(err_dt)?).ok_or_else(err_dt)?,
            ('h' | 'H', true) => {
                let d = dt.with_minute(0).and_then(|d| d.with_second(0)).and_then(|d| d.with_nanosecond(0));
                let d = d.ok_or_else(err_dt)?;
                if round_up { shift(d, Duration::hours(1))? } else { d }
            }
            ('h' | 'H', false) => {
                dt.checked_add_signed(Duration::try_hours(n).ok_or_else(err_dt)?).ok_or_else(err_dt)?
            }
            ('m', true) => {
                let d = dt.with_second(0).and_then(|d| d.with_nanosecond(0)).ok_or_else(err_dt)?;
                if round_up { shift(d, Duration::minutes(1))? } else { d }
            }
            ('m', false) => dt.checked_add_signed(Duration::try_minutes(n).ok_or_else(err_dt)?).ok_or_else(err_dt)?,
            ('s', true) => {
                let d = dt.with_nanosecond(0).ok_or_else(err_dt)?;
                if round_up { shift(d, Duration::seconds(1))? } else { d }
            }
            ('s', false) => dt.checked_add_signed(Duration::try_seconds(n).ok_or_else(err_dt)?).ok_or_else(err_dt)?,
            (other, _) => return Err(format!("unit [{other}] not supported for date math [{math}]")),
        };
        if round && round_up {
            dt = shift(dt, Duration::milliseconds(-1))?;
        }
    }
    Ok(from_datetime(dt))
}

fn shift(d: NaiveDateTime, by: Duration) -> Result<NaiveDateTime, String> {
    d.checked_add_signed(by).ok_or_else(|| "date math is out of range".to_string())
}

/// Adds months the way `java.time` does: the day is clamped to the new month's length.
fn add_months(dt: NaiveDateTime, n: i64) -> Option<NaiveDateTime> {
    let m = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
    if n >= 0 { dt.checked_add_months(m) } else { dt.checked_sub_months(m) }
}

/// Parses `strict_date_optional_time`, then `epoch_millis`, into epoch nanoseconds.
fn parse_date(s: &str, round_up: bool) -> Option<i128> {
    parse_iso(s, round_up).or_else(|| parse_epoch_millis(s))
}

/// `epoch_millis`: an optionally signed number of milliseconds, with an optional fraction.
fn parse_epoch_millis(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 6 {
        return None;
    }
    let ms: i128 = int.parse().ok()?;
    let sub: i128 = if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().ok()? };
    let v = ms.checked_mul(1_000_000)?.checked_add(sub)?;
    Some(if neg { -v } else { v })
}

/// Takes exactly `n` ASCII digits.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

/// `strict_date_optional_time`: `yyyy[-MM[-dd[THH[:mm[:ss[.fraction]]]]]][zone]`, the zone (`Z`,
/// `±HH`, `±HHmm`, `±HH:mm`) only after a time. Missing fields default to their minimum, or, when
/// rounding up, time fields to their maximum.
fn parse_iso(s: &str, round_up: bool) -> Option<i128> {
    let (year, rest) = digits(s, 4)?;
    let mut month = 1;
    let mut day = 1;
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix('-') {
        let (m, r) = digits(r, 2)?;
        month = m;
        rest = r;
        if let Some(r) = rest.strip_prefix('-') {
            let (d, r) = digits(r, 2)?;
            day = d;
            rest = r;
        }
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let (mut hour, mut minute, mut second, mut nanos) = if round_up { (23, 59, 59, 999_999_999) } else { (0, 0, 0, 0) };
    let mut offset_secs: i64 = 0;
    if let Some(r) = rest.strip_prefix('T') {
        let (h, r) = digits(r, 2)?;
        hour = h;
        rest = r;
        if let Some(r) = rest.strip_prefix(':') {
            let (m, r) = digits(r, 2)?;
            minute = m;
            rest = r;
            if let Some(r) = rest.strip_prefix(':') {
                let (sec, r) = digits(r, 2)?;
                second = sec;
                rest = r;
                if let Some(r) = rest.strip_prefix(['.', ',']) {
                    let n = r.bytes().take_while(u8::is_ascii_digit).count();
                    if n == 0 || n > 9 {
                        return None;
                    }
                    nanos = format!("{:0<9}", &r[..n]).parse().ok()?;
                    rest = &r[n..];
                }
            }
        }
        if !rest.is_empty() {
            offset_secs = parse_zone(rest)?;
            rest = "";
        }
    }
    if !rest.is_empty() {
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let local = from_datetime(date.and_time(time));
    Some(local - i128::from(offset_secs) * 1_000_000_000)
}

/// `Z`, `±HH`, `±HHmm`, `±HH:mm` as seconds east of UTC.
fn parse_zone(z: &str) -> Option<i64> {
    if z == "Z" {
        return Some(0);
    }
    let (sign, body) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let (h, rest) = digits(body, 2)?;
    let m = match rest {
        "" => 0,
        r => {
            let r = r.strip_prefix(':').unwrap_or(r);
            let (m, tail) = digits(r, 2)?;
            if !tail.is_empty() {
                return None;
            }
            m
        }
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some(sign * (i64::from(h) * 3600 + i64::from(m) * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::parse_date_millis;

    fn ms(s: &str) -> i64 {
        parse_date_millis(s).unwrap()
    }

    #[test]
    fn plain_dates_round_time_fields_up() {
        assert_eq!(parse_millis("2024-01-15", 0, false), Ok(ms("2024-01-15T00:00:00Z")));
        assert_eq!(parse_millis("2024-01-15", 0, true), Ok(ms("2024-01-15T23:59:59.999Z")));
        // Missing month/day are not rounded up (Elasticsearch's documented behaviour).
        assert_eq!(parse_millis("2024", 0, true), Ok(ms("2024-01-01T23:59:59.999Z")));
        assert_eq!(parse_millis("2024-03", 0, true), Ok(ms("2024-03-01T23:59:59.999Z")));
        assert_eq!(parse_millis("2024-01-15T10", 0, true), Ok(ms("2024-01-15T10:59:59.999Z")));
        assert_eq!(parse_millis("2024-01-15T10:20:30", 0, true), Ok(ms("2024-01-15T10:20:30.999Z")));
        assert_eq!(parse_millis("2024-01-15T10:20:30.5", 0, true), Ok(ms("2024-01-15T10:20:30.500Z")));
        assert_eq!(parse_millis("2024-01-15T10:20:30+02:00", 0, false), Ok(ms("2024-01-15T08:20:30Z")));
        assert_eq!(parse_millis("2024-01-15T10:20:30.123456Z", 0, false), Ok(ms("2024-01-15T10:20:30.123Z")));
        assert_eq!(parse_nanos("2024-01-15T10:20:30.123456789Z", 0, false).map(|n| n % 1_000_000_000), Ok(123_456_789));
    }

    #[test]
    fn epoch_millis() {
        assert_eq!(parse_millis("1700000000000", 0, false), Ok(1_700_000_000_000));
        assert_eq!(parse_millis("-1000", 0, false), Ok(-1000));
    }

    #[test]
    fn now_and_math() {
        let now = ms("2024-05-15T13:45:10.250Z");
        assert_eq!(parse_millis("now", now, false), Ok(now));
        assert_eq!(parse_millis("now-1d", now, false), Ok(ms("2024-05-14T13:45:10.250Z")));
        assert_eq!(parse_millis("now-1d/d", now, false), Ok(ms("2024-05-14T00:00:00Z")));
        assert_eq!(parse_millis("now-1d/d", now, true), Ok(ms("2024-05-14T23:59:59.999Z")));
        assert_eq!(parse_millis("now/M", now, false), Ok(ms("2024-05-01T00:00:00Z")));
        assert_eq!(parse_millis("now/y", now, true), Ok(ms("2024-12-31T23:59:59.999Z")));
        assert_eq!(parse_millis("now/w", now, false), Ok(ms("2024-05-13T00:00:00Z")));
        assert_eq!(parse_millis("now+2h/h", now, false), Ok(ms("2024-05-15T15:00:00Z")));
        assert_eq!(parse_millis("now-30m", now, false), Ok(ms("2024-05-15T13:15:10.250Z")));
        assert_eq!(parse_millis("now-1M", ms("2024-03-31T00:00:00Z"), false), Ok(ms("2024-02-29T00:00:00Z")));
        assert_eq!(parse_millis("2024-01-31||+1M/d", 0, false), Ok(ms("2024-02-29T00:00:00Z")));
        assert_eq!(parse_millis("now-d", now, false), Ok(ms("2024-05-14T13:45:10.250Z")));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_millis("yesterday", 0, false),
            Err("failed to parse date field [yesterday] with format [strict_date_optional_time||epoch_millis]".into())
        );
        assert_eq!(parse_millis("now-1x", 0, false), Err("unit [x] not supported for date math [-1x]".into()));
        assert_eq!(parse_millis("now-1", 0, false), Err("truncated date math [-1]".into()));
        assert_eq!(parse_millis("now*1d", 0, false), Err("operator not supported for date math [*1d]".into()));
        assert_eq!(
            parse_millis("now/2d", 0, false),
            Err("rounding `/` can only be used on single unit types [/2d]".into())
        );
        assert!(parse_millis("2024-13-01", 0, false).is_err());
        assert!(parse_millis("now+99999999y", 0, false).is_err());
        assert!(parse_millis("", 0, false).is_err());
    }
}

//! Value conversions shared by the analyzer (constant folding) and the conversion functions:
//! parsing and printing of ips, dates and numbers the way Elasticsearch does.

use crate::ir::Literal;
use crate::types::EsType;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The conversion function that produces `ty`.
pub fn function_for(ty: EsType) -> Option<&'static str> {
    Some(match ty {
        EsType::Boolean => "to_boolean",
        EsType::Integer => "to_integer",
        EsType::Long => "to_long",
        EsType::UnsignedLong => "to_unsigned_long",
        EsType::Double => "to_double",
        EsType::Keyword => "to_string",
        EsType::Text => "to_string",
        EsType::Ip => "to_ip",
        EsType::Version => "to_version",
        EsType::Date => "to_datetime",
        EsType::DateNanos => "to_date_nanos",
        EsType::DatePeriod => "to_dateperiod",
        EsType::TimeDuration => "to_timeduration",
        EsType::GeoPoint => "to_geopoint",
        EsType::Null | EsType::Unsupported => return None,
    })
}

/// Parses an IP address into 16 bytes, IPv4 as IPv4-mapped IPv6.
pub fn parse_ip(s: &str) -> Option<[u8; 16]> {
    let ip: IpAddr = s.parse().ok()?;
    Some(ip_bytes(ip))
}

/// The 16-byte form of an address.
pub fn ip_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The address held in 16 bytes (IPv4-mapped addresses come back as IPv4).
pub fn ip_addr(b: &[u8]) -> IpAddr {
    let mut a = [0u8; 16];
    let n = b.len().min(16);
    a[..n].copy_from_slice(&b[..n]);
    let v6 = Ipv6Addr::from(a);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

/// Prints 16 bytes as Elasticsearch prints an ip: dotted IPv4 for IPv4-mapped addresses,
/// compressed lower-case IPv6 otherwise.
pub fn format_ip(b: &[u8]) -> String {
    ip_addr(b).to_string()
}

/// An IPv4 address as 16 bytes.
pub fn ipv4(a: u8, b: u8, c: u8, d: u8) -> [u8; 16] {
    Ipv4Addr::new(a, b, c, d).to_ipv6_mapped().octets()
}

/// Parses a date as Elasticsearch's `strict_date_optional_time` does (and epoch-free):
/// `2020`, `2020-01`, `2020-01-01`, `2020-01-01T10:00`, `2020-01-01T10:00:00.123Z`,
/// `2020-01-01T10:00:00+01:00`. No zone means UTC. Returns epoch milliseconds.
pub fn parse_date_millis(s: &str) -> Option<i64> {
    parse_date_nanos(s).map(|n| n.div_euclid(1_000_000))
}

/// As [`parse_date_millis`], in epoch nanoseconds (fractions up to 9 digits are kept).
pub fn parse_date_nanos(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return dt.timestamp_nanos_opt();
    }
    // Year, year-month, date only.
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        let y: i32 = s.parse().ok()?;
        return NaiveDate::from_ymd_opt(y, 1, 1)?.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt();
    }
    if s.len() == 7
        && let Ok(d) = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
    {
        return d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt();
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt();
    }
    // Date-time without zone, or with `Z`/offset but missing seconds.
    let (body, offset_secs) = split_zone(s)?;
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H"] {
        if let Ok(ndt) = NaiveDateTime::parse_from_str(body, fmt) {
            let n = ndt.and_utc().timestamp_nanos_opt()?;
            return n.checked_sub(i64::from(offset_secs) * 1_000_000_000);
        }
    }
    None
}

/// Splits a trailing `Z` or `±hh:mm` zone from a date-time.
fn split_zone(s: &str) -> Option<(&str, i32)> {
    if let Some(body) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return Some((body, 0));
    }
    if let Some(t) = s.find('T') {
        let time = &s[t..];
        if let Some(pos) = time.rfind(['+', '-']) {
            let zone = &time[pos..];
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            if digits.len() == 4 || digits.len() == 2 {
                let h: i32 = digits[..2].parse().ok()?;
                let m: i32 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
                return Some((&s[..t + pos], sign * (h * 3600 + m * 60)));
            }
        }
    }
    Some((s, 0))
}

/// Prints epoch milliseconds as Elasticsearch prints a date: `2023-10-23T13:55:01.543Z`.
pub fn format_date_millis(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

/// Prints epoch nanoseconds as Elasticsearch prints a date_nanos: nine fractional digits.
pub fn format_date_nanos(ns: i64) -> String {
    let dt = Utc.timestamp_nanos(ns);
    dt.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// Prints a double as Java's `Double.toString` does (`1.0`, `1.0E7`, `1.0E-4`).
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{d}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        // Shortest round-trip digits in scientific form, mantissa with at least one decimal.
        let s = format!("{d:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') { mant.to_string() } else { format!("{mant}.0") };
        format!("{mant}E{exp}")
    }
}

/// The reason Elastic gives when a string cannot be converted to `to`.
pub fn parse_error(s: &str, to: EsType) -> String {
    match to {
        EsType::Ip => format!("'{s}' is not an IP string literal."),
        EsType::Date | EsType::DateNanos => {
            format!("failed to parse date field [{s}] with format [strict_date_optional_time]")
        }
        EsType::Integer | EsType::Long | EsType::Double | EsType::UnsignedLong => {
            format!("Cannot parse number [{s}]")
        }
        EsType::Boolean => format!("cannot convert [{s}] to boolean"),
        EsType::GeoPoint => match crate::functions::spatial::parse_geo_point(s) {
            Err(e) => e.strip_prefix("java.lang.IllegalArgumentException: ").unwrap_or(&e).to_string(),
            Ok(_) => format!("cannot convert [{s}] to [{to}]"),
        },
        _ => format!("cannot convert [{s}] to [{to}]"),
    }
}

/// Converts a constant to `to` (element-wise for lists); `None` when it cannot.
pub fn literal_to(l: &Literal, to: EsType) -> Option<Literal> {
    use Literal as L;
    if let L::List(items) = l {
        return Some(L::List(items.iter().map(|i| literal_to(i, to)).collect::<Option<Vec<_>>>()?));
    }
    if matches!(l, L::Null) {
        return Some(L::Null);
    }
    Some(match (l, to) {
        (L::Boolean(b), EsType::Boolean) => L::Boolean(*b),
        (L::Integer(i), EsType::Integer) => L::Integer(*i),
        (L::Integer(i), EsType::Long) => L::Long(i64::from(*i)),
        (L::Integer(i), EsType::Double) => L::Double(f64::from(*i)),
        (L::Integer(i), EsType::UnsignedLong) => L::UnsignedLong(u64::try_from(*i).ok()?),
        (L::Long(i), EsType::Long) => L::Long(*i),
        (L::Long(i), EsType::Integer) => L::Integer(i32::try_from(*i).ok()?),
        (L::Long(i), EsType::Double) => L::Double(*i as f64),
        (L::Long(i), EsType::UnsignedLong) => L::UnsignedLong(u64::try_from(*i).ok()?),
        (L::UnsignedLong(u), EsType::UnsignedLong) => L::UnsignedLong(*u),
        (L::UnsignedLong(u), EsType::Double) => L::Double(*u as f64),
        (L::UnsignedLong(u), EsType::Long) => L::Long(i64::try_from(*u).ok()?),
        (L::Double(d), EsType::Double) => L::Double(*d),
        (L::String(s), EsType::Keyword | EsType::Text) => L::String(s.clone()),
        (L::String(s), EsType::Ip) => L::Ip(parse_ip(s)?),
        (L::String(s), EsType::Date) => L::Date(parse_date_millis(s)?),
        (L::String(s), EsType::DateNanos) => L::DateNanos(parse_date_nanos(s)?),
        (L::String(s), EsType::Version) => L::Version(crate::version::encode(s)),
        (L::String(s), EsType::GeoPoint) => L::String(crate::functions::spatial::parse_geo_point(s).ok()?.to_wkt()),
        (L::String(s), EsType::Boolean) => L::Boolean(s.eq_ignore_ascii_case("true")),
        (L::String(s), EsType::Integer) => L::Integer(parse_whole(s).and_then(|v| i32::try_from(v).ok())?),
        (L::String(s), EsType::Long) => L::Long(parse_whole(s)?),
        (L::String(s), EsType::Double) => L::Double(s.trim().parse::<f64>().ok().filter(|d| d.is_finite())?),
        (L::String(s), EsType::UnsignedLong) => L::UnsignedLong(s.trim().parse::<u64>().ok()?),
        (L::Date(ms), EsType::Date) => L::Date(*ms),
        (L::Date(ms), EsType::DateNanos) => L::DateNanos(ms.checked_mul(1_000_000)?),
        (L::DateNanos(ns), EsType::DateNanos) => L::DateNanos(*ns),
        (L::DateNanos(ns), EsType::Date) => L::Date(ns.div_euclid(1_000_000)),
        (L::Ip(b), EsType::Ip) => L::Ip(*b),
        (L::Version(v), EsType::Version) => L::Version(v.clone()),
        (L::Period { months, days }, EsType::DatePeriod) => L::Period { months: *months, days: *days },
        (L::Duration(d), EsType::TimeDuration) => L::Duration(*d),
        (L::String(s), EsType::DatePeriod) => crate::functions::date::to_dateperiod::parse(s)?,
        (L::String(s), EsType::TimeDuration) => crate::functions::date::to_timeduration::parse(s)?,
        _ => return None,
    })
}

/// Parses a whole number as ES|QL does for conversions: integral text, or a decimal that is
/// truncated (`"1.9"` → 1)? No: Elastic rounds-toward-zero only via to_long of doubles; for strings
/// it accepts integral text and scientific notation that is integral.
fn parse_whole(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    let d: f64 = t.parse().ok()?;
    if d.is_finite() && d.fract() == 0.0 && d >= i64::MIN as f64 && d < i64::MAX as f64 {
        return Some(d as i64);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_doubles() {
        assert_eq!(format_double(1.0), "1.0");
        assert_eq!(format_double(4825005.0), "4825005.0");
        assert_eq!(format_double(1e7), "1.0E7");
        assert_eq!(format_double(9.223372036854776e18), "9.223372036854776E18");
        assert_eq!(format_double(1e-4), "1.0E-4");
        assert_eq!(format_double(0.001), "0.001");
        assert_eq!(format_double(-2.5), "-2.5");
    }

    #[test]
    fn ips() {
        let b = parse_ip("10.1.2.3").unwrap();
        assert_eq!(format_ip(&b), "10.1.2.3");
        assert_eq!(format_ip(&parse_ip("fe80::cae2:65ff:fece:feb9").unwrap()), "fe80::cae2:65ff:fece:feb9");
        assert!(parse_ip("1.2.3").is_none());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date_millis("1970-01-01"), Some(0));
        assert_eq!(parse_date_millis("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_date_millis("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_date_millis("1970-01-01T00:00:00"), Some(0));
        assert_eq!(format_date_millis(1500), "1970-01-01T00:00:01.500Z");
        assert!(parse_date_millis("yesterday").is_none());
    }
}

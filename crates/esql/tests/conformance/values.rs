//! Value parsing and rendering shared by the loader and the comparator: dates, IPs, Java's
//! `Double.toString`, and the storage precision of float / half_float / scaled_float.

use chrono::{DateTime, NaiveDate};
use esql::datafusion::arrow::datatypes::{ArrowPrimitiveType, Float16Type};
use std::net::IpAddr;
use std::sync::LazyLock;

type Half = <Float16Type as ArrowPrimitiveType>::Native;

static ISO_DATE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"^([+-]?\d{4,9})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$",
    )
    .expect("invariant: the date regex is valid")
});

/// Parses an ISO-8601 date (`strict_date_optional_time`: `yyyy[-MM[-dd[THH[:mm[:ss[.f]]]]]]`
/// with an optional `Z` or offset, UTC otherwise) to epoch nanoseconds.
pub fn parse_date_nanos(s: &str) -> Option<i128> {
    let caps = ISO_DATE.captures(s)?;
    let num = |i: usize, default: u32| -> Option<u32> {
        match caps.get(i) {
            Some(m) => m.as_str().parse().ok(),
            None => Some(default),
        }
    };
    let year: i32 = caps.get(1)?.as_str().parse().ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(2, 1)?, num(3, 1)?)?;
    let time = date.and_hms_opt(num(4, 0)?, num(5, 0)?, num(6, 0)?)?;
    let mut nanos = time.and_utc().timestamp() as i128 * 1_000_000_000;
    if let Some(frac) = caps.get(7) {
        let digits = frac.as_str();
        let scaled: i128 = format!("{digits:0<9}").parse().ok()?;
        nanos += scaled;
    }
    if let Some(zone) = caps.get(8) {
        let z = zone.as_str();
        if z != "Z" {
            let sign: i128 = if z.starts_with('-') { -1 } else { 1 };
            let body: String = z[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let hours: i128 = body.get(..2)?.parse().ok()?;
            let minutes: i128 = body.get(2..).filter(|m| !m.is_empty()).map_or(Some(0), |m| m.parse().ok())?;
            nanos -= sign * (hours * 3600 + minutes * 60) * 1_000_000_000;
        }
    }
    Some(nanos)
}

/// Parses a `date` field value: ISO-8601 or epoch milliseconds (`strict_date_optional_time||epoch_millis`).
pub fn parse_date_field_millis(s: &str) -> Option<i64> {
    if let Some(n) = parse_date_nanos(s) {
        return i64::try_from(n.div_euclid(1_000_000)).ok();
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    None
}

/// Renders epoch milliseconds as `1953-09-02T00:00:00.000Z`.
pub fn render_millis(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => format!("{ms}ms"),
    }
}

/// Renders epoch nanoseconds with 9 fractional digits.
pub fn render_nanos(ns: i64) -> String {
    let t = DateTime::from_timestamp(ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000) as u32);
    match t {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string(),
        None => format!("{ns}ns"),
    }
}

/// Parses an IPv4 or IPv6 address into 16 bytes (IPv4 as `::ffff:a.b.c.d`).
pub fn parse_ip(s: &str) -> Option<[u8; 16]> {
    let addr: IpAddr = s.parse().ok()?;
    Some(match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    })
}

/// Renders 16 address bytes like Elastic: dotted IPv4 for mapped addresses, otherwise IPv6 in
/// Guava's `toAddrString` form (lower-case hex, the first longest run of two or more zero groups
/// as `::`).
pub fn render_ip(b: &[u8; 16]) -> String {
    if b[..10].iter().all(|&x| x == 0) && b[10] == 0xff && b[11] == 0xff {
        return format!("{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
    }
    let groups: Vec<u16> = (0..8).map(|i| u16::from_be_bytes([b[2 * i], b[2 * i + 1]])).collect();
    let (mut best_start, mut best_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        if groups[i] == 0 {
            let start = i;
            while i < 8 && groups[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_start = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_start = usize::MAX;
    }
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if i == best_start {
            out.push_str("::");
            i += best_len;
            continue;
        }
        if !out.is_empty() && !out.ends_with(':') {
            out.push(':');
        }
        out.push_str(&format!("{:x}", groups[i]));
        i += 1;
    }
    out
}

/// Java's `Double.toString` (JDK 19+: the shortest decimal that rounds to the value).
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    let (mut digits, mut exp) = shortest_digits(d);
    if digits.len() == 1 {
        // Java picks, among decimals of length 1 or 2 that round to d, the one closest to d.
        let (two, two_exp) = sci_digits(&format!("{:.1e}", d.abs()));
        if two.len() == 2 && format!("{}.{}e{}", &two[..1], &two[1..], two_exp).parse::<f64>().ok() == Some(d.abs()) {
            digits = two;
            exp = two_exp;
        }
    }
    let mut out = String::new();
    if d < 0.0 {
        out.push('-');
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let point = exp + 1;
        if point <= 0 {
            out.push_str("0.");
            out.push_str(&"0".repeat((-point) as usize));
            out.push_str(&digits);
        } else if point as usize >= digits.len() {
            out.push_str(&digits);
            out.push_str(&"0".repeat(point as usize - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// The shortest round-trip significant digits of `|d|` and the decimal exponent of the first.
fn shortest_digits(d: f64) -> (String, i32) {
    sci_digits(&format!("{:e}", d.abs()))
}

fn sci_digits(sci: &str) -> (String, i32) {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0".to_string() } else { digits.to_string() };
    (digits, exp.parse().unwrap_or(0))
}

/// The value a `float` field returns: the f32 nearest to the decimal, widened.
pub fn float_storage(s: &str) -> Option<f64> {
    s.parse::<f32>().ok().map(f64::from)
}

/// The value a `half_float` field returns: the decimal rounded to f32, then to the nearest
/// half-precision value.
pub fn half_float_storage(s: &str) -> Option<f64> {
    let f: f32 = s.parse().ok()?;
    Some(f64::from(Half::from_f32(f).to_f32()))
}

/// The value a `scaled_float` field returns to ES|QL: `Math.round(x * factor) / factor` (the
/// indexed long, divided by the factor in ES|QL's block loader; Elasticsearch versions before
/// 2025 multiplied by `1 / factor` instead, which `floats.csv-spec` still expects).
pub fn scaled_float_storage(x: f64, factor: f64) -> f64 {
    let scaled = x * factor;
    let floor = scaled.floor();
    let rounded = if scaled - floor >= 0.5 { floor + 1.0 } else { floor };
    let long = rounded as i64; // saturates like Java's Math.round
    long as f64 / factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_double_formatting() {
        let cases = [
            (4825005.0, "4825005.0"),
            (9.223372036854776E18, "9.223372036854776E18"),
            (1.0E-4, "1.0E-4"),
            (0.001, "0.001"),
            (1.0E7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (2.0299999713897705, "2.0299999713897705"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (1.0E-5, "1.0E-5"),
            (1.2345678E-8, "1.2345678E-8"),
            (3.4028234663852886E38, "3.4028234663852886E38"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (4.9E-324, "4.9E-324"),
            (1.0E23, "1.0E23"),
            (123456.789, "123456.789"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (d, s) in cases {
            assert_eq!(java_double(d), s, "formatting {d:e}");
        }
    }

    #[test]
    fn storage_precision() {
        assert_eq!(java_double(float_storage("2.03").unwrap()), "2.0299999713897705");
        assert_eq!(java_double(half_float_storage("2.03").unwrap()), "2.029296875");
        assert_eq!(java_double(scaled_float_storage(2.03, 100.0)), "2.03");
        assert_eq!(java_double(scaled_float_storage(1.63, 100.0)), "1.63");
        assert_eq!(half_float_storage("65505").unwrap(), 65504.0);
        assert_eq!(scaled_float_storage(-2.5, 1.0), -2.0);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date_nanos("1970-01-01T00:00:00.001Z"), Some(1_000_000));
        assert_eq!(parse_date_nanos("1970-01-01"), Some(0));
        assert_eq!(parse_date_nanos("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_date_nanos("2023-10-23T13:55:01.543123456Z"), Some(1698069301543123456));
        assert_eq!(parse_date_nanos("1980-02-29T23:59:59.999"), Some(320716799999000000));
        assert_eq!(parse_date_nanos("bad"), None);
        assert_eq!(parse_date_field_millis("1698069301543"), Some(1698069301543));
        assert_eq!(render_millis(-515376000000), "1953-09-02T00:00:00.000Z");
        assert_eq!(render_nanos(1698069301543123456), "2023-10-23T13:55:01.543123456Z");
        assert_eq!(render_nanos(0), "1970-01-01T00:00:00.000000000Z");
    }

    #[test]
    fn ips() {
        for s in [
            "127.0.0.1",
            "::1",
            "fe80::cae2:65ff:fece:feb9",
            "1::",
            "::",
            "1:0:0:1::1",
            "1::1:0:0:1",
            "2001:db8:0:1:1:1:1:1",
        ] {
            assert_eq!(render_ip(&parse_ip(s).unwrap()), s);
        }
        assert_eq!(render_ip(&parse_ip("::ffff:1.2.3.4").unwrap()), "1.2.3.4");
        assert_eq!(render_ip(&parse_ip("FE80:0:0:0:0:0:0:1").unwrap()), "fe80::1");
        assert!(parse_ip("1.2.3").is_none());
    }
}

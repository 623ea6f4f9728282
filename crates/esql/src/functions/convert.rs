//! Type conversion functions (`TO_STRING`, `TO_IP`, `TO_LONG`, ...). They accept multi-valued
//! input and convert every value; a value that cannot be converted becomes null with a warning.

use super::values::map_values;
use super::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::convert as cv;
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

macro_rules! conversion {
    ($def:ident, $name:literal, $to:expr, $from:expr) => {
        /// A conversion function.
        pub static $def: ScalarDef = ScalarDef {
            name: $name,
            mv_args: true,
            resolve: |call, args| resolve($to, $from, call, args),
            plan: |p| plan($name, $to, p),
        };
    };
}

use EsType::*;
const ALL_TYPES: &[EsType] =
    &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Ip, Version, Date, DateNanos, GeoPoint];
conversion!(TO_STRING, "to_string", Keyword, ALL_TYPES);
conversion!(TO_IP, "to_ip", Ip, &[Ip, Keyword, Text]);
conversion!(TO_LONG, "to_long", Long, &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]);
conversion!(
    TO_INTEGER,
    "to_integer",
    Integer,
    &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]
);
conversion!(
    TO_DOUBLE,
    "to_double",
    Double,
    &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]
);
conversion!(
    TO_UNSIGNED_LONG,
    "to_unsigned_long",
    UnsignedLong,
    &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]
);
conversion!(TO_BOOLEAN, "to_boolean", Boolean, &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text]);
conversion!(TO_DATETIME, "to_datetime", Date, &[Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]);
conversion!(TO_DATE_NANOS, "to_date_nanos", DateNanos, &[Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]);
conversion!(TO_VERSION, "to_version", Version, &[Keyword, Text, Version]);

/// The conversion functions.
pub static ALL: &[&ScalarDef] = &[
    &TO_STRING,
    &TO_IP,
    &TO_LONG,
    &TO_INTEGER,
    &TO_DOUBLE,
    &TO_UNSIGNED_LONG,
    &TO_BOOLEAN,
    &TO_DATETIME,
    &TO_DATE_NANOS,
    &TO_VERSION,
    &TO_DATETIME_ALIAS,
    &TO_DBL,
    &TO_INT,
    &TO_STR,
    &TO_BOOL,
    &TO_UL,
    &TO_ULONG,
    &TO_VER,
    &TO_TEXT,
];

conversion!(TO_TEXT, "to_text", Text, ALL_TYPES);

conversion!(TO_VER, "to_ver", Version, &[Keyword, Text, Version]);

conversion!(TO_DATETIME_ALIAS, "to_dt", Date, &[Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]);
conversion!(TO_DBL, "to_dbl", Double, &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]);
conversion!(TO_INT, "to_int", Integer, &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]);
conversion!(TO_STR, "to_str", Keyword, ALL_TYPES);
conversion!(TO_BOOL, "to_bool", Boolean, &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text]);
conversion!(
    TO_UL,
    "to_ul",
    UnsignedLong,
    &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]
);
conversion!(
    TO_ULONG,
    "to_ulong",
    UnsignedLong,
    &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Date, DateNanos]
);

fn resolve(to: EsType, from: &[EsType], call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    super::expect_arity(call.split('(').next().unwrap_or(call).trim(), args, 1, 1)?;
    let a = &args[0];
    if a.ty != EsType::Null && !from.contains(&a.ty) {
        let names: Vec<&str> = from.iter().map(|t| if *t == Date { "datetime" } else { t.name() }).collect();
        return Err(format!(
            "argument of [{call}] must be [{}], found value [{}] type [{}]",
            super::type_list(&names),
            a.text,
            a.ty
        ));
    }
    Ok(Resolved { ty: to, multi: a.multi, casts: Vec::new() })
}

fn plan(name: &'static str, to: EsType, p: PlanArgs) -> Result<Expr> {
    let from = p.types[0];
    let mut args = p.args;
    if from == to || (from.is_string() && to.is_string()) {
        return Ok(args.remove(0));
    }
    let ret = p.resolved.ty.arrow_column(p.resolved.multi);
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        map_values(&a[0], from, to, |v| match convert_value(&v, to) {
            Ok(x) => x,
            Err(e) => {
                ctx.sink.null_because(&e);
                Literal::Null
            }
        })
    });
    Ok(udf::call(name, ret, p.sink, args, kernel))
}

/// Converts one value to `to` as the ES|QL conversion functions do; the error is the Java
/// exception text Elastic reports in its warning.
pub fn convert_value(v: &Literal, to: EsType) -> Result<Literal, String> {
    use Literal as L;
    let invalid = |s: &str| format!("org.elasticsearch.xpack.esql.core.InvalidArgumentException: {s}");
    let range = |v: String, t: &str| invalid(&format!("[{v}] out of [{t}] range"));
    Ok(match (v, to) {
        (L::Null, _) => L::Null,
        (_, EsType::Keyword | EsType::Text) => L::String(to_text(v)),
        (L::String(s), EsType::Ip) => L::Ip(cv::parse_ip(s.trim()).ok_or_else(|| {
            format!("java.lang.IllegalArgumentException: '{s}' is not an IP string literal.")
        })?),
        (L::String(s), EsType::Version) => L::Version(crate::version::encode(s)),
        (L::String(s), EsType::Boolean) => L::Boolean(s.eq_ignore_ascii_case("true")),
        (L::String(s), EsType::Date) => L::Date(cv::parse_date_millis(s).ok_or_else(|| {
            format!("java.lang.IllegalArgumentException: failed to parse date field [{s}] with format [strict_date_optional_time]")
        })?),
        (L::String(s), EsType::DateNanos) => L::DateNanos(cv::parse_date_nanos(s).ok_or_else(|| {
            format!("java.lang.IllegalArgumentException: failed to parse date field [{s}] with format [strict_date_optional_time_nanos]")
        })?),
        (L::String(s), EsType::Double) => {
            let d: f64 = s
                .trim()
                .parse()
                .map_err(|_| format!("java.lang.NumberFormatException: For input string: \"{s}\""))?;
            L::Double(d)
        }
        (L::String(s), EsType::UnsignedLong) if s.trim().parse::<f64>().is_err() => {
            // Elastic parses unsigned longs as big decimals, and words the failure so.
            let bad = s.trim().chars().find(|c| !c.is_ascii_digit() && !matches!(c, '.' | '-' | '+' | 'e' | 'E'));
            return Err(match bad {
                Some(c) => format!(
                    "java.lang.NumberFormatException: Character {c} is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark."
                ),
                None => format!("java.lang.NumberFormatException: For input string: \"{s}\""),
            });
        }
        (L::String(s), EsType::Integer | EsType::Long | EsType::UnsignedLong) => {
            let t = s.trim();
            let d = if let Ok(i) = t.parse::<i128>() {
                i as f64
            } else {
                t.parse::<f64>().map_err(|_| invalid(&format!("Cannot parse number [{s}]")))?
            };
            if let Ok(i) = t.parse::<i128>() {
                return int_to(i, to).ok_or_else(|| range(t.to_string(), to.name()));
            }
            return double_to(d, to).ok_or_else(|| range(cv::format_double(d), to.name()));
        }
        (L::Boolean(b), EsType::Integer) => L::Integer(i32::from(*b)),
        (L::Boolean(b), EsType::Long) => L::Long(i64::from(*b)),
        (L::Boolean(b), EsType::UnsignedLong) => L::UnsignedLong(u64::from(*b)),
        (L::Boolean(b), EsType::Double) => L::Double(if *b { 1.0 } else { 0.0 }),
        (L::Integer(i), _) if to.is_numeric() || to == EsType::Boolean || to.is_date() => {
            return int_like(i128::from(*i), to).ok_or_else(|| range(i.to_string(), to.name()));
        }
        (L::Long(i), _) if to.is_numeric() || to == EsType::Boolean || to.is_date() => {
            return int_like(i128::from(*i), to).ok_or_else(|| range(i.to_string(), to.name()));
        }
        (L::UnsignedLong(u), _) if to.is_numeric() || to == EsType::Boolean || to.is_date() => {
            return int_like(i128::from(*u), to).ok_or_else(|| range(u.to_string(), to.name()));
        }
        (L::Double(d), EsType::Boolean) => L::Boolean(*d != 0.0),
        (L::Double(d), EsType::Double) => L::Double(*d),
        (L::Double(d), _) if to.is_whole() => return double_to(*d, to).ok_or_else(|| range(cv::format_double(*d), to.name())),
        (L::Double(d), EsType::Date) => L::Date(*d as i64),
        (L::Double(d), EsType::DateNanos) => L::DateNanos(*d as i64),
        (L::Date(ms), EsType::Long) => L::Long(*ms),
        (L::Date(ms), EsType::Integer) => L::Integer(i32::try_from(*ms).map_err(|_| range(ms.to_string(), "integer"))?),
        (L::Date(ms), EsType::Double) => L::Double(*ms as f64),
        (L::Date(ms), EsType::UnsignedLong) => L::UnsignedLong(u64::try_from(*ms).map_err(|_| range(ms.to_string(), "unsigned_long"))?),
        (L::Date(ms), EsType::DateNanos) => L::DateNanos(ms.checked_mul(1_000_000).ok_or_else(|| range(ms.to_string(), "date_nanos"))?),
        (L::DateNanos(ns), EsType::Date) => L::Date(ns.div_euclid(1_000_000)),
        (L::DateNanos(ns), EsType::Long) => L::Long(*ns),
        (L::DateNanos(ns), EsType::Double) => L::Double(*ns as f64),
        (L::DateNanos(ns), EsType::UnsignedLong) => L::UnsignedLong(u64::try_from(*ns).map_err(|_| range(ns.to_string(), "unsigned_long"))?),
        (L::DateNanos(ns), EsType::Integer) => L::Integer(i32::try_from(*ns).map_err(|_| range(ns.to_string(), "integer"))?),
        (x, t) if cv::literal_to(x, t).is_some() => cv::literal_to(x, t).expect("invariant: checked"),
        (x, t) => return Err(format!("java.lang.IllegalArgumentException: cannot convert [{}] to [{t}]", to_text(x))),
    })
}

fn int_like(i: i128, to: EsType) -> Option<Literal> {
    match to {
        EsType::Boolean => Some(Literal::Boolean(i != 0)),
        EsType::Double => Some(Literal::Double(i as f64)),
        EsType::Date => i64::try_from(i).ok().map(Literal::Date),
        EsType::DateNanos => i64::try_from(i).ok().map(Literal::DateNanos),
        _ => int_to(i, to),
    }
}

fn int_to(i: i128, to: EsType) -> Option<Literal> {
    match to {
        EsType::Integer => i32::try_from(i).ok().map(Literal::Integer),
        EsType::Long => i64::try_from(i).ok().map(Literal::Long),
        EsType::UnsignedLong => u64::try_from(i).ok().map(Literal::UnsignedLong),
        EsType::Double => Some(Literal::Double(i as f64)),
        _ => None,
    }
}

/// A double as a whole number, as Elastic converts it: range-checked as it is, then rounded
/// like Java's `Math.round` (half up), so 2147483647.2 is out of the integer range and 55461.78
/// becomes 55462.
fn double_to(d: f64, to: EsType) -> Option<Literal> {
    if !d.is_finite() {
        return None;
    }
    let r = (d + 0.5).floor();
    match to {
        EsType::Integer if d >= f64::from(i32::MIN) && d <= f64::from(i32::MAX) => Some(Literal::Integer(r as i32)),
        EsType::Long if d >= i64::MIN as f64 && d < i64::MAX as f64 => Some(Literal::Long(r as i64)),
        EsType::UnsignedLong if r >= 0.0 && d < u64::MAX as f64 => Some(Literal::UnsignedLong(r as u64)),
        _ => None,
    }
}

/// The text form ES|QL's `TO_STRING` gives a value.
pub fn to_text(v: &Literal) -> String {
    match v {
        Literal::Null => "null".into(),
        Literal::Boolean(b) => b.to_string(),
        Literal::Integer(i) => i.to_string(),
        Literal::Long(i) => i.to_string(),
        Literal::UnsignedLong(u) => u.to_string(),
        Literal::Double(d) => cv::format_double(*d),
        Literal::String(s) => s.clone(),
        Literal::Ip(b) => cv::format_ip(b),
        Literal::Version(v) => crate::version::decode(v),
        Literal::Date(ms) => cv::format_date_millis(*ms),
        Literal::DateNanos(ns) => cv::format_date_nanos(*ns),
        Literal::Period { months, days } => format!("P{months}M{days}D"),
        Literal::Duration(ms) => format!("PT{}S", *ms as f64 / 1000.0),
        Literal::List(items) => items.iter().map(to_text).collect::<Vec<_>>().join(", "),
    }
}

//! Internal predicates that `KQL("...")`, `MATCH(field, "query")` and `field : "query"` compile
//! to (see [`crate::kql`]). Each tests one field with Lucene's semantics: a row matches when
//! ANY value of a multi-valued field matches, and a row without a value simply does not match —
//! the result is always true or false, never null (so `not field:x` is true for rows without
//! `field`).
//!
//! These functions are not in the user-visible registry (Elastic has no such functions; calling
//! them by name is an unknown function). Their constant arguments are read at planning time; only
//! the field reaches the kernel:
//!
//! | function | arguments after the field |
//! |---|---|
//! | `kql_terms` | values of the field's type: exact equality |
//! | `kql_cidr` | ip addresses or CIDR blocks (strings) |
//! | `kql_wildcard` | patterns over the whole value (`*` any text, `\` escapes the next character) |
//! | `kql_token_wildcard` | lower-cased patterns tested against each token of a `text` value |
//! | `kql_tokens` | tokens: some token of a `text` value is one of them |
//! | `kql_phrase` | phrases: their tokens appear consecutively in a `text` value |
//! | `kql_range` | lower op (`gt`/`gte` or null), lower bound, upper op (`lt`/`lte` or null), upper bound |
//! | `kql_exists` | none: the field has a value |
//!
//! Range bounds have the field's type, except for dates (date-math strings, resolved against the
//! query's `now` here) and `text` fields (strings compared with each token).

mod analysis;
pub mod date_math;

pub use analysis::{normalize, tokens};

use super::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::{self as t, DataType};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use regex::Regex;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

/// `kql_terms(field, value...)`
pub static TERMS: ScalarDef = ScalarDef { name: "kql_terms", mv_args: true, resolve, plan: plan_terms };
/// `kql_cidr(field, block...)`
pub static CIDR: ScalarDef = ScalarDef { name: "kql_cidr", mv_args: true, resolve, plan: plan_cidr };
/// `kql_wildcard(field, pattern...)`
pub static WILDCARD: ScalarDef = ScalarDef { name: "kql_wildcard", mv_args: true, resolve, plan: plan_wildcard };
/// `kql_token_wildcard(field, pattern...)`
pub static TOKEN_WILDCARD: ScalarDef =
    ScalarDef { name: "kql_token_wildcard", mv_args: true, resolve, plan: plan_token_wildcard };
/// `kql_tokens(field, token...)`
pub static TOKENS: ScalarDef = ScalarDef { name: "kql_tokens", mv_args: true, resolve, plan: plan_tokens };
/// `kql_phrase(field, phrase...)`
pub static PHRASE: ScalarDef = ScalarDef { name: "kql_phrase", mv_args: true, resolve, plan: plan_phrase };
/// `kql_range(field, lower_op, lower, upper_op, upper)`
pub static RANGE: ScalarDef = ScalarDef { name: "kql_range", mv_args: true, resolve, plan: plan_range };
/// `kql_fuzzy(field, max_edits, term...)`: a value (keyword) or token (text) within `max_edits`
/// edits of a term, as a `match` query with `fuzziness` matches.
pub static FUZZY: ScalarDef = ScalarDef { name: "kql_fuzzy", mv_args: true, resolve, plan: plan_fuzzy };
/// `kql_exists(field)`
pub static EXISTS: ScalarDef = ScalarDef { name: "kql_exists", mv_args: true, resolve, plan: plan_exists };

/// Every predicate, for lookups by name in tests and tools (not registered as user functions).
pub static ALL: &[&ScalarDef] = &[&TERMS, &CIDR, &WILDCARD, &TOKEN_WILDCARD, &TOKENS, &PHRASE, &RANGE, &EXISTS];

/// The predicates whose value lists may be concatenated when OR-ed on the same field.
pub fn is_mergeable(def: &ScalarDef) -> bool {
    [&TERMS, &CIDR, &WILDCARD, &TOKEN_WILDCARD, &TOKENS, &PHRASE].iter().any(|d| std::ptr::eq(*d, def))
}

/// The translator builds calls directly; resolution only states the result type.
fn resolve(_call: &str, _args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    Ok(Resolved::of(EsType::Boolean))
}

fn internal(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::Internal(format!("{}; please report this", msg.into()))
}

/// The constant arguments after the field.
fn constants<'a>(p: &PlanArgs<'a>) -> Vec<&'a Literal> {
    p.literals.iter().skip(1).flatten().copied().collect()
}

/// Calls `kernel` on the field only (the constants are captured by the kernel).
fn field_call(p: PlanArgs, name: &str, kernel: Kernel) -> Result<Expr> {
    let sink = p.sink;
    let field = p.args.into_iter().next().ok_or_else(|| internal(format!("{name} without a field")))?;
    Ok(udf::call(name, DataType::Boolean, sink, vec![field], kernel))
}

/// For each row, whether any value of `a` (single- or multi-valued) is a hit; `hits` maps a
/// values array to one flag per value (false for nulls).
fn any_value(a: &ArrayRef, hits: impl Fn(&ArrayRef) -> Vec<bool>) -> ArrayRef {
    if let Some(list) = a.as_list_opt::<i32>() {
        let h = hits(list.values());
        let offsets = list.value_offsets();
        let out: BooleanArray = (0..list.len())
            .map(|i| {
                let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
                Some(list.is_valid(i) && h.get(s..e).is_some_and(|r| r.iter().any(|x| *x)))
            })
            .collect();
        return Arc::new(out);
    }
    let h = hits(a);
    let out: BooleanArray = (0..a.len()).map(|i| Some(a.is_valid(i) && h.get(i).copied().unwrap_or(false))).collect();
    Arc::new(out)
}

fn str_hits(values: &ArrayRef, f: impl Fn(&str) -> bool) -> Vec<bool> {
    match values.as_string_opt::<i32>() {
        Some(s) => s.iter().map(|v| v.is_some_and(&f)).collect(),
        None => vec![false; values.len()],
    }
}

/// Whole numbers, dates (epoch units) and booleans (0/1) as `i128`.
fn int_hits(values: &ArrayRef, f: impl Fn(i128) -> bool) -> Vec<bool> {
    macro_rules! prim {
        ($T:ty) => {
            values.as_primitive::<$T>().iter().map(|v| v.is_some_and(|x| f(i128::from(x)))).collect()
        };
    }
    match values.data_type() {
        DataType::Int32 => prim!(t::Int32Type),
        DataType::Int64 => prim!(t::Int64Type),
        DataType::UInt64 => prim!(t::UInt64Type),
        DataType::Timestamp(t::TimeUnit::Millisecond, _) => prim!(t::TimestampMillisecondType),
        DataType::Timestamp(t::TimeUnit::Nanosecond, _) => prim!(t::TimestampNanosecondType),
        DataType::Boolean => values.as_boolean().iter().map(|v| v.is_some_and(|b| f(i128::from(b)))).collect(),
        _ => vec![false; values.len()],
    }
}

fn float_hits(values: &ArrayRef, f: impl Fn(f64) -> bool) -> Vec<bool> {
    match values.as_primitive_opt::<t::Float64Type>() {
        Some(a) => a.iter().map(|v| v.is_some_and(&f)).collect(),
        None => vec![false; values.len()],
    }
}

/// ips (16 bytes) and versions (encoded) as bytes.
fn bytes_hits(values: &ArrayRef, f: impl Fn(&[u8]) -> bool) -> Vec<bool> {
    match values.data_type() {
        DataType::FixedSizeBinary(_) => values.as_fixed_size_binary().iter().map(|v| v.is_some_and(&f)).collect(),
        DataType::Binary => values.as_binary::<i32>().iter().map(|v| v.is_some_and(&f)).collect(),
        _ => vec![false; values.len()],
    }
}

/// A constant as `i128` (whole numbers, dates, booleans).
fn as_int(l: &Literal) -> Option<i128> {
    Some(match l {
        Literal::Integer(v) => i128::from(*v),
        Literal::Long(v) | Literal::Date(v) | Literal::DateNanos(v) => i128::from(*v),
        Literal::UnsignedLong(v) => i128::from(*v),
        Literal::Boolean(b) => i128::from(*b),
        _ => return None,
    })
}

fn as_bytes(l: &Literal) -> Option<Vec<u8>> {
    match l {
        Literal::Ip(b) => Some(b.to_vec()),
        Literal::Version(v) => Some(v.clone()),
        _ => None,
    }
}

fn as_str(l: &Literal) -> Option<String> {
    match l {
        Literal::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn kernel(f: impl Fn(&ArrayRef) -> ArrayRef + Send + Sync + 'static) -> Kernel {
    Arc::new(move |args: &[ArrayRef], _ctx: &EvalCtx| match args.first() {
        Some(a) => Ok(f(a)),
        None => Err(internal("KQL predicate without its field")),
    })
}

// ---- kql_terms -----------------------------------------------------------------------------

fn plan_terms(p: PlanArgs) -> Result<Expr> {
    let ty = p.types.first().copied().unwrap_or(EsType::Null);
    let values = constants(&p);
    let k = match ty {
        EsType::Keyword | EsType::Text => {
            let set: HashSet<String> = values.iter().filter_map(|l| as_str(l)).collect();
            kernel(move |a| any_value(a, |v| str_hits(v, |s| set.contains(s))))
        }
        EsType::Double => {
            let set: Vec<f64> =
                values.iter().filter_map(|l| if let Literal::Double(d) = l { Some(*d) } else { None }).collect();
            kernel(move |a| any_value(a, |v| float_hits(v, |x| set.iter().any(|d| d.total_cmp(&x) == Ordering::Equal))))
        }
        EsType::Ip | EsType::Version => {
            let set: HashSet<Vec<u8>> = values.iter().filter_map(|l| as_bytes(l)).collect();
            kernel(move |a| any_value(a, |v| bytes_hits(v, |b| set.contains(b))))
        }
        _ => {
            let set: HashSet<i128> = values.iter().filter_map(|l| as_int(l)).collect();
            kernel(move |a| any_value(a, |v| int_hits(v, |x| set.contains(&x))))
        }
    };
    field_call(p, "kql_terms", k)
}

// ---- kql_cidr ------------------------------------------------------------------------------

/// An ip block: network bits and mask over the 16-byte (IPv4-mapped) form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    net: u128,
    mask: u128,
}

impl IpBlock {
    /// Whether the 16-byte address is in the block.
    pub fn contains(&self, ip: &[u8]) -> bool {
        let Ok(b) = <[u8; 16]>::try_from(ip) else { return false };
        u128::from_be_bytes(b) & self.mask == self.net
    }
}

/// Parses an ip address (a block of one) or a CIDR block as Elasticsearch's ip term query does.
///
/// # Errors
/// Elasticsearch's message (without the `failed to create query: ` prefix).
pub fn parse_ip_or_cidr(s: &str) -> std::result::Result<IpBlock, String> {
    let (addr, len) = match s.split_once('/') {
        None => {
            let b = crate::convert::parse_ip(s).ok_or_else(|| format!("'{s}' is not an IP string literal."))?;
            return Ok(IpBlock { net: u128::from_be_bytes(b), mask: u128::MAX });
        }
        Some((a, l)) => (a, l),
    };
    let ip: std::net::IpAddr = addr.parse().map_err(|_| format!("'{addr}' is not an IP string literal."))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix: u32 = len.parse().ok().filter(|p| *p <= max).ok_or_else(|| {
        format!("Illegal prefix length [{len}] in [{s}]. Must be 0-32 for IPv4 ranges, 0-128 for IPv6 ranges")
    })?;
    let bits = u128::from_be_bytes(crate::convert::ip_bytes(ip));
    let total = if ip.is_ipv4() { prefix + 96 } else { prefix };
    let mask = if total == 0 { 0 } else { u128::MAX << (128 - total) };
    Ok(IpBlock { net: bits & mask, mask })
}

fn plan_cidr(p: PlanArgs) -> Result<Expr> {
    let blocks: Vec<IpBlock> =
        constants(&p).iter().filter_map(|l| as_str(l)).filter_map(|s| parse_ip_or_cidr(&s).ok()).collect();
    let k = kernel(move |a| any_value(a, |v| bytes_hits(v, |b| blocks.iter().any(|k| k.contains(b)))));
    field_call(p, "kql_cidr", k)
}

// ---- wildcards -----------------------------------------------------------------------------

/// Escapes text for a wildcard pattern (`*` and `\` get a backslash).
pub fn escape_wildcard_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Compiles wildcard patterns (`*` any text, `\x` a literal `x`) into one anchored regex
/// matching any of them.
///
/// # Errors
/// When the regex is too large.
pub fn compile_wildcards(patterns: &[String]) -> std::result::Result<Regex, String> {
    let mut re = String::from("(?s)^(?:");
    for (i, p) in patterns.iter().enumerate() {
        if i > 0 {
            re.push('|');
        }
        let mut chars = p.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => re.push_str(".*"),
                '\\' => {
                    if let Some(n) = chars.next() {
                        re.push_str(&regex::escape(n.encode_utf8(&mut [0; 4])));
                    }
                }
                c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
            }
        }
    }
    re.push_str(")$");
    regex::RegexBuilder::new(&re).size_limit(1 << 26).build().map_err(|e| e.to_string())
}

fn patterns_of(p: &PlanArgs) -> Result<Regex> {
    let patterns: Vec<String> = constants(p).iter().filter_map(|l| as_str(l)).collect();
    compile_wildcards(&patterns).map_err(DataFusionError::Plan)
}

fn plan_wildcard(p: PlanArgs) -> Result<Expr> {
    let re = patterns_of(&p)?;
    let k = kernel(move |a| any_value(a, |v| str_hits(v, |s| re.is_match(s))));
    field_call(p, "kql_wildcard", k)
}

fn plan_token_wildcard(p: PlanArgs) -> Result<Expr> {
    let re = patterns_of(&p)?;
    let k = kernel(move |a| any_value(a, |v| str_hits(v, |s| tokens(s).iter().any(|t| re.is_match(t)))));
    field_call(p, "kql_token_wildcard", k)
}

// ---- text ----------------------------------------------------------------------------------

/// Levenshtein distance with transpositions counted as one edit (Lucene's default for fuzzy
/// queries), stopping early beyond `max`.
fn within_edits(a: &str, b: &str, max: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()] <= max
}

fn plan_fuzzy(p: PlanArgs) -> Result<Expr> {
    let consts = constants(&p);
    let Some(Literal::Integer(max)) = consts.first() else {
        return Err(internal("kql_fuzzy without its edit distance"));
    };
    let max = usize::try_from(*max).unwrap_or(0);
    let terms: Vec<String> = consts.iter().skip(1).filter_map(|l| as_str(l)).collect();
    let text = p.types.first() == Some(&EsType::Text);
    let k = kernel(move |a| {
        any_value(a, |v| {
            str_hits(v, |s| {
                if text {
                    tokens(s).iter().any(|t| terms.iter().any(|q| within_edits(t, q, max)))
                } else {
                    terms.iter().any(|q| within_edits(s, q, max))
                }
            })
        })
    });
    field_call(p, "kql_fuzzy", k)
}

fn plan_tokens(p: PlanArgs) -> Result<Expr> {
    let set: HashSet<String> = constants(&p).iter().filter_map(|l| as_str(l)).collect();
    let k = kernel(move |a| any_value(a, |v| str_hits(v, |s| tokens(s).iter().any(|t| set.contains(t)))));
    field_call(p, "kql_tokens", k)
}

/// Whether `phrase` occurs as consecutive tokens of `text_tokens`.
fn contains_phrase(text_tokens: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && text_tokens.windows(phrase.len()).any(|w| w == phrase)
}

fn plan_phrase(p: PlanArgs) -> Result<Expr> {
    let phrases: Vec<Vec<String>> =
        constants(&p).iter().filter_map(|l| as_str(l)).map(|s| tokens(&s)).filter(|t| !t.is_empty()).collect();
    let k = kernel(move |a| {
        any_value(a, |v| {
            str_hits(v, |s| {
                let toks = tokens(s);
                phrases.iter().any(|ph| contains_phrase(&toks, ph))
            })
        })
    });
    field_call(p, "kql_phrase", k)
}

// ---- kql_exists ----------------------------------------------------------------------------

fn plan_exists(p: PlanArgs) -> Result<Expr> {
    let k =
        kernel(|a| any_value(a, |v| (0..v.len()).map(|i| v.is_valid(i) && v.data_type() != &DataType::Null).collect()));
    field_call(p, "kql_exists", k)
}

// ---- kql_range -----------------------------------------------------------------------------

/// One side of a range: the bound and whether it is inclusive.
type Side<T> = Option<(T, bool)>;

fn in_range<T>(v: &T, lo: &Side<T>, hi: &Side<T>, cmp: impl Fn(&T, &T) -> Ordering) -> bool {
    let above = match lo {
        None => true,
        Some((b, incl)) => match cmp(v, b) {
            Ordering::Greater => true,
            Ordering::Equal => *incl,
            Ordering::Less => false,
        },
    };
    let below = match hi {
        None => true,
        Some((b, incl)) => match cmp(v, b) {
            Ordering::Less => true,
            Ordering::Equal => *incl,
            Ordering::Greater => false,
        },
    };
    above && below
}

/// The range operator strings: `gt`, `gte`, `lt`, `lte`.
fn op_of(l: Option<&Literal>) -> Option<&str> {
    match l {
        Some(Literal::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn plan_range(p: PlanArgs) -> Result<Expr> {
    let ty = p.types.first().copied().unwrap_or(EsType::Null);
    let lit = |i: usize| p.literals.get(i).copied().flatten();
    let lower_op = op_of(lit(1));
    let upper_op = op_of(lit(3));
    let (lower, upper) = (lit(2), lit(4));
    // gt and lte round a date bound up; gte and lt round it down (Elasticsearch's range query).
    let side = |op: Option<&str>, bound: Option<&Literal>| -> Option<(bool, bool, Literal)> {
        let op = op?;
        let bound = bound?.clone();
        let inclusive = matches!(op, "gte" | "lte");
        let round_up = matches!(op, "gt" | "lte");
        Some((inclusive, round_up, bound))
    };
    let (lo, hi) = (side(lower_op, lower), side(upper_op, upper));
    let now = p.now_ms;
    let k: Kernel = match ty {
        EsType::Date | EsType::DateNanos => {
            let resolve = |s: Option<(bool, bool, Literal)>| -> Result<Side<i128>> {
                let Some((incl, up, b)) = s else { return Ok(None) };
                let text = as_str(&b).ok_or_else(|| internal("a date bound that is not a string"))?;
                let v = if ty == EsType::Date {
                    date_math::parse_millis(&text, now, up)
                } else {
                    date_math::parse_nanos(&text, now, up)
                };
                Ok(Some((i128::from(v.map_err(DataFusionError::Plan)?), incl)))
            };
            let (lo, hi) = (resolve(lo)?, resolve(hi)?);
            kernel(move |a| any_value(a, |v| int_hits(v, |x| in_range(&x, &lo, &hi, Ord::cmp))))
        }
        EsType::Double => {
            let f = |s: Option<(bool, bool, Literal)>| -> Side<f64> {
                s.and_then(|(incl, _, b)| if let Literal::Double(d) = b { Some((d, incl)) } else { None })
            };
            let (lo, hi) = (f(lo), f(hi));
            kernel(move |a| any_value(a, |v| float_hits(v, |x| in_range(&x, &lo, &hi, f64::total_cmp))))
        }
        EsType::Keyword => {
            let f = |s: Option<(bool, bool, Literal)>| s.and_then(|(incl, _, b)| as_str(&b).map(|v| (v, incl)));
            let (lo, hi) = (f(lo), f(hi));
            kernel(move |a| {
                any_value(a, |v| str_hits(v, |x| in_range(&x.to_string(), &lo, &hi, |a: &String, b| a.as_str().cmp(b))))
            })
        }
        EsType::Text => {
            let f = |s: Option<(bool, bool, Literal)>| s.and_then(|(incl, _, b)| as_str(&b).map(|v| (v, incl)));
            let (lo, hi) = (f(lo), f(hi));
            kernel(move |a| {
                any_value(a, |v| str_hits(v, |x| tokens(x).iter().any(|t| in_range(t, &lo, &hi, Ord::cmp))))
            })
        }
        EsType::Ip | EsType::Version => {
            let f = |s: Option<(bool, bool, Literal)>| s.and_then(|(incl, _, b)| as_bytes(&b).map(|v| (v, incl)));
            let (lo, hi) = (f(lo), f(hi));
            kernel(move |a| any_value(a, |v| bytes_hits(v, |x| in_range(&x.to_vec(), &lo, &hi, Ord::cmp))))
        }
        _ => {
            let f = |s: Option<(bool, bool, Literal)>| s.and_then(|(incl, _, b)| as_int(&b).map(|v| (v, incl)));
            let (lo, hi) = (f(lo), f(hi));
            kernel(move |a| any_value(a, |v| int_hits(v, |x| in_range(&x, &lo, &hi, Ord::cmp))))
        }
    };
    field_call(p, "kql_range", k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, ListBuilder, StringArray, StringBuilder};

    fn bools(a: &ArrayRef) -> Vec<bool> {
        a.as_boolean().iter().map(|v| v.unwrap()).collect()
    }

    fn multi(rows: &[Option<&[&str]>]) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in rows {
            match r {
                Some(vals) => {
                    for v in *vals {
                        b.values().append_value(v);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Arc::new(b.finish())
    }

    #[test]
    fn any_value_of_multi_values_matches() {
        let a = multi(&[Some(&["a", "b"]), Some(&["c"]), None]);
        let out = any_value(&a, |v| str_hits(v, |s| s == "b"));
        assert_eq!(bools(&out), [true, false, false]);
        let single: ArrayRef = Arc::new(StringArray::from(vec![Some("b"), None]));
        assert_eq!(bools(&any_value(&single, |v| str_hits(v, |s| s == "b"))), [true, false]);
    }

    #[test]
    fn wildcards_match_whole_values() {
        let re = compile_wildcards(&["*foo".into(), "a\\*b".into()]).unwrap();
        assert!(re.is_match("xfoo"));
        assert!(!re.is_match("foox"));
        assert!(re.is_match("a*b"));
        assert!(!re.is_match("axb"));
        assert_eq!(escape_wildcard_text("a*b\\c"), "a\\*b\\\\c");
        let re = compile_wildcards(&["a.b?".into()]).unwrap();
        assert!(re.is_match("a.b?"));
        assert!(!re.is_match("axbc"));
    }

    #[test]
    fn ip_blocks() {
        let b = parse_ip_or_cidr("10.0.0.0/8").unwrap();
        assert!(b.contains(&crate::convert::parse_ip("10.1.2.3").unwrap()));
        assert!(!b.contains(&crate::convert::parse_ip("11.1.2.3").unwrap()));
        let one = parse_ip_or_cidr("10.1.2.3").unwrap();
        assert!(one.contains(&crate::convert::parse_ip("10.1.2.3").unwrap()));
        assert!(parse_ip_or_cidr("fc00::/7").unwrap().contains(&crate::convert::parse_ip("fd12::1").unwrap()));
        assert_eq!(parse_ip_or_cidr("abc"), Err("'abc' is not an IP string literal.".into()));
        assert!(parse_ip_or_cidr("10.0.0.0/33").is_err());
        assert!(parse_ip_or_cidr("0.0.0.0/0").unwrap().contains(&crate::convert::parse_ip("1.2.3.4").unwrap()));
    }

    #[test]
    fn ranges() {
        let lo = Some((10i128, true));
        let hi = Some((20i128, false));
        assert!(in_range(&10, &lo, &hi, Ord::cmp));
        assert!(!in_range(&20, &lo, &hi, Ord::cmp));
        assert!(in_range(&5, &None, &hi, Ord::cmp));
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(10), Some(25), None]));
        assert_eq!(bools(&any_value(&a, |v| int_hits(v, |x| in_range(&x, &lo, &hi, Ord::cmp)))), [true, false, false]);
    }

    #[test]
    fn phrases_are_consecutive_tokens() {
        let t = tokens("The quick brown fox");
        assert!(contains_phrase(&t, &tokens("quick BROWN")));
        assert!(!contains_phrase(&t, &tokens("quick fox")));
        assert!(!contains_phrase(&t, &[]));
    }
}

//! ES|QL functions: one file per function, one registration list per family.
//!
//! A scalar function is a [`ScalarDef`]: a `resolve` step that type-checks the arguments with
//! Elastic's error messages and says which argument conversions the analyzer must insert, and a
//! `plan` step that builds the DataFusion expression (usually an [`crate::udf::EsUdf`] running a
//! kernel). Aggregates are [`AggDef`]s, planned as DataFusion aggregate expressions.
//!
//! Arguments arrive single-valued unless the function sets `mv_args`: for the others the planner
//! wraps a multi-valued argument so that it becomes null with Elastic's
//! "single-value function encountered multi-value" warning.

use crate::ir::Literal;
use crate::types::EsType;
use crate::warnings::WarningSink;
use datafusion::logical_expr::Expr;

pub mod aggregate;
pub mod conditional;
pub mod convert;
pub mod date;
pub mod ip;
pub mod kernels;
pub mod kql_ops;
pub mod math;
pub mod mv;
pub mod operators;
pub mod spatial;
pub mod string;
pub mod values;

/// What the resolver knows about one argument.
#[derive(Debug, Clone)]
pub struct ArgInfo<'a> {
    /// Its type.
    pub ty: EsType,
    /// Whether it may be multi-valued.
    pub multi: bool,
    /// Its value, when it is a constant.
    pub literal: Option<&'a Literal>,
    /// Its source text (for error messages).
    pub text: &'a str,
}

/// The outcome of resolving a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Result type.
    pub ty: EsType,
    /// Whether the result may be multi-valued.
    pub multi: bool,
    /// For each argument, a type to convert it to first (`None`: leave it).
    pub casts: Vec<Option<EsType>>,
}

impl Resolved {
    /// A single-valued result of type `ty` needing no conversions.
    pub fn of(ty: EsType) -> Resolved {
        Resolved { ty, multi: false, casts: Vec::new() }
    }
}

/// Type-checks a call. `call` is the call's source text, as Elastic quotes it in messages.
pub type ResolveFn = fn(call: &str, args: &[ArgInfo]) -> Result<Resolved, String>;

/// What the planner hands a function.
pub struct PlanArgs<'a> {
    /// The planned arguments.
    pub args: Vec<Expr>,
    /// Their types (after conversions).
    pub types: Vec<EsType>,
    /// Whether each argument arrives multi-valued (a list); only for `mv_args` functions.
    pub multi: Vec<bool>,
    /// Their constant values, where constant.
    pub literals: Vec<Option<&'a Literal>>,
    /// The resolved result.
    pub resolved: &'a Resolved,
    /// Where to report per-row failures.
    pub sink: &'a WarningSink,
    /// `now()` for this query, epoch milliseconds.
    pub now_ms: i64,
}

/// Builds the DataFusion expression for a call.
pub type PlanFn = fn(PlanArgs) -> datafusion::common::Result<Expr>;

/// A scalar function.
pub struct ScalarDef {
    /// Lower-case name.
    pub name: &'static str,
    /// Takes multi-valued arguments as lists (the MV_ functions, conversions, CASE values...).
    pub mv_args: bool,
    /// Type check.
    pub resolve: ResolveFn,
    /// Planning.
    pub plan: PlanFn,
}

impl std::fmt::Debug for ScalarDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name)
    }
}

/// What the planner hands an aggregate.
pub struct AggPlanArgs<'a> {
    /// The planned arguments (multi-valued ones are lists).
    pub args: Vec<Expr>,
    /// Their types.
    pub types: Vec<EsType>,
    /// Whether each may be multi-valued.
    pub multi: Vec<bool>,
    /// Their constant values, where constant.
    pub literals: Vec<Option<&'a Literal>>,
    /// The resolved result.
    pub resolved: &'a Resolved,
    /// The filter (`STATS agg WHERE cond`), already planned.
    pub filter: Option<Expr>,
    /// Where to report failures.
    pub sink: &'a WarningSink,
}

/// An aggregate function.
pub struct AggDef {
    /// Lower-case name.
    pub name: &'static str,
    /// Type check (arguments may be multi-valued: aggregates see every value).
    pub resolve: ResolveFn,
    /// Planning: returns an aggregate expression.
    pub plan: fn(AggPlanArgs) -> datafusion::common::Result<Expr>,
}

impl std::fmt::Debug for AggDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name)
    }
}

/// Every scalar function, by family.
fn scalar_families() -> [&'static [&'static ScalarDef]; 9] {
    [string::ALL, math::ALL, date::ALL, ip::ALL, conditional::ALL, convert::ALL, mv::ALL, operators::ALL, spatial::ALL]
}

/// The scalar function with this (lower-case) name.
pub fn scalar(name: &str) -> Option<&'static ScalarDef> {
    scalar_families().into_iter().flatten().copied().find(|d| d.name == name)
}

/// The aggregate function with this (lower-case) name.
pub fn aggregate(name: &str) -> Option<&'static AggDef> {
    aggregate::ALL.iter().copied().find(|d| d.name == name)
}

/// Every function name, for "unknown function" suggestions and docs.
pub fn names() -> Vec<&'static str> {
    let mut v: Vec<&str> = scalar_families().into_iter().flatten().map(|d| d.name).collect();
    v.extend(aggregate::ALL.iter().map(|d| d.name));
    v.sort_unstable();
    v
}

/// Elastic's ordinal words for argument positions in messages.
pub fn ordinal(i: usize) -> &'static str {
    ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
        .get(i)
        .copied()
        .unwrap_or("")
}

/// Joins type names as Elastic lists them: `[keyword or text]`, `[a, b or c]`.
pub fn type_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Checks that argument `i` has one of `allowed` types, with Elastic's message:
/// `first argument of [f(x)] must be [keyword or text], found value [x] type [integer]`.
pub fn expect_type(call: &str, args: &[ArgInfo], i: usize, allowed: &[EsType], described: &str) -> Result<(), String> {
    let Some(a) = args.get(i) else { return Ok(()) };
    if a.ty == EsType::Null || allowed.contains(&a.ty) {
        return Ok(());
    }
    Err(type_error(call, args, i, described))
}

/// The type error for argument `i`.
pub fn type_error(call: &str, args: &[ArgInfo], i: usize, described: &str) -> String {
    let a = &args[i];
    let position = if args.len() == 1 { String::new() } else { format!("{} ", ordinal(i)) };
    format!("{position}argument of [{call}] must be [{described}], found value [{}] type [{}]", a.text, a.ty)
}

/// Checks the argument count is within `min..=max`.
pub fn expect_arity(name: &str, args: &[ArgInfo], min: usize, max: usize) -> Result<(), String> {
    let n = args.len();
    if n >= min && n <= max {
        return Ok(());
    }
    // Elastic's function registry spells the counts out in words.
    const WORDS: [&str; 6] = ["zero", "one", "two", "three", "four", "five"];
    let word = |k: usize| WORDS.get(k).map_or_else(|| k.to_string(), |w| (*w).to_string());
    let plural = |k: usize| if k == 1 { "argument" } else { "arguments" };
    Err(if min == max {
        match min {
            0 => format!("error building [{name}]: expects no arguments"),
            k => format!("error building [{name}]: expects exactly {} {}", word(k), plural(k)),
        }
    } else if max == usize::MAX {
        format!("error building [{name}]: expects at least {} {}", word(min), plural(min))
    } else if max == min + 1 {
        format!("error building [{name}]: expects {} or {} arguments", word(min), word(max))
    } else if min == 2 && max == 4 {
        format!("error building [{name}]: expects minimum two, maximum four arguments")
    } else {
        format!("error building [{name}]: expects between {} and {} arguments", word(min), word(max))
    })
}

/// Type sets used in signatures.
pub mod sets {
    use crate::types::EsType::{self, *};
    /// keyword, text
    pub const STRING: &[EsType] = &[Keyword, Text];
    /// numeric types
    pub const NUMERIC: &[EsType] = &[Integer, Long, UnsignedLong, Double];
    /// integer, long
    pub const SIGNED_WHOLE: &[EsType] = &[Integer, Long];
    /// date, date_nanos
    pub const DATES: &[EsType] = &[Date, DateNanos];
    /// everything representable in a column
    pub const ANY: &[EsType] =
        &[Boolean, Integer, Long, UnsignedLong, Double, Keyword, Text, Ip, Version, Date, DateNanos];
}

//! Math functions and the value comparisons built on them (`GREATEST`, `LEAST`, `CLAMP`...),
//! one file each, plus the helpers they share: Elastic's argument checks and the kernels that
//! run a per-value `f64` function with Elastic's warnings.
//!
//! Transcendental functions use the `libm` crate (a port of the fdlibm family that Java's
//! `StrictMath` comes from), so results match Elastic to the last digit more often than the
//! platform's C library does.

use super::{ArgInfo, PlanArgs, ScalarDef, kernels, ordinal};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{Array, ArrayRef, new_null_array};
use datafusion::arrow::compute::interleave;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

pub mod abs;
pub mod acos;
pub mod asin;
pub mod atan;
pub mod atan2;
pub mod cbrt;
pub mod ceil;
pub mod clamp;
pub mod clamp_max;
pub mod clamp_min;
pub mod cos;
pub mod cosh;
pub mod e;
pub mod exp;
pub mod floor;
pub mod greatest;
pub mod hypot;
pub mod least;
pub mod log;
pub mod log10;
pub mod pi;
pub mod pow;
pub mod round;
pub mod signum;
pub mod sin;
pub mod sinh;
pub mod sqrt;
pub mod tan;
pub mod tanh;
pub mod tau;
pub mod to_degrees;
pub mod to_radians;

/// The math functions.
pub static ALL: &[&ScalarDef] = &[
    &abs::DEF,
    &acos::DEF,
    &asin::DEF,
    &atan::DEF,
    &atan2::DEF,
    &cbrt::DEF,
    &ceil::DEF,
    &clamp::DEF,
    &clamp_max::DEF,
    &clamp_min::DEF,
    &cos::DEF,
    &cosh::DEF,
    &e::DEF,
    &exp::DEF,
    &floor::DEF,
    &greatest::DEF,
    &hypot::DEF,
    &least::DEF,
    &log::DEF,
    &log10::DEF,
    &pi::DEF,
    &pow::DEF,
    &round::DEF,
    &signum::DEF,
    &sin::DEF,
    &sinh::DEF,
    &sqrt::DEF,
    &tan::DEF,
    &tanh::DEF,
    &tau::DEF,
    &to_degrees::DEF,
    &to_radians::DEF,
];

/// A per-value function on doubles: the result, or the Java exception text that makes the
/// row null (see [`arith`]).
pub type DoubleFn = fn(f64) -> std::result::Result<f64, String>;

/// A per-value function of two doubles.
pub type DoubleFn2 = fn(f64, f64) -> std::result::Result<f64, String>;

/// The text of a `java.lang.ArithmeticException` with `msg`.
pub fn arith(msg: &str) -> String {
    format!("java.lang.ArithmeticException: {msg}")
}

/// `v` if it is finite, else Elastic's "not a finite double number" failure.
pub fn finite(v: f64) -> std::result::Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(arith(&format!("not a finite double number: {}", crate::convert::format_double(v))))
    }
}

/// How Elastic names an argument in a type error: no position (`argument of [f(x)]`) for
/// one-argument functions, or an ordinal (`first argument of [f(x, y)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pos {
    /// `argument of [...]`
    Default,
    /// `first argument of [...]`, `second argument of [...]`, ...
    Nth(usize),
}

/// Elastic's type error: `{pos}argument of [{call}] must be [{expected}], found value [{text}] type [{ty}]`.
pub fn type_err(call: &str, arg: &ArgInfo, pos: Pos, expected: &str) -> String {
    let pos = match pos {
        Pos::Default => String::new(),
        Pos::Nth(i) => format!("{} ", ordinal(i)),
    };
    format!("{pos}argument of [{call}] must be [{expected}], found value [{}] type [{}]", arg.text, type_name(arg.ty))
}

/// The name Elastic gives a type in messages (`datetime` for dates).
pub fn type_name(ty: EsType) -> &'static str {
    if ty == EsType::Date { "datetime" } else { ty.name() }
}

/// Checks the argument count with Elastic's wording (`error building [f]: expects ...`).
pub fn arity(name: &str, args: &[ArgInfo], min: usize, max: usize) -> std::result::Result<(), String> {
    let n = args.len();
    if n >= min && n <= max {
        return Ok(());
    }
    let words = ["no", "one", "two", "three"];
    let word = |k: usize| words.get(k).copied().map(str::to_string).unwrap_or_else(|| k.to_string());
    let what = if max == usize::MAX {
        format!("at least {} argument{}", word(min), if min == 1 { "" } else { "s" })
    } else if min == max {
        match min {
            0 => "no arguments".to_string(),
            1 => "exactly one argument".to_string(),
            k => format!("exactly {} arguments", word(k)),
        }
    } else {
        format!("{} or {} arguments", word(min), word(max))
    };
    Err(format!("error building [{name}]: expects {what}"))
}

/// Checks that argument `i` is numeric (or null). A string constant is accepted and converted
/// to double first, as Elastic's implicit casting of string literals does; the returned type is
/// that conversion.
pub fn numeric_param(call: &str, args: &[ArgInfo], i: usize, pos: Pos) -> std::result::Result<Option<EsType>, String> {
    let a = &args[i];
    if a.ty == EsType::Null || a.ty.is_numeric() {
        return Ok(None);
    }
    if is_string_literal(a) {
        return Ok(Some(EsType::Double));
    }
    Err(type_err(call, a, pos, "numeric"))
}

/// True when the argument is a string constant (a candidate for implicit casting).
pub fn is_string_literal(a: &ArgInfo) -> bool {
    a.ty.is_string() && matches!(a.literal, Some(Literal::String(_)))
}

/// The type a numeric argument has once its conversion (if any) is applied.
pub fn effective(a: &ArgInfo, cast: Option<EsType>) -> EsType {
    cast.unwrap_or(a.ty)
}

/// Resolves a one-argument function of a number returning a double.
pub fn resolve_unary_double(name: &str, call: &str, args: &[ArgInfo]) -> std::result::Result<super::Resolved, String> {
    arity(name, args, 1, 1)?;
    let cast = numeric_param(call, args, 0, Pos::Default)?;
    Ok(super::Resolved { ty: EsType::Double, multi: false, casts: vec![cast] })
}

/// Resolves a two-argument function of numbers returning a double.
pub fn resolve_binary_double(name: &str, call: &str, args: &[ArgInfo]) -> std::result::Result<super::Resolved, String> {
    arity(name, args, 2, 2)?;
    let c0 = numeric_param(call, args, 0, Pos::Nth(0))?;
    let c1 = numeric_param(call, args, 1, Pos::Nth(1))?;
    Ok(super::Resolved { ty: EsType::Double, multi: false, casts: vec![c0, c1] })
}

/// Applies `f` to every value of a numeric array (any numeric type, or all-null), giving a
/// double array. A failure or a non-finite result makes the row null with a warning.
pub fn eval_double(a: &ArrayRef, ctx: &EvalCtx, f: DoubleFn) -> Result<ArrayRef> {
    let out = kernels::to_f64s(a)?.into_iter().map(|v| v.and_then(|x| report(f(x).and_then(finite), ctx))).collect();
    Ok(kernels::f64_array(out))
}

/// Applies `f` row by row to two numeric arrays, giving a double array (null if either is null).
pub fn eval_double2(a: &ArrayRef, b: &ArrayRef, ctx: &EvalCtx, f: DoubleFn2) -> Result<ArrayRef> {
    let xs = kernels::to_f64s(a)?;
    let ys = kernels::to_f64s(b)?;
    let out = xs
        .into_iter()
        .zip(ys)
        .map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => report(f(x, y).and_then(finite), ctx),
            _ => None,
        })
        .collect();
    Ok(kernels::f64_array(out))
}

/// The value, or null after recording the failure.
pub fn report<T>(r: std::result::Result<T, String>, ctx: &EvalCtx) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            ctx.sink.null_because(&e);
            None
        }
    }
}

/// Plans a one-argument double function.
pub fn plan_unary_double(name: &'static str, p: PlanArgs, f: DoubleFn) -> Result<Expr> {
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| eval_double(&a[0], ctx, f));
    Ok(udf::call(name, DataType::Float64, p.sink, p.args, kernel))
}

/// Plans a two-argument double function.
pub fn plan_binary_double(name: &'static str, p: PlanArgs, f: DoubleFn2) -> Result<Expr> {
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| eval_double2(&a[0], &a[1], ctx, f));
    Ok(udf::call(name, DataType::Float64, p.sink, p.args, kernel))
}

/// Reduces multi-valued arguments to single values the way the planner does for functions
/// without `mv_args` (null plus Elastic's warning). For the functions that take multi-values
/// only to pass them through unchanged where Elastic's evaluator is the identity (`ABS` of an
/// unsigned long, `CEIL`/`FLOOR`/`ROUND` of whole numbers).
pub fn single_valued(p: PlanArgs) -> PlanArgs {
    let sink = p.sink;
    let args = p
        .args
        .into_iter()
        .zip(p.multi.iter().zip(&p.types))
        .map(|(e, (multi, ty))| if *multi { kernels::mv_single_expr(e, *ty, sink) } else { e })
        .collect();
    let multi = vec![false; p.types.len()];
    PlanArgs { args, multi, ..p }
}

/// The null constant of the `null` type (for functions whose result type follows an argument
/// that is the `null` constant).
pub fn null_result() -> Expr {
    crate::planner::typed_null(EsType::Null, false)
}

/// Row by row, the largest (`max`) or smallest of the arrays' values, in Elastic's order for
/// the type (numeric, byte-wise for strings/ips/versions, `false < true`); null when any of
/// them is null. All arrays must share one Arrow type (an all-null array of type `Null` makes
/// the whole result null); the result has type `out`.
pub fn pick_extreme(arrays: &[ArrayRef], max: bool, out: &DataType) -> Result<ArrayRef> {
    let Some(first) = arrays.first() else {
        return Ok(new_null_array(out, 0));
    };
    let rows = first.len();
    if arrays.iter().any(|a| a.data_type() == &DataType::Null) {
        return Ok(new_null_array(out, rows));
    }
    let arrays: Vec<ArrayRef> = arrays
        .iter()
        .map(|a| if a.data_type() == out { Ok(a.clone()) } else { Ok(datafusion::arrow::compute::cast(a, out)?) })
        .collect::<Result<_>>()?;
    let conv = RowConverter::new(vec![SortField::new(out.clone())])?;
    let converted = arrays
        .iter()
        .map(|a| conv.convert_columns(std::slice::from_ref(a)))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let null_source = new_null_array(out, 1);
    let null_idx = arrays.len();
    let mut picks: Vec<(usize, usize)> = Vec::with_capacity(rows);
    for row in 0..rows {
        let mut best: Option<usize> = None;
        for (k, a) in arrays.iter().enumerate() {
            if a.is_null(row) {
                best = None;
                break;
            }
            best = Some(match best {
                None => k,
                Some(b) => {
                    let (x, y) = (converted[k].row(row), converted[b].row(row));
                    let better = if max { x > y } else { x < y };
                    if better { k } else { b }
                }
            });
        }
        picks.push(match best {
            Some(k) => (k, row),
            None => (null_idx, 0),
        });
    }
    let mut sources: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
    sources.push(null_source.as_ref());
    Ok(interleave(&sources, &picks)?)
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Running kernels in unit tests with a warning collector.

    use crate::udf::EvalCtx;
    use crate::warnings::{WarningSink, Warnings};
    use datafusion::arrow::array::{ArrayRef, AsArray};
    use datafusion::arrow::datatypes::{self as t, DataType};

    /// Runs `f` with a context whose warnings are returned (exception lines only).
    pub fn run(rows: usize, ret: DataType, f: impl FnOnce(&EvalCtx) -> ArrayRef) -> (ArrayRef, Vec<String>) {
        let w = Warnings::new();
        let sink = WarningSink::new(w.clone(), 1, 1, "f(x)");
        let ctx = EvalCtx { sink: &sink, rows, return_type: &ret };
        let out = f(&ctx);
        let msgs = w
            .messages()
            .into_iter()
            .filter(|m| !m.contains("evaluation of"))
            .map(|m| m.replace("Line 1:1: ", ""))
            .collect();
        (out, msgs)
    }

    /// The values of a double array.
    pub fn doubles(a: &ArrayRef) -> Vec<Option<f64>> {
        a.as_primitive::<t::Float64Type>().iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::kernels::{i32_array, str_array};

    fn info(ty: EsType, text: &str) -> ArgInfo<'_> {
        ArgInfo { ty, multi: false, literal: None, text }
    }

    #[test]
    fn arity_messages_match_elastic() {
        let one = [info(EsType::Integer, "1")];
        assert_eq!(arity("pi", &one, 0, 0).unwrap_err(), "error building [pi]: expects no arguments");
        assert_eq!(arity("abs", &[], 1, 1).unwrap_err(), "error building [abs]: expects exactly one argument");
        assert_eq!(arity("pow", &one, 2, 2).unwrap_err(), "error building [pow]: expects exactly two arguments");
        assert_eq!(arity("clamp", &one, 3, 3).unwrap_err(), "error building [clamp]: expects exactly three arguments");
        assert_eq!(arity("round", &[], 1, 2).unwrap_err(), "error building [round]: expects one or two arguments");
        assert_eq!(
            arity("greatest", &[], 1, usize::MAX).unwrap_err(),
            "error building [greatest]: expects at least one argument"
        );
        assert!(arity("round", &one, 1, 2).is_ok());
    }

    #[test]
    fn numeric_params_accept_string_constants() {
        let lit = Literal::String("10.0".into());
        let s = ArgInfo { ty: EsType::Keyword, multi: false, literal: Some(&lit), text: "\"10.0\"" };
        assert_eq!(numeric_param("abs(\"10.0\")", &[s], 0, Pos::Default), Ok(Some(EsType::Double)));
        let field = info(EsType::Keyword, "k");
        assert_eq!(
            numeric_param("abs(k)", &[field], 0, Pos::Default).unwrap_err(),
            "argument of [abs(k)] must be [numeric], found value [k] type [keyword]"
        );
    }

    #[test]
    fn finite_check_formats_like_java() {
        assert_eq!(finite(f64::NAN).unwrap_err(), "java.lang.ArithmeticException: not a finite double number: NaN");
        assert_eq!(
            finite(f64::INFINITY).unwrap_err(),
            "java.lang.ArithmeticException: not a finite double number: Infinity"
        );
        assert_eq!(
            finite(-f64::INFINITY).unwrap_err(),
            "java.lang.ArithmeticException: not a finite double number: -Infinity"
        );
    }

    #[test]
    fn extremes_propagate_nulls() {
        let a = i32_array(vec![Some(1), Some(5), None]);
        let b = i32_array(vec![Some(3), Some(2), Some(7)]);
        let max = pick_extreme(&[a.clone(), b.clone()], true, &DataType::Int32).unwrap();
        assert_eq!(max.as_ref(), i32_array(vec![Some(3), Some(5), None]).as_ref());
        let min = pick_extreme(&[a, b], false, &DataType::Int32).unwrap();
        assert_eq!(min.as_ref(), i32_array(vec![Some(1), Some(2), None]).as_ref());
        let s = pick_extreme(
            &[str_array(vec![Some("b".into())]), str_array(vec![Some("ab".into())])],
            true,
            &DataType::Utf8,
        )
        .unwrap();
        assert_eq!(s.as_ref(), str_array(vec![Some("b".into())]).as_ref());
    }
}

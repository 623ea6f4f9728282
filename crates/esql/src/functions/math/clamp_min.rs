//! `CLAMP_MIN(field, min)`: the field's value, raised to `min` when it is below it. Works on
//! numbers (the result takes the wider numeric type), strings, booleans, ips, versions and
//! dates; null when either is null.

use super::{Pos, arity, pick_extreme, type_err, type_name};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `CLAMP_MIN`.
pub static DEF: ScalarDef = ScalarDef { name: "clamp_min", mv_args: false, resolve, plan };

fn no_text(t: EsType) -> EsType {
    if t == EsType::Text { EsType::Keyword } else { t }
}

/// Checks the field (first argument) of the clamp functions and returns its type.
pub fn field_type(call: &str, args: &[ArgInfo]) -> std::result::Result<EsType, String> {
    let f = &args[0];
    let ft = no_text(f.ty);
    let ok = ft == EsType::Null
        || ft.is_numeric()
        || ft.is_date()
        || matches!(ft, EsType::Boolean | EsType::Keyword | EsType::Ip | EsType::Version);
    if !ok {
        // Elastic names the field's own type as the expectation here.
        return Err(type_err(call, f, Pos::Nth(0), type_name(ft)));
    }
    if ft == EsType::Null {
        return Err("'field' must not be null in clamp()".to_string());
    }
    Ok(ft)
}

/// Checks bound `i` against a value of type `ft` and returns the type of clamping one by the
/// other: `ft` for non-numbers; for numbers the wider type, and on a tie a double if either is,
/// else the bound's type.
pub fn bound_type(call: &str, args: &[ArgInfo], i: usize, ft: EsType) -> std::result::Result<EsType, String> {
    let b = &args[i];
    let ok = b.ty == EsType::Null || if b.ty.is_numeric() { ft.is_numeric() } else { no_text(b.ty) == ft };
    if !ok {
        return Err(type_err(call, b, Pos::Nth(i), type_name(ft)));
    }
    if !ft.is_numeric() {
        return Ok(ft);
    }
    let size = |t: EsType| match t {
        EsType::Integer => 4,
        EsType::Long | EsType::UnsignedLong | EsType::Double => 8,
        _ => 0,
    };
    Ok(match size(ft).cmp(&size(b.ty)) {
        std::cmp::Ordering::Equal => {
            if ft == EsType::Double {
                ft
            } else {
                b.ty
            }
        }
        std::cmp::Ordering::Greater => ft,
        std::cmp::Ordering::Less => b.ty,
    })
}

/// The conversions bringing every numeric argument to `ty`.
pub fn casts_to(args: &[ArgInfo], ty: EsType) -> Vec<Option<EsType>> {
    args.iter().map(|a| if ty.is_numeric() && a.ty.is_numeric() && a.ty != ty { Some(ty) } else { None }).collect()
}

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("clamp_min", args, 2, 2)?;
    let ft = field_type(call, args)?;
    let ty = bound_type(call, args, 1, ft)?;
    Ok(Resolved { ty, multi: false, casts: casts_to(args, ty) })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let out = p.resolved.ty.arrow();
    let ret = out.clone();
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], _ctx: &EvalCtx| pick_extreme(&a[..2], true, &out));
    Ok(udf::call("clamp_min", ret, p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::kernels::{f64_array, str_array};
    use datafusion::arrow::datatypes::DataType;

    fn info(ty: EsType, text: &str) -> ArgInfo<'_> {
        ArgInfo { ty, multi: false, literal: None, text }
    }

    #[test]
    fn result_types() {
        let t = |a: EsType, b: EsType| resolve("clamp_min(a, b)", &[info(a, "a"), info(b, "b")]).map(|r| r.ty);
        use EsType::*;
        assert_eq!(t(Integer, Long), Ok(Long));
        assert_eq!(t(Long, Integer), Ok(Long));
        assert_eq!(t(Long, Double), Ok(Double));
        assert_eq!(t(Double, UnsignedLong), Ok(Double));
        assert_eq!(t(UnsignedLong, Long), Ok(Long));
        assert_eq!(t(Long, UnsignedLong), Ok(UnsignedLong));
        assert_eq!(t(Integer, UnsignedLong), Ok(UnsignedLong));
        assert_eq!(t(Text, Keyword), Ok(Keyword));
        assert_eq!(t(Integer, Null), Ok(Integer));
        assert_eq!(
            t(Keyword, Integer).unwrap_err(),
            "second argument of [clamp_min(a, b)] must be [keyword], found value [b] type [integer]"
        );
        assert_eq!(t(Null, Integer).unwrap_err(), "'field' must not be null in clamp()");
        assert_eq!(
            t(Date, DateNanos).unwrap_err(),
            "second argument of [clamp_min(a, b)] must be [datetime], found value [b] type [date_nanos]"
        );
    }

    #[test]
    fn raises_to_the_minimum() {
        let out = pick_extreme(
            &[f64_array(vec![Some(1.0), Some(5.0), None]), f64_array(vec![Some(2.0); 3])],
            true,
            &DataType::Float64,
        )
        .unwrap();
        assert_eq!(out.as_ref(), f64_array(vec![Some(2.0), Some(5.0), None]).as_ref());
        let s = pick_extreme(
            &[str_array(vec![Some("Georgi".into())]), str_array(vec![Some("Facello".into())])],
            true,
            &DataType::Utf8,
        )
        .unwrap();
        assert_eq!(s.as_ref(), str_array(vec![Some("Georgi".into())]).as_ref());
    }
}

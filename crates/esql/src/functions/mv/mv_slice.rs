//! `MV_SLICE(field, start[, end])`: the values from position `start` to `end` (inclusive, from 0;
//! negative positions count from the end). `end` defaults to `start`.

use super::{MvArray, expect_representable, is_null_type, mismatch, no_text, null_result, pick, single};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::Int32Type;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_SLICE`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_slice", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_slice", args, 2, 3)?;
    expect_representable(call, args, 0)?;
    for (i, a) in args.iter().enumerate().skip(1) {
        if a.ty != EsType::Integer && a.ty != EsType::Null {
            return Err(mismatch(call, a, i, "integer"));
        }
    }
    let offset = |i: usize| match args.get(i).and_then(|a| a.literal) {
        Some(Literal::Integer(v)) => Some(*v),
        _ => None,
    };
    let start = offset(1);
    let end = if args.len() > 2 { offset(2) } else { start };
    if let (Some(s), Some(e)) = (start, end) {
        check_start_end(s, e)?;
    }
    Ok(Resolved { ty: no_text(args[0].ty), multi: args[0].multi, casts: Vec::new() })
}

/// Elastic's check of the offsets.
fn check_start_end(start: i32, end: i32) -> Result<(), String> {
    if start > end {
        return Err("Start offset is greater than end offset".into());
    }
    if start < 0 && end >= 0 {
        return Err("Start and end offset have different signs".into());
    }
    Ok(())
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let multi = p.resolved.multi;
    let mut args = p.args;
    for (i, a) in args.iter_mut().enumerate().skip(1) {
        *a = single(a.clone(), p.types[i], p.multi[i], p.sink);
    }
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        let end = a.get(2).unwrap_or(&a[1]);
        if is_null_type(&a[0]) || is_null_type(&a[1]) || is_null_type(end) {
            return Ok(null_result(ctx));
        }
        slice(&a[0], &a[1], end, ty, multi, ctx.sink)
    });
    Ok(udf::call("mv_slice", ty.arrow_column(multi), p.sink, args, kernel))
}

/// The kernel: `start` and `end` are single-valued integer arrays.
pub fn slice(
    field: &ArrayRef,
    start: &ArrayRef,
    end: &ArrayRef,
    ty: EsType,
    multi: bool,
    sink: &WarningSink,
) -> Result<ArrayRef> {
    let mv = MvArray::new(field);
    let ints = |a: &ArrayRef| {
        a.as_primitive_opt::<Int32Type>()
            .cloned()
            .ok_or_else(|| DataFusionError::Internal("mv_slice: offsets must be integers".into()))
    };
    let (start, end) = (ints(start)?, ints(end)?);
    let rows: Vec<Vec<u32>> = (0..mv.len())
        .map(|r| {
            if start.is_null(r) || end.is_null(r) {
                return Vec::new();
            }
            let (s, e) = (start.value(r), end.value(r));
            if let Err(m) = check_start_end(s, e) {
                sink.null_because(&format!("org.elasticsearch.xpack.esql.core.InvalidArgumentException: {m}"));
                return Vec::new();
            }
            let pos = mv.indices(r);
            let n = pos.len() as i64;
            let adjust = |o: i32| if o < 0 { i64::from(o) + n } else { i64::from(o) };
            let (s, e) = (adjust(s).max(0), adjust(e).min(n - 1));
            if s >= n || e < 0 || s > e {
                return Vec::new();
            }
            pos[s as usize..=e as usize].to_vec()
        })
        .collect();
    pick(&mv.values, &rows, ty, multi)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::ListArray;
    use datafusion::arrow::datatypes::DataType;

    fn run(a: &ArrayRef, s: i32, e: i32) -> Vec<Option<Vec<Option<i32>>>> {
        let n = a.len();
        let (st, en) = (ints(vec![Some(s); n]), ints(vec![Some(e); n]));
        let (out, _) = with_ctx(DataType::Null, n, |ctx| slice(a, &st, &en, EsType::Integer, true, ctx.sink).unwrap());
        let l: &ListArray = out.as_list::<i32>();
        (0..n).map(|i| l.is_valid(i).then(|| l.value(i).as_primitive::<Int32Type>().iter().collect())).collect()
    }

    #[test]
    fn positive_and_negative_offsets() {
        let a = int_lists(vec![Some(vec![Some(1), Some(2), Some(2), Some(3)])]);
        assert_eq!(run(&a, 1, 1), vec![Some(vec![Some(2)])]);
        assert_eq!(run(&a, 2, 3), vec![Some(vec![Some(2), Some(3)])]);
        assert_eq!(run(&a, -2, -2), vec![Some(vec![Some(2)])]);
        assert_eq!(run(&a, -3, -1), vec![Some(vec![Some(2), Some(2), Some(3)])]);
        assert_eq!(run(&a, 4, 4), vec![None]);
        assert_eq!(run(&a, 2, 6), vec![Some(vec![Some(2), Some(3)])]);
        assert_eq!(run(&a, -5, -2), vec![Some(vec![Some(1), Some(2), Some(2)])]);
        assert_eq!(run(&a, -6, -5), vec![None]);
    }

    #[test]
    fn bad_offsets_warn_per_row() {
        let a = int_lists(vec![Some(vec![Some(1), Some(2)])]);
        let (out, w) = with_ctx(DataType::Null, 1, |ctx| {
            slice(&a, &ints(vec![Some(2)]), &ints(vec![Some(1)]), EsType::Integer, true, ctx.sink).unwrap()
        });
        assert!(out.is_null(0));
        assert_eq!(
            w[1],
            "Line 1:1: org.elasticsearch.xpack.esql.core.InvalidArgumentException: Start offset is greater than end offset"
        );
    }

    #[test]
    fn single_valued_field() {
        let a = ints(vec![Some(1), None]);
        let (out, _) = with_ctx(DataType::Null, 2, |ctx| {
            slice(&a, &ints(vec![Some(0), Some(0)]), &ints(vec![Some(0), Some(0)]), EsType::Integer, false, ctx.sink)
                .unwrap()
        });
        assert_eq!(out.as_primitive::<Int32Type>().value(0), 1);
        assert!(out.is_null(1));
    }

    #[test]
    fn constant_offsets_are_checked() {
        let (s, e) = (Literal::Integer(3), Literal::Integer(1));
        let args = [(EsType::Integer, true, "a"), (EsType::Integer, false, "3"), (EsType::Integer, false, "1")];
        let err = check_lit(&DEF, "mv_slice(a, 3, 1)", &args, &[(1, s), (2, e)]).unwrap_err();
        assert_eq!(err, "Start offset is greater than end offset");
        let args = [(EsType::Keyword, true, "a"), (EsType::Long, false, "x")];
        let err = check(&DEF, "mv_slice(a, x)", &args).unwrap_err();
        assert_eq!(err, "second argument of [mv_slice(a, x)] must be [integer], found value [x] type [long]");
        let r = check(&DEF, "mv_slice(a, 0)", &[(EsType::Text, true, "a"), (EsType::Integer, false, "0")]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::Keyword, true));
    }
}

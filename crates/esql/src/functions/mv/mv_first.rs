//! `MV_FIRST(field)`: the first value of a multi-valued expression (in storage order).

use super::{MvArray, expect_representable, is_null_type, no_text, null_result, pick};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_FIRST`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_first", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_first", args, 1, 1)?;
    expect_representable(call, args, 0)?;
    Ok(Resolved::of(no_text(args[0].ty)))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) {
            return Ok(null_result(ctx));
        }
        first_or_last(&a[0], ty, false)
    });
    Ok(udf::call("mv_first", ty.arrow(), p.sink, p.args, kernel))
}

/// The first (or, with `last`, the last) value of each row.
pub fn first_or_last(a: &ArrayRef, ty: EsType, last: bool) -> Result<ArrayRef> {
    let mv = MvArray::new(a);
    let rows: Vec<Vec<u32>> = (0..mv.len())
        .map(|r| {
            let p = if last { mv.positions(r).last() } else { mv.positions(r).next() };
            p.map(|j| vec![j as u32]).unwrap_or_default()
        })
        .collect();
    pick(&mv.values, &rows, ty, false)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int32Type;

    #[test]
    fn takes_first_value() {
        let a = int_lists(vec![Some(vec![Some(3), Some(5)]), None, Some(vec![Some(1)])]);
        let out = first_or_last(&a, EsType::Integer, false).unwrap();
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(out.value(0), 3);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 1);
        let out = first_or_last(&ints(vec![Some(9), None]), EsType::Integer, false).unwrap();
        assert_eq!(out.as_primitive::<Int32Type>().value(0), 9);
    }

    #[test]
    fn text_becomes_keyword() {
        let r = check(&DEF, "mv_first(t)", &[(EsType::Text, true, "t")]).unwrap();
        assert_eq!(r.ty, EsType::Keyword);
        let r = check(&DEF, "mv_first(null)", &[(EsType::Null, false, "null")]).unwrap();
        assert_eq!(r.ty, EsType::Null);
    }
}

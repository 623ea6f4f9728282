//! `MV_INTERSECTION(field1, field2)`: the distinct values of `field1` that also appear in
//! `field2`, in `field1`'s order; null when either is null or nothing is shared.

use super::mv_append::resolve_pair;
use super::{MvArray, is_null_type, null_result, pick, sort_keys2};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::collections::HashSet;
use std::sync::Arc;

/// `MV_INTERSECTION`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_intersection", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_intersection", args, 2, 2)?;
    let ty = resolve_pair(call, args)?;
    let nulls = args.iter().any(|a| a.ty == EsType::Null);
    Ok(Resolved { ty, multi: !nulls && args[0].multi && args[1].multi, casts: Vec::new() })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let multi = p.resolved.multi;
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) || is_null_type(&a[1]) {
            return Ok(null_result(ctx));
        }
        intersection(&a[0], &a[1], ty, multi)
    });
    Ok(udf::call("mv_intersection", ty.arrow_column(multi), p.sink, p.args, kernel))
}

/// The kernel.
pub fn intersection(a: &ArrayRef, b: &ArrayRef, ty: EsType, multi: bool) -> Result<ArrayRef> {
    let (a, b) = (MvArray::new(a), MvArray::new(b));
    let (ka, kb) = sort_keys2(&a.values, &b.values)?;
    let rows: Vec<Vec<u32>> = (0..a.len())
        .map(|r| {
            let other: HashSet<&[u8]> = b.positions(r).map(|j| kb.row(j).data()).collect();
            let mut seen: HashSet<&[u8]> = HashSet::new();
            a.positions(r)
                .filter(|&j| {
                    let k = ka.row(j).data();
                    other.contains(k) && seen.insert(k)
                })
                .map(|j| j as u32)
                .collect()
        })
        .collect();
    pick(&a.values, &rows, ty, multi)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, ListArray};
    use datafusion::arrow::datatypes::Int32Type;

    #[test]
    fn shared_values_in_first_order() {
        let a = int_lists(vec![Some(vec![Some(1), Some(2), Some(3), Some(2), Some(4)]), Some(vec![Some(1)]), None]);
        let b = int_lists(vec![Some(vec![Some(4), Some(2), Some(2)]), Some(vec![Some(2)]), Some(vec![Some(1)])]);
        let out = intersection(&a, &b, EsType::Integer, true).unwrap();
        let l: &ListArray = out.as_list::<i32>();
        let v: Vec<Option<i32>> = l.value(0).as_primitive::<Int32Type>().iter().collect();
        assert_eq!(v, vec![Some(2), Some(4)]);
        assert!(l.is_null(1));
        assert!(l.is_null(2));
    }

    #[test]
    fn resolves() {
        let r =
            check(&DEF, "mv_intersection(a, b)", &[(EsType::Text, true, "a"), (EsType::Keyword, true, "b")]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::Keyword, true));
        let r = check(&DEF, "mv_intersection(a, b)", &[(EsType::Long, true, "a"), (EsType::Long, false, "b")]).unwrap();
        assert!(!r.multi);
    }
}

//! `MV_APPEND(field1, field2)`: the values of both arguments, first then second; null when either
//! is null.

use super::{MvArray, expect_representable, is_null_type, mismatch, no_text, null_result};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::{cast, concat};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_APPEND`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_append", mv_args: true, resolve, plan };

/// Type check shared by the two-field functions: both of the same type (keyword and text mix),
/// either may be null. Returns the common type (text as keyword).
pub fn resolve_pair(call: &str, args: &[ArgInfo]) -> Result<EsType, String> {
    expect_representable(call, args, 0)?;
    let (a, b) = (&args[0], &args[1]);
    if a.ty == EsType::Null {
        expect_representable(call, args, 1)?;
        return Ok(no_text(b.ty));
    }
    if b.ty != EsType::Null && no_text(b.ty) != no_text(a.ty) {
        return Err(mismatch(call, b, 1, no_text(a.ty).name()));
    }
    Ok(no_text(a.ty))
}

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_append", args, 2, 2)?;
    let ty = resolve_pair(call, args)?;
    Ok(Resolved { ty, multi: ty != EsType::Null, casts: Vec::new() })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let multi = p.resolved.multi;
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) || is_null_type(&a[1]) {
            return Ok(null_result(ctx));
        }
        append(&a[0], &a[1], ty)
    });
    Ok(udf::call("mv_append", ty.arrow_column(multi), p.sink, p.args, kernel))
}

/// The kernel (a multi-valued result).
pub fn append(a: &ArrayRef, b: &ArrayRef, ty: EsType) -> Result<ArrayRef> {
    let (a, b) = (MvArray::new(a), MvArray::new(b));
    let bv = if b.values.data_type() == a.values.data_type() {
        b.values.clone()
    } else {
        cast(&b.values, a.values.data_type())?
    };
    let values = concat(&[a.values.as_ref(), bv.as_ref()])?;
    let shift =
        u32::try_from(a.values.len()).map_err(|_| DataFusionError::Execution("multi-value too large".into()))?;
    let rows: Vec<Vec<u32>> = (0..a.len())
        .map(|r| {
            if a.count(r) == 0 || b.count(r) == 0 {
                return Vec::new();
            }
            a.indices(r).into_iter().chain(b.indices(r).into_iter().map(|j| j + shift)).collect()
        })
        .collect();
    kernels::list_from_indices(&values, &rows, ty)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{AsArray, ListArray};
    use datafusion::arrow::datatypes::Int32Type;

    #[test]
    fn appends_values() {
        let a = int_lists(vec![Some(vec![Some(1), Some(2)]), Some(vec![Some(1)]), None]);
        let b = ints(vec![Some(3), None, Some(4)]);
        let out = append(&a, &b, EsType::Integer).unwrap();
        let l: &ListArray = out.as_list::<i32>();
        let v: Vec<Option<i32>> = l.value(0).as_primitive::<Int32Type>().iter().collect();
        assert_eq!(v, vec![Some(1), Some(2), Some(3)]);
        assert!(l.is_null(1));
        assert!(l.is_null(2));
    }

    #[test]
    fn resolves() {
        let r = check(&DEF, "mv_append(a, b)", &[(EsType::Text, false, "a"), (EsType::Keyword, true, "b")]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::Keyword, true));
        let e =
            check(&DEF, "mv_append(a, b)", &[(EsType::Integer, false, "a"), (EsType::Long, true, "b")]).unwrap_err();
        assert_eq!(e, "second argument of [mv_append(a, b)] must be [integer], found value [b] type [long]");
        let r = check(&DEF, "mv_append(null, b)", &[(EsType::Null, false, "null"), (EsType::Ip, true, "b")]).unwrap();
        assert_eq!(r.ty, EsType::Ip);
    }
}

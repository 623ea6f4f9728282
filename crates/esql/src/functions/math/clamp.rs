//! `CLAMP(field, min, max)`: the field's value limited to `[min, max]`, that is
//! `CLAMP_MAX(CLAMP_MIN(field, min), max)`, with the same type rules.

use super::arity;
use super::clamp_min::{bound_type, casts_to, field_type};
use super::pick_extreme;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `CLAMP`.
pub static DEF: ScalarDef = ScalarDef { name: "clamp", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("clamp", args, 3, 3)?;
    let ft = field_type(call, args)?;
    let lower = bound_type(call, args, 1, ft)?;
    let ty = bound_type(call, args, 2, lower)?;
    Ok(Resolved { ty, multi: false, casts: casts_to(args, ty) })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let out = p.resolved.ty.arrow();
    let ret = out.clone();
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], _ctx: &EvalCtx| clamp(&a[0], &a[1], &a[2], &out));
    Ok(udf::call("clamp", ret, p.sink, p.args, kernel))
}

fn clamp(field: &ArrayRef, min: &ArrayRef, max: &ArrayRef, out: &DataType) -> Result<ArrayRef> {
    let raised = pick_extreme(&[field.clone(), min.clone()], true, out)?;
    pick_extreme(&[raised, max.clone()], false, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::kernels::{i64_array, str_array};
    use crate::types::EsType;

    #[test]
    fn limits_both_ways() {
        let f = i64_array(vec![Some(1), Some(5), Some(9), None]);
        let out = clamp(&f, &i64_array(vec![Some(2); 4]), &i64_array(vec![Some(8); 4]), &DataType::Int64).unwrap();
        assert_eq!(out.as_ref(), i64_array(vec![Some(2), Some(5), Some(8), None]).as_ref());
        let s = clamp(
            &str_array(vec![Some("Georgi".into())]),
            &str_array(vec![Some("Facello".into())]),
            &str_array(vec![Some("M".into())]),
            &DataType::Utf8,
        )
        .unwrap();
        assert_eq!(s.as_ref(), str_array(vec![Some("Georgi".into())]).as_ref());
    }

    #[test]
    fn types() {
        let i = |ty: EsType, text: &'static str| ArgInfo { ty, multi: false, literal: None, text };
        let r =
            resolve("clamp(a, b, c)", &[i(EsType::Integer, "a"), i(EsType::Long, "b"), i(EsType::Long, "c")]).unwrap();
        assert_eq!(r.ty, EsType::Long);
        assert_eq!(r.casts, [Some(EsType::Long), None, None]);
        assert_eq!(
            resolve("clamp(a, b, c)", &[i(EsType::Ip, "a"), i(EsType::Ip, "b"), i(EsType::Keyword, "c")]).unwrap_err(),
            "third argument of [clamp(a, b, c)] must be [ip], found value [c] type [keyword]"
        );
        assert_eq!(
            resolve("clamp(a, b)", &[i(EsType::Ip, "a"), i(EsType::Ip, "b")]).unwrap_err(),
            "error building [clamp]: expects exactly three arguments"
        );
    }
}

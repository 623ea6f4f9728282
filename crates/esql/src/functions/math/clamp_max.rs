//! `CLAMP_MAX(field, max)`: the field's value, lowered to `max` when it is above it. Same types
//! and result type rules as [`super::clamp_min`].

use super::arity;
use super::clamp_min::{bound_type, casts_to, field_type};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `CLAMP_MAX`.
pub static DEF: ScalarDef = ScalarDef { name: "clamp_max", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("clamp_max", args, 2, 2)?;
    let ft = field_type(call, args)?;
    let ty = bound_type(call, args, 1, ft)?;
    Ok(Resolved { ty, multi: false, casts: casts_to(args, ty) })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let out = p.resolved.ty.arrow();
    let ret = out.clone();
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], _ctx: &EvalCtx| super::pick_extreme(&a[..2], false, &out));
    Ok(udf::call("clamp_max", ret, p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::kernels::{bool_array, str_array};
    use crate::functions::math::pick_extreme;
    use crate::types::EsType;
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn lowers_to_the_maximum() {
        let s = pick_extreme(
            &[str_array(vec![Some("Georgi".into())]), str_array(vec![Some("Facello".into())])],
            false,
            &DataType::Utf8,
        )
        .unwrap();
        assert_eq!(s.as_ref(), str_array(vec![Some("Facello".into())]).as_ref());
        // A false maximum forces false; a true one keeps the field.
        let b = pick_extreme(
            &[bool_array(vec![Some(true), Some(true)]), bool_array(vec![Some(false), Some(true)])],
            false,
            &DataType::Boolean,
        )
        .unwrap();
        assert_eq!(b.as_ref(), bool_array(vec![Some(false), Some(true)]).as_ref());
    }

    #[test]
    fn arity() {
        let a = ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "a" };
        assert_eq!(
            resolve("clamp_max(a)", &[a]).unwrap_err(),
            "error building [clamp_max]: expects exactly two arguments"
        );
    }
}

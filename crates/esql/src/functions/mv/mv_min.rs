//! `MV_MIN(field)`: the smallest value of a multi-valued expression (byte-wise for strings, ips
//! and versions).

use super::{is_null_type, no_text, null_result, representable};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels, type_error};
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_MIN`.
pub static DEF: ScalarDef = ScalarDef {
    name: "mv_min",
    mv_args: true,
    resolve: |c, a| resolve_extreme("mv_min", c, a),
    plan: |p| plan_extreme("mv_min", false, p),
};

/// Type check shared with `MV_MAX`: any non-spatial column type; text becomes keyword.
pub fn resolve_extreme(name: &str, call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity(name, args, 1, 1)?;
    if !representable(args[0].ty) {
        return Err(type_error(call, args, 0, "representableNonSpatial"));
    }
    Ok(Resolved::of(no_text(args[0].ty)))
}

/// Planning shared with `MV_MAX`.
pub fn plan_extreme(name: &str, max: bool, p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) {
            return Ok(null_result(ctx));
        }
        if max { kernels::mv_max(&a[0]) } else { kernels::mv_min(&a[0]) }
    });
    Ok(udf::call(name, p.resolved.ty.arrow(), p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::types::EsType;
    use datafusion::arrow::array::{Array, AsArray, ListBuilder, StringBuilder};
    use datafusion::arrow::datatypes::Int32Type;

    #[test]
    fn smallest_value() {
        let a = int_lists(vec![Some(vec![Some(2), Some(1)]), None, Some(vec![Some(-6), Some(4), Some(12)])]);
        let out = kernels::mv_min(&a).unwrap();
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(out.value(0), 1);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), -6);
    }

    #[test]
    fn strings_compare_bytewise() {
        let mut b = ListBuilder::new(StringBuilder::new());
        b.values().append_value("foo");
        b.values().append_value("bar");
        b.append(true);
        let a: ArrayRef = Arc::new(b.finish());
        let out = kernels::mv_min(&a).unwrap();
        assert_eq!(out.as_string::<i32>().value(0), "bar");
    }

    #[test]
    fn resolves() {
        assert_eq!(check(&DEF, "mv_min(t)", &[(EsType::Text, true, "t")]).unwrap().ty, EsType::Keyword);
        let e = check(&DEF, "mv_min(d)", &[(EsType::TimeDuration, false, "d")]).unwrap_err();
        assert_eq!(
            e,
            "argument of [mv_min(d)] must be [representableNonSpatial], found value [d] type [time_duration]"
        );
    }
}

//! `MV_LAST(field)`: the last value of a multi-valued expression (in storage order).

use super::mv_first::first_or_last;
use super::{expect_representable, is_null_type, no_text, null_result};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_LAST`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_last", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_last", args, 1, 1)?;
    expect_representable(call, args, 0)?;
    Ok(Resolved::of(no_text(args[0].ty)))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) {
            return Ok(null_result(ctx));
        }
        first_or_last(&a[0], ty, true)
    });
    Ok(udf::call("mv_last", ty.arrow(), p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::types::EsType;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int32Type;

    #[test]
    fn takes_last_value() {
        let a = int_lists(vec![Some(vec![Some(3), Some(5)]), None, Some(vec![Some(1)])]);
        let out = first_or_last(&a, EsType::Integer, true).unwrap();
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(out.value(0), 5);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 1);
    }

    #[test]
    fn resolves() {
        assert_eq!(check(&DEF, "mv_last(x)", &[(EsType::Ip, true, "x")]).unwrap().ty, EsType::Ip);
        assert!(check(&DEF, "mv_last()", &[]).is_err());
    }
}

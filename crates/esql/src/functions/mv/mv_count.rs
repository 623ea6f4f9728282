//! `MV_COUNT(field)`: the number of values of a (possibly multi-valued) expression; null for null.

use super::{MvArray, expect_representable};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{ArrayRef, Int32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_COUNT`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_count", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_count", args, 1, 1)?;
    expect_representable(call, args, 0)?;
    Ok(Resolved::of(EsType::Integer))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], _ctx: &EvalCtx| Ok(count(&a[0])));
    Ok(udf::call("mv_count", DataType::Int32, p.sink, p.args, kernel))
}

/// The kernel: values per row, null where there are none.
pub fn count(a: &ArrayRef) -> ArrayRef {
    let mv = MvArray::new(a);
    let out: Int32Array = (0..mv.len())
        .map(|r| match mv.count(r) {
            0 => None,
            c => Some(i32::try_from(c).unwrap_or(i32::MAX)),
        })
        .collect();
    Arc::new(out)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int32Type;

    #[test]
    fn counts_values_and_nulls() {
        let a = int_lists(vec![Some(vec![Some(3), Some(5), Some(1), Some(6)]), None, Some(vec![Some(1)])]);
        let out = count(&a);
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(out.value(0), 4);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 1);
        let out = count(&ints(vec![Some(7), None]));
        assert_eq!(out.as_primitive::<Int32Type>().value(0), 1);
        assert!(out.is_null(1));
    }

    #[test]
    fn resolves_any_type_to_integer() {
        let r = check(&DEF, "mv_count(a)", &[(EsType::Keyword, true, "a")]).unwrap();
        assert_eq!(r.ty, EsType::Integer);
        assert!(!r.multi);
        assert!(check(&DEF, "mv_count(a, b)", &[(EsType::Keyword, true, "a"), (EsType::Keyword, true, "b")]).is_err());
        let e = check(&DEF, "mv_count(1 day)", &[(EsType::DatePeriod, false, "1 day")]).unwrap_err();
        assert!(e.starts_with("argument of [mv_count(1 day)] must be [any type except counter types"), "{e}");
    }
}
